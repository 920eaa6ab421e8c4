package dev.tandem.internal.exec;

import dev.tandem.internal.db.Rows.FinishRow;
import dev.tandem.internal.db.Rows.StartRow;
import dev.tandem.internal.db.Rows.StepRow;
import dev.tandem.internal.db.SqlErrors;
import dev.tandem.internal.db.SystemDatabase;
import dev.tandem.internal.db.SystemDatabase.GroupCommitResult;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes workflow starts, step checkpoints and final statuses of all running workflows, many per commit.
 *
 * <p>Leader/follower group commit, with no thread of its own: a thread that needs a write queues it and, if no batch is
 * being written, becomes the leader: it takes everything queued and writes it in one statement and one commit on the
 * committer connection, then wakes the others. Threads that arrive while a batch is in flight wait and go in the
 * next one. A lone workflow therefore pays one round trip and no thread hand-off; under load each commit carries the
 * writes of many workflows, so commits per workflow fall as concurrency rises.
 *
 * <p>If the connection breaks, the batch goes back to the queue and a waiting thread retries after a pause; every
 * write is idempotent (starts and checkpoints ignore rows that exist, final statuses apply only to RUNNING rows), so
 * a commit that did land but whose answer was lost does no harm. A batch that fails for another reason is split and
 * its writes retried one by one, so one bad row fails only its own workflow.
 */
final class GroupCommitter {
    private static final Logger log = LoggerFactory.getLogger(GroupCommitter.class);
    private static final int MAX_BATCH = 1000;
    /**
     * A leader that finds more writes queued after its batch writes them too, up to this many batches: it is already
     * running, while waking another thread to lead would leave the database idle for a context switch.
     */
    private static final int MAX_BATCHES_PER_LEADER = 2;

    private final SystemDatabase db;
    private final String executorId;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition idle = lock.newCondition(); // signalled when a leader finishes (for close())
    private final ArrayList<Write> queue = new ArrayList<>();
    private boolean leading;
    private long retryNotBefore; // System.nanoTime() before which nobody retries after a connection failure
    private long backoffMillis = 10;
    private boolean closed;
    private @Nullable Connection conn; // used only by the current leader

    /**
     * One caller's rows, always committed whole in one batch. Its caller waits on its own condition, so a leader wakes
     * exactly the threads whose writes it finished, plus the next leader: no herd of threads woken for nothing.
     */
    private final class Write {
        final @Nullable StartRow start;
        final List<StepRow> steps;
        final @Nullable FinishRow finish;
        final Condition wake = lock.newCondition();
        boolean done;
        boolean recorded;
        @Nullable Throwable failure;

        Write(@Nullable StartRow start, List<StepRow> steps, @Nullable FinishRow finish) {
            this.start = start;
            this.steps = steps;
            this.finish = finish;
        }
    }

    /** The database did not confirm a write before the caller's deadline; it was withdrawn and nothing was written. */
    static final class WriteTimeoutException extends Exception {
        WriteTimeoutException() {
            super(null, null, false, false);
        }
    }

    GroupCommitter(SystemDatabase db, String executorId) {
        this.db = db;
        this.executorId = executorId;
    }

    /** Inserts a start; true if inserted, false if the workflow id already existed. */
    boolean start(StartRow row, long timeoutNanos) throws SQLException, WriteTimeoutException {
        return await(new Write(row, List.of(), null), System.nanoTime() + timeoutNanos);
    }

    /**
     * Writes checkpoints and, if given, the final status, all in the same commit. True if all were recorded, false if
     * this executor no longer owns the RUNNING workflow or a position was already taken.
     */
    boolean write(List<StepRow> steps, @Nullable FinishRow finish) throws SQLException {
        try {
            return await(new Write(null, List.copyOf(steps), finish), Long.MAX_VALUE);
        } catch (WriteTimeoutException e) {
            throw new AssertionError("no deadline", e);
        }
    }

