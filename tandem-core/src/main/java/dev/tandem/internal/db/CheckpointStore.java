package dev.tandem.internal.db;

import dev.tandem.internal.db.Rows.FinishRow;
import dev.tandem.internal.db.Rows.StartRow;
import dev.tandem.internal.db.Rows.StepRow;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import javax.sql.DataSource;

/**
 * Checkpoints: the group commit (starts, checkpoints and final statuses of many executions in one statement, on the
 * connection it is given), the checkpoints a transactional step inserts on the application's transaction (with a
 * deferred start, if any), and the reads of an execution's recorded checkpoints on the application's pool.
 */
public final class CheckpointStore {
    private final Queries queries;
    private final DataSource dataSource;
    private final String[] groupCommitSql;
    private final String insertCheckpointsAndCommitSql;
    private final String insertStartWithCheckpointsSql;
    private final String insertStartWithCheckpointsAndCommitSql;

    CheckpointStore(Queries queries, DataSource dataSource) {
        this.queries = queries;
        this.dataSource = dataSource;
        this.groupCommitSql = composeGroupCommits(queries);
        this.insertCheckpointsAndCommitSql = queries.get("insertTransactionCheckpoints") + ";\nCOMMIT";
        this.insertStartWithCheckpointsSql = queries.get("insertStartWithCheckpoints");
        this.insertStartWithCheckpointsAndCommitSql = insertStartWithCheckpointsSql + ";\nCOMMIT";
        queries.require("insertTransactionCheckpoints", "insertStartWithCheckpoints",
                "loadSteps", "loadStep");
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
        try (PreparedStatement ps = conn.prepareStatement(insertStartWithCheckpointsAndCommitSql)) {
            bindStart(ps, executorId, incarnation, start, rows);
            ps.execute();
        }
    }

    /** {@link #insertStartAndCheckpointsAndCommit} without the commit, for the application's transaction manager. */
    public void insertStartAndCheckpoints(Connection conn, String executorId, UUID incarnation, StartRow start,
            List<StepRow> rows) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement(insertStartWithCheckpointsSql)) {
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
}
