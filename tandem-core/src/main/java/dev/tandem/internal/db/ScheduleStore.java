package dev.tandem.internal.db;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The statements on {@code tandem.schedules} (SQL in {@code schedules.sql}). Every change runs in one transaction that
 * first locks the schedule's row and reads the database's clock; what to write is decided by a callback, so the cron
 * arithmetic stays out of this class. Thread-safe; holds no connection of its own.
 */
public final class ScheduleStore {
    private static final Logger log = LoggerFactory.getLogger(ScheduleStore.class);
    private final DataSource dataSource;
    private final Queries queries;

    public ScheduleStore(DataSource dataSource) {
        this.dataSource = dataSource;
        this.queries = Queries.load();
        queries.require("schedules.list", "schedules.get", "schedules.lock", "schedules.now",
                "schedules.lockDue", "schedules.upsert", "schedules.advance", "schedules.delete",
                "schedules.queueExists", "schedules.enqueue", "schedules.unstarted");
    }

    /** One row of {@code tandem.schedules}; {@code catchUp} is {@code SKIP} or {@code BACKFILL}. */
    public record ScheduleRow(String name, String workflowName, String cron, String timeZone, String queue,
            String catchUp, boolean paused, Instant nextTick, @Nullable Instant lastTick) {

        /** Whether the two rows describe the same ticks of the same workflow (state aside). */
        public boolean sameDefinition(ScheduleRow other) {
            return workflowName.equals(other.workflowName) && cron.equals(other.cron)
                    && timeZone.equals(other.timeZone) && queue.equals(other.queue) && catchUp.equals(other.catchUp);
        }
    }

    /** Decides how a schedule changes, given its locked row (null if there is none) and the database's clock. */
    @FunctionalInterface
    public interface Change {
        /** The row to write, {@code current} itself to write nothing. */
        ScheduleRow apply(@Nullable ScheduleRow current, Instant now);
    }

    /** Which ticks to enqueue for a locked schedule (see {@link #enqueue}). */
    @FunctionalInterface
    public interface TickChoice {
        /** The ticks, in the order they are to be enqueued; throwing rolls back and writes nothing. */
        List<Tick> ticks(ScheduleRow schedule, Instant now);
    }

    /**
     * One workflow to enqueue: its id, which is also the tick's key ({@code <schedule>@<tick>}, recorded in
     * {@code scheduled_tick}), and the tick, the workflow's input.
     */
    public record Tick(String workflowId, Instant tick) {}

    /** What a scheduler pass does with one due schedule. */
    public record Advance(List<Tick> ticks, Instant nextTick, @Nullable Instant lastTick, boolean pause) {}

    /** The scheduler's decisions for due schedules, and where it hears of failures. */
    public interface Pass {
        /** What to do with a due schedule (locked by this pass), or null to leave it as it is. */
        @Nullable Advance plan(ScheduleRow schedule, Instant now);

        /** Enqueueing the ticks of {@code schedule} failed; its changes were rolled back, the others' stand. */
        void failed(ScheduleRow schedule, SQLException e);

        /** {@code schedule}'s ticks were enqueued: {@code enqueued} ids (ticks already started are left out). */
        void done(ScheduleRow schedule, List<String> enqueued);
    }

    public List<ScheduleRow> list() throws SQLException {
        try (Connection conn = dataSource.getConnection();
                PreparedStatement ps = conn.prepareStatement(queries.get("schedules.list"));
                ResultSet rs = ps.executeQuery()) {
            List<ScheduleRow> rows = new ArrayList<>();
            while (rs.next()) {
                rows.add(row(rs));
            }
            return rows;
        }
    }

