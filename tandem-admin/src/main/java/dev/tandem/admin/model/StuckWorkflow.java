package dev.tandem.admin.model;

import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * A workflow that is not moving, and why. Reasons:
 * <ul>
 *   <li>{@code UNKNOWN_WORKFLOW}: it waits to run, and no live executor registered its name (a deploy removed it,
 *       or the service that runs it is down);
 *   <li>{@code DEAD_EXECUTOR}: it is RUNNING on an executor whose heartbeat stopped (recovery takes it over once the
 *       executor timeout passes; listed while it has not);
 *   <li>{@code RATE_LIMITED}: it waits in a queue whose rate limit is used up for the current period;
 *   <li>{@code NO_PROGRESS}: it is RUNNING on a live executor but no checkpoint was written for longer than the
 *       threshold, and it is not in a durable sleep: a {@code recv} whose message never came, a child that does not
 *       end, or a step that hangs ({@code detail} says which messages are unconsumed and what the last step was);
 *   <li>{@code STRANDED}: live executors run its name, but none runs its application version (a deploy retired
 *       it): move it to a version ({@code tandem.set_workflow_version}), fork it onto the new code, or cancel it;
 *   <li>{@code PAST_DEADLINE}: its timeout passed and it has not ended yet.
 * </ul>
 */
public record StuckWorkflow(
        String reason,
        String detail,
        String workflowId,
        String name,
        String status,
        @Nullable String queueName,
        @Nullable String executorId,
        Instant createdAt,
        Instant since) {}
