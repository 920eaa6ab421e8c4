package dev.tandem.internal.exec;

import dev.tandem.internal.db.AppVersion;
import dev.tandem.internal.db.QueueListener;
import dev.tandem.internal.db.Rows.ClaimedRow;
import dev.tandem.internal.db.SqlErrors;
import dev.tandem.internal.db.SystemDatabase;
import dev.tandem.internal.db.QueueStore.QueueRow;
import java.time.Duration;
import dev.tandem.WorkflowClock;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.ToIntFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes enqueued workflows from their queues and hands them to the engine. It wakes on a NOTIFY from
 * {@code tandem.enqueue_workflow} (so a workflow enqueued from SQL starts within milliseconds of the commit), when the
 * next delayed workflow is due, and every poll interval in any case: notifications are a hint, polling is the
 * guarantee.
 */
final class QueueWorker implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(QueueWorker.class);
    private static final int CLAIM_BATCH = 100;

    /** Where claimed workflows go. */
    interface Sink {
        /** Starts running a claimed workflow. */
        void run(ClaimedRow row, String queue);

        /** Whether the engine is stopping. */
        boolean stopping();
    }

    private final SystemDatabase db;
    private final String executorId;
    private final java.util.UUID incarnation;
    private final AppVersion version;
    private final java.util.concurrent.locks.Lock handover;
    private final List<String> names;
    private final Duration pollInterval;
    private final int defaultWorkerConcurrency;
    private final ToIntFunction<String> runningInQueue;
    private final Sink sink;
    private final WorkflowClock clock;
    private final QueueListener listener;
    private final Object signal = new Object();
    private boolean signalled; // guarded by signal
    private final ReentrantLock claiming = new ReentrantLock();
    private volatile Map<String, QueueRow> queues = Map.of();

    QueueWorker(SystemDatabase db, String executorId, java.util.UUID incarnation, AppVersion version,
            List<String> names, Duration pollInterval,
            int defaultWorkerConcurrency, ToIntFunction<String> runningInQueue, WorkflowClock clock, Sink sink,
            java.util.concurrent.locks.Lock handover) {
        this.handover = handover;
        this.db = db;
        this.executorId = executorId;
        this.incarnation = incarnation;
        this.version = version;
        this.names = List.copyOf(names);
        this.pollInterval = pollInterval;
        this.defaultWorkerConcurrency = defaultWorkerConcurrency;
        this.runningInQueue = runningInQueue;
        this.sink = sink;
        this.clock = clock;
        this.listener = new QueueListener(db.engineDataSource(), this::signal);
    }

    /** Looks at the queues again now (the workflow clock jumped: delayed ones may be due). */
    void wake() {
        signal();
    }

    /**
     * A workflow of {@code queue} ended here and freed a slot: claims the next one at once, on the calling thread (the
     * ended workflow's, after its outcome is published), unless a claim is in progress, which then goes round again.
     * Waiting for the worker thread instead would leave the slot empty for up to its wait interval.
     */
    void slotFreed(String queue) {
        QueueRow row = queues.get(queue);
        if (row == null || sink.stopping() || !claiming.tryLock()) {
            signal(); // a claim is in progress: it goes round again
            return;
        }
        try {
            claim(row);
        } catch (Exception e) {
            signal(); // the worker thread retries
            log.debug("claiming from queue '{}' after a finished workflow failed", queue, e);
        } finally {
            claiming.unlock();
        }
    }

    @Override
    public void run() {
        long backoffMillis = 100;
        while (!sink.stopping()) {
            try {
                listener.listen(); // before the look: what is enqueued after it notifies us
                long waitMillis = dequeueAll();
                long deadline = System.currentTimeMillis() + waitMillis;
                while (!sink.stopping()) {
                    long left = deadline - System.currentTimeMillis();
                    // Wake at least every 50 ms for stop requests; a notification or wake() ends the wait at once.
                    if (left <= 0 || awaitSignal(Math.min(left, 50))) {
                        break;
                    }
                }
                backoffMillis = 100;
            } catch (Exception e) {
                if (sink.stopping()) {
                    break;
                }
                if (SqlErrors.isConnectionError(e)) {
                    log.debug("queue worker: database unavailable, retrying in {} ms", backoffMillis, e);
                } else {
                    log.warn("queue worker failed, retrying in {} ms: {}", backoffMillis, e.getMessage(), e);
                }
                sleep(backoffMillis);
                backoffMillis = Math.min(backoffMillis * 2, 5000);
            }
        }
        listener.close();
    }

    /** Ends the worker's wait: look at the queues again now. Quick: the listener calls it inside a socket read. */
    private void signal() {
        synchronized (signal) {
            signalled = true;
            signal.notifyAll();
        }
    }

    /** Waits up to {@code millis} for {@link #signal()}; true if signalled (since the last call that returned true). */
    private boolean awaitSignal(long millis) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        synchronized (signal) {
            while (!signalled) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                TimeUnit.NANOSECONDS.timedWait(signal, left);
            }
            signalled = false;
            return true;
        }
    }

    /**
     * Claims what this executor may run from every queue; returns how long to wait before the next round. The claims
     * go first, with the queues as last read, so that no round trip stands between a NOTIFY and its claim; then the
     * queues are read again, and if they changed (a queue added, or its limits), claimed again with what they are now.
     * A queue that has become globally limited is never claimed as unlimited meanwhile: that claim checks for limits
     * itself (claimQueued), and a limited claim reads the queue's current limits in its own transaction (lockQueue).
     */
    private long dequeueAll() throws Exception {
        Map<String, QueueRow> known = queues;
        if (!known.isEmpty()) {
            claimAll(known);
        }
        Map<String, QueueRow> loaded = new HashMap<>();
        for (QueueRow queue : db.queues().loadQueues()) {
            loaded.put(queue.name(), queue);
        }
        queues = loaded;
        if (!loaded.equals(known)) {
            claimAll(loaded);
        }
        long wait = pollInterval.toMillis();
        Instant due = db.queues().nextDelayed(names);
        if (due != null) {
            long untilDue = Duration.between(clock.now(), due).toMillis() + 1;
            if (untilDue > 0) { // one that is already due waits for a free slot, which slotFreed() announces
                wait = Math.min(wait, untilDue);
            }
        }
        return wait;
    }

    private void claimAll(Map<String, QueueRow> all) throws Exception {
        claiming.lock();
        try {
            for (QueueRow queue : all.values()) {
                claim(queue);
            }
        } finally {
            claiming.unlock();
        }
    }

    /** Claims from one queue up to this executor's free slots in it. Callers hold {@code claiming}. */
    private void claim(QueueRow queue) throws Exception {
        int limit = queue.workerConcurrency() != null ? queue.workerConcurrency() : defaultWorkerConcurrency;
        while (!sink.stopping()) {
            int free = limit - runningInQueue.applyAsInt(queue.name());
            if (free <= 0) {
                return;
            }
            List<ClaimedRow> claimed;
            handover.lock(); // until the claimed rows run here (see Executions.handover)
            try {
                claimed = db.queues().claimQueued(executorId, incarnation, queue, names, version,
                        Math.min(free, CLAIM_BATCH));
                for (ClaimedRow row : claimed) {
                    sink.run(row, queue.name());
                }
            } finally {
                handover.unlock();
            }
            if (claimed.size() < Math.min(free, CLAIM_BATCH)) {
                return;
            }
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
