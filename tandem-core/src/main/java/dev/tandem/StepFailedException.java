package dev.tandem;

import org.jspecify.annotations.Nullable;

/**
 * A step or transactional step failed after its last attempt. The failure is checkpointed: on replay the same
 * exception is thrown at the same position without running the step, so a workflow that catches it behaves the same
 * way both times. {@link #getCause()} is the original exception in the run where it happened, and {@code null} on
 * replay; {@link #errorType()} and {@link #errorMessage()} are the same in both.
 */
public class StepFailedException extends TandemException {
    private final String stepName;
    private final int position;
    private final String errorType;
    private final @Nullable String errorMessage;

    public StepFailedException(
            String workflowId,
            String stepName,
            int position,
            String errorType,
            @Nullable String errorMessage,
            @Nullable Throwable cause) {
        super("step '" + stepName + "' (#" + position + ") of workflow '" + workflowId + "' failed: " + errorType
                + (errorMessage == null ? "" : ": " + errorMessage), cause);
        this.stepName = stepName;
        this.position = position;
        this.errorType = errorType;
        this.errorMessage = errorMessage;
    }

    public String stepName() {
        return stepName;
    }

    public int position() {
        return position;
    }

    /** Class name of the exception the step threw. */
    public String errorType() {
        return errorType;
    }

    public @Nullable String errorMessage() {
        return errorMessage;
    }
}
