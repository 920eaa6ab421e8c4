/**
 * Tandem: durable workflows whose checkpoints live in the same PostgreSQL database as the application's data.
 *
 * <p>Entry point: {@link dev.tandem.Tandem}. Register workflows with {@link dev.tandem.Tandem#register}, call
 * {@link dev.tandem.Tandem#start()}, then start executions with {@link dev.tandem.Workflow#start}. Inside a workflow,
 * {@link dev.tandem.WorkflowContext#step} runs an at-least-once step and {@link dev.tandem.WorkflowContext#transaction}
 * runs an exactly-once database step whose checkpoint commits in the same transaction as its SQL.
 *
 * <p>Everything under {@code dev.tandem.internal} is implementation and may change without notice.
 */
@NullMarked
package dev.tandem;

import org.jspecify.annotations.NullMarked;
