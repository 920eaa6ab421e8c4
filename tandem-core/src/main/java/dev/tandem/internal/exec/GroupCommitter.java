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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes workflow starts, step checkpoints and final statuses of all running workflows, many per commit.
 *
 * <p>One thread owns one connection. Whatever is queued while a commit is in flight goes into the next one, so a lone
 * workflow waits for exactly one round trip, and under load a commit carries the writes of many workflows: commits
 * per workflow fall as concurrency rises. Each caller waits for the future of its own write, which completes only
 * once the batch is durable.
 *
 * <p>A batch whose connection breaks is written again once the database answers; every write is idempotent (starts
 * and checkpoints ignore rows that exist, final statuses apply only to RUNNING rows), so a commit that did land but
 * whose answer was lost does no harm. A batch that fails for another reason is split and its writes retried one by
 * one, so one bad row fails only its own workflow.
 */
final class GroupCommitter implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(GroupCommitter.class);
    private static final int MAX_BATCH = 1000;

    private final SystemDatabase db;
    private final String executorId;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition queued = lock.newCondition();
    private final ArrayList<Write> queue = new ArrayList<>();
    private final Thread thread;
    private volatile boolean closed;
    private @Nullable Connection conn;

    /** A queued write; {@code recorded} completes with whether the row was written, or exceptionally. */
    private record Write(@Nullable StartRow start, @Nullable StepRow step, @Nullable FinishRow finish,
            CompletableFuture<Boolean> recorded) {}

    GroupCommitter(SystemDatabase db, String executorId) {
        this.db = db;
        this.executorId = executorId;
        this.thread = new Thread(this::run, "tandem-committer");
        this.thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    /** Completes with true if the workflow was inserted, false if its id already existed. */
    CompletableFuture<Boolean> start(StartRow row) {
        return enqueue(new Write(row, null, null, new CompletableFuture<>()));
    }

    /** Completes with true if recorded, false if this executor no longer owns the workflow or the position is taken. */
    CompletableFuture<Boolean> checkpoint(StepRow row) {
        return enqueue(new Write(null, row, null, new CompletableFuture<>()));
    }

    /** Completes with true if recorded, false if the workflow is no longer RUNNING under this executor. */
    CompletableFuture<Boolean> finish(FinishRow row) {
        return enqueue(new Write(null, null, row, new CompletableFuture<>()));
    }

    private CompletableFuture<Boolean> enqueue(Write write) {
        lock.lock();
        try {
            if (closed) {
                write.recorded.completeExceptionally(new EngineStoppedException());
                return write.recorded;
            }
            queue.add(write);
            queued.signal();
        } finally {
            lock.unlock();
        }
        return write.recorded;
    }

    private void run() {
        List<Write> batch = new ArrayList<>();
        while (true) {
            lock.lock();
            try {
                while (queue.isEmpty() && !closed) {
                    queued.awaitUninterruptibly();
                }
                if (queue.isEmpty()) {
                    break; // closed and drained
                }
                int n = Math.min(MAX_BATCH, queue.size());
                batch.addAll(queue.subList(0, n));
                queue.subList(0, n).clear();
            } finally {
                lock.unlock();
            }
            write(batch);
            batch.clear();
        }
        closeConnection();
    }

    private void write(List<Write> batch) {
        long backoffMillis = 10;
        while (true) {
            try {
                GroupCommitResult result = writeOnce(batch);
                complete(batch, result);
                return;
            } catch (SQLException | RuntimeException e) {
                closeConnection();
                if (SqlErrors.isConnectionError(e) && !closed) {
                    log.warn("database unavailable, retrying {} checkpoint writes in {} ms: {}", batch.size(),
                            backoffMillis, e.getMessage());
                    sleep(backoffMillis);
                    backoffMillis = Math.min(backoffMillis * 2, 2000);
                } else if (batch.size() > 1 && !closed) {
                    for (Write w : batch) {
                        write(List.of(w)); // isolate the bad row; the good ones are written
                    }
                    return;
                } else {
                    for (Write w : batch) {
                        w.recorded.completeExceptionally(closed ? new EngineStoppedException() : e);
                    }
                    return;
                }
            }
        }
    }

    private GroupCommitResult writeOnce(List<Write> batch) throws SQLException {
        List<StartRow> starts = new ArrayList<>();
        List<StepRow> steps = new ArrayList<>();
        List<FinishRow> finishes = new ArrayList<>();
        for (Write w : batch) {
            if (w.start != null) {
                starts.add(w.start);
            } else if (w.step != null) {
                steps.add(w.step);
            } else if (w.finish != null) {
                finishes.add(w.finish);
            }
        }
        if (conn == null) {
            conn = db.connect();
            conn.setAutoCommit(true);
        }
        return db.groupCommit(conn, executorId, starts, steps, finishes);
    }

    private static void complete(List<Write> batch, GroupCommitResult result) {
        for (Write w : batch) {
            boolean recorded;
            if (w.start != null) {
                recorded = result.started().contains(w.start.workflowId());
            } else if (w.step != null) {
                recorded = result.checkpointed().contains(GroupCommitResult.stepKey(w.step.workflowId(), w.step.position()));
            } else {
                recorded = result.finished().contains(w.finish.workflowId());
            }
            w.recorded.complete(recorded);
        }
    }

    private void closeConnection() {
        if (conn != null) {
            try {
                conn.close();
            } catch (SQLException ignored) {
                // already broken
            }
            conn = null;
        }
    }

    private static void sleep(long millis) {
        try {
            TimeUnit.MILLISECONDS.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Stops accepting writes, writes what is queued, and stops. */
    @Override
    public void close() {
        lock.lock();
        try {
            closed = true;
            queued.signal();
        } finally {
            lock.unlock();
        }
        try {
            thread.join(TimeUnit.SECONDS.toMillis(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
