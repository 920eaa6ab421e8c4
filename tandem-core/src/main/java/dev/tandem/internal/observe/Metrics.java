package dev.tandem.internal.observe;

import java.util.Map;
import org.jspecify.annotations.Nullable;

/** The metrics half of {@link Telemetry}, in the engine's own types; {@link #NONE} when metrics are off. */
interface Metrics {
    Metrics NONE = new Metrics() {};

    default boolean enabled() {
        return false;
    }

    default void workflowStarted(String workflow, @Nullable String queue) {}

    /** {@code nanos}: how long this executor ran it, from its first run here; negative if unknown. */
    default void workflowFinished(String workflow, String status, long nanos) {}

    default void stepFinished(String workflow, String kind, boolean failed, long nanos) {}

    default void queueWait(String queue, long millis) {}

    default void recovered(String workflow, String reason) {}

    default void groupCommit(int writes) {}

    default void transactionCommitted() {}

    /** Per queue: {waiting, running}. */
    default void queueSizes(Map<String, long[]> sizes) {}

    default void heartbeat() {}
}
