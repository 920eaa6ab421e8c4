package dev.tandem.internal.db;

import dev.tandem.internal.db.Rows.WorkflowRow;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Optional;
import java.util.UUID;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;

/**
 * Workflow rows: one workflow's row and state, the attempts of a replayed execution, the control statements (cancel,
 * resume, set version, send) and the start of a child. On the application's pool or the caller's transaction.
 */
public final class WorkflowStore {
    private final Queries queries;
    private final DataSource dataSource;

    WorkflowStore(Queries queries, DataSource dataSource) {
        this.queries = queries;
        this.dataSource = dataSource;
        queries.require("loadWorkflow", "countAttempt", "cancelWorkflow", "resumeWorkflow",
                "setWorkflowVersion", "cancelWorkflowTree", "workflowState", "startChild", "existingChild");
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
}
