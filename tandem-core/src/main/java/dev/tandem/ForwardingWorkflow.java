package dev.tandem;

import java.sql.Connection;
import org.jspecify.annotations.Nullable;

/**
 * A {@link Workflow} that hands every call to another one, looked up at each call. For code that gives out a
 * workflow before the engine has registered it, or that outlives one registration: a Spring bean created before the
 * engine starts, a test kit's workflow that keeps working across a restarted engine.
 */
public abstract class ForwardingWorkflow<I, O extends @Nullable Object> implements Workflow<I, O> {

    /** Creates a workflow that forwards to {@link #delegate()}. */
    protected ForwardingWorkflow() {
    }

    /**
     * The registered workflow to call now.
     *
     * @throws IllegalStateException if there is none yet, saying why
     */
    protected abstract Workflow<I, O> delegate();

    @Override
    public WorkflowHandle<O> start(I input) {
        return delegate().start(input);
    }

    @Override
    public WorkflowHandle<O> start(I input, StartOptions options) {
        return delegate().start(input, options);
    }

    @Override
    public O run(I input, StartOptions options) {
        return delegate().run(input, options);
    }

    @Override
    public WorkflowHandle<O> enqueue(Connection tx, I input, EnqueueOptions options) {
        return delegate().enqueue(tx, input, options);
    }

    @Override
    public WorkflowHandle<O> enqueue(I input, EnqueueOptions options) {
        return delegate().enqueue(input, options);
    }

    @Override
    public String toString() {
        return "Workflow[" + name() + "]";
    }
}
