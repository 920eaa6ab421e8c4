package dev.tandem;

import java.time.ZoneId;

/**
 * How a schedule runs (see {@link Schedules#create}).
 *
 * @param timeZone the zone the cron expression is read in; default UTC. Daylight saving time is handled: a skipped
 *     local time fires when the clocks jump, a repeated one fires once (see {@link Schedules})
 * @param queue the queue each tick's workflow is enqueued in; it must exist ({@code default} always does)
 * @param catchUp what to do with ticks missed while no executor was running; default {@link CatchUp#SKIP}
 * @param paused whether a <em>new</em> schedule starts paused; default false. It does not change an existing
 *     schedule, whose state only {@link Schedules#pause} and {@link Schedules#resume} change, so that an
 *     application that declares its schedules at every start does not undo an operator's pause
 */
public record ScheduleOptions(ZoneId timeZone, String queue, CatchUp catchUp, boolean paused) {

    public ScheduleOptions {
        if (timeZone == null) {
            throw new IllegalArgumentException("timeZone must not be null; the default is UTC");
        }
        if (queue == null || queue.isBlank()) {
            throw new IllegalArgumentException("queue must not be null or blank; the default is 'default'");
        }
        if (catchUp == null) {
            throw new IllegalArgumentException("catchUp must not be null; use CatchUp.SKIP or CatchUp.BACKFILL");
        }
    }

    /** UTC, queue {@code default}, {@link CatchUp#SKIP}, not paused. */
    public static ScheduleOptions defaults() {
        return new ScheduleOptions(ZoneId.of("UTC"), "default", CatchUp.SKIP, false);
    }

    public ScheduleOptions timeZone(ZoneId timeZone) {
        return new ScheduleOptions(timeZone, queue, catchUp, paused);
    }

    public ScheduleOptions queue(String queue) {
        return new ScheduleOptions(timeZone, queue, catchUp, paused);
    }

    public ScheduleOptions catchUp(CatchUp catchUp) {
        return new ScheduleOptions(timeZone, queue, catchUp, paused);
    }

    public ScheduleOptions paused(boolean paused) {
        return new ScheduleOptions(timeZone, queue, catchUp, paused);
    }
}
