package dev.tandem.internal.exec;

import dev.tandem.WorkflowStatus;
import dev.tandem.internal.db.Rows.ClaimedRow;
import dev.tandem.internal.observe.Telemetry;
import dev.tandem.internal.observe.TraceContext;
import org.jspecify.annotations.Nullable;

/**
 * Where the lives of executions meet telemetry (the engine's other hooks are one-line calls on {@link Telemetry} in
 * Starting, Steps, Primitives, Children, GroupCommitter and Maintenance). With telemetry off every method costs a
 * call that returns at once, and executions keep {@link Origin#NONE}.
 */
final class Instrumentation {
    private final Telemetry telemetry;

    Instrumentation(Telemetry telemetry) {
        this.telemetry = telemetry;
    }

    Telemetry telemetry() {
        return telemetry;
    }

    /** An execution's origin: first run here now, continuing {@code trace}; none when telemetry is off. */
    Origin origin(@Nullable TraceContext trace, int attempt) {
        return telemetry == Telemetry.NONE ? Origin.NONE : new Origin(trace, attempt, System.nanoTime());
    }

    /** Runs an execution on the calling thread, as one run span of it (current while it runs: steps nest in it). */
    void run(WorkflowExecution<?, ?> x) {
        try (Telemetry.Observation ignored = telemetry.run(x.name(), x.workflowId(), x.queueName(),
                x.origin.attempt(), x.recovered(), x.origin.trace())) {
            x.run();
        }
    }

    /** On the execution's thread, once its final status is recorded and its outcome completed. */
    void finished(WorkflowExecution<?, ?> x) {
        Outcome outcome = x.outcome().getNow(null);
        if (outcome instanceof Outcome.Failed failed) {
            telemetry.workflowFinished(x.name(), failed.status().name(), x.origin.startedNanos(),
                    failed.error().type(), failed.error().message(), failed.error().stack());
        } else {
            telemetry.workflowFinished(x.name(), WorkflowStatus.SUCCESS.name(), x.origin.startedNanos(), null, null,
                    null);
        }
    }

    /** A workflow ended without running to its end here: out of attempts, or an input that does not bind. */
    void ended(String workflowName, WorkflowStatus status, long startedNanos, Class<?> errorType, String message) {
        telemetry.workflowFinished(workflowName, status.name(), startedNanos, errorType.getName(), message, null);
    }

    /** A workflow replayed after a transient failure: its next run counts {@code attempts} (0 if unknown). */
    void replayed(WorkflowExecution<?, ?> old, WorkflowExecution<?, ?> fresh, int attempts) {
        fresh.origin = old.origin.withAttempt(attempts > 0 ? attempts : old.origin.attempt() + 1);
        telemetry.recovered(old.name(), "replay");
    }

    /** A child started by its parent on this executor, in the trace of the parent's step that started it. */
    void childStarted(WorkflowExecution<?, ?> child, @Nullable TraceContext trace) {
        child.origin = origin(trace, 1);
        telemetry.workflowStarted(child.name(), null);
    }

    /** A claimed workflow: {@code why} is "queue" (from {@code queueName}), "crash" or "reconciliation". */
    void claimed(ClaimedRow row, @Nullable String queueName, String why) {
        if (why.equals("queue") && queueName != null) {
            telemetry.workflowStarted(row.name(), queueName);
            if (row.queueWaitMillis() >= 0) {
                telemetry.queueWait(queueName, row.queueWaitMillis());
            }
        } else {
            telemetry.recovered(row.name(), why);
        }
    }
}
