package dev.tandem.internal.exec;

import dev.tandem.internal.db.CheckpointStore.GroupCommitResult;
import dev.tandem.internal.db.Rows.FinishRow;
import dev.tandem.internal.db.Rows.StartRow;
import dev.tandem.internal.db.Rows.StepRow;
import dev.tandem.internal.db.SqlErrors;
import dev.tandem.internal.db.SystemDatabase;
import dev.tandem.internal.observe.Telemetry;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
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
 * a commit that did land but whose answer was lost does no harm. A write that was sent at least once and is still not
 * confirmed at its caller's deadline has an unknown outcome ({@link WriteOutcomeUnknownException}), never "not
 * written". A batch that fails for another reason is split and its writes retried one by one, so one bad row fails
 * only its own workflow.
 *
 * <p>Lock waits: the committer's connection has a short {@code lock_timeout}. A write that waits on a row lock held
 * by another transaction (an application's uncommitted cancel of that workflow, or its uncommitted enqueue of the same
 * id) times out, is split from the batch, and is written alone on a connection of its own, where it waits as long as
 * the lock is held ({@link LockWaitWriter}): it delays its own workflow, never the others.
 */
final class GroupCommitter {
    private static final Logger log = LoggerFactory.getLogger(GroupCommitter.class);
    private static final int MAX_BATCH = 1000;
    /**
     * A leader that finds more writes queued after its batch writes them too, up to this many batches: it is already
     * running, while waking another thread to lead would leave the database idle for a context switch.
     */
    private static final int MAX_BATCHES_PER_LEADER = 2;
    /** How long a batch waits for a row lock before the write that needs it is split out and written alone. */
    static final String BATCH_LOCK_TIMEOUT = "500ms";

    private final SystemDatabase db;
    private final String executorId;
    private final UUID incarnation;
    private final Telemetry telemetry;
    private final LockWaitWriter lockWaits;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition idle = lock.newCondition(); // signalled when a leader finishes (for close())
    private final ArrayList<Write> queue = new ArrayList<>();
    private boolean leading;
    private long retryNotBefore; // System.nanoTime() before which nobody retries after a connection failure
    private long backoffMillis = 10;
    private volatile boolean closed;
    private volatile @Nullable Connection conn; // used only by the current leader; closed by close() if it hangs

    /**
     * One caller's rows, always committed whole in one batch. Its caller waits on its own condition, so a leader wakes
     * exactly the threads whose writes it finished, plus the next leader: no herd of threads woken for nothing.
     */
    private final class Write {
        final @Nullable StartRow start;
        final List<StepRow> steps;
        final @Nullable FinishRow finish;
        final Condition wake = lock.newCondition();
        boolean sent; // handed to the database at least once: its outcome is unknown until confirmed
        boolean done;
        boolean recorded;
        @Nullable Throwable failure;

        Write(@Nullable StartRow start, List<StepRow> steps, @Nullable FinishRow finish) {
            this.start = start;
            this.steps = steps;
            this.finish = finish;
        }
    }

    /** The database did not confirm a write before the caller's deadline; it was never sent, so nothing was written. */
    static final class WriteTimeoutException extends Exception {
        WriteTimeoutException() {
            super(null, null, false, false);
        }
    }

    /**
     * The database did not confirm a write before the caller's deadline, and it had been sent: it may have committed
     * (its answer lost) or not. Only reading the row tells.
     */
    static final class WriteOutcomeUnknownException extends Exception {
        WriteOutcomeUnknownException() {
            super(null, null, false, false);
        }
    }

    GroupCommitter(SystemDatabase db, String executorId, UUID incarnation, Telemetry telemetry) {
        this.db = db;
        this.executorId = executorId;
        this.incarnation = incarnation;
        this.telemetry = telemetry;
        this.lockWaits = new LockWaitWriter(db, executorId, incarnation, () -> closed);
    }

