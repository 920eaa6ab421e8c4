package dev.tandem.internal.db;

import dev.tandem.IsolationLevel;
import dev.tandem.internal.db.Rows.FinishRow;
import dev.tandem.internal.db.Rows.StartRow;
import dev.tandem.internal.db.Rows.StepRow;
import dev.tandem.internal.db.Rows.WorkflowRow;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;

/**
 * Every statement the engine runs against the tandem schema. Thread-safe; holds no connection of its own.
 *
 * <p>Two pools: the engine's own ({@link EnginePool}: group commit, heartbeat, claims, recovery, maintenance; each
 * user takes at most one connection at a time, so they cannot starve each other) and the application's (transactional
 * steps, and the reads and writes a workflow's own thread makes, which scale with the number of workflows).
 */
public final class SystemDatabase {
    private final DataSource dataSource;
    private final DataSource engine;
    private final Queries queries;
    private final ExecutorStore executors;
    private final QueueStore queues;
    private final String[] groupCommitSql;
    private final String insertCheckpointsAndCommitSql;
    private final String insertStartedCheckpointsSql;
    private final String insertStartedCheckpointsAndCommitSql;

    public SystemDatabase(DataSource dataSource, DataSource engine) {
        this.dataSource = dataSource;
        this.engine = engine;
        this.queries = Queries.load();
        this.executors = new ExecutorStore(queries, engine);
        this.queues = new QueueStore(queries, engine);
        this.groupCommitSql = composeGroupCommits(queries);
        this.insertCheckpointsAndCommitSql = queries.get("insertTransactionCheckpoints") + ";\nCOMMIT";
        this.insertStartedCheckpointsSql = queries.get("insertStart") + ";\n" + queries.get("insertStartedCheckpoints");
        this.insertStartedCheckpointsAndCommitSql = insertStartedCheckpointsSql + ";\nCOMMIT";
        for (String name : List.of("insertTransactionCheckpoints", "insertStart", "insertStartedCheckpoints",
                "loadSteps", "loadStep", "cancelWorkflow",
                "resumeWorkflow", "setWorkflowVersion", "sendMessage", "loadWorkflow", "takeMessage", "setEvent", "getEvent", "writeStream",
                "readStream", "workflowState", "startChild", "cancelWorkflowTree", "countAttempt", "existingChild")) {
            queries.get(name); // fail at start, not mid-run, if the packaged SQL is incomplete
        }
    }

    /** Executors, ownership, recovery, reconciliation and maintenance statements. */
    public ExecutorStore executors() {
        return executors;
    }

