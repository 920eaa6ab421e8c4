package dev.tandem.admin.model;

import org.jspecify.annotations.Nullable;

/**
 * What an action on one workflow did. Actions are idempotent: repeating one that already took effect changes nothing
 * ({@code changed} false) and says why in {@code outcome}. {@code status} is the workflow's status after the action;
 * {@code newWorkflowId} the workflow a fork or restart created (or had created before, when repeated).
 */
public record ActionResult(
        String action,
        String workflowId,
        boolean changed,
        String outcome,
        @Nullable String status,
        @Nullable String newWorkflowId) {}
