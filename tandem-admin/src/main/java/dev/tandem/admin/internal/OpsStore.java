package dev.tandem.admin.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tandem.admin.WorkflowFilter;
import dev.tandem.admin.model.AuditEntry;
import dev.tandem.admin.model.ExecutorRow;
import dev.tandem.admin.model.QueueRow;
import dev.tandem.admin.model.ScheduleRow;
import dev.tandem.admin.model.StepRow;
import dev.tandem.admin.model.StuckWorkflow;
import dev.tandem.admin.model.WorkflowDetail;
import dev.tandem.admin.model.WorkflowRow;
import dev.tandem.internal.db.AdminStore;
import dev.tandem.internal.db.Queries;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The reads of the operators' side (SQL in {@code ops.sql}): one statement per method, every value a bound
 * parameter. Thread-safe; holds no connection.
 */
public final class OpsStore {
    private final Queries queries = Queries.load(OpsStore.class, "/dev/tandem/admin/ops.sql");
    private final ObjectMapper json;

    public OpsStore(ObjectMapper json) {
        this.json = json;
    }

    public String sql(String name) {
        return queries.get(name);
    }

    /** One page, newest first, after the row {@code (afterCreatedAt, afterId)} if given. */
    public List<WorkflowRow> page(Connection conn, WorkflowFilter filter, @Nullable Instant afterCreatedAt,
            @Nullable String afterId, int limit) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement(sql("workflows.page"))) {
            int i = bindFilter(conn, ps, 1, filter);
            i = bindTwice(ps, i, timestamp(afterCreatedAt), Types.TIMESTAMP_WITH_TIMEZONE);
            ps.setString(i++, afterId);
            ps.setInt(i, limit);
            return workflows(ps);
        }
    }

    public Map<String, Long> counts(Connection conn, WorkflowFilter filter) throws SQLException {
        Map<String, Long> counts = new HashMap<>();
        try (PreparedStatement ps = conn.prepareStatement(sql("workflows.counts"))) {
            bindFilter(conn, ps, 1, filter);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    counts.put(rs.getString(1), rs.getLong(2));
                }
            }
        }
        return counts;
    }

    public Optional<WorkflowDetail> detail(Connection conn, String workflowId) throws SQLException {
        WorkflowRow row;
        try (PreparedStatement ps = conn.prepareStatement(sql("workflow.get"))) {
            ps.setString(1, workflowId);
            List<WorkflowRow> rows = workflows(ps);
            if (rows.isEmpty()) {
                return Optional.empty();
            }
            row = rows.get(0);
        }
        int limit = WorkflowDetail.LIST_LIMIT;
        boolean[] truncated = {false};
        List<StepRow> steps = list(conn, "workflow.steps", workflowId, limit, truncated, rs -> {
            Instant started = instant(rs, 4);
            Instant finished = instant(rs, 5);
            return new StepRow(rs.getInt(1), rs.getString(2), rs.getString(3), started, finished,
                    Duration.between(row.createdAt(), started).toMillis(),
                    Duration.between(started, finished).toMillis(), rs.getString(6), tree(rs.getString(7)),
                    tree(rs.getString(8)));
        });
        List<WorkflowRow> children = new ArrayList<>();
        try (PreparedStatement ps = conn.prepareStatement(sql("workflow.children"))) {
            ps.setString(1, workflowId);
            ps.setInt(2, limit + 1);
            children.addAll(workflows(ps));
            if (children.size() > limit) {
                children.remove(limit);
                truncated[0] = true;
            }
        }
        List<WorkflowDetail.Event> events = list(conn, "workflow.events", workflowId, limit, truncated,
                rs -> new WorkflowDetail.Event(rs.getString(1), tree(rs.getString(2)), instant(rs, 3)));
        List<WorkflowDetail.StreamValue> streams = list(conn, "workflow.streams", workflowId, limit, truncated,
                rs -> new WorkflowDetail.StreamValue(rs.getString(1), rs.getInt(2), tree(rs.getString(3)),
                        rs.getBoolean(4), instant(rs, 5)));
        List<WorkflowDetail.Message> messages = list(conn, "workflow.messages", workflowId, limit, truncated,
                rs -> new WorkflowDetail.Message(rs.getString(1), rs.getLong(2), tree(rs.getString(3)),
                        rs.getString(4), instant(rs, 5), nullableInstant(rs, 6)));
        return Optional.of(new WorkflowDetail(row, withSleepDurations(row, steps), children, events, streams, messages, truncated[0]));
    }

    /**
     * A SLEEP checkpoint is written as the sleep begins, with its wake-up time (epoch millis) as output, so its own
     * times span no wait. Its wait lasts until that wake-up time, or until the next step began (a recv's deadline
     * ends when the message comes), or until the workflow ended, or until now while it still sleeps.
     */
    private static List<StepRow> withSleepDurations(WorkflowRow row, List<StepRow> steps) {
        List<StepRow> out = new ArrayList<>(steps.size());
        boolean ended = dev.tandem.WorkflowStatus.valueOf(row.status()).isFinal();
        for (int i = 0; i < steps.size(); i++) {
            StepRow s = steps.get(i);
            if (s.kind().equals("SLEEP") && s.output() != null && s.output().canConvertToLong()) {
                Instant end = Instant.ofEpochMilli(s.output().asLong());
                Instant limit = i + 1 < steps.size() ? steps.get(i + 1).startedAt()
                        : ended ? row.updatedAt() : Instant.now();
                if (limit.isBefore(end)) {
                    end = limit;
                }
                long waited = Math.max(s.durationMillis(), Duration.between(s.startedAt(), end).toMillis());
                s = new StepRow(s.position(), s.name(), s.kind(), s.startedAt(), s.finishedAt(), s.offsetMillis(),
                        waited, s.childWorkflowId(), s.output(), s.error());
            }
            out.add(s);
        }
        return out;
    }

    public long bulkCount(Connection conn, WorkflowFilter filter, Set<String> applicable) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement(sql("bulk.count"))) {
            int i = bindFilter(conn, ps, 1, filter);
            ps.setArray(i, conn.createArrayOf("text", applicable.toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    public List<String> bulkIds(Connection conn, WorkflowFilter filter, Set<String> applicable,
            @Nullable String afterId, int limit) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement(sql("bulk.ids"))) {
            int i = bindFilter(conn, ps, 1, filter);
            ps.setArray(i++, conn.createArrayOf("text", applicable.toArray()));
            i = bindTwice(ps, i, afterId, Types.VARCHAR);
            ps.setInt(i, limit);
            List<String> ids = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    ids.add(rs.getString(1));
                }
            }
            return ids;
        }
    }

    public List<QueueRow> queues(Connection conn) throws SQLException {
        List<QueueRow> queues = new ArrayList<>();
        try (PreparedStatement ps = conn.prepareStatement(sql("queues")); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                queues.add(new QueueRow(rs.getString(1), rs.getBoolean(2), integer(rs, 3), integer(rs, 4),
                        integer(rs, 5), decimal(rs, 6), integer(rs, 7), rs.getLong(8), rs.getLong(9), rs.getLong(10),
                        decimal(rs, 11), rs.getLong(12)));
            }
        }
        return queues;
    }

    public List<ExecutorRow> executors(Connection conn, Duration deadAfter) throws SQLException {
        Map<String, Map<String, Long>> running = new HashMap<>();
        try (PreparedStatement ps = conn.prepareStatement(sql("executors.running"));
                ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                running.computeIfAbsent(String.valueOf(rs.getString(1)), k -> new LinkedHashMap<>())
                        .put(rs.getString(2), rs.getLong(3));
            }
        }
        List<ExecutorRow> executors = new ArrayList<>();
        try (PreparedStatement ps = conn.prepareStatement(sql("executors")); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                String id = rs.getString(1);
                Double age = decimal(rs, 6);
                Map<String, Long> byName = running.getOrDefault(id, Map.of());
                Array names = rs.getArray(7);
                boolean alive = age != null && age < deadAfter.toMillis() / 1000.0;
                String state = alive ? "alive" : age == null ? "stopped" : "dead";
                executors.add(new ExecutorRow(id, rs.getString(2), (Long) rs.getObject(3, Long.class),
                        instant(rs, 4), nullableInstant(rs, 5), age, state, alive,
                        byName.values().stream().mapToLong(Long::longValue).sum(), byName,
                        names == null ? List.of() : Arrays.asList((String[]) names.getArray()), rs.getString(8)));
            }
        }
        return executors;
    }

    public List<ScheduleRow> schedules(Connection conn) throws SQLException {
        List<ScheduleRow> schedules = new ArrayList<>();
        try (PreparedStatement ps = conn.prepareStatement(sql("schedules")); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                schedules.add(new ScheduleRow(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
                        rs.getString(5), rs.getString(6), rs.getBoolean(7), instant(rs, 8), nullableInstant(rs, 9)));
            }
        }
        return schedules;
    }

    public List<StuckWorkflow> stuck(Connection conn, Duration deadAfter, Duration noProgressAfter, int limit)
            throws SQLException {
        List<StuckWorkflow> stuck = new ArrayList<>();
        try (PreparedStatement ps = conn.prepareStatement(sql("stuck"))) {
            String dead = interval(deadAfter);
            ps.setString(1, dead);
            ps.setString(2, dead);
            ps.setString(3, dead);
            ps.setString(4, dead);
            ps.setString(5, interval(noProgressAfter));
            ps.setInt(6, limit);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    stuck.add(new StuckWorkflow(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
                            rs.getString(5), rs.getString(6), rs.getString(7), instant(rs, 8), instant(rs, 9)));
                }
            }
        }
        return stuck;
    }

    public List<AuditEntry> audit(Connection conn, @Nullable Long beforeId, int limit) throws SQLException {
        List<AuditEntry> entries = new ArrayList<>();
        try (PreparedStatement ps = conn.prepareStatement(sql("audit.list"))) {
            bindTwice(ps, 1, beforeId, Types.BIGINT);
            ps.setInt(3, limit);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    entries.add(new AuditEntry(rs.getLong(1), instant(rs, 2), rs.getString(3), rs.getString(4),
                            rs.getString(5), rs.getString(6), tree(rs.getString(7)), rs.getString(8)));
                }
            }
        }
        return entries;
    }

    public void audit(Connection conn, String actor, String source, String action, @Nullable String target,
            Object details, String outcome) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement(sql("audit.insert"))) {
            ps.setString(1, actor);
            ps.setString(2, source);
            ps.setString(3, action);
            ps.setString(4, target);
            ps.setString(5, text(details));
            ps.setString(6, outcome);
            ps.executeUpdate();
        }
    }

    /** The schema version, and this executor's heartbeat age in seconds (null if it is not registered). */
    public record HealthRow(int schemaVersion, @Nullable Double heartbeatAgeSeconds) {}

    public Optional<HealthRow> health(Connection conn, @Nullable String executorId) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement(sql("schemaExists")); ResultSet rs = ps.executeQuery()) {
            rs.next();
            if (!rs.getBoolean(1)) {
                return Optional.empty();
            }
        }
        try (PreparedStatement ps = conn.prepareStatement(sql("health"))) {
            ps.setString(1, executorId);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return Optional.of(new HealthRow(rs.getInt(1), decimal(rs, 2)));
            }
        }
    }

    /** A stored JSON text as a tree; null for SQL NULL. */
    public @Nullable JsonNode tree(@Nullable String text) {
        if (text == null) {
            return null;
        }
        try {
            return json.readTree(text);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("PostgreSQL returned JSON that does not parse: " + e.getOriginalMessage(), e);
        }
    }

    public String text(Object value) {
        try {
            return json.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("cannot write as JSON: " + e.getOriginalMessage(), e);
        }
    }

    private int bindFilter(Connection conn, PreparedStatement ps, int index, WorkflowFilter filter)
            throws SQLException {
        Object statuses = filter.statuses().isEmpty()
                ? null
                : conn.createArrayOf("text", filter.statuses().stream().map(Enum::name).toArray());
        int i = bindTwice(ps, index, statuses, Types.ARRAY);
        i = bindTwice(ps, i, filter.name(), Types.VARCHAR);
        i = bindTwice(ps, i, filter.queueName(), Types.VARCHAR);
        i = bindTwice(ps, i, filter.executorId(), Types.VARCHAR);
        i = bindTwice(ps, i, timestamp(filter.createdAfter()), Types.TIMESTAMP_WITH_TIMEZONE);
        i = bindTwice(ps, i, timestamp(filter.createdBefore()), Types.TIMESTAMP_WITH_TIMEZONE);
        String prefix = filter.idPrefix();
        i = bindTwice(ps, i, prefix == null ? null : AdminStore.likePrefix(prefix), Types.VARCHAR);
        i = bindTwice(ps, i, filter.parentWorkflowId(), Types.VARCHAR);
        JsonNode input = filter.inputContains();
        i = bindTwice(ps, i, input == null ? null : text(input), Types.VARCHAR);
        JsonNode output = filter.outputContains();
        return bindTwice(ps, i, output == null ? null : text(output), Types.VARCHAR);
    }

    private List<WorkflowRow> workflows(PreparedStatement ps) throws SQLException {
        List<WorkflowRow> rows = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                rows.add(new WorkflowRow(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
                        rs.getString(5), rs.getInt(6), instant(rs, 7), instant(rs, 8), nullableInstant(rs, 9),
                        rs.getString(10), rs.getString(11), nullableInstant(rs, 12), rs.getString(13),
                        rs.getString(16), tree(rs.getString(14)), tree(rs.getString(15)),
                        error(tree(rs.getString(17))), false));
            }
        }
        return rows;
    }

    /** The list's error object is built even for rows without one: {"type": null, "message": null} means none. */
    private static @Nullable JsonNode error(@Nullable JsonNode error) {
        if (error == null || (error.path("type").isNull() && error.path("message").isNull())) {
            return null;
        }
        return error;
    }

    private interface RowReader<T> {
        T read(ResultSet rs) throws SQLException;
    }

    private <T> List<T> list(Connection conn, String query, String workflowId, int limit, boolean[] truncated,
            RowReader<T> reader) throws SQLException {
        List<T> rows = new ArrayList<>();
        try (PreparedStatement ps = conn.prepareStatement(sql(query))) {
            ps.setString(1, workflowId);
            ps.setInt(2, limit + 1);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    if (rows.size() == limit) {
                        truncated[0] = true;
                        break;
                    }
                    rows.add(reader.read(rs));
                }
            }
        }
        return rows;
    }

    public static String interval(Duration duration) {
        return duration.toMillis() + " milliseconds";
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

    private static Instant instant(ResultSet rs, int column) throws SQLException {
        Instant instant = nullableInstant(rs, column);
        if (instant == null) {
            throw new IllegalStateException("column " + column + " is NULL where the schema does not allow it");
        }
        return instant;
    }

    private static @Nullable Instant nullableInstant(ResultSet rs, int column) throws SQLException {
        OffsetDateTime t = rs.getObject(column, OffsetDateTime.class);
        return t == null ? null : t.toInstant();
    }

    private static @Nullable Integer integer(ResultSet rs, int column) throws SQLException {
        int value = rs.getInt(column);
        return rs.wasNull() ? null : value;
    }

    private static @Nullable Double decimal(ResultSet rs, int column) throws SQLException {
        double value = rs.getDouble(column);
        return rs.wasNull() ? null : value;
    }
}
