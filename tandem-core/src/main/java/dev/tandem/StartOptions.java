package dev.tandem;

import org.jspecify.annotations.Nullable;

/**
 * How to start a workflow.
 *
 * @param workflowId the execution's id and idempotency key; {@code null} lets Tandem generate a random one. Starting
 *     an id that already exists returns a handle to that execution and starts nothing.
 */
public record StartOptions(@Nullable String workflowId) {

    public StartOptions {
        if (workflowId != null && workflowId.isBlank()) {
            throw new IllegalArgumentException("workflowId must not be blank (was '" + workflowId + "')");
        }
    }

    /** Start with a generated id. */
    public static StartOptions defaults() {
        return new StartOptions(null);
    }

    /** Start with the given id, which doubles as the idempotency key of the start. */
    public static StartOptions withId(String workflowId) {
        if (workflowId == null) {
            throw new IllegalArgumentException("workflowId must not be null; use StartOptions.defaults() for a generated id");
        }
        return new StartOptions(workflowId);
    }
}
