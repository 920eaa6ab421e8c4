package dev.tandem.internal.exec;

import dev.tandem.internal.db.Rows.StartRow;
import dev.tandem.internal.exec.ExecutionControl.Kind;
import org.jspecify.annotations.Nullable;

/**
 * The start of a workflow run on the caller's thread ({@code Workflow.run}) that is not written yet: it commits with
 * the first transactional step, or alone before any other write or durable call ({@link #ensureWritten}). Plain steps
 * before that run first, which is what {@code run} allows: it returns only at the workflow's end, so nobody can rely
 * on the row before the first effect that must be exactly once.
 */
final class DeferredStart {
    private final WorkflowExecution<?, ?> x;

    /** The start not written yet; null once it is, or if the execution's start was not deferred. */
    @Nullable StartRow pending;
    /** A deferred start found its id taken (by a start that committed first): the caller looks at that one. */
    boolean conflict;
    /** A deferred start failed: the caller gets this, as {@code start} would have thrown it. */
    @Nullable RuntimeException failure;

    DeferredStart(WorkflowExecution<?, ?> execution) {
        this.x = execution;
    }

    /**
     * Writes a deferred start through the group committer and waits until it is durable; if the id was taken
     * meanwhile, or the write failed, the execution stops (the caller of {@code run} then looks at what exists, or
     * gets the failure).
     */
    void ensureWritten() {
        StartRow start = pending;
        if (start == null) {
            return;
        }
        boolean inserted;
        try {
            inserted = x.engine.starting().insertStart(start);
        } catch (RuntimeException e) {
            failure = e;
            throw x.halt(new ExecutionControl(Kind.ABANDON, "the start of workflow '" + x.workflowId + "' failed", e));
        }
        pending = null;
        if (!inserted) {
            conflict = true;
            throw x.halt(new ExecutionControl(Kind.ABANDON, "workflow '" + x.workflowId + "' was started elsewhere"
                    + " first"));
        }
    }

    /** A deferred start was written with the first transactional step. */
    void writtenWithStep() {
        pending = null;
    }
}
