/**
 * What the operators' side returns: plain records, the same for the Java API ({@link dev.tandem.admin.Operations}),
 * the HTTP API (as JSON, with snake_case names: {@code workflowId} is {@code "workflow_id"}) and the CLI's
 * {@code --json}. Stored values (inputs, outputs, messages, events, stream values) are JSON trees, as stored.
 */
@NullMarked
package dev.tandem.admin.model;

import org.jspecify.annotations.NullMarked;
