package dev.tandem;

import org.jspecify.annotations.Nullable;

/**
 * How to fork a workflow (see {@link Tandem#fork(String, int, ForkOptions)}); the optional parameters of the SQL
 * function {@code tandem.fork_workflow}.
 *
 * @param workflowId the new workflow's id; null for a generated one. An id that exists is refused.
 * @param queueName the queue the new workflow waits in; null for the original's queue ({@code default} if it was
 *     started directly)
 */
public record ForkOptions(@Nullable String workflowId, @Nullable String queueName) {

    public ForkOptions {
        if (workflowId != null && workflowId.isBlank()) {
            throw new IllegalArgumentException("workflowId must not be blank (was '" + workflowId + "')");
        }
        if (queueName != null && queueName.isBlank()) {
            throw new IllegalArgumentException("queueName must not be blank (was '" + queueName + "')");
        }
    }

    /** A generated id, the original's queue. */
    public static ForkOptions defaults() {
        return new ForkOptions(null, null);
    }

    /** The new workflow gets this id. */
    public static ForkOptions withId(String workflowId) {
        if (workflowId == null) {
            throw new IllegalArgumentException(
                    "workflowId must not be null; use ForkOptions.defaults() for a generated id");
        }
        return new ForkOptions(workflowId, null);
    }

    public ForkOptions workflowId(@Nullable String workflowId) {
        return new ForkOptions(workflowId, queueName);
    }

    public ForkOptions queue(@Nullable String queueName) {
        return new ForkOptions(workflowId, queueName);
    }
}
