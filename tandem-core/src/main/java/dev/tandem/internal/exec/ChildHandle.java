package dev.tandem.internal.exec;

import dev.tandem.WorkflowHandle;
import dev.tandem.WorkflowStatus;
import java.time.Duration;

/**
 * A handle to a child, given to its parent's code. Waiting for the result on the parent's own thread is a wait of
 * the parent's execution (it parks on platform threads, woken when the child ends); from any other thread it is an
 * ordinary handle.
 */
final class ChildHandle<O> implements WorkflowHandle<O> {
    private final WorkflowExecution<?, ?> parent;
    private final Handle<O> child;

    ChildHandle(WorkflowExecution<?, ?> parent, Handle<O> child) {
        this.parent = parent;
        this.child = child;
    }

    @Override
    public String workflowId() {
        return child.workflowId();
    }

    @Override
    public WorkflowStatus status() {
        return child.status();
    }

    @Override
    public O result(Duration timeout) {
        if (timeout == null || timeout.isNegative()) {
            throw new IllegalArgumentException("timeout must be zero or positive (was " + timeout + ")");
        }
        return parent.canWaitHere() ? parent.awaitChild(child, timeout) : child.result(timeout);
    }

    @Override
    public String toString() {
        return "child workflow " + child.workflowId() + " of " + parent.workflowId();
    }
}
