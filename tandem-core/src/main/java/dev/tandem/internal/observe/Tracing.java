package dev.tandem.internal.observe;

import org.jspecify.annotations.Nullable;

/** The tracing half of {@link Telemetry}, in the engine's own types; {@link #NONE} when tracing is off. */
interface Tracing {
    Tracing NONE = new Tracing() {};

    /** A span, in the engine's types. Methods of {@link #NONE} do nothing. */
    interface Span {
        Span NONE = new Span() {};

        /** Makes the span current on this thread until {@link #end()}, which must run on the same thread. */
        default void enter() {}

        default void workflowId(String workflowId) {}

        /** Records a failure: status ERROR and an exception event. */
        default void failed(Throwable error) {}

        /** This span's context, to store on a workflow row; null when not traced. */
        default @Nullable TraceContext context() {
            return null;
        }

        default void end() {}
    }

    /** A start or an enqueue (kind PRODUCER), child of the current context. */
    default Span producer(String operation, String workflowName, @Nullable String workflowId, @Nullable String queue) {
        return Span.NONE;
    }

    /**
     * One run of an execution (kind CONSUMER): a child of the context stored with the workflow, else of the current.
     */
    default Span execution(String workflowName, String workflowId, @Nullable String queue, int attempt,
            boolean recovered, @Nullable TraceContext parent) {
        return Span.NONE;
    }

    /** A step, a transactional step or a writing primitive, or a wait (sleep, recv, child), as a child of the run. */
    default Span step(String spanName, String workflowName, String workflowId, int position, String kind,
            String stepName) {
        return Span.NONE;
    }

    /** Records how the execution whose run span is current ended: its status, and its error if it failed. */
    default void executionEnded(String status, @Nullable String errorType, @Nullable String errorMessage,
            @Nullable String errorStack) {}

    /** The current span's context (a child workflow's row stores it), or null. */
    default @Nullable TraceContext current() {
        return null;
    }
}
