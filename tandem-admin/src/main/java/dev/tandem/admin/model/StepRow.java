package dev.tandem.admin.model;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * One checkpoint of a workflow, for its timeline: {@code kind} is STEP, TRANSACTION, SLEEP, RECV, SEND, SET_EVENT,
 * WRITE_STREAM, CHILD or CHILD_RESULT; {@code offsetMillis} is when it started, counted from the workflow's creation;
 * {@code durationMillis} how long it took (for SLEEP, RECV and CHILD_RESULT: how long the workflow waited).
 * {@code error} holds type, message and stack when the step failed.
 */
public record StepRow(
        int position,
        String name,
        String kind,
        Instant startedAt,
        Instant finishedAt,
        long offsetMillis,
        long durationMillis,
        @Nullable String childWorkflowId,
        @Nullable JsonNode output,
        @Nullable JsonNode error) {

    public StepRow redact() {
        return new StepRow(position, name, kind, startedAt, finishedAt, offsetMillis, durationMillis, childWorkflowId,
                null, error);
    }
}
