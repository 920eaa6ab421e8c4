package dev.tandem.test;

import dev.tandem.ForwardingWorkflow;
import dev.tandem.Workflow;
import org.jspecify.annotations.Nullable;

/** A workflow registered through the kit: each call goes to the current engine's registration (after restarts too). */
final class KitWorkflow<I, O extends @Nullable Object> extends ForwardingWorkflow<I, O> {
    private final TandemKit kit;
    private final String name;

    KitWorkflow(TandemKit kit, String name) {
        this.kit = kit;
        this.name = name;
    }

    @Override
    protected Workflow<I, O> delegate() {
        return kit.current(name);
    }

    @Override
    public String name() {
        return name;
    }
}
