package dev.tandem;

import org.jspecify.annotations.Nullable;

/**
 * The workflow did not succeed: it ended {@code ERROR} (it threw), {@code CANCELLED} or {@code RETRIES_EXCEEDED}.
 * Carries what was recorded: the original exception's class name, message and stack trace as text.
 */
public class WorkflowFailedException extends TandemException {
    private final String workflowId;
    private final WorkflowStatus status;
    private final @Nullable String errorType;
    private final @Nullable String errorMessage;
    private final @Nullable String errorStack;

    public WorkflowFailedException(
            String workflowId,
            WorkflowStatus status,
            @Nullable String errorType,
            @Nullable String errorMessage,
            @Nullable String errorStack) {
        super("workflow '" + workflowId + "' ended " + status
                + (errorType == null ? "" : ": " + errorType + (errorMessage == null ? "" : ": " + errorMessage)));
        this.workflowId = workflowId;
        this.status = status;
        this.errorType = errorType;
        this.errorMessage = errorMessage;
        this.errorStack = errorStack;
    }

    public String workflowId() {
        return workflowId;
    }

    public WorkflowStatus status() {
        return status;
    }

    /** Class name of the exception the workflow threw, e.g. {@code java.lang.IllegalStateException}. */
    public @Nullable String errorType() {
        return errorType;
    }

    public @Nullable String errorMessage() {
        return errorMessage;
    }

    /** The recorded stack trace, as printed by {@link Throwable#printStackTrace()}. */
    public @Nullable String errorStack() {
        return errorStack;
    }
}
