package dev.tandem.internal.observe;

import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * What the engine tells the outside about its work: OpenTelemetry spans and Micrometer meters, each on only if the
 * application passed its {@code OpenTelemetry} or {@code MeterRegistry} to the builder. The engine calls this class
 * from a few places (start and enqueue, a run of an execution, a step, a wait, the group commit, maintenance).
 *
 * <p>Off, it is {@link #NONE}: every method returns at once, and those that return an {@link Observation} return
 * the shared {@link Observation#NONE}, so the engine allocates nothing and loads no OpenTelemetry or Micrometer class.
 * The implementations that use them are named only in {@link #create}, which the JVM resolves only when it runs.
 */
public final class Telemetry {
    /** Telemetry off. */
    public static final Telemetry NONE = new Telemetry(Tracing.NONE, Metrics.NONE);

    private final Tracing tracing;
    private final Metrics metrics;
    private final boolean off;

    private Telemetry(Tracing tracing, Metrics metrics) {
        this.tracing = tracing;
        this.metrics = metrics;
        this.off = tracing == Tracing.NONE && metrics == Metrics.NONE;
    }

    /**
     * Telemetry for what the application configured: {@code openTelemetry} an {@code io.opentelemetry.api
     * .OpenTelemetry}, {@code meterRegistry} an {@code io.micrometer.core.instrument.MeterRegistry}, each or both
     * null. Typed {@code Object} so that callers (and this class) link against neither library.
     */
    public static Telemetry create(@Nullable Object openTelemetry, @Nullable Object meterRegistry,
            String executorId) {
        if (openTelemetry == null && meterRegistry == null) {
            return NONE;
        }
        Tracing tracing = openTelemetry == null ? Tracing.NONE : OtelTracing.create(openTelemetry, executorId);
        Metrics metrics = meterRegistry == null ? Metrics.NONE : MicrometerMetrics.create(meterRegistry);
        return new Telemetry(tracing, metrics);
    }

    /** Whether metrics are on (maintenance then refreshes the queue gauges). */
    public boolean metricsEnabled() {
        return metrics.enabled();
    }

    /** Whether traces are on (a start or enqueue then stores its trace context). */
    public boolean tracingEnabled() {
        return tracing != Tracing.NONE;
    }

    /**
     * Something the engine does that has a beginning and an end: a span, and the time it took. Close it on the thread
     * that opened it.
     */
    public interface Observation extends AutoCloseable {
        Observation NONE = new Observation() {
            @Override
            public void close() {}
        };

        /** It failed: the span's status is ERROR with an exception event, and the step counts as failed. */
        default void failed(Throwable error) {}

        /** The workflow id, once known (an enqueue without one gets it from the database). */
        default void workflowId(String workflowId) {}

        /** The trace context to store with the workflow this starts or enqueues; null if not traced. */
        default @Nullable TraceContext context() {
            return null;
        }

        @Override
        void close();
    }

    /** A start ({@code operation} "start") or an enqueue ("enqueue") of a workflow: a PRODUCER span. */
    public Observation produce(String operation, String workflowName, @Nullable String workflowId,
            @Nullable String queue) {
        if (off) {
            return Observation.NONE;
        }
        return new Observed(tracing.producer(operation, workflowName, workflowId, queue), null, null, null, 0);
    }

    /**
     * One run of an execution, from its start or its replay until it finishes, parks or stops: a CONSUMER span,
     * current on this thread while it runs, so its steps are its children.
     */
    public Observation run(String workflowName, String workflowId, @Nullable String queue, int attempt,
            boolean recovered, @Nullable TraceContext parent) {
        if (off) {
            return Observation.NONE;
        }
        Tracing.Span span = tracing.execution(workflowName, workflowId, queue, attempt, recovered, parent);
        span.enter();
        return new Observed(span, null, null, null, 0);
    }

    /** A step that runs (not a replayed one), of checkpoint kind {@code kind}; a span and a step timer. */
    public Observation step(String workflowName, String workflowId, int position, String kind, String stepName) {
        if (off) {
            return Observation.NONE;
        }
        Tracing.Span span = tracing.step(spanName(kind, stepName), workflowName, workflowId, position, kind, stepName);
        span.enter();
        return new Observed(span, metrics, workflowName, kind, System.nanoTime());
    }

    /** A wait of a workflow: {@code what} is "sleep", "recv" or "child"; a span only. */
    public Observation await(String what, String workflowName, String workflowId, int position, String kind) {
        if (off) {
            return Observation.NONE;
        }
        Tracing.Span span = tracing.step("tandem.wait " + what, workflowName, workflowId, position, kind, what);
        span.enter();
        return new Observed(span, null, null, null, 0);
    }

    /**
     * Span names must have low cardinality: steps and transactional steps are named by the code, children by their
     * workflow; the engine's writing primitives carry keys and topics in their names, so they go by their kind.
     */
    private static String spanName(String kind, String stepName) {
        return switch (kind) {
            case "STEP", "TRANSACTION" -> "tandem.step " + stepName;
            case "CHILD" -> "tandem.startChild " + stepName;
            default -> "tandem." + kind.toLowerCase(java.util.Locale.ROOT);
        };
    }

    /** An execution started here for the first time (not a recovery): started, from {@code queue} or directly. */
    public void workflowStarted(String workflowName, @Nullable String queue) {
        metrics.workflowStarted(workflowName, queue);
    }

    /**
     * An execution's final status was recorded, on the thread of its run: counted, timed from {@code startedNanos}
     * (its first run here; 0 if unknown), and set on the run's span.
     */
    public void workflowFinished(String workflowName, String status, long startedNanos, @Nullable String errorType,
            @Nullable String errorMessage, @Nullable String errorStack) {
        if (off) {
            return;
        }
        metrics.workflowFinished(workflowName, status, startedNanos == 0 ? -1 : System.nanoTime() - startedNanos);
        tracing.executionEnded(status, errorType, errorMessage, errorStack);
    }

    /** A workflow was taken over to be run again: {@code reason} "crash", "reconciliation" or "replay". */
    public void recovered(String workflowName, String reason) {
        metrics.recovered(workflowName, reason);
    }

    /** A queued workflow was claimed {@code millis} after it could first run. */
    public void queueWait(String queue, long millis) {
        metrics.queueWait(queue, millis);
    }

    /** One group commit carried {@code writes} callers' writes. */
    public void groupCommit(int writes) {
        metrics.groupCommit(writes);
    }

    /** A transactional step (or writing primitive) committed. */
    public void transactionCommitted() {
        metrics.transactionCommitted();
    }

    /** Per queue: {waiting, running}, read by maintenance. */
    public void queueSizes(Map<String, long[]> sizes) {
        metrics.queueSizes(sizes);
    }

    /** This executor's heartbeat was recorded. */
    public void heartbeat() {
        metrics.heartbeat();
    }

    /** The current span's trace context, or null: a child workflow's row stores its parent's step span. */
    public @Nullable TraceContext currentContext() {
        return off ? null : tracing.current();
    }

    /** An observation with telemetry on: its span, and for a step its timer. */
    private static final class Observed implements Observation {
        private final Tracing.Span span;
        private final @Nullable Metrics metrics;
        private final @Nullable String workflow;
        private final @Nullable String kind;
        private final long startNanos;
        private boolean failed;

        Observed(Tracing.Span span, @Nullable Metrics metrics, @Nullable String workflow, @Nullable String kind,
                long startNanos) {
            this.span = span;
            this.metrics = metrics;
            this.workflow = workflow;
            this.kind = kind;
            this.startNanos = startNanos;
        }

        @Override
        public void failed(Throwable error) {
            failed = true;
            span.failed(error);
        }

        @Override
        public void workflowId(String workflowId) {
            span.workflowId(workflowId);
        }

        @Override
        public @Nullable TraceContext context() {
            return span.context();
        }

        @Override
        public void close() {
            span.end();
            if (metrics != null && workflow != null && kind != null) {
                metrics.stepFinished(workflow, kind, failed, System.nanoTime() - startNanos);
            }
        }
    }
}
