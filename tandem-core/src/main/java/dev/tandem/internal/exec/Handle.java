package dev.tandem.internal.exec;

import dev.tandem.ResultTimeoutException;
import dev.tandem.TandemException;
import dev.tandem.WorkflowFailedException;
import dev.tandem.WorkflowHandle;
import dev.tandem.WorkflowStatus;
import dev.tandem.internal.db.Json.ErrorInfo;
import dev.tandem.internal.db.Rows.WorkflowRow;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;

/**
 * A handle to an execution. For one running in this process it waits on the in-memory outcome (no polling); for one
 * elsewhere, or one this process stopped running, it reads {@code tandem.workflow_status} with a growing interval.
 */
final class Handle<O> implements WorkflowHandle<O> {
    private final Engine engine;
    private final String workflowId;
    private final @Nullable CompletableFuture<Outcome> local;

    Handle(Engine engine, String workflowId, @Nullable CompletableFuture<Outcome> local) {
        this.engine = engine;
        this.workflowId = workflowId;
        this.local = local;
    }

    @Override
    public String workflowId() {
        return workflowId;
    }

    @Override
    public WorkflowStatus status() {
        if (local != null && local.isDone()) {
            Outcome o = local.join();
            if (o instanceof Outcome.Succeeded) {
                return WorkflowStatus.SUCCESS;
            }
            if (o instanceof Outcome.Failed f) {
                return f.status();
            }
        }
        return WorkflowStatus.valueOf(engine.reads().loadWorkflow(workflowId).status());
    }

    @Override
    @SuppressWarnings("unchecked")
    public O result(Duration timeout) {
        if (timeout == null || timeout.isNegative()) {
            throw new IllegalArgumentException("timeout must be zero or positive (was " + timeout + ")");
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        if (local != null) {
            Outcome o;
            try {
                o = local.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (TimeoutException e) {
                throw notFinished(timeout);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new TandemException("interrupted while waiting for workflow '" + workflowId + "'", e);
            } catch (ExecutionException e) {
                throw new TandemException("waiting for workflow '" + workflowId + "' failed", e.getCause());
            }
            if (o instanceof Outcome.Succeeded s) {
                return (O) s.output();
            }
            if (o instanceof Outcome.Failed f) {
                throw failed(f.status(), f.error());
            }
            // Unknown: this process stopped running it; the database has the answer.
        }
        long sleepMillis = 5;
        while (true) {
            WorkflowRow row = engine.reads().loadWorkflow(workflowId);
            WorkflowStatus status = WorkflowStatus.valueOf(row.status());
            if (status == WorkflowStatus.SUCCESS) {
                return (O) engine.reads().decodeOutput(row);
            }
            if (status.isFinal()) {
                throw failed(status, engine.json().readError(row.error()));
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw notFinished(timeout);
            }
            try {
                TimeUnit.MILLISECONDS.sleep(Math.min(sleepMillis, TimeUnit.NANOSECONDS.toMillis(left) + 1));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new TandemException("interrupted while waiting for workflow '" + workflowId + "'", e);
            }
            sleepMillis = Math.min(sleepMillis * 2, 500);
        }
    }

    /**
     * The outcome if the workflow has ended, without waiting: from the local execution, or the database; null while
     * it has not ended.
     */
    @Nullable Outcome endedOutcome() {
        if (local != null && local.isDone() && !(local.join() instanceof Outcome.Unknown)) {
            return local.join();
        }
        if (local != null && !local.isDone()) {
            return null;
        }
        WorkflowRow row = engine.reads().loadWorkflow(workflowId);
        WorkflowStatus status = WorkflowStatus.valueOf(row.status());
        if (status == WorkflowStatus.SUCCESS) {
            return new Outcome.Succeeded(engine.reads().decodeOutput(row));
        }
        return status.isFinal() ? new Outcome.Failed(status, engine.json().readError(row.error())) : null;
    }

    /** Whether it runs in this process (its end can then be awaited here, not polled). */
    boolean runsHere() {
        return local != null && !local.isDone();
    }

    /** Runs {@code action} when the local execution ends (at once if it has). */
    void whenEnded(Runnable action) {
        if (local != null) {
            local.whenComplete((outcome, failure) -> action.run());
        }
    }

    /** The output of an ended workflow, or its failure thrown. */
    @SuppressWarnings("unchecked")
    O unwrap(Outcome outcome) {
        if (outcome instanceof Outcome.Failed f) {
            throw failed(f.status(), f.error());
        }
        return (O) ((Outcome.Succeeded) outcome).output();
    }

    ResultTimeoutException timedOut(Duration timeout) {
        return notFinished(timeout);
    }

    private WorkflowFailedException failed(WorkflowStatus status, ErrorInfo error) {
        return new WorkflowFailedException(workflowId, status, error.type(), error.message(), error.stack());
    }

    private ResultTimeoutException notFinished(Duration timeout) {
        return new ResultTimeoutException("workflow '" + workflowId + "' did not finish within " + timeout
                + "; it keeps running, and result() can be called again");
    }
}
