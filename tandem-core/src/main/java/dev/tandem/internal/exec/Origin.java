package dev.tandem.internal.exec;

import dev.tandem.internal.observe.TraceContext;
import org.jspecify.annotations.Nullable;

/**
 * What telemetry needs to know about where an execution comes from: the trace context stored with its workflow (its
 * run spans are children of it), its attempt, and when this executor first ran it (System.nanoTime(), 0 if unknown).
 * {@link #NONE} when telemetry is off, so no execution allocates one.
 */
record Origin(@Nullable TraceContext trace, int attempt, long startedNanos) {
    static final Origin NONE = new Origin(null, 1, 0);

    Origin withAttempt(int newAttempt) {
        return this == NONE ? NONE : new Origin(trace, newAttempt, startedNanos);
    }

    static @Nullable TraceContext trace(@Nullable String traceparent, @Nullable String tracestate) {
        return traceparent == null ? null : new TraceContext(traceparent, tracestate);
    }
}
