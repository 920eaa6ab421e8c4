package dev.tandem;

import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * How to enqueue a workflow (see {@link Workflow#enqueue(java.sql.Connection, Object, EnqueueOptions)}); the same
 * parameters as the SQL function {@code tandem.enqueue_workflow}.
 *
 * @param workflowId the id and idempotency key; null for a generated one. An existing id enqueues nothing.
 * @param queueName a queue that exists ({@code default} always does)
 * @param priority between -1000 and 1000; higher runs first, first-in first-out within one priority
 * @param deduplicationId refused while another workflow with it waits or runs in the same queue
 * @param partitionKey stored with the workflow, for per-tenant fairness
 * @param delay how long to wait before the workflow may start; null for no delay
 * @param timeout how long it may run once an executor takes it from the queue (see {@link StartOptions#timeout()});
 *     null for no timeout
 */
public record EnqueueOptions(
        @Nullable String workflowId,
        String queueName,
        int priority,
        @Nullable String deduplicationId,
        @Nullable String partitionKey,
        @Nullable Duration delay,
        @Nullable Duration timeout) {

    public EnqueueOptions {
        if (workflowId != null && workflowId.isBlank()) {
            throw new IllegalArgumentException("workflowId must not be blank (was '" + workflowId + "')");
        }
        if (queueName == null || queueName.isBlank()) {
            throw new IllegalArgumentException("queueName must not be null or blank");
        }
        if (priority < -1000 || priority > 1000) {
            throw new IllegalArgumentException("priority must be between -1000 and 1000 (was " + priority + ")");
        }
        if (delay != null && delay.isNegative()) {
            throw new IllegalArgumentException("delay must not be negative (was " + delay + ")");
        }
        if (timeout != null && (timeout.isNegative() || timeout.isZero())) {
            throw new IllegalArgumentException("timeout must be positive (was " + timeout + "); pass null for none");
        }
    }

    /** Queue {@code default}, a generated id, priority 0, no delay. */
    public static EnqueueOptions defaults() {
        return new EnqueueOptions(null, "default", 0, null, null, null, null);
    }

    public static EnqueueOptions withId(String workflowId) {
        return defaults().workflowId(workflowId);
    }

    public EnqueueOptions workflowId(String workflowId) {
        return new EnqueueOptions(workflowId, queueName, priority, deduplicationId, partitionKey, delay, timeout);
    }

    public EnqueueOptions queue(String queueName) {
        return new EnqueueOptions(workflowId, queueName, priority, deduplicationId, partitionKey, delay, timeout);
    }

    public EnqueueOptions priority(int priority) {
        return new EnqueueOptions(workflowId, queueName, priority, deduplicationId, partitionKey, delay, timeout);
    }

    public EnqueueOptions deduplicationId(String deduplicationId) {
        return new EnqueueOptions(workflowId, queueName, priority, deduplicationId, partitionKey, delay, timeout);
    }

    public EnqueueOptions partitionKey(String partitionKey) {
        return new EnqueueOptions(workflowId, queueName, priority, deduplicationId, partitionKey, delay, timeout);
    }

    public EnqueueOptions delay(Duration delay) {
        return new EnqueueOptions(workflowId, queueName, priority, deduplicationId, partitionKey, delay, timeout);
    }

    public EnqueueOptions timeout(Duration timeout) {
        if (timeout == null) {
            throw new IllegalArgumentException("timeout must not be null; leave it unset for no timeout");
        }
        return new EnqueueOptions(workflowId, queueName, priority, deduplicationId, partitionKey, delay, timeout);
    }
}
