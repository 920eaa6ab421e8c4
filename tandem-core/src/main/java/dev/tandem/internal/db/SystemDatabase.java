package dev.tandem.internal.db;

import dev.tandem.IsolationLevel;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import javax.sql.DataSource;

/**
 * The engine's way to the tandem schema: its two pools, transactions on the application's pool, and one store per
 * area, each with its own statements ({@link #checkpoints}, {@link #workflows}, {@link #messages}, {@link #queues},
 * {@link #executors}). Thread-safe; holds no connection of its own.
 *
 * <p>Two pools: the engine's own ({@link EnginePool}: group commit, heartbeat, claims, recovery, maintenance; each
 * user takes at most one connection at a time, so they cannot starve each other) and the application's (transactional
 * steps, and the reads and writes a workflow's own thread makes, which scale with the number of workflows).
 */
public final class SystemDatabase {
    private final DataSource dataSource;
    private final DataSource engine;
    private final ExecutorStore executors;
    private final QueueStore queues;
    private final CheckpointStore checkpoints;
    private final WorkflowStore workflows;
    private final MessageStore messages;

    public SystemDatabase(DataSource dataSource, DataSource engine) {
        this.dataSource = dataSource;
        this.engine = engine;
        Queries queries = Queries.load();
        this.executors = new ExecutorStore(queries, engine);
        this.queues = new QueueStore(queries, engine);
        this.checkpoints = new CheckpointStore(queries, dataSource);
        this.workflows = new WorkflowStore(queries, dataSource);
        this.messages = new MessageStore(queries, dataSource);
    }

    /** Executors, ownership, recovery, reconciliation and maintenance statements. */
    public ExecutorStore executors() {
        return executors;
    }

    /** Enqueueing, queue limits and claims. */
    public QueueStore queues() {
        return queues;
    }

    /** The group commit, the checkpoints of transactional steps, and the reads of recorded checkpoints. */
    public CheckpointStore checkpoints() {
        return checkpoints;
    }

    /** One workflow's row and state, attempts, control statements and the start of a child. */
    public WorkflowStore workflows() {
        return workflows;
    }

    /** Messages, events and streams. */
    public MessageStore messages() {
        return messages;
    }

    /** The application's data source. */
    public DataSource dataSource() {
        return dataSource;
    }

    /** The engine's own pool (its listening connections come from it too). */
    public DataSource engineDataSource() {
        return engine;
    }

    /** A connection of the engine's own pool. */
    public Connection connect() throws SQLException {
        return engine.getConnection();
    }

    /** A connection of the application's pool, for work done on behalf of one workflow. */
    public Connection connectShared() throws SQLException {
        return dataSource.getConnection();
    }

    /** The body of a transaction: runs on a connection with autocommit off. */
    @FunctionalInterface
    public interface TransactionBody<T> {
        T run(Connection conn) throws Exception;
    }

    /**
     * Runs {@code body} in one transaction on a pooled connection and commits; rolls back if it throws. Exceptions,
     * including a failed commit, reach the caller unchanged so it can tell retryable ones apart.
     */
    public <T> T inTransaction(IsolationLevel isolation, TransactionBody<T> body) throws Exception {
        try (Connection conn = dataSource.getConnection()) {
            conn.setAutoCommit(false);
            try {
                // SET TRANSACTION applies to this transaction only, so there is nothing to restore afterwards (and no
                // round trip to read the connection's level first). READ COMMITTED is PostgreSQL's default.
                if (isolation != IsolationLevel.READ_COMMITTED) {
                    try (Statement st = conn.createStatement()) {
                        st.execute(isolation == IsolationLevel.SERIALIZABLE
                                ? "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE"
                                : "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ");
                    }
                }
                T result = body.run(conn);
                conn.commit(); // nothing to send if the body committed (insertTransactionCheckpointsAndCommit)
                return result;
            } catch (Throwable t) {
                try {
                    conn.rollback();
                } catch (SQLException rollbackFailure) {
                    t.addSuppressed(rollbackFailure);
                }
                throw t;
            } finally {
                try {
                    conn.setAutoCommit(true);
                } catch (SQLException ignored) {
                    // The connection is broken; the pool will discard it.
                }
            }
        }
    }

    /**
     * A duration as a PostgreSQL interval literal, in ISO 8601 ({@code PT87600H}, {@code PT0.25S}): before
     * PostgreSQL 15 a "milliseconds" field over about 24 days is out of range.
     */
    static String interval(Duration d) {
        return d.toString();
    }
}
