package dev.tandem.internal.exec;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.tandem.StepFailedException;
import dev.tandem.TandemException;
import dev.tandem.WorkflowStatus;
import dev.tandem.internal.db.Json;
import dev.tandem.internal.db.Json.ErrorInfo;
import dev.tandem.internal.db.Rows.FinishRow;
import dev.tandem.internal.exec.ExecutionControl.Kind;

/**
 * How one run of an execution ends: its final status recorded with its last checkpoints in one commit ({@code
 * SUCCESS} with the output, {@code ERROR} with the failure, or {@code ERROR} naming a value PostgreSQL refused), or,
 * if it must stop without an outcome (parked, stopped, taken over, a transient failure), handed to
 * {@link Executions#executionStopped}.
 */
final class Finishing {
    private Finishing() {}

    static <I, O> void run(WorkflowExecution<I, O> x) {
        try {
            O output = x.runFunction();
            String json;
            try {
                json = x.engine.json().write(output);
            } catch (JsonProcessingException e) {
                throw new TandemException("the output of workflow '" + x.workflowId + "' (" + x.name()
                        + ") cannot be stored as JSON: " + e.getOriginalMessage()
                        + "; return a value Jackson can serialize (a record, a POJO with getters, a String, ...)", e);
            }
            finish(x, new FinishRow(x.workflowId, WorkflowStatus.SUCCESS.name(), json, Json.typeName(output), null,
                    x.epoch), new Outcome.Succeeded(output));
        } catch (ExecutionControl control) {
            if (control.kind == Kind.UNSTORABLE) {
                recordUnstorable(x, control);
            } else {
                x.engine.executions().executionStopped(x, control);
            }
        } catch (Throwable t) {
            Throwable stoppedBy = x.stoppedBy();
            if (stoppedBy instanceof ExecutionControl control) { // the workflow caught the control that parks it
                x.engine.executions().executionStopped(x, control);
                return;
            }
            Throwable error = stoppedBy != null ? stoppedBy : t; // non-determinism, even if the workflow caught it
            if (error instanceof InterruptedException || x.engine.isStopping()) {
                x.engine.executions().executionStopped(x, new ExecutionControl(Kind.STOP, "engine stopping", error));
                return;
            }
            recordFailure(x, error);
        }
    }

    private static void recordFailure(WorkflowExecution<?, ?> x, Throwable error) {
        ErrorInfo info = errorInfo(error);
        String json = x.engine.json().error(info.type(), info.message(), info.stack());
        try {
            finish(x, new FinishRow(x.workflowId, WorkflowStatus.ERROR.name(), null, null, json, x.epoch),
                    new Outcome.Failed(WorkflowStatus.ERROR, info));
        } catch (ExecutionControl control) {
            if (control.kind == Kind.UNSTORABLE) {
                recordUnstorable(x, control);
            } else {
                x.engine.executions().executionStopped(x, control);
            }
        } catch (RuntimeException | Error e) {
            // Left RUNNING on a live executor, nobody would ever recover it: replay it instead.
            WorkflowExecution.log.error("could not record the failure of workflow '{}'; replaying it", x.workflowId, e);
            x.engine.executions().executionStopped(x, new ExecutionControl(Kind.RESTART, "recording its failure failed",
                    e));
        }
    }

    /**
     * PostgreSQL refused to store a checkpoint or the final status (a data error: writing it again fails again). The
     * workflow ends ERROR saying so, without the rows it refused; replaying it would only fail the same way, in a loop.
     */
    private static void recordUnstorable(WorkflowExecution<?, ?> x, ExecutionControl control) {
        x.checkpoints.unwritten.clear();
        String message = control.getMessage();
        WorkflowExecution.log.error(message);
        String json = x.engine.json().error(TandemException.class.getName(), message, null);
        try {
            finish(x, new FinishRow(x.workflowId, WorkflowStatus.ERROR.name(), null, null, json, x.epoch),
                    new Outcome.Failed(WorkflowStatus.ERROR, new ErrorInfo(TandemException.class.getName(), message,
                            null)));
        } catch (ExecutionControl again) {
            x.engine.executions().executionStopped(x, again.kind == Kind.UNSTORABLE
                    ? new ExecutionControl(Kind.TRANSIENT_FAILURE, "recording an unstorable value failed", again)
                    : again);
        } catch (RuntimeException | Error e) {
            x.engine.executions().executionStopped(x, new ExecutionControl(Kind.TRANSIENT_FAILURE,
                    "recording its failure failed", e));
        }
    }

    /**
     * What is recorded for a failure. A failed step is reported as the step's own error, which is what an operator
     * wants to see first. Never throws, even for an exception whose {@code getMessage()} does.
     */
    private static ErrorInfo errorInfo(Throwable error) {
        Throwable shown = error instanceof StepFailedException sfe && sfe.getCause() != null ? sfe.getCause() : error;
        String type = error instanceof StepFailedException sfe ? sfe.errorType() : error.getClass().getName();
        return new ErrorInfo(type, Json.safeMessage(error), Json.stackTrace(shown));
    }

    private static void finish(WorkflowExecution<?, ?> x, FinishRow row, Outcome result) {
        if (x.checkpoints.commit(x.checkpoints.unwritten, row)) {
            x.checkpoints.unwritten.clear();
            x.outcome().complete(result);
            x.engine.executions().executionFinished(x);
        } else {
            throw new ExecutionControl(Kind.ABANDON, "workflow '" + x.workflowId
                    + "' was no longer RUNNING on this executor when it finished; its recorded status stands");
        }
    }
}
