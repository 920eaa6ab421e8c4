package dev.tandem;

/** A start used a workflow id that already belongs to an execution of a different workflow. */
public class WorkflowConflictException extends TandemException {
    public WorkflowConflictException(String message) {
        super(message);
    }
}
