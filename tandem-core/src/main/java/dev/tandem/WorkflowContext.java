package dev.tandem;

import org.jspecify.annotations.Nullable;

/**
 * What a running workflow uses to make durable progress. Each call to {@link #step} or {@link #transaction} takes the
 * next position (1, 2, 3, ...) in the workflow; on replay the call at a position returns what was recorded there,
 * and a different name at a recorded position fails the workflow with {@link NonDeterministicWorkflowException}.
 *
 * <p>A context belongs to one execution and must only be used by the thread running that workflow's function, while
 * it runs; steps cannot be nested.
 */
public interface WorkflowContext {

    /** The id of the running workflow. */
    String workflowId();

    /**
     * A key that is stable across retries and replays of the step currently running: {@code "<workflowId>:<position>"}.
     * Pass it to external APIs that deduplicate requests (payment providers, e-mail services) to turn an
     * at-least-once step into an effectively-once one. Outside a step it names the next step's position.
     */
    String idempotencyKey();

    /**
     * Runs {@code fn} as a step, at least once, with no retries. Once its checkpoint is committed the step never runs
     * again for this workflow; a replay returns the recorded output (rebuilt from JSON as its recorded class).
     *
     * @throws StepFailedException if {@code fn} threw (now or, recorded, in an earlier run)
     */
    <T extends @Nullable Object> T step(String name, StepFunction<T> fn);

    /** Like {@link #step(String, StepFunction)}, retrying failures as {@code options} says. */
    <T extends @Nullable Object> T step(String name, StepOptions options, StepFunction<T> fn);

    /**
     * Runs {@code fn} exactly once: in one database transaction on the engine's database that also inserts this
     * step's checkpoint, committed once. If the transaction fails it rolls back entirely (application rows and
     * checkpoint) and may be run again; once committed, a replay returns the recorded output without running it.
     *
     * @throws StepFailedException if {@code fn} threw (its transaction rolled back) now or in an earlier run
     */
    <T extends @Nullable Object> T transaction(String name, TransactionFunction<T> fn);

    /** Like {@link #transaction(String, TransactionFunction)}, with the given isolation level and retry count. */
    <T extends @Nullable Object> T transaction(String name, TransactionOptions options, TransactionFunction<T> fn);
}
