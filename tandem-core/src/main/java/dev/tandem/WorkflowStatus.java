package dev.tandem;

/** The state of a workflow execution, as stored in {@code tandem.workflows.status}. */
public enum WorkflowStatus {
    /** Waiting in a queue for a worker. */
    ENQUEUED,
    /** Waiting in a queue until its start time. */
    DELAYED,
    /** Owned by an executor that is running it (or will recover it, if that executor died). */
    RUNNING,
    /** Finished; the output is recorded. */
    SUCCESS,
    /** The workflow threw; the error is recorded. */
    ERROR,
    /** Cancelled before it finished. */
    CANCELLED,
    /** Recovered more times than the configured limit without finishing; no longer retried. */
    RETRIES_EXCEEDED;

    /** Whether the execution has ended and its status will not change on its own. */
    public boolean isFinal() {
        return this == SUCCESS || this == ERROR || this == CANCELLED || this == RETRIES_EXCEEDED;
    }
}
