package dev.tandem;

import java.time.Instant;
import java.time.ZoneId;
import org.jspecify.annotations.Nullable;

/**
 * A schedule as stored in {@code tandem.schedules} (see {@link Schedules}).
 *
 * @param name the schedule's name, the prefix of its ticks' workflow ids
 * @param workflowName the workflow each tick starts
 * @param cron the cron expression
 * @param timeZone the zone the expression is read in
 * @param queue the queue ticks are enqueued in
 * @param catchUp what happens to missed ticks
 * @param paused whether ticks are currently not started
 * @param nextTick the next tick not yet started (while paused, recomputed on resume)
 * @param lastTick the last tick started; null if none has been
 */
public record ScheduleInfo(
        String name,
        String workflowName,
        String cron,
        ZoneId timeZone,
        String queue,
        CatchUp catchUp,
        boolean paused,
        Instant nextTick,
        @Nullable Instant lastTick) {}