    /** Enqueueing, queue limits and claims. */
    public QueueStore queues() {
        return queues;
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
    public GroupCommitResult groupCommit(Connection conn, String executorId, UUID incarnation, List<StartRow> starts,
            List<StepRow> steps, List<FinishRow> finishes) throws SQLException {
        int parts = (starts.isEmpty() ? 0 : 1) | (steps.isEmpty() ? 0 : 2) | (finishes.isEmpty() ? 0 : 4);
        if (parts == 0) {
            return new GroupCommitResult(Set.of(), Set.of(), Set.of());
        }
        try (PreparedStatement ps = conn.prepareStatement(groupCommitSql[parts])) {
            int i = 1;
            ps.setString(i++, executorId);
            ps.setString(i++, incarnation.toString());
            if (!starts.isEmpty()) {
                ps.setString(i++, RowsJson.starts(starts));
            }
            if (!steps.isEmpty()) {
                ps.setString(i++, RowsJson.steps(steps));
            }
            if (!finishes.isEmpty()) {
                ps.setString(i++, RowsJson.finishes(finishes));
            }
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

    /** The group commit statement for each combination of parts (bit 1: starts, 2: checkpoints, 4: finishes). */
    private static String[] composeGroupCommits(Queries queries) {
        String[][] parts = {
            {"started", "S", queries.get("groupCommit.started")},
            {"checkpointed", "C", queries.get("groupCommit.checkpointed")},
            {"finished", "F", queries.get("groupCommit.finished")},
        };
        String[] sql = new String[8];
        for (int mask = 1; mask < 8; mask++) {
            StringBuilder with = new StringBuilder("WITH me AS (SELECT ?::text AS executor_id, ?::uuid AS incarnation)");
            StringBuilder select = new StringBuilder();
            for (int p = 0; p < parts.length; p++) {
                if ((mask & (1 << p)) == 0) {
                    continue;
                }
                with.append(",\n").append(parts[p][0]).append(" AS (\n").append(parts[p][2]).append("\n)");
                select.append(select.length() == 0 ? "\nSELECT " : "\nUNION ALL SELECT ")
                        .append('\'').append(parts[p][1]).append("', workflow_id, position FROM ").append(parts[p][0]);
            }
            sql[mask] = with.append(select).toString();
        }
        return sql;
    }

    /**
     * Inserts a transactional step's checkpoint, and any earlier ones not yet written (all of one execution, under
     * its ownership epoch), on the application's open transaction, and commits it.
     */
    public void insertTransactionCheckpointsAndCommit(Connection conn, String executorId, List<StepRow> rows)
            throws SQLException {
        // One round trip for the insert and the COMMIT: a prepared statement of two queries, sent with one Sync
        // (the driver keeps it prepared on the server, so it is neither parsed nor planned again). If the insert
        // fails (a position already recorded, or the fence), PostgreSQL skips the COMMIT and the transaction is rolled
        // back by the caller.
        try (PreparedStatement ps = conn.prepareStatement(insertCheckpointsAndCommitSql)) {
            bindCheckpoints(ps, executorId, rows);
            ps.execute();
        }
    }

    /**
     * Inserts the checkpoints of a transactional step in the caller's transaction without committing it: for a
     * transaction that the application's transaction manager commits ({@code TransactionRunner}). Same statement and
     * guarantees as {@link #insertTransactionCheckpointsAndCommit}.
     */
    public void insertTransactionCheckpoints(Connection conn, String executorId, List<StepRow> rows)
            throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement(queries.get("insertTransactionCheckpoints"))) {
            bindCheckpoints(ps, executorId, rows);
            ps.execute();
        }
    }

    /**
     * Inserts a workflow's start (RUNNING, owned by {@code executorId} with epoch 1) and the checkpoints of its first
     * transactional step on the application's open transaction, and commits it, in one round trip: the start of a
     * workflow run on the caller's thread, written with its first commit. If the id exists, the unique violation
     * ({@link SqlErrors#isStartConflict}) rolls the step back.
     */
    public void insertStartAndCheckpointsAndCommit(Connection conn, String executorId, UUID incarnation,
            StartRow start, List<StepRow> rows) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement(insertStartedCheckpointsAndCommitSql)) {
            bindStart(ps, executorId, incarnation, start, rows);
            ps.execute();
        }
    }

    /** {@link #insertStartAndCheckpointsAndCommit} without the commit, for the application's transaction manager. */
    public void insertStartAndCheckpoints(Connection conn, String executorId, UUID incarnation, StartRow start,
            List<StepRow> rows) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement(insertStartedCheckpointsSql)) {
            bindStart(ps, executorId, incarnation, start, rows);
            ps.execute();
        }
    }

    private static void bindStart(PreparedStatement ps, String executorId, UUID incarnation, StartRow start,
            List<StepRow> rows) throws SQLException {
        if (start.queueName() != null || start.timeoutMillis() != null) {
            throw new IllegalArgumentException("a start written with a step has no queue and no timeout");
        }
        for (StepRow row : rows) {
            if (!row.workflowId().equals(start.workflowId()) || row.epoch() != 1) {
                throw new IllegalArgumentException("checkpoints written with a start are its own, at epoch 1");
            }
        }
        ps.setString(1, start.workflowId());
        ps.setString(2, start.name());
        ps.setString(3, start.input());
        ps.setString(4, executorId);
        ps.setString(5, incarnation.toString());
        ps.setString(6, start.traceparent());
        ps.setString(7, start.tracestate());
        ps.setString(8, start.createdAt() == null ? null : start.createdAt().toString());
        ps.setString(9, RowsJson.steps(rows));
    }

    private static void bindCheckpoints(PreparedStatement ps, String executorId, List<StepRow> rows)
            throws SQLException {
        StepRow first = rows.get(0);
        for (StepRow row : rows) {
            if (!row.workflowId().equals(first.workflowId()) || row.epoch() != first.epoch()) {
                throw new IllegalArgumentException("checkpoints of one transaction belong to one execution");
            }
        }
        ps.setString(1, RowsJson.steps(rows));
        ps.setString(2, first.workflowId());
        ps.setString(3, executorId);
        ps.setLong(4, first.epoch());
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
                rs.getString(5), rs.getString(6), java.time.Instant.EPOCH, 0);
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
                        rs.getString(5), rs.getString(6), rs.getString(7), rs.getInt(8), rs.getString(9),
                        rs.getLong(10), rs.getString(11)));
            }
        }
    }

    /**
     * Counts one more attempt of an execution that is replayed after a transient failure; the attempts now, or -1 if
     * it no longer owns the row.
     */
    public int countAttempt(String workflowId, String executorId, long epoch) throws SQLException {
        try (Connection conn = dataSource.getConnection();
                PreparedStatement ps = conn.prepareStatement(queries.get("countAttempt"))) {
            ps.setString(1, workflowId);
            ps.setString(2, executorId);
            ps.setLong(3, epoch);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getInt(1) : -1;
            }
        }
    }

    /** Calls {@code tandem.cancel_workflow}, {@code tandem.resume_workflow} or {@code tandem.send_message}. */
    public void control(String query, Object... params) throws SQLException {
        try (Connection conn = dataSource.getConnection()) {
            control(conn, query, params);
        }
    }

    /** {@link #control(String, Object...)} on the caller's connection, in its transaction; neither commits nor closes it. */
    public void control(Connection conn, String query, Object... params) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement(queries.get(query))) {
            for (int i = 0; i < params.length; i++) {
                ps.setObject(i + 1, params[i]);
            }
            ps.execute();
        }
    }

    // ---- durable primitives (SQL in primitives.sql) ----

    /**
     * Receives: consumes the oldest message of {@code topic} and commits it with {@code checkpoints} (the RECV one at
     * {@code recvPosition} gets the message as its output) in one autocommitted statement; null, and nothing
     * written, if there is no message.
     */
    public Taken takeMessage(String workflowId, String topic, List<StepRow> checkpoints, int recvPosition,
            String executorId, long epoch) throws SQLException {
        try (Connection conn = dataSource.getConnection();
                PreparedStatement ps = conn.prepareStatement(queries.get("takeMessage"))) {
            ps.setString(1, workflowId);
            ps.setString(2, topic);
            ps.setString(3, RowsJson.steps(checkpoints));
            ps.setInt(4, recvPosition);
            ps.setString(5, executorId);
            ps.setLong(6, epoch);
            ps.setString(7, workflowId);
            ps.setString(8, topic);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Taken.NOTHING;
                }
                return rs.getBoolean(2) ? Taken.HELD_ELSEWHERE : new Taken(rs.getString(1), false);
            }
        }
    }

    /**
     * What a receive found: the message it took (committed with its checkpoint), or none; {@code heldElsewhere} when
     * a waiting message is locked by another transaction, which may roll back and leave it there.
     */
    public record Taken(@Nullable String message, boolean heldElsewhere) {
        static final Taken NOTHING = new Taken(null, false);
        static final Taken HELD_ELSEWHERE = new Taken(null, true);
    }

    /** Sends a message on the caller's transaction (through {@code tandem.send_message}). */
    public void sendMessage(Connection conn, String workflowId, String messageJson, @Nullable String topic,
            @Nullable String idempotencyKey) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement(queries.get("sendMessage"))) {
            ps.setString(1, workflowId);
            ps.setString(2, messageJson);
            ps.setString(3, topic);
            ps.setString(4, idempotencyKey);
            ps.execute();
        }
    }

    public void setEvent(Connection conn, String workflowId, int position, String key, String valueJson)
            throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement(queries.get("setEvent"))) {
            ps.setString(1, workflowId);
            ps.setInt(2, position);
            ps.setString(3, key);
            ps.setString(4, valueJson);
            ps.execute();
        }
    }

    /** The last value of an event, as JSON; empty if it was never set. */
    public Optional<String> getEvent(String workflowId, String key) throws SQLException {
        try (Connection conn = dataSource.getConnection();
                PreparedStatement ps = conn.prepareStatement(queries.get("getEvent"))) {
            ps.setString(1, workflowId);
            ps.setString(2, key);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(rs.getString(1)) : Optional.empty();
            }
        }
    }

    public void writeStream(Connection conn, String workflowId, String key, int position, @Nullable String valueJson,
            boolean closed) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement(queries.get("writeStream"))) {
            ps.setString(1, workflowId);
            ps.setString(2, key);
            ps.setInt(3, position);
            ps.setString(4, valueJson);
            ps.setBoolean(5, closed);
            ps.execute();
        }
    }

    /** A value of a stream; the closing row has {@code closed} set and no value. */
    public record StreamRow(int position, @Nullable String valueJson, boolean closed) {}

    public List<StreamRow> readStream(String workflowId, String key, int afterPosition, int limit)
            throws SQLException {
        try (Connection conn = dataSource.getConnection();
                PreparedStatement ps = conn.prepareStatement(queries.get("readStream"))) {
            ps.setString(1, workflowId);
            ps.setString(2, key);
            ps.setInt(3, afterPosition);
            ps.setInt(4, limit);
            List<StreamRow> rows = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    rows.add(new StreamRow(rs.getInt(1), rs.getString(2), rs.getBoolean(3)));
                }
            }
            return rows;
        }
    }

    /** A workflow's status and owner. */
    public record WorkflowState(String status, @Nullable String executorId, long epoch) {}

    public Optional<WorkflowState> workflowState(String workflowId) throws SQLException {
        try (Connection conn = dataSource.getConnection();
                PreparedStatement ps = conn.prepareStatement(queries.get("workflowState"))) {
            ps.setString(1, workflowId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(new WorkflowState(rs.getString(1), rs.getString(2), rs.getLong(3)))
                        : Optional.empty();
            }
        }
    }

    /**
     * How {@link #startChild} went: {@code inserted}, or the workflow that already held the id (its name and parent;
     * both null if there is none, e.g. the parent's own row is gone).
     */
    public record ChildStart(boolean inserted, @Nullable String existingName, @Nullable String existingParentId) {}

    /**
     * Inserts a child RUNNING under {@code executorId} on the caller's transaction; if the id is taken, reads who
     * holds it, on the same transaction.
     */
    public ChildStart startChild(Connection conn, String childId, String name, String inputJson, String executorId,
            UUID incarnation, @Nullable Long timeoutMillis, String parentId, @Nullable String traceparent,
            @Nullable String tracestate) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement(queries.get("startChild"))) {
            ps.setString(1, childId);
            ps.setString(2, name);
            ps.setString(3, inputJson);
            ps.setString(4, executorId);
            ps.setObject(5, timeoutMillis, java.sql.Types.BIGINT);
            ps.setObject(6, timeoutMillis, java.sql.Types.BIGINT);
            ps.setString(7, incarnation.toString());
            ps.setString(8, traceparent);
            ps.setString(9, tracestate);
            ps.setString(10, parentId);
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    return new ChildStart(true, null, null);
                }
            }
        }
        try (PreparedStatement ps = conn.prepareStatement(queries.get("existingChild"))) {
            ps.setString(1, childId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? new ChildStart(false, rs.getString(1), rs.getString(2))
                        : new ChildStart(false, null, null);
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
