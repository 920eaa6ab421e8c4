package dev.tandem.internal.exec;

import dev.tandem.internal.db.CheckpointStore.GroupCommitResult;
import dev.tandem.internal.db.Rows.FinishRow;
import dev.tandem.internal.db.Rows.StartRow;
import dev.tandem.internal.db.Rows.StepRow;
import dev.tandem.internal.db.SqlErrors;
import dev.tandem.internal.db.SystemDatabase;
import dev.tandem.internal.exec.GroupCommitter.WriteOutcomeUnknownException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link GroupCommitter}'s fallback for a write whose batch timed out on a row lock held by another transaction
 * (an application's uncommitted cancel of that workflow, or its uncommitted enqueue of the same id): the write leaves
 * the batch and waits for the lock here, on a connection of its own, so it delays its own workflow, never the others.
 */
final class LockWaitWriter {
    private static final Logger log = LoggerFactory.getLogger(LockWaitWriter.class);
    /** How long one statement of a write written alone waits for a lock before it looks again. */
    private static final String ALONE_LOCK_TIMEOUT = "2s";

    private final SystemDatabase db;
    private final String executorId;
    private final UUID incarnation;
    private final BooleanSupplier closed;

    LockWaitWriter(SystemDatabase db, String executorId, UUID incarnation, BooleanSupplier closed) {
        this.db = db;
        this.executorId = executorId;
        this.incarnation = incarnation;
        this.closed = closed;
    }

    /**
     * Writes one caller's rows alone, on a pooled connection, because a row they need is locked by another
     * transaction: waits (looking again every {@link #ALONE_LOCK_TIMEOUT}) until the lock is released, the engine
     * stops or the deadline passes. Only this caller's thread waits.
     */
    GroupCommitResult write(@Nullable StartRow start, List<StepRow> steps, @Nullable FinishRow finish,
            long deadlineNanos) throws SQLException, WriteOutcomeUnknownException {
        String who = start != null ? start.workflowId()
                : finish != null ? finish.workflowId()
                : steps.isEmpty() ? "?" : steps.get(0).workflowId();
        log.warn("workflow '{}' waits for a row lock held by another transaction (an uncommitted cancel, enqueue or"
                + " start of it?); writing it apart from the other workflows until the lock is released", who);
        long pauseMillis = 50;
        while (true) {
            if (closed.getAsBoolean()) {
                throw new EngineStoppedException();
            }
            // The application's pool: this is one workflow's wait, and the engine's small pool must stay free.
            try (Connection c = db.connectShared()) {
                c.setAutoCommit(true);
                try (Statement st = c.createStatement()) {
                    st.execute("SET lock_timeout = '" + ALONE_LOCK_TIMEOUT + "'");
                }
                GroupCommitResult result;
                try {
                    result = db.checkpoints().groupCommit(c, executorId, incarnation,
                            start == null ? List.of() : List.of(start), steps,
                            finish == null ? List.of() : List.of(finish));
                } finally {
                    try (Statement st = c.createStatement()) {
                        st.execute("RESET lock_timeout"); // the connection goes back to a shared pool
                    } catch (SQLException ignored) {
                        // a broken connection is discarded by the pool
                    }
                }
                log.info("workflow '{}' written after the row lock was released", who);
                return result;
            } catch (SQLException e) {
                if (!SqlErrors.isLockTimeout(e) && !SqlErrors.isConnectionError(e)) {
                    throw e;
                }
            }
            if (System.nanoTime() - deadlineNanos >= 0) {
                throw new WriteOutcomeUnknownException(); // it was sent: a commit whose answer was lost is possible
            }
            try {
                TimeUnit.MILLISECONDS.sleep(pauseMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new EngineStoppedException();
            }
            pauseMillis = Math.min(pauseMillis * 2, 1000);
        }
    }
}
