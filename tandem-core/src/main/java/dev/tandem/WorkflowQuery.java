package dev.tandem;

import java.time.Instant;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Which workflows {@link Tandem#listWorkflows} returns, and which page of them. Every filter is optional (null, or an
 * empty set of statuses, matches everything); the filters that are set must all match.
 *
 * <pre>{@code
 * WorkflowQuery failedToday = WorkflowQuery.all()
 *         .statuses(WorkflowStatus.ERROR, WorkflowStatus.RETRIES_EXCEEDED)
 *         .createdAfter(Instant.now().minus(Duration.ofDays(1)));
 * for (WorkflowQuery page = failedToday; ; page = page.nextPage()) {
 *     List<WorkflowInfo> workflows = tandem.listWorkflows(page);
 *     ...
 *     if (workflows.size() < page.limit()) break;
 * }
 * }</pre>
 *
 * <p>Pages are counted by offset over the workflows ordered by creation time (then id, so the order is total). When
 * workflows are created while you page newest first, later pages shift; set {@link #createdBefore} to a fixed instant
 * to page through a window that does not move.
 *
 * @param statuses any of these statuses; empty for any status
 * @param name the workflow's registered name
 * @param queueName the queue it was enqueued in
 * @param createdAfter created at or after this instant
 * @param createdBefore created strictly before this instant
 * @param idPrefix its workflow id starts with this text ({@code %} and {@code _} are matched literally)
 * @param parentWorkflowId the child workflows of this workflow
 * @param limit the page size, between 1 and {@value #MAX_LIMIT} (default {@value #DEFAULT_LIMIT})
 * @param offset how many matching workflows to skip, zero or more
 * @param oldestFirst oldest first instead of newest first (the default)
 */
public record WorkflowQuery(
        Set<WorkflowStatus> statuses,
        @Nullable String name,
        @Nullable String queueName,
        @Nullable Instant createdAfter,
        @Nullable Instant createdBefore,
        @Nullable String idPrefix,
        @Nullable String parentWorkflowId,
        int limit,
        int offset,
        boolean oldestFirst) {

    public static final int DEFAULT_LIMIT = 100;
    public static final int MAX_LIMIT = 10_000;

    public WorkflowQuery {
        if (statuses == null) {
            throw new IllegalArgumentException("statuses must not be null; pass an empty set for any status");
        }
        for (WorkflowStatus status : statuses) {
            if (status == null) {
                throw new IllegalArgumentException("statuses must not hold null (was " + statuses + ")");
            }
        }
        statuses = statuses.isEmpty() ? Set.of() : Collections.unmodifiableSet(EnumSet.copyOf(statuses));
        requireNotBlank("name", name);
        requireNotBlank("queueName", queueName);
        requireNotBlank("parentWorkflowId", parentWorkflowId);
        if (idPrefix != null && idPrefix.isEmpty()) {
            throw new IllegalArgumentException("idPrefix must not be empty; pass null for any id");
        }
        if (createdAfter != null && createdBefore != null && !createdAfter.isBefore(createdBefore)) {
            throw new IllegalArgumentException("createdAfter (" + createdAfter + ") must be before createdBefore ("
                    + createdBefore + "), or no workflow can match");
        }
        if (limit < 1 || limit > MAX_LIMIT) {
            throw new IllegalArgumentException("limit must be between 1 and " + MAX_LIMIT + " (was " + limit + ")");
        }
        if (offset < 0) {
            throw new IllegalArgumentException("offset must be zero or more (was " + offset + ")");
        }
    }

    private static void requireNotBlank(String what, @Nullable String value) {
        if (value != null && value.isBlank()) {
            throw new IllegalArgumentException(what + " must not be blank (was '" + value + "'); pass null for any");
        }
    }

    /** Every workflow, newest first, the first {@value #DEFAULT_LIMIT}. */
    public static WorkflowQuery all() {
        return new WorkflowQuery(Set.of(), null, null, null, null, null, null, DEFAULT_LIMIT, 0, false);
    }

    /** Only workflows in one of these statuses; none for any status. */
    public WorkflowQuery statuses(WorkflowStatus... statuses) {
        if (statuses == null) {
            throw new IllegalArgumentException("statuses must not be null; call it with none for any status");
        }
        return statuses(new HashSet<>(Arrays.asList(statuses)));
    }

    /** Only workflows in one of these statuses; an empty set for any status. */
    public WorkflowQuery statuses(Set<WorkflowStatus> statuses) {
        return new WorkflowQuery(statuses, name, queueName, createdAfter, createdBefore, idPrefix, parentWorkflowId,
                limit, offset, oldestFirst);
    }

    public WorkflowQuery name(@Nullable String name) {
        return new WorkflowQuery(statuses, name, queueName, createdAfter, createdBefore, idPrefix, parentWorkflowId,
                limit, offset, oldestFirst);
    }

    public WorkflowQuery queue(@Nullable String queueName) {
        return new WorkflowQuery(statuses, name, queueName, createdAfter, createdBefore, idPrefix, parentWorkflowId,
                limit, offset, oldestFirst);
    }

    public WorkflowQuery createdAfter(@Nullable Instant createdAfter) {
        return new WorkflowQuery(statuses, name, queueName, createdAfter, createdBefore, idPrefix, parentWorkflowId,
                limit, offset, oldestFirst);
    }

    public WorkflowQuery createdBefore(@Nullable Instant createdBefore) {
        return new WorkflowQuery(statuses, name, queueName, createdAfter, createdBefore, idPrefix, parentWorkflowId,
                limit, offset, oldestFirst);
    }

    public WorkflowQuery idPrefix(@Nullable String idPrefix) {
        return new WorkflowQuery(statuses, name, queueName, createdAfter, createdBefore, idPrefix, parentWorkflowId,
                limit, offset, oldestFirst);
    }

    public WorkflowQuery parentWorkflowId(@Nullable String parentWorkflowId) {
        return new WorkflowQuery(statuses, name, queueName, createdAfter, createdBefore, idPrefix, parentWorkflowId,
                limit, offset, oldestFirst);
    }

    public WorkflowQuery limit(int limit) {
        return new WorkflowQuery(statuses, name, queueName, createdAfter, createdBefore, idPrefix, parentWorkflowId,
                limit, offset, oldestFirst);
    }

    public WorkflowQuery offset(int offset) {
        return new WorkflowQuery(statuses, name, queueName, createdAfter, createdBefore, idPrefix, parentWorkflowId,
                limit, offset, oldestFirst);
    }

    public WorkflowQuery oldestFirst(boolean oldestFirst) {
        return new WorkflowQuery(statuses, name, queueName, createdAfter, createdBefore, idPrefix, parentWorkflowId,
                limit, offset, oldestFirst);
    }

    /** The same query, one page further: the offset moves on by the limit. */
    public WorkflowQuery nextPage() {
        return offset(Math.addExact(offset, limit));
    }
}
