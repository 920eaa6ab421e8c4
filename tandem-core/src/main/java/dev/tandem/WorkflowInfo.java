package dev.tandem;

import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * One workflow as stored, from {@link Tandem#listWorkflows}; the same columns as the SQL view {@code tandem.workflows}.
 * Inputs and outputs are the stored JSON; {@link Tandem#decode} turns them back into Java values.
 *
 * @param workflowId its id
 * @param name the registered workflow name
 * @param status its status when it was read
 * @param queueName the queue it was enqueued in; null if it was started directly
 * @param inputJson its input as JSON (an argument array, {@code [42]}, if it was enqueued from SQL)
 * @param outputJson its output as JSON, once it succeeded
 * @param errorType the recorded error's type (usually a Java class name) when it ended ERROR, CANCELLED or
 *     RETRIES_EXCEEDED
 * @param errorMessage the recorded error's message
 * @param attempts 1 + how many times it was recovered or resumed
 * @param executorId the executor that owns it while it runs
 * @param createdAt when it was started or enqueued
 * @param updatedAt when its row last changed (for an ended workflow: when it ended)
 * @param startedAt when an executor took it from its queue; null if it was started directly or still waits
 * @param parentWorkflowId the workflow that started it as a child
 * @param forkedFrom the workflow it was forked from ({@link Tandem#fork})
 * @param deadlineAt when it is cancelled if it has not ended by then
 */
public record WorkflowInfo(
        String workflowId,
        String name,
        WorkflowStatus status,
        @Nullable String queueName,
        @Nullable String inputJson,
        @Nullable String outputJson,
        @Nullable String errorType,
        @Nullable String errorMessage,
        int attempts,
        @Nullable String executorId,
        Instant createdAt,
        Instant updatedAt,
        @Nullable Instant startedAt,
        @Nullable String parentWorkflowId,
        @Nullable String forkedFrom,
        @Nullable Instant deadlineAt) {}
