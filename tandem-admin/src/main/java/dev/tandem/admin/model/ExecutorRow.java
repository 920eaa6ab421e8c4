package dev.tandem.admin.model;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * An executor (an engine process) as registered in {@code tandem.executors}. {@code state} is {@code alive} while its
 * heartbeat is fresher than the dead-after threshold, {@code stopped} after an orderly shutdown (its heartbeat is then
 * null), else {@code dead}; what it runs now (RUNNING workflows it owns, per workflow name) and the workflow names it
 * registered, and the application version it runs.
 */
public record ExecutorRow(
        String executorId,
        @Nullable String hostname,
        @Nullable Long pid,
        Instant startedAt,
        @Nullable Instant heartbeatAt,
        @Nullable Double heartbeatAgeSeconds,
        String state,
        boolean alive,
        long running,
        Map<String, Long> runningByName,
        List<String> workflowNames,
        @Nullable String appVersion) {}
