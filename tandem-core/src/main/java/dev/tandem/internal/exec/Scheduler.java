package dev.tandem.internal.exec;

import dev.tandem.internal.cron.CronExpression;
import dev.tandem.internal.db.ScheduleStore;
import dev.tandem.internal.db.ScheduleStore.Advance;
import dev.tandem.internal.db.ScheduleStore.ScheduleRow;
import dev.tandem.internal.db.ScheduleStore.Tick;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Cron schedules: starts their ticks from every executor's maintenance loop, and changes them for
 * {@code dev.tandem.Schedules}.
 *
 * <p>Exactly once: a pass locks the due rows of {@code tandem.schedules} with {@code FOR UPDATE SKIP LOCKED}, enqueues
 * their ticks and moves {@code next_tick} past them in one transaction, so of several executors one enqueues a given
 * tick and the others skip the row or find it no longer due. Behind that, each tick's workflow id is deterministic
 * ({@code <schedule>@<tick in UTC, ISO-8601>}) and recorded as its key ({@code scheduled_tick}, unique, written only
 * by the scheduler): a backfill or a trigger that overlaps a pass cannot start a tick twice either. An id is not
 * proof of a tick, as anyone allowed to call {@code tandem.enqueue_workflow} may choose it: a workflow under a tick's
 * id without its key is left alone, logged, and the tick runs under {@code <tick id>#<random UUID>}. The database's
 * clock decides what is due.
 */
public final class Scheduler {
    private static final Logger log = LoggerFactory.getLogger(Scheduler.class);
    /** With {@code SKIP}, a tick later than this is skipped; on-time ticks are at most a heartbeat late. */
    static final Duration LATE_LIMIT = Duration.ofMinutes(1);
    /** Ticks one schedule enqueues in one pass; a long backfill continues on the next pass. */
    static final int MAX_TICKS_PER_PASS = 1000;
    /** Ticks one call of {@link #backfill} may cover. */
    public static final int MAX_BACKFILL_TICKS = 10_000;
    /** Skipped ticks counted one by one for the log; beyond, the pass jumps straight to the on-time ones. */
    private static final int MAX_SKIPPED_COUNTED = 10_000;

    private final ScheduleStore store;
    /** Schedules whose stored definition cannot be used, already logged: once per definition, not every second. */
    private final Set<String> reportedBroken = ConcurrentHashMap.newKeySet();

    public Scheduler(DataSource dataSource) {
        this.store = new ScheduleStore(dataSource);
    }

    /** The workflow id of a tick: {@code <schedule>@<tick in UTC, ISO-8601>}, e.g. {@code r@2026-11-28T09:00:00Z}. */
    public static String tickId(String schedule, Instant tick) {
        return schedule + "@" + tick;
    }

    // ---- the maintenance loop ----

    /**
     * One pass: enqueues the due ticks of every schedule no other executor is handling right now. A schedule that
     * fails is logged and left for the next pass; the others go on. Returns how many workflows it enqueued.
     *
     * @throws SQLException if the database cannot be reached (the caller logs it and tries again next time)
     */
    public int runDue() throws SQLException {
        return store.runDue(new ScheduleStore.Pass() {
            @Override
            public @Nullable Advance plan(ScheduleRow schedule, Instant now) {
                try {
                    return Scheduler.this.plan(schedule, now);
                } catch (RuntimeException e) { // a definition written by hand in SQL: bad cron or zone
                    if (reportedBroken.add(schedule.toString())) {
                        log.error("schedule '{}' cannot run: {}; fix it with Schedules.create(...) or delete it",
                                schedule.name(), e.getMessage());
                    }
                    return null;
                }
            }

            @Override
            public void failed(ScheduleRow schedule, SQLException e) {
                if (reportedBroken.add(schedule.toString() + e.getMessage())) {
                    log.error("schedule '{}' could not enqueue workflow '{}' in queue '{}': {}; it will try again",
                            schedule.name(), schedule.workflowName(), schedule.queue(), e.getMessage());
                }
            }

            @Override
            public void done(ScheduleRow schedule, List<String> enqueued) {
                log.debug("schedule '{}' enqueued {}", schedule.name(), enqueued);
            }
        });
    }

    /** The ticks of a due schedule to enqueue now, and where it goes next. */
    private Advance plan(ScheduleRow schedule, Instant now) {
        CronExpression cron = CronExpression.parse(schedule.cron());
        ZoneId zone = ZoneId.of(schedule.timeZone());
        Instant tick = schedule.nextTick();
        if (schedule.catchUp().equals("SKIP")) {
            Instant cutoff = now.minus(LATE_LIMIT);
            Instant firstSkipped = tick;
            int skipped = 0;
            while (tick != null && tick.isBefore(cutoff) && skipped < MAX_SKIPPED_COUNTED) {
                skipped++;
                tick = cron.next(tick, zone);
            }
            if (tick != null && tick.isBefore(cutoff)) {
                tick = cron.next(cutoff.minusNanos(1), zone); // the first tick at or after the cutoff
            }
            if (skipped > 0) {
                log.info("schedule '{}' skipped {} tick(s) missed while no executor was running, from {} (catch-up"
                        + " SKIP runs only ticks at most {} late)", schedule.name(),
                        skipped < MAX_SKIPPED_COUNTED ? skipped : "more than " + MAX_SKIPPED_COUNTED, firstSkipped,
                        LATE_LIMIT.toSeconds() + " s");
            }
        }
        List<Tick> ticks = new ArrayList<>();
        while (tick != null && !tick.isAfter(now) && ticks.size() < MAX_TICKS_PER_PASS) {
            ticks.add(new Tick(tickId(schedule.name(), tick), tick));
            tick = cron.next(tick, zone);
        }
        Instant last = ticks.isEmpty() ? null : ticks.get(ticks.size() - 1).tick();
        if (tick == null) {
            log.warn("schedule '{}' ('{}') has no tick left; it is paused", schedule.name(), schedule.cron());
            return new Advance(ticks, last != null ? last : schedule.nextTick(), last, true);
        }
        return new Advance(ticks, tick, last, false);
    }

    // ---- management, for dev.tandem.Schedules (arguments already validated) ----

    public List<ScheduleRow> list() throws SQLException {
        return store.list();
    }

    public Optional<ScheduleRow> get(String name) throws SQLException {
        return store.get(name);
    }

    public boolean queueExists(String queue) throws SQLException {
        return store.queueExists(queue);
    }

    /**
     * Creates a schedule or updates its definition. A changed definition (workflow, cron, zone, queue, catch-up)
     * starts from the first tick after now; an unchanged one keeps its next tick. {@code definition.paused()} is
     * the state of a new schedule only: an existing one keeps its own.
     */
    public ScheduleRow createOrUpdate(ScheduleRow definition) throws SQLException {
        CronExpression cron = CronExpression.parse(definition.cron());
        ZoneId zone = ZoneId.of(definition.timeZone());
        return store.change(definition.name(), (current, now) -> {
            if (current == null) {
                return withNextTick(definition, firstTickAfter(cron, zone, now, definition), null);
            }
            if (current.sameDefinition(definition)) {
                return current;
            }
            ScheduleRow updated = new ScheduleRow(current.name(), definition.workflowName(), definition.cron(),
                    definition.timeZone(), definition.queue(), definition.catchUp(), current.paused(),
                    current.nextTick(), current.lastTick());
            return withNextTick(updated, firstTickAfter(cron, zone, now, definition), current.lastTick());
        });
    }

    /** Pauses schedule {@code name}; false if there is none. */
    public boolean pause(String name) throws SQLException {
        return changeExisting(name, (current, now) -> current.paused() ? current : withPaused(current, true,
                current.nextTick()));
    }

    /** Resumes schedule {@code name} from the first tick after now, so a paused period is not caught up. */
    public boolean resume(String name) throws SQLException {
        return changeExisting(name, (current, now) -> {
            if (!current.paused()) {
                return current;
            }
            CronExpression cron = CronExpression.parse(current.cron());
            return withPaused(current, false,
                    firstTickAfter(cron, ZoneId.of(current.timeZone()), now, current));
        });
    }

    public boolean delete(String name) throws SQLException {
        return store.delete(name);
    }

    /**
     * Enqueues one run of schedule {@code name} now, paused or not, with the database's current time as input, under
     * the id {@code <name>@manual-<random UUID>}; empty if there is no such schedule.
     */
    public Optional<String> trigger(String name) throws SQLException {
        String id = name + "@manual-" + UUID.randomUUID();
        return store.enqueue(name, (schedule, now) -> List.of(new Tick(id, now))).map(ids -> id);
    }

    /**
     * Enqueues every tick of schedule {@code name} in [{@code from}, {@code to}) that is not later than now, under
     * the ticks' usual ids, skipping ticks already started; empty if there is no such schedule.
     *
     * @throws IllegalArgumentException if the range holds more than {@link #MAX_BACKFILL_TICKS} ticks (nothing is
     *     enqueued)
     */
    public Optional<List<String>> backfill(String name, Instant from, Instant to) throws SQLException {
        return store.enqueue(name, (schedule, now) -> {
            CronExpression cron = CronExpression.parse(schedule.cron());
            ZoneId zone = ZoneId.of(schedule.timeZone());
            Instant end = to.isAfter(now) ? now.plusNanos(1) : to; // later ticks are the schedule's to run
            List<Tick> ticks = new ArrayList<>();
            for (Instant tick = cron.next(from.minusNanos(1), zone); tick != null && tick.isBefore(end);
                    tick = cron.next(tick, zone)) {
                if (ticks.size() == MAX_BACKFILL_TICKS) {
                    throw new IllegalArgumentException("backfill of schedule '" + name + "' from " + from + " to " + to
                            + " covers more than " + MAX_BACKFILL_TICKS + " ticks; backfill shorter ranges, one"
                            + " after the other (nothing was enqueued)");
                }
                ticks.add(new Tick(tickId(name, tick), tick));
            }
            return ticks;
        });
    }

    private boolean changeExisting(String name, ScheduleStore.Change change) throws SQLException {
        try {
            store.change(name, (current, now) -> {
                if (current == null) {
                    throw new NoSuchSchedule();
                }
                return change.apply(current, now);
            });
            return true;
        } catch (NoSuchSchedule e) {
            return false;
        }
    }

    /** Thrown inside a change to roll it back when the schedule does not exist; never escapes this class. */
    private static final class NoSuchSchedule extends RuntimeException {
        NoSuchSchedule() {
            super(null, null, false, false);
        }
    }

    private static Instant firstTickAfter(CronExpression cron, ZoneId zone, Instant now, ScheduleRow schedule) {
        Instant next = cron.next(now, zone);
        if (next == null) {
            throw new IllegalArgumentException("cron expression '" + schedule.cron() + "' of schedule '"
                    + schedule.name() + "' has no tick after " + now + " in " + zone);
        }
        return next;
    }

    private static ScheduleRow withNextTick(ScheduleRow row, Instant nextTick, @Nullable Instant lastTick) {
        return new ScheduleRow(row.name(), row.workflowName(), row.cron(), row.timeZone(), row.queue(), row.catchUp(),
                row.paused(), nextTick, lastTick);
    }

    private static ScheduleRow withPaused(ScheduleRow row, boolean paused, Instant nextTick) {
        return new ScheduleRow(row.name(), row.workflowName(), row.cron(), row.timeZone(), row.queue(), row.catchUp(),
                paused, nextTick, row.lastTick());
    }
}