    private boolean await(Write write, long deadlineNanos) throws SQLException, WriteTimeoutException {
        boolean interrupted = false;
        lock.lock();
        try {
            if (closed) {
                throw new EngineStoppedException();
            }
            queue.add(write);
            int ledBatches = 0;
            while (true) {
                boolean keepLeading = ledBatches > 0 && ledBatches < MAX_BATCHES_PER_LEADER && !queue.isEmpty()
                        && !closed;
                if (write.done && !keepLeading) {
                    if (write.failure != null) {
                        throw rethrow(write.failure);
                    }
                    return write.recorded;
                }
                long now = System.nanoTime();
                if (closed) {
                    queue.remove(write);
                    throw new EngineStoppedException();
                }
                if (now - deadlineNanos >= 0 && queue.remove(write)) {
                    throw new WriteTimeoutException(); // still queued: withdrawn, nothing written
                }
                if (!leading && !queue.isEmpty() && now - retryNotBefore >= 0) {
                    leading = true;
                    ledBatches++;
                    int n = Math.min(MAX_BATCH, queue.size());
                    List<Write> batch = new ArrayList<>(queue.subList(0, n));
                    queue.subList(0, n).clear();
                    lock.unlock();
                    boolean retry;
                    try {
                        retry = lead(batch);
                    } finally {
                        lock.lock();
                        leading = false;
                    }
                    if (retry) {
                        queue.addAll(0, batch); // in front: their turn came first
                        retryNotBefore = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(backoffMillis);
                        backoffMillis = Math.min(backoffMillis * 2, 2000);
                        ledBatches = MAX_BATCHES_PER_LEADER; // let a waiting thread retry after the pause
                    } else {
                        backoffMillis = 10;
                        for (Write w : batch) {
                            w.wake.signal();
                        }
                    }
                    if (!queue.isEmpty() && (ledBatches >= MAX_BATCHES_PER_LEADER || closed)) {
                        queue.get(0).wake.signal(); // the next leader
                    }
                    idle.signalAll();
                    continue;
                }
                long waitNanos = Math.min(deadlineNanos - now, leading || queue.isEmpty()
                        ? TimeUnit.SECONDS.toNanos(1) : Math.max(retryNotBefore - now, 1));
                try {
                    write.wake.awaitNanos(Math.max(waitNanos, 1));
                } catch (InterruptedException e) {
                    interrupted = true;
                    if (queue.remove(write)) {
                        throw new EngineStoppedException(); // withdrawn before anything was written
                    }
                    // In flight: its outcome decides what exists, so wait for it.
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
            lock.unlock();
        }
    }

    /** Writes a batch; returns true if the database was unreachable and the batch must be tried again. */
    private boolean lead(List<Write> batch) {
        try {
            complete(batch, writeOnce(batch));
            return false;
        } catch (SQLException | RuntimeException e) {
            closeConnection();
            if (SqlErrors.isConnectionError(e)) {
                log.warn("database unavailable, will retry {} checkpoint writes: {}", batch.size(), e.getMessage());
                return true;
            }
            if (batch.size() > 1) {
                for (Write w : batch) {
                    if (lead(List.of(w))) { // isolate the bad row; the good ones are written
                        return true;
                    }
                }
                return false;
            }
            for (Write w : batch) {
                w.failure = e;
                w.done = true;
            }
            return false;
        }
    }

    private GroupCommitResult writeOnce(List<Write> batch) throws SQLException {
        List<StartRow> starts = new ArrayList<>();
        List<StepRow> steps = new ArrayList<>();
        List<FinishRow> finishes = new ArrayList<>();
        for (Write w : batch) {
            if (w.done) {
                continue; // written by an earlier part of a split batch
            }
            if (w.start != null) {
                starts.add(w.start);
            }
            steps.addAll(w.steps);
            if (w.finish != null) {
                finishes.add(w.finish);
            }
        }
        Connection c = conn;
        if (c == null) {
            c = db.connect();
            c.setAutoCommit(true);
            conn = c;
        }
        return db.groupCommit(c, executorId, starts, steps, finishes);
    }

    private static void complete(List<Write> batch, GroupCommitResult result) {
        for (Write w : batch) {
            if (w.done) {
                continue;
            }
            boolean recorded = w.start == null || result.started().contains(w.start.workflowId());
            for (StepRow step : w.steps) {
                recorded &= result.checkpointed().contains(GroupCommitResult.stepKey(step.workflowId(), step.position()));
            }
            if (w.finish != null) {
                recorded &= result.finished().contains(w.finish.workflowId());
            }
            w.recorded = recorded;
            w.done = true;
        }
    }

    private static RuntimeException rethrow(Throwable failure) throws SQLException {
        if (failure instanceof SQLException sql) {
            throw sql;
        }
        if (failure instanceof RuntimeException rt) {
            return rt;
        }
        return new IllegalStateException(failure);
    }

    private void closeConnection() {
        Connection c = conn;
        conn = null;
        if (c != null) {
            try {
                c.close();
            } catch (SQLException ignored) {
                // already broken
            }
        }
    }

    /** Refuses new writes; writes still queued fail with {@link EngineStoppedException}. */
    void close() {
        lock.lock();
        try {
            closed = true;
            for (Write w : queue) {
                w.wake.signal();
            }
            while (leading) {
                idle.awaitUninterruptibly();
            }
            closeConnection();
        } finally {
            lock.unlock();
        }
    }
}
