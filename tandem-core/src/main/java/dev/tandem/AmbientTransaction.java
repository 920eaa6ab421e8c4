package dev.tandem;

import java.sql.Connection;
import org.jspecify.annotations.Nullable;

/**
 * The application's transaction that is active on the calling thread, if any, for calls that write on the caller's
 * behalf: {@link Workflow#enqueue(Object, EnqueueOptions)} and {@link Tandem#send}. Set with {@link
 * TandemBuilder#ambientTransaction}; the Spring Boot starter sets one that returns the connection of the current
 * Spring transaction.
 *
 * <p>When {@link #connection()} returns a connection, those calls run their SQL on it and neither commit nor close
 * it: the enqueued workflow or the sent message exists if and only if the application's transaction commits. When it
 * returns null, they run in a transaction of their own, committed before they return, as without this hook.
 *
 * <p>Never consulted by {@link Workflow#start} or {@link Workflow#run}: a started execution runs at once, on this
 * executor, so its row must be committed before they return. To start a workflow atomically with the application's
 * transaction, enqueue it. Nor by {@link Workflow#enqueue(java.sql.Connection, Object, EnqueueOptions)}, which is
 * given its connection.
 *
 * <p>Implementations are called from the application's threads and must be thread-safe.
 */
public interface AmbientTransaction {

    /**
     * The connection of the transaction active on the calling thread (autocommit off, to the database Tandem uses), or
     * null if none is active. Each connection returned is given back once through {@link #release}.
     */
    @Nullable Connection connection();

    /**
     * Gives back a connection {@link #connection()} returned, after Tandem's statements on it. Must not commit, roll
     * back or end the transaction; it ends when the application ends it.
     */
    void release(Connection connection);
}
