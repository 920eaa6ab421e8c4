package dev.tandem.internal.exec;

import dev.tandem.internal.exec.ExecutionControl.Kind;
import dev.tandem.internal.exec.Waiters.Wakeup;
import java.util.concurrent.TimeUnit;

/**
 * How one execution waits for a signal on a {@link Wakeup} or a deadline (a sleep, a receive, a child's end): it
 * blocks its thread, or it parks, and after the wait it checks that it may go on.
 */
final class Waits {
    /** On platform threads a wait for a message blocks this long before it parks (most replies come sooner). */
    private static final long BLOCK_BEFORE_PARKING_NANOS = TimeUnit.MILLISECONDS.toNanos(200);

    private final WorkflowExecution<?, ?> x;

    Waits(WorkflowExecution<?, ?> execution) {
        this.x = execution;
    }

    /**
     * Waits for a signal on {@code wakeup} or until {@code deadlineNanos}. A virtual thread, or a short wait, blocks;
     * otherwise the execution parks: its thread unwinds, and it is replayed from its checkpoints (kept in memory, all
     * durable by now) at the signal or the deadline. A wait for a message blocks a moment first, as replies often
     * come at once.
     */
    void await(Wakeup wakeup, long deadlineNanos, boolean parkAtOnce) {
        long left = deadlineNanos - System.nanoTime();
        if (x.engine.parksWaits() && left > BLOCK_BEFORE_PARKING_NANOS) {
            if (!parkAtOnce && block(wakeup, System.nanoTime() + BLOCK_BEFORE_PARKING_NANOS)) {
                return;
            }
            x.checkpoints.write();
            if (wakeup.park(deadlineNanos, () -> x.engine.executions().resumeParked(x, wakeup.cancelled()))) {
                throw x.halt(new ExecutionControl(Kind.PARK, "workflow '" + x.workflowId
                        + "' is parked until it is due"));
            }
            return; // signalled meanwhile
        }
        block(wakeup, deadlineNanos);
    }

    boolean block(Wakeup wakeup, long deadlineNanos) {
        try {
            return wakeup.await(deadlineNanos);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ExecutionControl(Kind.STOP, "interrupted while waiting", e);
        }
    }

    /** After a wait: stops if the engine stops, or if the workflow was cancelled (or taken over) meanwhile. */
    void afterWakeUp(Wakeup wakeup) {
        if (x.engine.isStopping()) {
            throw new ExecutionControl(Kind.STOP, "engine stopping");
        }
        if (wakeup.cancelled() && !x.engine.executions().stillOwns(x.workflowId, x.epoch)) {
            throw new ExecutionControl(Kind.ABANDON, "workflow '" + x.workflowId + "' was cancelled while it waited");
        }
        wakeup.reset();
    }

    /** Unregisters a wait, unless the execution parked on it (then its signal replays the execution). */
    void release(Wakeup wakeup) {
        if (!x.parked()) {
            wakeup.unregister();
        }
    }
}