    public Optional<ScheduleRow> get(String name) throws SQLException {
        try (Connection conn = dataSource.getConnection();
                PreparedStatement ps = conn.prepareStatement(queries.get("schedules.get"))) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(row(rs)) : Optional.empty();
            }
        }
    }

    public boolean queueExists(String queue) throws SQLException {
        try (Connection conn = dataSource.getConnection()) {
            return queueExists(conn, queue);
        }
    }

    /**
     * Locks schedule {@code name} and writes what {@code change} returns, in one transaction; an exception from
     * {@code change} rolls back and reaches the caller. Returns the row as it is afterwards.
     */
    public ScheduleRow change(String name, Change change) throws SQLException {
        return inTransaction(conn -> {
            Locked locked = lock(conn, name);
            ScheduleRow current = locked.row;
            ScheduleRow next = change.apply(current, locked.now);
            if (!next.equals(current)) {
                try (PreparedStatement ps = conn.prepareStatement(queries.get("schedules.upsert"))) {
                    ps.setString(1, next.name());
                    ps.setString(2, next.workflowName());
                    ps.setString(3, next.cron());
                    ps.setString(4, next.timeZone());
                    ps.setString(5, next.queue());
                    ps.setString(6, next.catchUp());
                    ps.setBoolean(7, next.paused());
                    ps.setObject(8, timestamp(next.nextTick()));
                    ps.setObject(9, timestamp(next.lastTick()));
                    ps.executeUpdate();
                }
            }
            return next;
        });
    }

    /** Deletes schedule {@code name}; false if there was none. Workflows it started are left alone. */
    public boolean delete(String name) throws SQLException {
        try (Connection conn = dataSource.getConnection();
                PreparedStatement ps = conn.prepareStatement(queries.get("schedules.delete"))) {
            ps.setString(1, name);
            return ps.executeUpdate() == 1;
        }
    }

    /**
     * Locks schedule {@code name} (so a scheduler pass cannot enqueue the same ticks at the same moment) and enqueues
     * the ticks {@code choice} picks, skipping ticks already started, in one transaction. An exception from
     * {@code choice} rolls back. Returns the ids enqueued; empty, with nothing written, if the schedule does not exist.
     */
    public Optional<List<String>> enqueue(String name, TickChoice choice) throws SQLException {
        return inTransaction(conn -> {
            Locked locked = lock(conn, name);
            if (locked.row == null) {
                return Optional.empty();
            }
            List<Tick> ticks = choice.ticks(locked.row, locked.now);
            return Optional.of(enqueue(conn, locked.row, ticks));
        });
    }

    /**
     * One scheduler pass, in one transaction: locks the due schedules no other executor holds, and for each enqueues
     * the ticks {@code pass} plans and advances it. A schedule whose statements fail is rolled back to a savepoint
     * and reported; the others commit. Returns how many workflows were enqueued.
     */
    public int runDue(Pass pass) throws SQLException {
        return inTransaction(conn -> {
            List<Locked> due = new ArrayList<>();
            try (PreparedStatement ps = conn.prepareStatement(queries.get("schedules.lockDue"));
                    ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    due.add(new Locked(row(rs), instant(rs, 10)));
                }
            }
            int enqueued = 0;
            for (Locked locked : due) {
                ScheduleRow schedule = locked.row();
                if (schedule == null) {
                    continue;
                }
                Advance advance = pass.plan(schedule, locked.now());
                if (advance == null) {
                    continue;
                }
                Savepoint savepoint = conn.setSavepoint();
                List<String> ids;
                try {
                    ids = enqueue(conn, schedule, advance.ticks());
                    try (PreparedStatement ps = conn.prepareStatement(queries.get("schedules.advance"))) {
                        ps.setObject(1, timestamp(advance.nextTick()));
                        ps.setObject(2, timestamp(advance.lastTick()));
                        ps.setBoolean(3, advance.pause());
                        ps.setString(4, schedule.name());
                        ps.executeUpdate();
                    }
                    conn.releaseSavepoint(savepoint);
                } catch (SQLException e) {
                    if (SqlErrors.isConnectionError(e)) {
                        throw e;
                    }
                    conn.rollback(savepoint);
                    pass.failed(schedule, e);
                    continue;
                }
                enqueued += ids.size();
                pass.done(schedule, ids);
            }
            return enqueued;
        });
    }

    /**
     * Enqueues {@code ticks} on the caller's transaction, skipping those already started. A tick's id may be held by a
     * workflow the scheduler did not start (anyone who may call {@code tandem.enqueue_workflow} can choose any id):
     * that workflow is left alone and does not count as the tick, which is logged and run under
     * {@code <schedule>@<tick>#<random UUID>} instead.
     */
    private List<String> enqueue(Connection conn, ScheduleRow schedule, List<Tick> ticks) throws SQLException {
        if (ticks.isEmpty()) {
            return List.of();
        }
        if (!queueExists(conn, schedule.queue())) { // the rows are inserted here, not by enqueue_workflow, which checks
            throw new SQLException("queue \"" + schedule.queue() + "\" of schedule '" + schedule.name()
                    + "' does not exist", "22023");
        }
        List<String> enqueued = insert(conn, schedule, ticks, ticks.stream().map(Tick::workflowId).toList());
        if (enqueued.size() == ticks.size()) {
            return enqueued;
        }
        Set<String> skipped = new HashSet<>();
        for (Tick tick : ticks) {
            skipped.add(tick.workflowId());
        }
        skipped.removeAll(enqueued);
        Set<String> unstarted = new HashSet<>();
        try (PreparedStatement ps = conn.prepareStatement(queries.get("schedules.unstarted"))) {
            ps.setArray(1, conn.createArrayOf("text", skipped.toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    unstarted.add(rs.getString(1));
                }
            }
        }
        List<Tick> displaced = ticks.stream().filter(t -> unstarted.contains(t.workflowId())).toList();
        if (displaced.isEmpty()) {
            return enqueued;
        }
        List<String> ids = displaced.stream().map(t -> t.workflowId() + "#" + UUID.randomUUID()).toList();
        for (int i = 0; i < displaced.size(); i++) {
            log.error("schedule '{}': workflow id '{}' is already used by a workflow the scheduler did not start"
                    + " (enqueued by someone else); it does not count as the tick, which runs as '{}'. Find out who"
                    + " enqueued it: SELECT * FROM tandem.workflows WHERE workflow_id = '{}'", schedule.name(),
                    displaced.get(i).workflowId(), ids.get(i), displaced.get(i).workflowId());
        }
        List<String> all = new ArrayList<>(enqueued);
        all.addAll(insert(conn, schedule, displaced, ids));
        return all;
    }

    /** Inserts {@code ticks} under {@code ids} (one each); returns the ids inserted. */
    private List<String> insert(Connection conn, ScheduleRow schedule, List<Tick> ticks, List<String> ids)
            throws SQLException {
        String[] keys = new String[ticks.size()];
        String[] times = new String[ticks.size()];
        for (int i = 0; i < keys.length; i++) {
            keys[i] = ticks.get(i).workflowId();
            times[i] = ticks.get(i).tick().toString();
        }
        try (PreparedStatement ps = conn.prepareStatement(queries.get("schedules.enqueue"))) {
            ps.setString(1, schedule.workflowName());
            ps.setString(2, schedule.queue());
            ps.setArray(3, conn.createArrayOf("text", ids.toArray()));
            ps.setArray(4, conn.createArrayOf("text", keys));
            ps.setArray(5, conn.createArrayOf("text", times));
            List<String> enqueued = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    enqueued.add(rs.getString(1));
                }
            }
            return enqueued;
        }
    }

    private boolean queueExists(Connection conn, String queue) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement(queries.get("schedules.queueExists"))) {
            ps.setString(1, queue);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }

    private record Locked(@Nullable ScheduleRow row, Instant now) {}

    private Locked lock(Connection conn, String name) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement(queries.get("schedules.lock"))) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    return new Locked(row(rs), instant(rs, 10));
                }
            }
        }
        try (PreparedStatement ps = conn.prepareStatement(queries.get("schedules.now"));
                ResultSet rs = ps.executeQuery()) {
            rs.next();
            return new Locked(null, instant(rs, 1));
        }
    }

    private static ScheduleRow row(ResultSet rs) throws SQLException {
        OffsetDateTime last = rs.getObject(9, OffsetDateTime.class);
        return new ScheduleRow(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5),
                rs.getString(6), rs.getBoolean(7), instant(rs, 8), last == null ? null : last.toInstant());
    }

    // OffsetDateTime rather than java.sql.Timestamp: no detour through the JVM's default time zone.
    private static Instant instant(ResultSet rs, int column) throws SQLException {
        return rs.getObject(column, OffsetDateTime.class).toInstant();
    }

    private static @Nullable OffsetDateTime timestamp(@Nullable Instant instant) {
        return instant == null ? null : instant.atOffset(ZoneOffset.UTC);
    }

    @FunctionalInterface
    private interface Body<T> {
        T run(Connection conn) throws SQLException;
    }

    private <T> T inTransaction(Body<T> body) throws SQLException {
        try (Connection conn = dataSource.getConnection()) {
            conn.setAutoCommit(false);
            try {
                T result = body.run(conn);
                conn.commit();
                return result;
            } catch (SQLException | RuntimeException e) {
                try {
                    conn.rollback();
                } catch (SQLException rollbackFailure) {
                    e.addSuppressed(rollbackFailure);
                }
                throw e;
            } finally {
                try {
                    conn.setAutoCommit(true);
                } catch (SQLException ignored) {
                    // The connection is broken; the pool will discard it.
                }
            }
        }
    }
}