    /** Inserts a start; true if inserted, false if the workflow id already existed. */
    boolean start(StartRow row, long timeoutNanos)
            throws SQLException, WriteTimeoutException, WriteOutcomeUnknownException {
        return submit(new Write(row, List.of(), null), System.nanoTime() + timeoutNanos);
    }

    /**
     * Writes checkpoints and, if given, the final status, all in the same commit. True if all were recorded, false if
     * this execution no longer owns the RUNNING workflow or a position was already taken.
     */
    boolean write(List<StepRow> steps, @Nullable FinishRow finish) throws SQLException {
        try {
            return submit(new Write(null, List.copyOf(steps), finish), Long.MAX_VALUE);
        } catch (WriteTimeoutException | WriteOutcomeUnknownException e) {
            throw new AssertionError("no deadline", e);
        }
    }

    private boolean submit(Write write, long deadlineNanos)
            throws SQLException, WriteTimeoutException, WriteOutcomeUnknownException {
        try {
            return await(write, deadlineNanos);
        } catch (SQLException e) {
            if (!SqlErrors.isLockTimeout(e)) {
                throw e;
            }
            return writeAlone(write, deadlineNanos);
        }
    }

    private boolean await(Write write, long deadlineNanos)
            throws SQLException, WriteTimeoutException, WriteOutcomeUnknownException {
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
                    if (write.sent) {
                        throw new WriteOutcomeUnknownException(); // a commit may have landed with its answer lost
                    }
                    throw new WriteTimeoutException(); // never sent: nothing written
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
                    if (!write.sent && queue.remove(write)) {
                        throw new EngineStoppedException(); // withdrawn before anything was written
                    }
                    // Sent at least once: its outcome decides what exists, so wait for it.
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
                if (!closed) {
                    log.warn("database unavailable, will retry {} checkpoint writes: {}", batch.size(), e.getMessage());
                }
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
            try {
                c.setAutoCommit(true);
                try (Statement st = c.createStatement()) {
                    st.execute("SET lock_timeout = '" + BATCH_LOCK_TIMEOUT + "'");
                }
            } catch (SQLException | RuntimeException e) {
                c.close();
                throw e;
            }
            conn = c;
        }
        for (Write w : batch) {
            w.sent = true;
        }
        GroupCommitResult result = db.checkpoints().groupCommit(c, executorId, incarnation, starts, steps, finishes);
        telemetry.groupCommit(batch.size());
        return result;
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

    /** Writes one caller's rows alone, waiting for the row lock that timed out its batch ({@link LockWaitWriter}). */
    private boolean writeAlone(Write write, long deadlineNanos) throws SQLException, WriteOutcomeUnknownException {
        GroupCommitResult result = lockWaits.write(write.start, write.steps, write.finish, deadlineNanos);
        write.done = false;
        complete(List.of(write), result);
        return write.recorded;
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

    /**
     * Refuses new writes; writes still queued fail with {@link EngineStoppedException}. Waits at most {@code timeout}
     * for a batch in flight, then aborts its connection (a leader stuck on a dead socket must not hold up shutdown).
     */
    void close(long timeoutMillis) {
        lock.lock();
        try {
            closed = true;
            for (Write w : queue) {
                w.wake.signal();
            }
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
            while (leading) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    if (timeoutMillis == 0) {
                        abortConnection();
                        break;
                    }
                    log.warn("a checkpoint write did not finish within {} ms of shutdown; aborting its connection",
                            timeoutMillis);
                    abortConnection();
                    break;
                }
                try {
                    idle.awaitNanos(left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    abortConnection();
                    break;
                }
            }
            if (!leading) {
                closeConnection();
            }
        } finally {
            lock.unlock();
        }
    }

    private void abortConnection() {
        Connection c = conn;
        if (c != null) {
            try {
                c.abort(Runnable::run);
            } catch (SQLException | RuntimeException ignored) {
                // nothing more to do: the leader's statement fails, and the pool discards the connection
            }
        }
    }
}
