package dev.tandem;

/**
 * On replay, the workflow asked for a step at a position where a different step is recorded: the workflow's code
 * changed, or it branches on something that is not a step's output. The workflow ends {@code ERROR}; it never
 * continues on a history that does not match.
 */
public class NonDeterministicWorkflowException extends TandemException {
    public NonDeterministicWorkflowException(String message) {
        super(message);
    }
}
