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
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import javax.sql.DataSource;
import org.postgresql.core.BaseConnection;
import org.postgresql.core.Utils;
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
    private final String[] groupCommitSql;
    private final String[] insertCheckpointsAndCommitSql;

    public SystemDatabase(DataSource dataSource, DataSource engine) {
        this.dataSource = dataSource;
        this.engine = engine;
        this.queries = Queries.load();
        this.groupCommitSql = composeGroupCommits(queries);
        this.insertCheckpointsAndCommitSql =
                (queries.get("insertTransactionCheckpoints") + ";\nCOMMIT").split("\\?", -1);
        if (insertCheckpointsAndCommitSql.length != 3) {
            throw new IllegalStateException("insertTransactionCheckpoints must have exactly two parameters");
        }
        for (String name : List.of("insertTransactionCheckpoints", "loadSteps", "loadStep", "enqueueWorkflow",
                "upsertQueue", "loadQueues", "claimQueued", "lockQueue", "claimQueuedLimited", "claimQueuedPartitioned", "nextDelayed",
                "cancelWorkflow", "resumeWorkflow", "sendMessage", "failUnknownWorkflows", "unknownWaiting",
                "loadWorkflow", "registerExecutor", "heartbeat", "expireExecutor", "claimOrphans",
                "forgetDeadExecutors", "takeMessage", "setEvent", "getEvent", "writeStream", "readStream",
                "workflowState", "startChild", "setTimeout", "expireDeadlines", "cancelWorkflowTree", "registerNames",
                "ownedRunning", "reclaimOwned", "countAttempt", "existingChild")) {
            queries.get(name); // fail at start, not mid-run, if the packaged SQL is incomplete
        }
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
     * Inserts a transactional step's checkpoint, and any earlier ones not yet written, on the application's open
     * transaction, and commits it.
     */
    public void insertTransactionCheckpointsAndCommit(Connection conn, String executorId, List<StepRow> rows)
            throws SQLException {
        // One round trip for the insert and the COMMIT: a two-statement simple query, so the batch goes in as a
        // literal, escaped by the driver for the connection's standard_conforming_strings. If the insert fails
        // (a position already recorded), PostgreSQL skips the COMMIT and the transaction is rolled back.
        boolean standardStrings = conn.unwrap(BaseConnection.class).getStandardConformingStrings();
        String[] parts = insertCheckpointsAndCommitSql; // the SQL around its two parameters: batch, executor id
        StringBuilder sql = new StringBuilder(parts[0]).append('\'');
        Utils.escapeLiteral(sql, RowsJson.steps(rows), standardStrings).append('\'').append(parts[1]).append('\'');
        Utils.escapeLiteral(sql, executorId, standardStrings).append('\'').append(parts[2]);
        try (Statement st = conn.createStatement()) {
            st.setEscapeProcessing(false); // no JDBC {fn ...} rewriting: the text is exactly what we built
            st.execute(sql.toString());
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

    public void registerExecutor(String executorId, UUID incarnation, String hostname, long pid, List<String> names)
            throws SQLException {
        try (Connection conn = engine.getConnection();
                PreparedStatement ps = conn.prepareStatement(queries.get("registerExecutor"))) {
            ps.setString(1, executorId);
            ps.setString(2, incarnation.toString());
            ps.setString(3, hostname);
            ps.setLong(4, pid);
            ps.setArray(5, conn.createArrayOf("text", names.toArray()));
            ps.executeUpdate();
        }
        registerNames(names);
    }

    /** Records that {@code names} are registered by a live executor now (see {@code tandem.workflow_names}). */
    public void registerNames(List<String> names) throws SQLException {
        if (names.isEmpty()) {
            return;
        }
        try (Connection conn = engine.getConnection();
                PreparedStatement ps = conn.prepareStatement(queries.get("registerNames"))) {
            ps.setArray(1, conn.createArrayOf("text", names.toArray()));
            ps.executeUpdate();
        }
    }

    /** Returns false if this incarnation no longer owns the executor row (another process took the same id). */
    public boolean heartbeat(String executorId, UUID incarnation) throws SQLException {
        return updateExecutor("heartbeat", executorId, incarnation);
    }

    public void expireExecutor(String executorId, UUID incarnation) throws SQLException {
        try (Connection conn = engine.getConnection();
                PreparedStatement ps = conn.prepareStatement(queries.get("expireExecutor"))) {
            conn.setNetworkTimeout(Runnable::run, 2000); // the last word of close(): a dead socket must not hold it up
            ps.setString(1, executorId);
            ps.setString(2, incarnation.toString());
            ps.setString(3, executorId);
            ps.setString(4, incarnation.toString());
            ps.executeUpdate();
        }
    }

    private boolean updateExecutor(String query, String executorId, UUID incarnation) throws SQLException {
        try (Connection conn = engine.getConnection();
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
    public List<ClaimedRow> claimOrphans(String executorId, UUID incarnation, List<String> names,
            @Nullable String previousIncarnation, Duration executorTimeout, int limit) throws SQLException {
        try (Connection conn = engine.getConnection();
                PreparedStatement ps = conn.prepareStatement(queries.get("claimOrphans"))) {
            ps.setString(1, executorId);
            ps.setString(2, incarnation.toString());
            ps.setArray(3, conn.createArrayOf("text", names.toArray()));
            ps.setString(4, previousIncarnation);
            ps.setString(5, executorId);
            ps.setString(6, interval(executorTimeout));
            ps.setInt(7, limit);
            return claimed(ps);
        }
    }

    /** A RUNNING workflow this process owns, with its ownership epoch. */
    public record OwnedRow(String workflowId, long epoch) {}

    /** The RUNNING workflows this process (executor id and incarnation) took more than {@code grace} ago. */
    public List<OwnedRow> ownedRunning(String executorId, UUID incarnation, Duration grace) throws SQLException {
        try (Connection conn = engine.getConnection();
                PreparedStatement ps = conn.prepareStatement(queries.get("ownedRunning"))) {
            ps.setString(1, executorId);
            ps.setString(2, incarnation.toString());
            ps.setString(3, interval(grace));
            List<OwnedRow> rows = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    rows.add(new OwnedRow(rs.getString(1), rs.getLong(2)));
                }
            }
            return rows;
        }
    }

    /** Takes {@code rows} again with new ownership epochs, those that nothing changed since they were read. */
    public List<ClaimedRow> reclaimOwned(String executorId, UUID incarnation, List<OwnedRow> rows)
            throws SQLException {
        try (Connection conn = engine.getConnection();
                PreparedStatement ps = conn.prepareStatement(queries.get("reclaimOwned"))) {
            ps.setArray(1, conn.createArrayOf("text", rows.stream().map(OwnedRow::workflowId).toArray()));
            ps.setArray(2, conn.createArrayOf("bigint", rows.stream().map(OwnedRow::epoch).toArray()));
            ps.setString(3, executorId);
            ps.setString(4, incarnation.toString());
            return claimed(ps);
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

    public int forgetDeadExecutors(Duration silentFor) throws SQLException {
        try (Connection conn = engine.getConnection();
                PreparedStatement ps = conn.prepareStatement(queries.get("forgetDeadExecutors"))) {
            ps.setString(1, interval(silentFor));
            return ps.executeUpdate();
        }
    }

    /** Calls {@code tandem.enqueue_workflow} on the caller's connection (its transaction); returns the id. */
    public String enqueue(Connection conn, String name, String argsJson, @Nullable String workflowId, String queue,
            int priority, @Nullable String deduplicationId, @Nullable String partitionKey, @Nullable Duration delay)
            throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement(queries.get("enqueueWorkflow"))) {
            ps.setString(1, name);
            ps.setString(2, argsJson);
            ps.setString(3, queue);
            ps.setString(4, workflowId);
            ps.setInt(5, priority);
            ps.setString(6, deduplicationId);
            ps.setString(7, partitionKey);
            ps.setString(8, delay == null ? null : interval(delay));
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getString(1);
            }
        }
    }

    /** Fails workflows waiting longer than {@code timeout} for a name no executor alive within {@code alive} runs. */
    public List<String> failUnknownWorkflows(Duration timeout, Duration alive) throws SQLException {
        try (Connection conn = engine.getConnection();
                PreparedStatement ps = conn.prepareStatement(queries.get("failUnknownWorkflows"))) {
            ps.setString(1, timeout.toString());
            ps.setString(2, interval(timeout));
            ps.setString(3, interval(timeout));
            ps.setString(4, interval(alive));
            List<String> failed = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    failed.add(rs.getString(1) + " (" + rs.getString(2) + ")");
                }
            }
            return failed;
        }
    }

    /** Waiting workflows per name that no executor alive within {@code alive} runs. */
    public java.util.Map<String, Long> unknownWaiting(Duration alive) throws SQLException {
        try (Connection conn = engine.getConnection();
                PreparedStatement ps = conn.prepareStatement(queries.get("unknownWaiting"))) {
            ps.setString(1, interval(alive));
            java.util.Map<String, Long> waiting = new java.util.TreeMap<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    waiting.put(rs.getString(1), rs.getLong(2));
                }
            }
            return waiting;
        }
    }

    /** Calls {@code tandem.cancel_workflow}, {@code tandem.resume_workflow} or {@code tandem.send_message}. */
    public void control(String query, Object... params) throws SQLException {
        try (Connection conn = dataSource.getConnection();
                PreparedStatement ps = conn.prepareStatement(queries.get(query))) {
            for (int i = 0; i < params.length; i++) {
                ps.setObject(i + 1, params[i]);
            }
            ps.execute();
        }
    }

    /** A queue's limits; null means none. */
    public record QueueRow(String name, @Nullable Integer concurrency, @Nullable Integer workerConcurrency,
            @Nullable Integer rateLimit, @Nullable Duration ratePeriod, @Nullable Integer partitionConcurrency) {

        /** Whether a dequeue must serialize with other executors' dequeues of this queue. */
        boolean limitedGlobally() {
            return concurrency != null || rateLimit != null || partitionConcurrency != null;
        }
    }

    public void upsertQueue(QueueRow queue) throws SQLException {
        try (Connection conn = engine.getConnection();
                PreparedStatement ps = conn.prepareStatement(queries.get("upsertQueue"))) {
            ps.setString(1, queue.name());
            ps.setObject(2, queue.concurrency(), java.sql.Types.INTEGER);
            ps.setObject(3, queue.workerConcurrency(), java.sql.Types.INTEGER);
            ps.setObject(4, queue.rateLimit(), java.sql.Types.INTEGER);
            ps.setString(5, queue.ratePeriod() == null ? null : interval(queue.ratePeriod()));
            ps.setObject(6, queue.partitionConcurrency(), java.sql.Types.INTEGER);
            ps.executeUpdate();
        }
    }

    public List<QueueRow> loadQueues() throws SQLException {
        try (Connection conn = engine.getConnection();
                PreparedStatement ps = conn.prepareStatement(queries.get("loadQueues"));
                ResultSet rs = ps.executeQuery()) {
            List<QueueRow> rows = new ArrayList<>();
            while (rs.next()) {
                Long periodMillis = (Long) rs.getObject(5);
                rows.add(new QueueRow(rs.getString(1), (Integer) rs.getObject(2), (Integer) rs.getObject(3),
                        (Integer) rs.getObject(4), periodMillis == null ? null : Duration.ofMillis(periodMillis),
                        (Integer) rs.getObject(6)));
            }
            return rows;
        }
    }

    /** Moves up to {@code limit} waiting workflows of {@code queue} to RUNNING under {@code executorId}. */
    public List<ClaimedRow> claimQueued(String executorId, UUID incarnation, QueueRow queue, List<String> names,
            int limit) throws SQLException {
        try (Connection conn = engine.getConnection()) {
            Array nameArray = conn.createArrayOf("text", names.toArray());
            if (!queue.limitedGlobally()) {
                try (PreparedStatement ps = conn.prepareStatement(queries.get("claimQueued"))) {
                    ps.setString(1, executorId);
                    ps.setString(2, incarnation.toString());
                    ps.setString(3, queue.name());
                    ps.setArray(4, nameArray);
                    ps.setInt(5, limit);
                    return claimed(ps);
                }
            }
            conn.setAutoCommit(false);
            try {
                // The row's current limits win over the ones this executor loaded a moment ago.
                Integer concurrency = null;
                Integer rateLimit = null;
                String ratePeriod = null;
                Integer partitionConcurrency = null;
                try (PreparedStatement lock = conn.prepareStatement(queries.get("lockQueue"))) {
                    lock.setString(1, queue.name());
                    try (ResultSet rs = lock.executeQuery()) {
                        if (rs.next()) {
                            concurrency = (Integer) rs.getObject(1);
                            rateLimit = (Integer) rs.getObject(2);
                            ratePeriod = rs.getString(3);
                            partitionConcurrency = (Integer) rs.getObject(4);
                        }
                    }
                }
                List<ClaimedRow> rows;
                String claim = partitionConcurrency != null ? "claimQueuedPartitioned" : "claimQueuedLimited";
                try (PreparedStatement ps = conn.prepareStatement(queries.get(claim))) {
                    ps.setString(1, queue.name());
                    ps.setArray(2, nameArray);
                    ps.setInt(3, limit);
                    ps.setObject(4, concurrency, java.sql.Types.INTEGER);
                    ps.setObject(5, rateLimit, java.sql.Types.INTEGER);
                    ps.setString(6, ratePeriod);
                    ps.setObject(7, partitionConcurrency, java.sql.Types.INTEGER);
                    ps.setString(8, executorId);
                    ps.setString(9, incarnation.toString());
                    rows = claimed(ps);
                }
                conn.commit();
                return rows;
            } catch (SQLException | RuntimeException e) {
                conn.rollback();
                throw e;
            } finally {
                conn.setAutoCommit(true);
            }
        }
    }

    private static List<ClaimedRow> claimed(PreparedStatement ps) throws SQLException {
        List<ClaimedRow> rows = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                rows.add(new ClaimedRow(rs.getString(1), rs.getString(2), rs.getString(3), rs.getInt(4), rs.getString(5),
                        rs.getLong(6)));
            }
        }
        return rows;
    }

    /** When the next DELAYED workflow of these names is due, or null if none is waiting. */
    public java.time.@Nullable Instant nextDelayed(List<String> names) throws SQLException {
        try (Connection conn = engine.getConnection();
                PreparedStatement ps = conn.prepareStatement(queries.get("nextDelayed"))) {
            ps.setArray(1, conn.createArrayOf("text", names.toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                Timestamp t = rs.getTimestamp(1);
                return t == null ? null : t.toInstant();
            }
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
            UUID incarnation, @Nullable Long timeoutMillis, String parentId) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement(queries.get("startChild"))) {
            ps.setString(1, childId);
            ps.setString(2, name);
            ps.setString(3, inputJson);
            ps.setString(4, executorId);
            ps.setObject(5, timeoutMillis, java.sql.Types.BIGINT);
            ps.setObject(6, timeoutMillis, java.sql.Types.BIGINT);
            ps.setString(7, incarnation.toString());
            ps.setString(8, parentId);
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

    public void setTimeout(Connection conn, String workflowId, long timeoutMillis) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement(queries.get("setTimeout"))) {
            ps.setLong(1, timeoutMillis);
            ps.setString(2, workflowId);
            ps.executeUpdate();
        }
    }

    /** Cancels the workflows whose deadline passed; returns their ids. */
    public List<String> expireDeadlines() throws SQLException {
        try (Connection conn = engine.getConnection();
                PreparedStatement ps = conn.prepareStatement(queries.get("expireDeadlines"));
                ResultSet rs = ps.executeQuery()) {
            List<String> ids = new ArrayList<>();
            while (rs.next()) {
                ids.add(rs.getString(1));
            }
            return ids;
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
