package dev.tandem.internal.db;

import dev.tandem.IsolationLevel;
import dev.tandem.internal.db.Rows.ClaimedRow;
import dev.tandem.internal.db.Rows.FinishRow;
import dev.tandem.internal.db.Rows.StartRow;
import dev.tandem.internal.db.Rows.StepRow;
import dev.tandem.internal.db.Rows.WorkflowRow;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;

/** Every statement the engine runs against the tandem schema. Thread-safe; holds no connection of its own. */
public final class SystemDatabase {
    private final DataSource dataSource;
    private final Queries queries;

    public SystemDatabase(DataSource dataSource) {
        this.dataSource = dataSource;
        this.queries = Queries.load();
        for (String name : List.of("groupCommit", "insertTransactionCheckpoint", "loadSteps", "loadStep",
                "loadWorkflow", "registerExecutor", "heartbeat", "expireExecutor", "claimOrphans",
                "forgetDeadExecutors")) {
            queries.get(name); // fail at start, not mid-run, if the packaged SQL is incomplete
        }
    }

    public DataSource dataSource() {
        return dataSource;
    }

    public Connection connect() throws SQLException {
        return dataSource.getConnection();
    }

    /** What one group commit recorded. */
    public record GroupCommitResult(Set<String> started, Set<String> checkpointed, Set<String> finished) {
        public static String stepKey(String workflowId, int position) {
            return workflowId + '\u0000' + position;
        }
    }

