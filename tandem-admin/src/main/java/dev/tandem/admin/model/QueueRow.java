package dev.tandem.admin.model;

import org.jspecify.annotations.Nullable;

/**
 * A queue now: its limits as declared in {@code tandem.queues} (null: none, or not declared there), how many of its
 * workflows wait ({@code ENQUEUED}), are delayed ({@code DELAYED}) and run, how long the oldest waiting one has
 * waited, and how many started in the last minute.
 */
public record QueueRow(
        String name,
        boolean declared,
        @Nullable Integer concurrency,
        @Nullable Integer workerConcurrency,
        @Nullable Integer rateLimit,
        @Nullable Double ratePeriodSeconds,
        @Nullable Integer partitionConcurrency,
        long waiting,
        long delayed,
        long running,
        @Nullable Double oldestWaitingSeconds,
        long startedLastMinute) {}
