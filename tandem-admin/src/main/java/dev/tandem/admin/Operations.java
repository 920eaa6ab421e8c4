package dev.tandem.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.tandem.WorkflowStatus;
import dev.tandem.admin.OperationException.Kind;
import dev.tandem.admin.internal.OpsActions;
import dev.tandem.admin.internal.OpsStore;
import dev.tandem.admin.internal.ReadTransaction;
import dev.tandem.admin.model.ActionResult;
import dev.tandem.admin.model.AuditEntry;
import dev.tandem.admin.model.BulkResult;
import dev.tandem.admin.model.ExecutorRow;
import dev.tandem.admin.model.Health;
import dev.tandem.admin.model.QueueRow;
import dev.tandem.admin.model.ScheduleRow;
import dev.tandem.admin.model.StatusCounts;
import dev.tandem.admin.model.StuckWorkflow;
import dev.tandem.admin.model.WorkflowDetail;
import dev.tandem.admin.model.WorkflowPage;
import dev.tandem.admin.model.WorkflowRow;
import dev.tandem.internal.db.Migrator;
import dev.tandem.internal.exec.Scheduler;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;

/**
 * The operators' view of a Tandem database, and their actions on it: the one query layer behind the admin HTTP API,
 * the dashboard and the CLI. Works over any DataSource whose database has schema {@code tandem}, with or without an
 * engine running in this process: actions go through the public SQL functions, and what must run (a resumed or
 * forked workflow) is queued for the application's executors.
 *
 * <pre>{@code
 * Operations ops = Operations.over(dataSource);
 * WorkflowPage failed = ops.listWorkflows(WorkflowFilter.all().statuses(WorkflowStatus.ERROR), null, 50);
 * ops.bulkResume(WorkflowFilter.all().statuses(WorkflowStatus.ERROR).name("charge"), false, new Actor("ada", "cli"));
 * }</pre>
 *
 * <p>Every action is idempotent (a repeat changes nothing and says so), is written to {@code tandem.audit_log} in
 * its own transaction, and fails with {@link IllegalArgumentException} for bad input or {@link OperationException}
 * (not found, conflict, unavailable) with nothing written. Thread-safe.
 */
public final class Operations {
    public static final int MAX_PAGE = 1000;
    /** An executor whose heartbeat is older than this is dead (as in view {@code tandem.workflows}). */
    public static final Duration DEAD_AFTER = Duration.ofMinutes(1);
    /** A RUNNING workflow with no checkpoint for this long is listed as stuck (NO_PROGRESS). */
    public static final Duration NO_PROGRESS_AFTER = Duration.ofMinutes(5);

    private final DataSource dataSource;
    private final ObjectMapper json;
    private final OpsStore store;
    private final OpsActions actions;
    private final Scheduler scheduler;

    private Operations(DataSource dataSource) {
        this.dataSource = dataSource;
        this.json = jsonMapper();
        this.store = new OpsStore(json);
        this.actions = new OpsActions(dataSource, store);
        this.scheduler = new Scheduler(dataSource);
    }

    /** Operations over this DataSource (the application's, or a pool of its own; read-only roles can list). */
    public static Operations over(DataSource dataSource) {
        if (dataSource == null) {
            throw new IllegalArgumentException("dataSource must not be null");
        }
        return new Operations(dataSource);
    }

