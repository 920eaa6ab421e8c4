package dev.tandem.admin.model;

import java.time.Instant;
import org.jspecify.annotations.Nullable;

/** A cron schedule as stored in {@code tandem.schedules}. */
public record ScheduleRow(
        String name,
        String workflowName,
        String cron,
        String timeZone,
        String queueName,
        String catchUp,
        boolean paused,
        Instant nextTick,
        @Nullable Instant lastTick) {}
