package dev.tandem.admin.model;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * One workflow as listed: its row in {@code tandem.workflow_status}, with {@code error} reduced to its type and message
 * (the detail has the stack) and, while it waits to run, why ({@code waitingReason}, as in view {@code tandem.workflows});
 * {@code appVersion} is the application version that first ran it (null: it has not run yet).
 * {@code input} and {@code output} are null when hidden from the caller (then {@code redacted} is true).
 */
public record WorkflowRow(
        String workflowId,
        String name,
        String status,
        @Nullable String queueName,
        @Nullable String executorId,
        int attempts,
        Instant createdAt,
        Instant updatedAt,
        @Nullable Instant startedAt,
        @Nullable String parentWorkflowId,
        @Nullable String forkedFrom,
        @Nullable Instant deadlineAt,
        @Nullable String waitingReason,
        @Nullable String appVersion,
        @Nullable JsonNode input,
        @Nullable JsonNode output,
        @Nullable JsonNode error,
        boolean redacted) {

    /** The same row with input, output and error values hidden (error type and message stay: they are the code's). */
    public WorkflowRow redact() {
        return new WorkflowRow(workflowId, name, status, queueName, executorId, attempts, createdAt, updatedAt, startedAt,
                parentWorkflowId, forkedFrom, deadlineAt, waitingReason, appVersion, null, null, error, true);
    }
}
