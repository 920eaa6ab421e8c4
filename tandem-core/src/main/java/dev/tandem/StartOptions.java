package dev.tandem;

import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * How to start a workflow.
 *
 * @param workflowId the execution's id and idempotency key; {@code null} lets Tandem generate a random one. Starting
 *     an id that already exists returns a handle to that execution and starts nothing.
 * @param timeout how long the workflow may run; when it passes, the workflow is cancelled (status {@code CANCELLED},
 *     error type {@code timeout}), and so are its children, which inherit the deadline. {@code null}: no timeout.
 */
public record StartOptions(@Nullable String workflowId, @Nullable Duration timeout) {

    public StartOptions {
        if (workflowId != null && workflowId.isBlank()) {
            throw new IllegalArgumentException("workflowId must not be blank (was '" + workflowId + "')");
        }
        if (timeout != null && (timeout.isNegative() || timeout.isZero())) {
            throw new IllegalArgumentException("timeout must be positive (was " + timeout + "); pass null for none");
        }
    }

    /** Start with a generated id. */
    public static StartOptions defaults() {
        return new StartOptions(null, null);
    }

    /** Start with the given id, which doubles as the idempotency key of the start. */
    public static StartOptions withId(String workflowId) {
        if (workflowId == null) {
            throw new IllegalArgumentException("workflowId must not be null; use StartOptions.defaults() for a generated id");
        }
        return new StartOptions(workflowId, null);
    }

    /** These options with the given id. */
    public StartOptions workflowId(String workflowId) {
        if (workflowId == null) {
            throw new IllegalArgumentException("workflowId must not be null; use StartOptions.defaults() for a generated id");
        }
        return new StartOptions(workflowId, timeout);
    }

    /** These options with a timeout (see {@link #timeout()}). */
    public StartOptions timeout(Duration timeout) {
        if (timeout == null) {
            throw new IllegalArgumentException("timeout must not be null; leave it unset for no timeout");
        }
        return new StartOptions(workflowId, timeout);
    }
}
