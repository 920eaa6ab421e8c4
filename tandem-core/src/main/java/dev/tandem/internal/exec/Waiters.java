package dev.tandem.internal.exec;

import dev.tandem.internal.db.Notifications;
import dev.tandem.internal.db.WakeupStore;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.jspecify.annotations.Nullable;

/**
 * Everything in this process that waits for something to happen to a workflow: a workflow in {@code recv} or
 * {@code sleep}, a caller in {@code getEvent} or {@code readStream}, a parent waiting for a child. Each registers a
 * {@link Wakeup} for the workflow id and the channels it cares about before it looks in the database, so a
 * notification that arrives between the look and the wait is not lost.
 *
 * <p>Notifications can still be lost (a dead listening connection, a row written by hand), so every few seconds
 * {@link Notifications} has the waiters {@link #look} in the database, all at once: callers of {@code getEvent} and
 * {@code readStream} (few, each re-reads one row) are simply woken; executions waiting in {@code recv},
 * {@code sleep} or for a child (possibly thousands of parked ones, each of whose wake-ups replays the execution) are
 * woken only if one statement over all their workflow ids finds a message for them or finds them no longer running
 * here.
 */
final class Waiters implements Notifications.Listener {
    static final int MESSAGE = 1;
    static final int EVENT = 2;
    static final int STREAM = 4;
    static final int CANCEL = 8;
    static final int CHILD = 16;

    private final Map<String, Set<Wakeup>> byWorkflow = new ConcurrentHashMap<>();
    private final ScheduledExecutorService timer;
    private final String executorId;

    Waiters(ScheduledExecutorService timer, String executorId) {
        this.timer = timer;
        this.executorId = executorId;
    }

    Wakeup register(String workflowId, int channels) {
        Wakeup w = new Wakeup(this, workflowId, channels);
        // The add happens inside the atomic compute: added after it, it could land in a set that a concurrent
        // unregister has just emptied and removed from the map, and no signal would ever reach it.
        byWorkflow.compute(workflowId, (k, set) -> {
            Set<Wakeup> s = set != null ? set : ConcurrentHashMap.newKeySet();
            s.add(w);
            return s;
        });
        return w;
    }

    void unregister(Wakeup w) {
        byWorkflow.computeIfPresent(w.workflowId, (k, set) -> {
            set.remove(w);
            return set.isEmpty() ? null : set;
        });
    }

    /** Wakes the waiters of {@code workflowId} that listen on any of {@code channels}. */
    void signal(String workflowId, int channels) {
        Set<Wakeup> set = byWorkflow.get(workflowId);
        if (set != null) {
            for (Wakeup w : set) {
                if ((w.channels & channels) != 0) {
                    w.signal((channels & CANCEL) != 0);
                }
            }
        }
    }

    /** Wakes everyone: notifications were lost, or the engine stops. */
    void signalAll() {
        for (Set<Wakeup> set : byWorkflow.values()) {
            for (Wakeup w : set) {
                w.signal(false);
            }
        }
    }

    @Override
    public void notified(String channel, String workflowId) {
        int bit = switch (channel) {
            case Notifications.MESSAGE -> MESSAGE;
            case Notifications.EVENT -> EVENT;
            case Notifications.STREAM -> STREAM;
            case Notifications.CANCEL -> CANCEL;
            default -> 0;
        };
        if (bit != 0 && workflowId != null) {
            signal(workflowId, bit);
        }
    }

    @Override
    public void lost() {
        signalAll();
    }

    @Override
    public void look(WakeupStore.Lookup lookup) throws SQLException {
        List<String> executions = new ArrayList<>();
        for (Map.Entry<String, Set<Wakeup>> entry : byWorkflow.entrySet()) {
            int channels = 0;
            for (Wakeup w : entry.getValue()) {
                channels |= w.channels;
            }
            if ((channels & (EVENT | STREAM)) != 0) {
                signal(entry.getKey(), EVENT | STREAM);
            }
            if ((channels & (MESSAGE | CANCEL)) != 0) {
                executions.add(entry.getKey());
            }
        }
        if (executions.isEmpty()) {
            return;
        }
        WakeupStore.Due due = lookup.due(executions, executorId);
        for (String workflowId : due.messaged()) {
            signal(workflowId, MESSAGE);
        }
        for (String workflowId : due.ended()) {
            signal(workflowId, CANCEL); // the execution checks, then stops (or, if it still runs here, goes on)
        }
    }

    /** Calls {@code w.signal} at the deadline (for parked waits, which have no thread to time out on). */
    void signalAt(Wakeup w, long deadlineNanos) {
        long delay = Math.max(0, deadlineNanos - System.nanoTime());
        try {
            timer.schedule(() -> w.signal(false), delay, TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // the engine is stopping: parked executions are recovered from their checkpoints later
        }
    }

    /**
     * One waiter. Signals are remembered until {@link #reset()}, so a signal that arrives before {@link #await} is
     * not missed. A waiter without a thread (a parked execution) gives a callback instead, run once at its signal.
     * A lock and condition rather than {@code synchronized}/{@code wait}: on Java 21-23 {@code Object.wait} pins a
     * virtual thread to its carrier, and thousands of sleeping workflows would pin them all.
     */
    static final class Wakeup {
        private final Waiters waiters;
        final String workflowId;
        final int channels;
        private final ReentrantLock lock = new ReentrantLock();
        private final Condition signalledCondition = lock.newCondition();
        private boolean signalled;
        private boolean cancelled;
        private @Nullable Runnable onSignal;

        private Wakeup(Waiters waiters, String workflowId, int channels) {
            this.waiters = waiters;
            this.workflowId = workflowId;
            this.channels = channels;
        }

        void signal(boolean cancel) {
            Runnable callback;
            lock.lock();
            try {
                cancelled |= cancel;
                if (signalled) {
                    return;
                }
                signalled = true;
                signalledCondition.signalAll();
                callback = onSignal;
                onSignal = null;
            } finally {
                lock.unlock();
            }
            if (callback != null) {
                waiters.unregister(this);
                callback.run();
            }
        }

        /** Waits until signalled or the deadline passes; true if signalled. */
        boolean await(long deadlineNanos) throws InterruptedException {
            lock.lock();
            try {
                while (!signalled) {
                    long left = deadlineNanos - System.nanoTime();
                    if (left <= 0) {
                        return false;
                    }
                    signalledCondition.awaitNanos(left);
                }
                return true;
            } finally {
                lock.unlock();
            }
        }

        void reset() {
            lock.lock();
            try {
                signalled = false;
            } finally {
                lock.unlock();
            }
        }

        /** Whether a cancellation of the workflow was among the signals. */
        boolean cancelled() {
            lock.lock();
            try {
                return cancelled;
            } finally {
                lock.unlock();
            }
        }

        /**
         * Hands the wait over to {@code callback}, run at the next signal or at the deadline; false (and nothing
         * handed over) if a signal already arrived.
         */
        boolean park(long deadlineNanos, Runnable callback) {
            lock.lock();
            try {
                if (signalled) {
                    return false;
                }
                onSignal = callback;
            } finally {
                lock.unlock();
            }
            waiters.signalAt(this, deadlineNanos);
            return true;
        }

        void unregister() {
            waiters.unregister(this);
        }
    }
}
