package dev.tandem.admin;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import dev.tandem.WorkflowStatus;
import java.time.Instant;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Which workflows a list, a count or a bulk action applies to. Every filter is optional (null, or an empty set of
 * statuses, matches everything); those that are set must all match. {@code inputContains} and {@code outputContains}
 * are JSON containment ({@code input @> value} in PostgreSQL): {@code {"customer":"ada"}} matches every input object
 * whose {@code customer} is {@code "ada"}, whatever else it holds.
 *
 * @param statuses any of these statuses; empty for any
 * @param name the workflow's registered name
 * @param queueName the queue it was enqueued in
 * @param executorId the executor that runs (or last ran) it
 * @param createdAfter created at or after this instant
 * @param createdBefore created strictly before this instant
 * @param idPrefix its id starts with this text ({@code %} and {@code _} match literally)
 * @param parentWorkflowId the children of this workflow
 * @param inputContains its input contains this JSON object or array
 * @param outputContains its output contains this JSON object or array
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY) // as written to the audit log: only the filters that are set
public record WorkflowFilter(
        Set<WorkflowStatus> statuses,
        @Nullable String name,
        @Nullable String queueName,
        @Nullable String executorId,
        @Nullable Instant createdAfter,
        @Nullable Instant createdBefore,
        @Nullable String idPrefix,
        @Nullable String parentWorkflowId,
        @Nullable JsonNode inputContains,
        @Nullable JsonNode outputContains) {

    public WorkflowFilter {
        if (statuses == null) {
            throw new IllegalArgumentException("statuses must not be null; pass an empty set for any status");
        }
        statuses = statuses.isEmpty() ? Set.of() : Collections.unmodifiableSet(EnumSet.copyOf(statuses));
        requireNotBlank("name", name);
        requireNotBlank("queue", queueName);
        requireNotBlank("executor", executorId);
        requireNotBlank("parent", parentWorkflowId);
        if (idPrefix != null && idPrefix.isEmpty()) {
            throw new IllegalArgumentException("id prefix must not be empty; leave it out for any id");
        }
        if (createdAfter != null && createdBefore != null && !createdAfter.isBefore(createdBefore)) {
            throw new IllegalArgumentException("created after (" + createdAfter + ") must be before created before ("
                    + createdBefore + "), or no workflow can match");
        }
        requireContainer("input containment", inputContains);
        requireContainer("output containment", outputContains);
    }

    /** Every workflow. */
    public static WorkflowFilter all() {
        return new WorkflowFilter(Set.of(), null, null, null, null, null, null, null, null, null);
    }

    /** Whether no filter is set: a bulk action over it would touch every workflow. */
    @JsonIgnore
    public boolean isEmpty() {
        return statuses.isEmpty() && name == null && queueName == null && executorId == null && createdAfter == null
                && createdBefore == null && idPrefix == null && parentWorkflowId == null && inputContains == null
                && outputContains == null;
    }

    public WorkflowFilter statuses(Set<WorkflowStatus> statuses) {
        return new WorkflowFilter(statuses, name, queueName, executorId, createdAfter, createdBefore, idPrefix,
                parentWorkflowId, inputContains, outputContains);
    }

    public WorkflowFilter statuses(WorkflowStatus... statuses) {
        Set<WorkflowStatus> set = EnumSet.noneOf(WorkflowStatus.class);
        Collections.addAll(set, statuses);
        return statuses(set);
    }

    public WorkflowFilter name(@Nullable String name) {
        return new WorkflowFilter(statuses, name, queueName, executorId, createdAfter, createdBefore, idPrefix,
                parentWorkflowId, inputContains, outputContains);
    }

    public WorkflowFilter queueName(@Nullable String queueName) {
        return new WorkflowFilter(statuses, name, queueName, executorId, createdAfter, createdBefore, idPrefix,
                parentWorkflowId, inputContains, outputContains);
    }

    public WorkflowFilter executorId(@Nullable String executorId) {
        return new WorkflowFilter(statuses, name, queueName, executorId, createdAfter, createdBefore, idPrefix,
                parentWorkflowId, inputContains, outputContains);
    }

    public WorkflowFilter createdAfter(@Nullable Instant createdAfter) {
        return new WorkflowFilter(statuses, name, queueName, executorId, createdAfter, createdBefore, idPrefix,
                parentWorkflowId, inputContains, outputContains);
    }

    public WorkflowFilter createdBefore(@Nullable Instant createdBefore) {
        return new WorkflowFilter(statuses, name, queueName, executorId, createdAfter, createdBefore, idPrefix,
                parentWorkflowId, inputContains, outputContains);
    }

    public WorkflowFilter idPrefix(@Nullable String idPrefix) {
        return new WorkflowFilter(statuses, name, queueName, executorId, createdAfter, createdBefore, idPrefix,
                parentWorkflowId, inputContains, outputContains);
    }

    public WorkflowFilter parentWorkflowId(@Nullable String parentWorkflowId) {
        return new WorkflowFilter(statuses, name, queueName, executorId, createdAfter, createdBefore, idPrefix,
                parentWorkflowId, inputContains, outputContains);
    }

    public WorkflowFilter inputContains(@Nullable JsonNode inputContains) {
        return new WorkflowFilter(statuses, name, queueName, executorId, createdAfter, createdBefore, idPrefix,
                parentWorkflowId, inputContains, outputContains);
    }

    public WorkflowFilter outputContains(@Nullable JsonNode outputContains) {
        return new WorkflowFilter(statuses, name, queueName, executorId, createdAfter, createdBefore, idPrefix,
                parentWorkflowId, inputContains, outputContains);
    }

    private static void requireNotBlank(String what, @Nullable String value) {
        if (value != null && value.isBlank()) {
            throw new IllegalArgumentException(what + " must not be blank; leave it out for any");
        }
    }

    private static void requireContainer(String what, @Nullable JsonNode value) {
        if (value != null && !value.isContainerNode()) {
            throw new IllegalArgumentException(what + " must be a JSON object or array, such as {\"customer\":\"ada\"}"
                    + " (was " + value + ")");
        }
    }
}
