package dev.tandem.internal.db;

import java.sql.SQLException;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;

/**
 * A connection that LISTENs on channel {@code tandem_queue}, where {@code tandem.enqueue_workflow} NOTIFYs (delivered
 * at commit). Only a hint to look now: the dequeuer also polls, so a lost notification or a dropped connection
 * delays a workflow by at most one poll interval, never forever. Kept alive like the workflow notifications'
 * ({@link ListeningConnection}), so a silently dead connection is replaced within seconds rather than kept.
 */
public final class QueueListener implements AutoCloseable {
    private final DataSource dataSource;
    private @Nullable ListeningConnection conn;

    public QueueListener(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    /**
     * Starts listening now, if not yet: before the dequeuer's first look, so that an enqueue committed after that
     * look cannot notify a channel nobody listens on yet (it would wait for the next poll).
     *
     * @throws SQLException if LISTEN failed; {@link #await} tries again
     */
    public void listen() throws SQLException {
        if (conn == null) {
            try {
                conn = ListeningConnection.open(dataSource, "LISTEN tandem_queue");
            } catch (SQLException | RuntimeException e) {
                close();
                throw e;
            }
        }
    }

    /**
     * Waits up to {@code timeoutMillis} for a notification; true if one (or more) arrived.
     *
     * @throws SQLException if the connection broke, or LISTEN failed; the next call opens a new one
     */
    public boolean await(int timeoutMillis) throws SQLException {
        try {
            ListeningConnection c = conn;
            if (c == null) {
                c = ListeningConnection.open(dataSource, "LISTEN tandem_queue");
                conn = c;
            }
            return c.poll(timeoutMillis).length > 0;
        } catch (SQLException | RuntimeException e) {
            close();
            throw e;
        }
    }

    @Override
    public void close() {
        ListeningConnection c = conn;
        conn = null;
        if (c != null) {
            c.close();
        }
    }
}