    /**
     * Writes a batch in one statement and one commit (autocommit) on the committer's own connection. Checkpoints and
     * final statuses are written only for workflows that {@code executorId} owns and that are still RUNNING.
     */
    public GroupCommitResult groupCommit(Connection conn, String executorId, List<StartRow> starts,
            List<StepRow> steps, List<FinishRow> finishes) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement(queries.get("groupCommit"))) {
            int i = 1;
            ps.setString(i++, executorId);
            ps.setArray(i++, texts(conn, starts.stream().map(StartRow::workflowId).toList()));
            ps.setArray(i++, texts(conn, starts.stream().map(StartRow::name).toList()));
            ps.setArray(i++, texts(conn, starts.stream().map(StartRow::queueName).toList()));
            ps.setArray(i++, texts(conn, starts.stream().map(StartRow::input).toList()));

            ps.setArray(i++, texts(conn, steps.stream().map(StepRow::workflowId).toList()));
            ps.setArray(i++, conn.createArrayOf("int4", steps.stream().map(StepRow::position).toArray()));
            ps.setArray(i++, texts(conn, steps.stream().map(StepRow::name).toList()));
            ps.setArray(i++, texts(conn, steps.stream().map(StepRow::kind).toList()));
            ps.setArray(i++, texts(conn, steps.stream().map(StepRow::output).toList()));
            ps.setArray(i++, texts(conn, steps.stream().map(StepRow::outputType).toList()));
            ps.setArray(i++, texts(conn, steps.stream().map(StepRow::error).toList()));
            ps.setArray(i++, conn.createArrayOf("timestamptz",
                    steps.stream().map(s -> Timestamp.from(s.startedAt())).toArray()));

            ps.setArray(i++, texts(conn, finishes.stream().map(FinishRow::workflowId).toList()));
            ps.setArray(i++, texts(conn, finishes.stream().map(FinishRow::status).toList()));
            ps.setArray(i++, texts(conn, finishes.stream().map(FinishRow::output).toList()));
            ps.setArray(i++, texts(conn, finishes.stream().map(FinishRow::outputType).toList()));
            ps.setArray(i++, texts(conn, finishes.stream().map(FinishRow::error).toList()));

            Set<String> started = new HashSet<>();
            Set<String> checkpointed = new HashSet<>();
            Set<String> finished = new HashSet<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String id = rs.getString(2);
                    switch (rs.getString(1)) {
                        case "S" -> started.add(id);
                        case "C" -> checkpointed.add(GroupCommitResult.stepKey(id, rs.getInt(3)));
                        default -> finished.add(id);
                    }
                }
            }
            return new GroupCommitResult(started, checkpointed, finished);
        }
    }

    private static Array texts(Connection conn, List<@Nullable String> values) throws SQLException {
        return conn.createArrayOf("text", values.toArray());
    }

    /** Inserts a transactional step's checkpoint on the application's open transaction. */
    public void insertTransactionCheckpoint(Connection conn, StepRow row) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement(queries.get("insertTransactionCheckpoint"))) {
            ps.setString(1, row.workflowId());
            ps.setInt(2, row.position());
            ps.setString(3, row.name());
            ps.setString(4, row.output());
            ps.setString(5, row.outputType());
            ps.setTimestamp(6, Timestamp.from(row.startedAt()));
            ps.executeUpdate();
        }
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
            int previousIsolation = conn.getTransactionIsolation();
            int wanted = switch (isolation) {
                case READ_COMMITTED -> Connection.TRANSACTION_READ_COMMITTED;
                case REPEATABLE_READ -> Connection.TRANSACTION_REPEATABLE_READ;
                case SERIALIZABLE -> Connection.TRANSACTION_SERIALIZABLE;
            };
            if (wanted != previousIsolation) {
                conn.setTransactionIsolation(wanted);
            }
            conn.setAutoCommit(false);
            try {
                T result = body.run(conn);
                conn.commit();
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
                    if (wanted != previousIsolation) {
                        conn.setTransactionIsolation(previousIsolation);
                    }
                } catch (SQLException ignored) {
                    // The connection is broken; the pool will discard it.
                }
            }
        }
    }

    public List<StepRow> loadSteps(String workflowId) throws SQLException {
        try (Connection conn = dataSource.getConnection();
                PreparedStatement ps = conn.prepareStatement(queries.get("loadSteps"))) {
            ps.setString(1, workflowId);
            List<StepRow> rows = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    rows.add(stepRow(workflowId, rs));
                }
            }
            return rows;
        }
    }

    public Optional<StepRow> loadStep(String workflowId, int position) throws SQLException {
        try (Connection conn = dataSource.getConnection();
                PreparedStatement ps = conn.prepareStatement(queries.get("loadStep"))) {
            ps.setString(1, workflowId);
            ps.setInt(2, position);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(stepRow(workflowId, rs)) : Optional.empty();
            }
        }
    }

    private static StepRow stepRow(String workflowId, ResultSet rs) throws SQLException {
        return new StepRow(workflowId, rs.getInt(1), rs.getString(2), rs.getString(3), rs.getString(4),
                rs.getString(5), rs.getString(6), java.time.Instant.EPOCH);
    }

    public Optional<WorkflowRow> loadWorkflow(String workflowId) throws SQLException {
        try (Connection conn = dataSource.getConnection();
                PreparedStatement ps = conn.prepareStatement(queries.get("loadWorkflow"))) {
            ps.setString(1, workflowId);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                return Optional.of(new WorkflowRow(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
                        rs.getString(5), rs.getString(6), rs.getString(7), rs.getInt(8), rs.getString(9)));
            }
        }
    }

    public void registerExecutor(String executorId, UUID incarnation, String hostname, long pid) throws SQLException {
        try (Connection conn = dataSource.getConnection();
                PreparedStatement ps = conn.prepareStatement(queries.get("registerExecutor"))) {
            ps.setString(1, executorId);
            ps.setString(2, incarnation.toString());
            ps.setString(3, hostname);
            ps.setLong(4, pid);
            ps.executeUpdate();
        }
    }

    /** Returns false if this incarnation no longer owns the executor row (another process took the same id). */
    public boolean heartbeat(String executorId, UUID incarnation) throws SQLException {
        return updateExecutor("heartbeat", executorId, incarnation);
    }

    public void expireExecutor(String executorId, UUID incarnation) throws SQLException {
        updateExecutor("expireExecutor", executorId, incarnation);
    }

    private boolean updateExecutor(String query, String executorId, UUID incarnation) throws SQLException {
        try (Connection conn = dataSource.getConnection();
                PreparedStatement ps = conn.prepareStatement(queries.get(query))) {
            ps.setString(1, executorId);
            ps.setString(2, incarnation.toString());
            return ps.executeUpdate() == 1;
        }
    }

    /**
     * Claims orphaned RUNNING workflows of the given names for {@code executorId}.
     *
     * @param previousIncarnation this executor's id when recovering its own previous incarnation (at start), else null
     */
    public List<ClaimedRow> claimOrphans(String executorId, List<String> names, @Nullable String previousIncarnation,
            Duration executorTimeout, int limit) throws SQLException {
        try (Connection conn = dataSource.getConnection();
                PreparedStatement ps = conn.prepareStatement(queries.get("claimOrphans"))) {
            ps.setString(1, executorId);
            ps.setArray(2, conn.createArrayOf("text", names.toArray()));
            ps.setString(3, previousIncarnation);
            ps.setString(4, executorId);
            ps.setString(5, interval(executorTimeout));
            ps.setInt(6, limit);
            List<ClaimedRow> rows = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    rows.add(new ClaimedRow(rs.getString(1), rs.getString(2), rs.getString(3), rs.getInt(4)));
                }
            }
            return rows;
        }
    }

    public int forgetDeadExecutors(Duration silentFor) throws SQLException {
        try (Connection conn = dataSource.getConnection();
                PreparedStatement ps = conn.prepareStatement(queries.get("forgetDeadExecutors"))) {
            ps.setString(1, interval(silentFor));
            return ps.executeUpdate();
        }
    }

    private static String interval(Duration d) {
        return d.toMillis() + " milliseconds";
    }
}
