package dev.tandem.admin.model;

import org.jspecify.annotations.Nullable;

/**
 * Whether the operators' side can work: {@code status} is {@code UP} when the database answers, the schema is at the
 * version this build needs and (embedded in an engine) that engine's heartbeat is fresh; {@code DOWN} otherwise, with
 * {@code problem} saying why.
 */
public record Health(
        String status,
        boolean databaseReachable,
        @Nullable Integer schemaVersion,
        int schemaVersionExpected,
        @Nullable String executorId,
        @Nullable Double heartbeatAgeSeconds,
        @Nullable String problem) {}
