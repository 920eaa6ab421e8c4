package dev.tandem.test;

import dev.tandem.EnqueueOptions;
import dev.tandem.StartOptions;
import dev.tandem.Workflow;
import dev.tandem.WorkflowHandle;
import java.sql.Connection;
import org.jspecify.annotations.Nullable;

/** A workflow registered through the kit: each call goes to the current engine's registration (after restarts too). */
final class KitWorkflow<I, O extends @Nullable Object> implements Workflow<I, O> {
    private final TandemKit kit;
    private final String name;

    KitWorkflow(TandemKit kit, String name) {
        this.kit = kit;
        this.name = name;
    }

    private Workflow<I, O> current() {
        return kit.current(name);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public WorkflowHandle<O> start(I input) {
        return current().start(input);
    }

    @Override
    public WorkflowHandle<O> start(I input, StartOptions options) {
        return current().start(input, options);
    }

    @Override
    public O run(I input, StartOptions options) {
        return current().run(input, options);
    }

    @Override
    public WorkflowHandle<O> enqueue(Connection tx, I input, EnqueueOptions options) {
        return current().enqueue(tx, input, options);
    }

    @Override
    public WorkflowHandle<O> enqueue(I input, EnqueueOptions options) {
        return current().enqueue(input, options);
    }

    @Override
    public String toString() {
        return "Workflow(" + name + ", through the test kit)";
    }
}
