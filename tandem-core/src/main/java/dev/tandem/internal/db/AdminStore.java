package dev.tandem.internal.db;

import dev.tandem.StepInfo;
import dev.tandem.WorkflowInfo;
import dev.tandem.WorkflowQuery;
import dev.tandem.WorkflowStatus;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;
import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;

/**
 * The statements of the operators' side (SQL in {@code admin.sql}): listing workflows and steps, fork and deletion.
 * Thread-safe; holds no connection of its own. Every value a caller gives is a bound parameter.
 */
public final class AdminStore {
    private final DataSource dataSource;
    private final Queries queries;

    public AdminStore(DataSource dataSource) {
        this.dataSource = dataSource;
        this.queries = Queries.load();
        queries.require("listWorkflows.newestFirst", "listWorkflows.oldestFirst", "listSteps",
                "forkWorkflow", "deleteWorkflows", "exportHistories.checkpoints");
    }

    public List<WorkflowInfo> listWorkflows(WorkflowQuery query) throws SQLException {
        try (Connection conn = dataSource.getConnection()) {
            return listWorkflows(conn, query);
        }
    }

    private List<WorkflowInfo> listWorkflows(Connection conn, WorkflowQuery query) throws SQLException {
        String sql = queries.get(query.oldestFirst() ? "listWorkflows.oldestFirst" : "listWorkflows.newestFirst");
        try (PreparedStatement ps = conn.prepareStatement(sql)) {
            int i = 1;
            Object statuses = query.statuses().isEmpty()
                    ? null
                    : conn.createArrayOf("text", query.statuses().stream().map(Enum::name).toArray());
            for (int twice = 0; twice < 2; twice++) {
                ps.setObject(i++, statuses, Types.ARRAY);
            }
            i = bindTwice(ps, i, query.name(), Types.VARCHAR);
            i = bindTwice(ps, i, query.queueName(), Types.VARCHAR);
            i = bindTwice(ps, i, timestamp(query.createdAfter()), Types.TIMESTAMP_WITH_TIMEZONE);
            i = bindTwice(ps, i, timestamp(query.createdBefore()), Types.TIMESTAMP_WITH_TIMEZONE);
            String idPrefix = query.idPrefix();
            i = bindTwice(ps, i, idPrefix == null ? null : likePrefix(idPrefix), Types.VARCHAR);
            i = bindTwice(ps, i, query.parentWorkflowId(), Types.VARCHAR);
            ps.setInt(i++, query.limit());
            ps.setInt(i, query.offset());
            List<WorkflowInfo> workflows = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    workflows.add(new WorkflowInfo(rs.getString(1), rs.getString(2),
                            WorkflowStatus.valueOf(rs.getString(3)), rs.getString(4), rs.getString(5),
                            rs.getString(6), rs.getString(7), rs.getString(8), rs.getInt(9), rs.getString(10),
                            instant(rs, 11), instant(rs, 12), instant(rs, 13), rs.getString(14), rs.getString(15),
                            instant(rs, 16)));
                }
            }
            return workflows;
        }
    }

    /** A workflow as exported for a replay check, with its checkpoints in order. */
    public record RecordedWorkflow(String workflowId, String name, String status, @Nullable String queueName,
            @Nullable String parentWorkflowId, @Nullable Instant createdAt, @Nullable String input,
            @Nullable String output, @Nullable String errorType, @Nullable String errorMessage,
            List<RecordedCheckpoint> checkpoints) {}

    /** One checkpoint as exported: its output and error as stored (JSON text), null where SQL has NULL. */
    public record RecordedCheckpoint(int position, String name, String kind, @Nullable String output,
            @Nullable String outputType, @Nullable String error, @Nullable String childWorkflowId) {}

    /** Where {@link #exportHistories} puts each workflow, as it reads them. */
    public interface HistorySink {
        void accept(RecordedWorkflow workflow) throws IOException;
    }

    /**
     * Every workflow the filters of {@code query} match (its paging is not used), oldest first, each with its
     * checkpoints, read in pages of {@value #EXPORT_PAGE} in one read-only REPEATABLE READ transaction: one snapshot,
     * so each history is complete as of one instant, whatever runs meanwhile. Returns how many were exported.
     */
    public int exportHistories(WorkflowQuery query, HistorySink sink) throws SQLException, IOException {
        try (Connection conn = dataSource.getConnection()) {
            conn.setAutoCommit(false);
            conn.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
            conn.setReadOnly(true);
            try {
                int count = 0;
                for (WorkflowQuery page = query.oldestFirst(true).limit(EXPORT_PAGE).offset(0); ;
                        page = page.nextPage()) {
                    List<WorkflowInfo> workflows = listWorkflows(conn, page);
                    Map<String, List<RecordedCheckpoint>> checkpoints = checkpoints(conn, workflows);
                    for (WorkflowInfo workflow : workflows) {
                        sink.accept(new RecordedWorkflow(workflow.workflowId(), workflow.name(),
                                workflow.status().name(), workflow.queueName(), workflow.parentWorkflowId(),
                                workflow.createdAt(), workflow.inputJson(), workflow.outputJson(),
                                workflow.errorType(), workflow.errorMessage(),
                                checkpoints.getOrDefault(workflow.workflowId(), List.of())));
                    }
                    count += workflows.size();
                    if (workflows.size() < EXPORT_PAGE) {
                        return count;
                    }
                }
            } finally {
                conn.rollback(); // read only: nothing to keep
            }
        }
    }

    private static final int EXPORT_PAGE = 500;

    private Map<String, List<RecordedCheckpoint>> checkpoints(Connection conn, List<WorkflowInfo> workflows)
            throws SQLException {
        Map<String, List<RecordedCheckpoint>> byWorkflow = new HashMap<>();
        if (workflows.isEmpty()) {
            return byWorkflow;
        }
        try (PreparedStatement ps = conn.prepareStatement(queries.get("exportHistories.checkpoints"))) {
            ps.setArray(1, conn.createArrayOf("text", workflows.stream().map(WorkflowInfo::workflowId).toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    byWorkflow.computeIfAbsent(rs.getString(1), id -> new ArrayList<>()).add(new RecordedCheckpoint(
                            rs.getInt(2), rs.getString(3), rs.getString(4), rs.getString(5), rs.getString(6),
                            rs.getString(7), rs.getString(8)));
                }
            }
        }
        return byWorkflow;
    }

    /** A workflow's steps in order; empty if no workflow has this id. */
    public Optional<List<StepInfo>> listSteps(String workflowId) throws SQLException {
        try (Connection conn = dataSource.getConnection();
                PreparedStatement ps = conn.prepareStatement(queries.get("listSteps"))) {
            ps.setString(1, workflowId);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                List<StepInfo> steps = new ArrayList<>();
                do {
                    if (rs.getObject(1) != null) { // a workflow without steps comes as one row of NULLs
                        steps.add(new StepInfo(rs.getInt(1), rs.getString(2), rs.getString(3), rs.getString(4),
                                rs.getString(5), rs.getString(6), rs.getString(7), instant(rs, 8), instant(rs, 9)));
                    }
                } while (rs.next());
                return Optional.of(steps);
            }
        }
    }

    /** Calls {@code tandem.fork_workflow}; returns the new workflow's id. */
    public String fork(String workflowId, int startStep, @Nullable String newWorkflowId, @Nullable String queueName)
            throws SQLException {
        try (Connection conn = dataSource.getConnection();
                PreparedStatement ps = conn.prepareStatement(queries.get("forkWorkflow"))) {
            ps.setString(1, workflowId);
            ps.setInt(2, startStep);
            ps.setString(3, newWorkflowId);
            ps.setString(4, queueName);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getString(1);
            }
        }
    }

    /** Calls {@code tandem.delete_workflows} once: deletes at most {@code batchSize} workflows; returns how many. */
    public int deleteWorkflows(Duration olderThan, int batchSize) throws SQLException {
        try (Connection conn = dataSource.getConnection();
                PreparedStatement ps = conn.prepareStatement(queries.get("deleteWorkflows"))) {
            ps.setString(1, SystemDatabase.interval(olderThan));
            ps.setInt(2, batchSize);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }

    /**
     * What PostgreSQL said, without the driver's "ERROR:" prefix and the PL/pgSQL context lines: the functions'
     * messages already name the function, the value and the rule.
     */
    public static String reason(SQLException e) {
        ServerErrorMessage server = e instanceof PSQLException psql ? psql.getServerErrorMessage() : null;
        String message = server != null ? server.getMessage() : null;
        return message != null ? message : String.valueOf(e.getMessage());
    }

    /** A LIKE pattern matching text that starts with {@code prefix}, its wildcards taken literally (escape '!'). */
    public static String likePrefix(String prefix) {
        StringBuilder pattern = new StringBuilder(prefix.length() + 8);
        for (int i = 0; i < prefix.length(); i++) {
            char c = prefix.charAt(i);
            if (c == '!' || c == '%' || c == '_') {
                pattern.append('!');
            }
            pattern.append(c);
        }
        return pattern.append('%').toString();
    }

    private static int bindTwice(PreparedStatement ps, int index, @Nullable Object value, int sqlType)
            throws SQLException {
        ps.setObject(index, value, sqlType);
        ps.setObject(index + 1, value, sqlType);
        return index + 2;
    }

    private static @Nullable OffsetDateTime timestamp(@Nullable Instant instant) {
        return instant == null ? null : instant.atOffset(ZoneOffset.UTC);
    }

    private static @Nullable Instant instant(ResultSet rs, int column) throws SQLException {
        OffsetDateTime t = rs.getObject(column, OffsetDateTime.class);
        return t == null ? null : t.toInstant();
    }
}