    /**
     * The JSON mapper of the operators' side: snake_case names, ISO-8601 instants. The HTTP API and the CLI's
     * {@code --json} write the records of {@code dev.tandem.admin.model} with it, so both print the same shapes.
     */
    public static ObjectMapper jsonMapper() {
        return new ObjectMapper()
                .registerModule(new JavaTimeModule())
                .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
                .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE);
    }

    // ---------------------------------------------------------------------------------------------- workflows

    /**
     * One page of the workflows {@code filter} matches, newest first.
     *
     * @param cursor null for the first page, else the {@code next} of the previous page
     * @param limit the page size, 1 to {@value #MAX_PAGE}
     */
    public WorkflowPage listWorkflows(WorkflowFilter filter, @Nullable String cursor, int limit) {
        requireFilter(filter);
        if (limit < 1 || limit > MAX_PAGE) {
            throw new IllegalArgumentException("limit must be between 1 and " + MAX_PAGE + " (was " + limit + ")");
        }
        Cursor after = cursor == null ? null : Cursor.decode(cursor);
        List<WorkflowRow> rows = read("list workflows", conn -> store.page(conn, filter,
                after == null ? null : after.createdAt(), after == null ? null : after.workflowId(), limit + 1));
        String next = null;
        if (rows.size() > limit) {
            rows = rows.subList(0, limit);
            WorkflowRow last = rows.get(limit - 1);
            next = new Cursor(last.createdAt(), last.workflowId()).encode();
        }
        return new WorkflowPage(List.copyOf(rows), next);
    }

    /** How many workflows {@code filter} matches per status; its statuses are ignored, so every count shows. */
    public StatusCounts countWorkflows(WorkflowFilter filter) {
        requireFilter(filter);
        Map<String, Long> counts = read("count workflows", conn -> store.counts(conn, filter.statuses(java.util.Set.of())));
        Map<String, Long> byStatus = new LinkedHashMap<>();
        long total = 0;
        for (WorkflowStatus status : WorkflowStatus.values()) {
            long n = counts.getOrDefault(status.name(), 0L);
            byStatus.put(status.name(), n);
            total += n;
        }
        return new StatusCounts(byStatus, total);
    }

    /** One workflow with its steps, children, events, streams and messages; empty if no workflow has this id. */
    public Optional<WorkflowDetail> workflow(String workflowId) {
        requireId(workflowId);
        return read("read workflow '" + workflowId + "'", conn -> store.detail(conn, workflowId));
    }

    // ------------------------------------------------------------------------------------------------ actions

    /** Cancels a workflow that has not ended (and, if asked, its children); a no-op on one that has ended. */
    public ActionResult cancel(String workflowId, boolean withChildren, Actor actor) {
        requireId(workflowId);
        requireActor(actor);
        return actions.cancel(workflowId, withChildren, actor);
    }

    /**
     * Queues a CANCELLED, ERROR or RETRIES_EXCEEDED workflow to run again from its last checkpoint; a no-op on one
     * that has not ended; a conflict on one that succeeded.
     */
    public ActionResult resume(String workflowId, Actor actor) {
        requireId(workflowId);
        requireActor(actor);
        return actions.resume(workflowId, actor);
    }

    /**
     * Starts a new workflow that replays the checkpoints of {@code workflowId} before step {@code fromStep} and runs
     * from there (SQL {@code tandem.fork_workflow}). Give {@code newWorkflowId} to make a repeat safe: a second call
     * with the same one returns the first fork.
     */
    public ActionResult fork(String workflowId, int fromStep, @Nullable String newWorkflowId,
            @Nullable String queueName, Actor actor) {
        requireId(workflowId);
        if (fromStep < 1) {
            throw new IllegalArgumentException("fromStep must be at least 1, the first step (was " + fromStep + ")");
        }
        requireOptional("new workflow id", newWorkflowId);
        requireOptional("queue", queueName);
        requireActor(actor);
        return actions.fork("fork", workflowId, fromStep, newWorkflowId, queueName, actor);
    }

    /** Runs the workflow again from the beginning, with the same input, as a new workflow (a fork from step 1). */
    public ActionResult restart(String workflowId, @Nullable String newWorkflowId, Actor actor) {
        requireId(workflowId);
        requireOptional("new workflow id", newWorkflowId);
        requireActor(actor);
        return actions.fork("restart", workflowId, 1, newWorkflowId, null, actor);
    }

    /**
     * Moves a workflow to application version {@code appVersion} (SQL {@code tandem.set_workflow_version}), or with
     * null lets any executor that registered its name run it: for stranded workflows (stuck reason STRANDED), at the
     * operator's risk — the new code replays their recorded checkpoints.
     */
    public ActionResult setVersion(String workflowId, @Nullable String appVersion, Actor actor) {
        requireId(workflowId);
        requireOptional("app version", appVersion);
        requireActor(actor);
        return actions.setVersion(workflowId, appVersion, actor);
    }

    /** Sends a message to a workflow (SQL {@code tandem.send_message}); with an idempotency key, once. */
    public ActionResult send(String workflowId, @Nullable String topic, JsonNode message,
            @Nullable String idempotencyKey, Actor actor) {
        requireId(workflowId);
        if (message == null) {
            throw new IllegalArgumentException("message must not be null; send the JSON value null as a NullNode");
        }
        requireOptional("topic", topic);
        requireOptional("idempotency key", idempotencyKey);
        requireActor(actor);
        return actions.send(workflowId, topic, message, idempotencyKey, actor);
    }

    /**
     * Cancels every workflow {@code filter} matches that has not ended, server-side, in batches of 500 (each batch
     * one transaction with its audit row). The filter must set something: cancelling every workflow is refused.
     * With {@code dryRun}, changes nothing and says how many would be affected.
     */
    public BulkResult bulkCancel(WorkflowFilter filter, boolean dryRun, Actor actor) {
        requireBulk(filter, actor);
        return actions.bulk("cancel", filter, dryRun, actor);
    }

    /** Resumes every CANCELLED, ERROR or RETRIES_EXCEEDED workflow {@code filter} matches; as {@link #bulkCancel}. */
    public BulkResult bulkResume(WorkflowFilter filter, boolean dryRun, Actor actor) {
        requireBulk(filter, actor);
        return actions.bulk("resume", filter, dryRun, actor);
    }

    // --------------------------------------------------------------------------- queues, executors, schedules

    public List<QueueRow> queues() {
        return read("list queues", store::queues);
    }

    /** Every registered executor, live ones first; dead ones stay listed until their row is removed. */
    public List<ExecutorRow> executors() {
        return read("list executors", conn -> store.executors(conn, DEAD_AFTER));
    }

    public List<ScheduleRow> schedules() {
        return read("list schedules", store::schedules);
    }

    /** Stops starting ticks of the schedule until resumed; a no-op on a paused one. */
    public ActionResult pauseSchedule(String name, Actor actor) {
        return scheduleAction("pause", name, actor, () -> scheduler.pause(name) ? "paused" : null);
    }

    /** Starts ticks again from the first after now; a no-op on a running one. */
    public ActionResult resumeSchedule(String name, Actor actor) {
        return scheduleAction("resume", name, actor, () -> scheduler.resume(name) ? "resumed" : null);
    }

    /** Enqueues one run of the schedule's workflow now, paused or not; returns its id as {@code newWorkflowId}. */
    public ActionResult triggerSchedule(String name, Actor actor) {
        return scheduleAction("trigger", name, actor, () -> scheduler.trigger(name).map(id -> "triggered as '" + id
                + "'").orElse(null));
    }

    /**
     * Enqueues every tick of the schedule in [{@code from}, {@code to}) not already started (at most 10,000, else
     * nothing), oldest first; repeating it enqueues nothing more.
     */
    public ActionResult backfillSchedule(String name, Instant from, Instant to, Actor actor) {
        if (from == null || to == null || !from.isBefore(to)) {
            throw new IllegalArgumentException("backfill needs from before to (were " + from + " and " + to + ")");
        }
        return scheduleAction("backfill", name, actor, () -> scheduler.backfill(name, from, to)
                .map(ids -> ids.size() + " tick(s) enqueued" + (ids.isEmpty() ? "" : ": " + ids.get(0)
                        + (ids.size() > 1 ? " … " + ids.get(ids.size() - 1) : "")))
                .orElse(null));
    }

    // ------------------------------------------------------------------------------------- stuck, health, audit

    /** Workflows that are not moving, and why (see {@link StuckWorkflow}), oldest first, at most {@code limit}. */
    public List<StuckWorkflow> stuck(int limit) {
        if (limit < 1 || limit > MAX_PAGE) {
            throw new IllegalArgumentException("limit must be between 1 and " + MAX_PAGE + " (was " + limit + ")");
        }
        return read("list stuck workflows", conn -> store.stuck(conn, DEAD_AFTER, NO_PROGRESS_AFTER, limit));
    }

    /**
     * Whether the database answers and its schema is at the version this build needs; with {@code executorId}, also
     * whether that executor's heartbeat is fresh (younger than {@code heartbeatLimit}).
     */
    public Health health(@Nullable String executorId, Duration heartbeatLimit) {
        int expected = Migrator.LATEST_VERSION;
        Optional<OpsStore.HealthRow> row;
        try (Connection conn = dataSource.getConnection()) {
            row = store.health(conn, executorId);
        } catch (SQLException | RuntimeException e) {
            return new Health("DOWN", false, null, expected, executorId, null,
                    "the database cannot be reached: " + e.getMessage());
        }
        if (row.isEmpty()) {
            return new Health("DOWN", true, null, expected, executorId, null,
                    "schema tandem does not exist in this database; start an engine with migrate on, or apply it");
        }
        int version = row.get().schemaVersion();
        Double age = row.get().heartbeatAgeSeconds();
        String problem = null;
        if (version < expected) {
            problem = "schema tandem is at version " + version + "; this build needs " + expected
                    + " (start an engine with migrate on, or apply the migrations)";
        } else if (executorId != null && age == null) {
            problem = "executor '" + executorId + "' is not registered (not started yet, or stopped)";
        } else if (executorId != null && age > heartbeatLimit.toMillis() / 1000.0) {
            problem = "the heartbeat of executor '" + executorId + "' is " + Math.round(age) + " s old";
        }
        return new Health(problem == null ? "UP" : "DOWN", true, version, expected, executorId, age, problem);
    }

    /** The audit log, newest first; {@code beforeId} pages back (null for the newest). */
    public List<AuditEntry> audit(@Nullable Long beforeId, int limit) {
        if (limit < 1 || limit > MAX_PAGE) {
            throw new IllegalArgumentException("limit must be between 1 and " + MAX_PAGE + " (was " + limit + ")");
        }
        return read("read the audit log", conn -> store.audit(conn, beforeId, limit));
    }

    // ------------------------------------------------------------------------------------------------ retention

    /**
     * Deletes the workflows that ended more than {@code olderThan} ago, with their steps, messages, events and streams
     * (SQL {@code tandem.delete_workflows}; a child whose parent has not ended is kept), in batches of
     * {@code batchSize}, each one transaction with its audit row ({@code workflows.delete}). With {@code dryRun},
     * deletes nothing and counts what would be deleted now ({@code matched}, and the oldest ids as {@code sample}).
     */
    public BulkResult deleteWorkflows(Duration olderThan, int batchSize, boolean dryRun, Actor actor) {
        if (olderThan == null || olderThan.isNegative()) {
            throw new IllegalArgumentException("older than must be zero or positive (was " + olderThan + ")");
        }
        if (batchSize < 1 || batchSize > 100_000) {
            throw new IllegalArgumentException("batch size must be between 1 and 100000 (was " + batchSize + ")");
        }
        requireActor(actor);
        return actions.deleteWorkflows(olderThan, batchSize, dryRun, actor);
    }

    // ------------------------------------------------------------------------------------------------- helpers

    private interface Read<T> {
        T read(Connection conn) throws SQLException;
    }

    private <T> T read(String what, Read<T> read) {
        try (Connection conn = dataSource.getConnection()) {
            return ReadTransaction.run(conn, store, read::read); // JIT off: see ReadTransaction
        } catch (SQLException e) {
            throw OpsActions.failure(what, e);
        }
    }

    private interface ScheduleWork {
        @Nullable String run() throws SQLException;
    }

    private ActionResult scheduleAction(String action, String name, Actor actor, ScheduleWork work) {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("schedule name must not be null or blank");
        }
        requireActor(actor);
        String outcome;
        try {
            outcome = work.run();
        } catch (SQLException e) {
            throw OpsActions.failure(action + " schedule '" + name + "'", e);
        }
        if (outcome == null) {
            throw new OperationException(Kind.NOT_FOUND, "no schedule named '" + name + "' exists");
        }
        // The scheduler commits its own transaction; the audit row follows it (an audit write that fails after a
        // committed change is reported, not hidden).
        String logged = outcome;
        read("write the audit row of " + action + " schedule '" + name + "'", conn -> {
            store.audit(conn, actor.name(), actor.source(), "schedule." + action, name, Map.of(), logged);
            return null;
        });
        return new ActionResult(action, name, true, outcome, null, null);
    }

    private static void requireFilter(WorkflowFilter filter) {
        if (filter == null) {
            throw new IllegalArgumentException("filter must not be null; use WorkflowFilter.all()");
        }
    }

    private static void requireBulk(WorkflowFilter filter, Actor actor) {
        requireFilter(filter);
        if (filter.isEmpty()) {
            throw new IllegalArgumentException("a bulk action needs a filter (a status, name, queue, ...); it would"
                    + " otherwise apply to every workflow");
        }
        requireActor(actor);
    }

    private static void requireActor(Actor actor) {
        if (actor == null) {
            throw new IllegalArgumentException("actor must not be null: the audit log records who acted");
        }
    }

    private static void requireId(String workflowId) {
        if (workflowId == null || workflowId.isBlank()) {
            throw new IllegalArgumentException("workflow id must not be null or blank");
        }
    }

    private static void requireOptional(String what, @Nullable String value) {
        if (value != null && value.isBlank()) {
            throw new IllegalArgumentException(what + " must not be blank; leave it out instead");
        }
    }

    /** A page position: the creation time and id of the last workflow shown, as opaque URL-safe text. */
    private record Cursor(Instant createdAt, String workflowId) {
        String encode() {
            return Base64.getUrlEncoder().withoutPadding()
                    .encodeToString((createdAt + "|" + workflowId).getBytes(StandardCharsets.UTF_8));
        }

        static Cursor decode(String text) {
            try {
                String decoded = new String(Base64.getUrlDecoder().decode(text), StandardCharsets.UTF_8);
                int bar = decoded.indexOf('|');
                return new Cursor(Instant.parse(decoded.substring(0, bar)), decoded.substring(bar + 1));
            } catch (IllegalArgumentException | DateTimeParseException | StringIndexOutOfBoundsException e) {
                throw new IllegalArgumentException("cursor '" + text + "' is not one this API returned; pass the"
                        + " 'next' of the previous page, or none for the first page", e);
            }
        }
    }
}
