package dev.tandem.internal.exec;

import dev.tandem.internal.db.SystemDatabase;
import java.sql.SQLException;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The steps of stopping that wait, each bounded so that {@link Engine#close()} returns within the shutdown timeout
 * (plus a few seconds for threads that ignore interrupts). The order of the steps is the engine's.
 */
final class Stopping {
    private static final Logger log = LoggerFactory.getLogger(Stopping.class);

    private final long deadlineNanos;

    Stopping(Duration shutdownTimeout) {
        this.deadlineNanos = System.nanoTime() + shutdownTimeout.toNanos();
    }

    /** Gives the queue worker at most two seconds (and never past the deadline) to see the engine stopping. */
    void joinQueueWorker(Thread queueThread) {
        try {
            queueThread.join(Math.min(2000, Math.max(1, millisLeft())));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Running executions get until the deadline to finish, then are interrupted and left to be recovered from their
     * checkpoints.
     */
    void drainWorkflowThreads(ExecutorService workflowThreads, @Nullable GroupCommitter committer,
            Executions executions) {
        workflowThreads.shutdown();
        try {
            if (!workflowThreads.awaitTermination(millisLeft(), TimeUnit.MILLISECONDS)) {
                log.info("{} workflows still running at shutdown; they will be recovered from their checkpoints",
                        executions.size());
                if (committer != null) {
                    committer.close(0); // a write stuck on a dead socket is aborted: its waiters can unwind
                }
                workflowThreads.shutdownNow();
                workflowThreads.awaitTermination(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    long millisLeft() {
        return Math.max(0, TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime()));
    }

    /**
     * Tells the others this executor has stopped, so they may take over what is left at once. At most two seconds:
     * on a dead network, they find out from its silent heartbeat instead.
     */
    static void expireExecutor(SystemDatabase db, String executorId, UUID incarnation) {
        Thread expiring = new Thread(() -> {
            try {
                db.executors().expireExecutor(executorId, incarnation);
            } catch (SQLException | RuntimeException e) {
                log.debug("could not mark executor '{}' as stopped", executorId, e);
            }
        }, "tandem-stop");
        expiring.setDaemon(true);
        expiring.start();
        try {
            expiring.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
