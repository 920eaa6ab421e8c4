package dev.tandem;

import org.jspecify.annotations.Nullable;

/**
 * The body of a workflow. It must be deterministic apart from what it does inside steps: on recovery it runs again
 * from the top, and every {@link WorkflowContext#step step} or {@link WorkflowContext#transaction transaction} that
 * already completed returns its recorded result instead of running again.
 *
 * @param <I> input type, stored as JSON
 * @param <O> output type, stored as JSON
 */
@FunctionalInterface
public interface WorkflowFunction<I, O extends @Nullable Object> {
    O run(WorkflowContext ctx, I input) throws Exception;
}
