package dev.tandem;

import dev.tandem.internal.cron.CronExpression;
import dev.tandem.internal.db.ScheduleStore.ScheduleRow;
import dev.tandem.internal.exec.Engine;
import dev.tandem.internal.exec.Scheduler;
import java.sql.SQLException;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Cron schedules, stored in {@code tandem.schedules} and managed at runtime; obtained from {@link Tandem#schedules()}.
 *
 * <pre>{@code
 * Workflow<Instant, Void> report = tandem.register("nightly_report", Instant.class, (ctx, tick) -> ...);
 * tandem.start();
 * tandem.schedules().create("nightly-report", report, "0 2 * * *",
 *         ScheduleOptions.defaults().timeZone(ZoneId.of("Europe/Paris")));
 * }</pre>
 *
 * <p>Each tick enqueues the schedule's workflow with the tick's time as input, under the workflow id
 * {@code <schedule name>@<tick in UTC, ISO-8601>} (for example {@code nightly-report@2026-11-28T01:00:00Z}). Every
 * executor checks the schedules about once per heartbeat interval, and each tick runs <b>exactly once</b> across
 * all of them: a row lock decides which executor enqueues it, and an existing workflow id enqueues nothing. Ticks
 * missed while no executor was running are skipped or run late, as {@link ScheduleOptions#catchUp()} says.
 *
 * <p>Cron expressions: 5 fields ({@code minute hour day-of-month month day-of-week}) or 6 with seconds first;
 * {@code *}, lists {@code a,b}, ranges {@code a-b}, steps {@code *}{@code /n} and {@code a-b/n}, {@code JAN}-{@code
 * DEC}, {@code SUN}-{@code SAT} (0 and 7 are Sunday), and {@code @yearly @monthly @weekly @daily @hourly}. When both
 * day fields are restricted, a day matches if either does (classic cron). In the schedule's time zone, a local time
 * skipped by a daylight-saving change fires when the clocks jump, and a repeated one fires once (both times if the
 * hour field is {@code *}, so "every 5 minutes" keeps its pace).
 *
 * <p>Thread-safe; every method reads or writes the database at once and does not need {@link Tandem#start()}, only
 * a migrated schema.
 */
public final class Schedules {
    private final Engine engine;

    Schedules(Engine engine) {
        this.engine = engine;
    }

    /**
     * Creates schedule {@code name}, or updates it. A changed definition (workflow, cron, time zone, queue, catch-up)
     * starts from the first tick after now; calling it again with the same definition changes nothing, so an
     * application may declare its schedules at every start. {@link ScheduleOptions#paused()} applies to a new
     * schedule only; an existing one stays paused or running (see {@link #pause}, {@link #resume}).
     *
     * @param workflow a workflow whose input is the tick, a {@link java.time.Instant}
     * @throws IllegalArgumentException for a blank name, an invalid cron expression (the message names the field,
     *     the value and the allowed range), a workflow that does not take an {@code Instant}, or a queue that does not
     *     exist; nothing is written
     */
    public void create(String name, Workflow<Instant, ?> workflow, String cron, ScheduleOptions options) {
        requireName(name);
        if (workflow == null) {
            throw new IllegalArgumentException("workflow of schedule '" + name + "' must not be null");
        }
        if (options == null) {
            throw new IllegalArgumentException("options of schedule '" + name + "' must not be null;"
                    + " use ScheduleOptions.defaults()");
        }
        CronExpression expression;
        try {
            expression = CronExpression.parse(cron);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("schedule '" + name + "': " + e.getMessage(), e);
        }
        if (expression.next(Instant.now(), options.timeZone()) == null) {
            throw new IllegalArgumentException("schedule '" + name + "': cron expression '" + cron + "' has no tick in"
                    + " the next 30 years");
        }
        Class<?> inputType = engine.inputType(workflow.name());
        if (inputType != null && inputType != Instant.class) {
            throw new IllegalArgumentException("schedule '" + name + "': workflow '" + workflow.name() + "' takes a "
                    + inputType.getName() + ", but a scheduled workflow takes the tick, a java.time.Instant");
        }
        Scheduler scheduler = engine.scheduler();
        try {
            if (!scheduler.queueExists(options.queue())) {
                throw new IllegalArgumentException("schedule '" + name + "': queue '" + options.queue() + "' does not"
                        + " exist; declare it with Tandem.builder().queue(\"" + options.queue() + "\", ...) and"
                        + " start() the engine first (queue 'default' always exists)");
            }
            scheduler.createOrUpdate(new ScheduleRow(name, workflow.name(), expression.toString(),
                    options.timeZone().getId(), options.queue(), options.catchUp().name(), options.paused(),
                    Instant.EPOCH, null));
        } catch (SQLException e) {
            throw failure("create", name, e);
        }
    }

    /** Every schedule, by name. */
    public List<ScheduleInfo> list() {
        try {
            List<ScheduleInfo> all = new ArrayList<>();
            for (ScheduleRow row : engine.scheduler().list()) {
                all.add(info(row));
            }
            return all;
        } catch (SQLException e) {
            throw new TandemException("failed to list schedules: " + e.getMessage(), e);
        }
    }

    /** Schedule {@code name}, or empty if there is none. */
    public Optional<ScheduleInfo> get(String name) {
        requireName(name);
        try {
            return engine.scheduler().get(name).map(Schedules::info);
        } catch (SQLException e) {
            throw failure("read", name, e);
        }
    }

    /**
     * Stops starting ticks of schedule {@code name} until {@link #resume}; workflows already started go on. Pausing a
     * paused schedule does nothing.
     *
     * @throws IllegalArgumentException if there is no such schedule
     */
    public void pause(String name) {
        requireName(name);
        try {
            requireFound(name, engine.scheduler().pause(name));
        } catch (SQLException e) {
            throw failure("pause", name, e);
        }
    }

    /**
     * Starts ticks of schedule {@code name} again, from the first tick after now: ticks of the paused period are not
     * run (use {@link #backfill} for that). Resuming a running schedule does nothing.
     *
     * @throws IllegalArgumentException if there is no such schedule
     */
    public void resume(String name) {
        requireName(name);
        try {
            requireFound(name, engine.scheduler().resume(name));
        } catch (SQLException e) {
            throw failure("resume", name, e);
        }
    }

    /**
     * Deletes schedule {@code name}; workflows it started are left alone.
     *
     * @throws IllegalArgumentException if there is no such schedule
     */
    public void delete(String name) {
        requireName(name);
        try {
            requireFound(name, engine.scheduler().delete(name));
        } catch (SQLException e) {
            throw failure("delete", name, e);
        }
    }

    /**
     * Enqueues one run of schedule {@code name}'s workflow now, even if the schedule is paused, with the database's
     * current time as input, under the id {@code <name>@manual-<random UUID>}. Does not change the schedule's ticks.
     *
     * @throws IllegalArgumentException if there is no such schedule
     */
    public WorkflowHandle<?> trigger(String name) {
        requireName(name);
        String id;
        try {
            id = engine.scheduler().trigger(name).orElseThrow(() -> notFound(name));
        } catch (SQLException e) {
            throw failure("trigger", name, e);
        }
        return engine.handle(id);
    }

    /**
     * Enqueues every tick of schedule {@code name} from {@code from} (inclusive) to {@code to} (exclusive), under the
     * ticks' usual workflow ids, oldest first, paused or not. Ticks already started (by the schedule, an earlier
     * backfill) are skipped, so a backfill may be repeated and may overlap the schedule's own ticks; ticks later than
     * now are left to the schedule. All or nothing: one transaction.
     *
     * @return the ids of the workflows enqueued, oldest first
     * @throws IllegalArgumentException if there is no such schedule, {@code from} is not before {@code to}, or the
     *     range holds more than 10,000 ticks (nothing is enqueued)
     */
    public List<String> backfill(String name, Instant from, Instant to) {
        requireName(name);
        if (from == null || to == null) {
            throw new IllegalArgumentException("backfill of schedule '" + name + "' needs both from and to (were "
                    + from + " and " + to + ")");
        }
        if (!from.isBefore(to)) {
            throw new IllegalArgumentException("backfill of schedule '" + name + "': from must be before to (were "
                    + from + " and " + to + ")");
        }
        try {
            return engine.scheduler().backfill(name, from, to).orElseThrow(() -> notFound(name));
        } catch (SQLException e) {
            throw failure("backfill", name, e);
        }
    }

    private static void requireName(String name) {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("schedule name must not be null or blank");
        }
    }

    private static void requireFound(String name, boolean found) {
        if (!found) {
            throw notFound(name);
        }
    }

    private static IllegalArgumentException notFound(String name) {
        return new IllegalArgumentException("no schedule named '" + name + "' exists; see Schedules.list()");
    }

    private static TandemException failure(String action, String name, SQLException e) {
        return new TandemException("failed to " + action + " schedule '" + name + "': " + e.getMessage(), e);
    }

    private static ScheduleInfo info(ScheduleRow row) {
        ZoneId zone;
        try {
            zone = ZoneId.of(row.timeZone());
        } catch (DateTimeException e) {
            throw new TandemException("schedule '" + row.name() + "' has time zone '" + row.timeZone() + "' in"
                    + " tandem.schedules, which is not a valid zone id; fix it with create(...) or delete it", e);
        }
        return new ScheduleInfo(row.name(), row.workflowName(), row.cron(), zone, row.queue(),
                CatchUp.valueOf(row.catchUp()), row.paused(), row.nextTick(), row.lastTick());
    }
}
