package dev.tandem;

import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * One recorded step (checkpoint) of a workflow, from {@link Tandem#listSteps}; the same columns as the SQL view
 * {@code tandem.workflow_steps}. A step that is running has no checkpoint yet, so it is not listed.
 *
 * @param position its place in the workflow's history, from 1; {@link Tandem#fork} takes it as the step to run from
 * @param name the name the workflow gave it
 * @param kind what recorded it: {@code STEP}, {@code TRANSACTION}, {@code SLEEP}, {@code RECV}, {@code SEND},
 *     {@code SET_EVENT}, {@code WRITE_STREAM}, {@code CHILD} or {@code CHILD_RESULT} (what a wait for a child saw:
 *     its output, or its failure or the timeout as the error)
 * @param outputJson its output as JSON; null if it failed
 * @param errorType the type (usually a Java class name) of the error it failed with; null if it succeeded
 * @param errorMessage the message of that error
 * @param childWorkflowId the workflow it started, for a {@code CHILD} step
 * @param startedAt when it started
 * @param finishedAt when its checkpoint was written
 */
public record StepInfo(
        int position,
        String name,
        String kind,
        @Nullable String outputJson,
        @Nullable String errorType,
        @Nullable String errorMessage,
        @Nullable String childWorkflowId,
        Instant startedAt,
        Instant finishedAt) {

    /** Whether the step failed: a replay throws its recorded error again. */
    public boolean failed() {
        return errorType != null;
    }
}
