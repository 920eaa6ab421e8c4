package dev.tandem.internal.exec;

import dev.tandem.TandemException;
import dev.tandem.WorkflowStatus;
import dev.tandem.internal.db.Rows.FinishRow;
import dev.tandem.internal.db.Rows.WorkflowRow;
import dev.tandem.internal.db.SystemDatabase;
import dev.tandem.internal.observe.TraceContext;
import java.sql.SQLException;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The executions this executor runs, and every transition of their lives, in one place.
 *
 * <pre>
 *   admitted (start, child) / claimed (queue, recovery, reconciliation)
 *        |  dispatch: runs on a workflow thread (or the caller's, for run())
 *        v
 *     RUNNING --- wait (platform threads) ---> PARKED --- signal or deadline: resumeParked ---> RUNNING (replayed)
 *        |  \
 *        |   `-- transient failure / stale view: executionStopped(RESTART, TRANSIENT_FAILURE)
 *        |         -> still the owner (status, executor, epoch)? replayAfterFailure: one more attempt, after a
 *        |            backoff, replayed from the checkpoints -> RUNNING;  otherwise dropped
 *        |-- outcome recorded (SUCCESS, ERROR, RETRIES_EXCEEDED): executionFinished -> FINISHED
 *        |-- no longer the owner (cancelled, taken over): executionStopped(ABANDON) -> dropped
 *        `-- engine stopping: executionStopped(STOP) -> dropped (recovered from its checkpoints later)
 * </pre>
 *
 * <p>An execution is in {@link #running} from admission until it finishes or is dropped, parked ones included: the
 * map is what reconciliation compares the database with, and it keeps one execution per workflow id in this
 * process. Counts per queue are kept with it, for the queue worker's per-executor limits.
 */
final class Executions {
    private static final Logger log = LoggerFactory.getLogger(Executions.class);

    private final Engine engine;
    private final SystemDatabase db;
    private final Map<String, WorkflowExecution<?, ?>> running = new ConcurrentHashMap<>();
    /**
     * Held (read) by a queue claim from its statement until its rows are in {@code running}, and (write) by
     * reconciliation while it compares the rows owned in the database with {@code running}. Fair, so a steady stream
     * of claims does not starve reconciliation.
     */
    private final ReentrantReadWriteLock handover = new ReentrantReadWriteLock(true);
    /** How many of {@code running} came from each queue; a replay replaces its entry and keeps the count. */
    private final Map<String, AtomicInteger> runningPerQueue = new ConcurrentHashMap<>();
    private volatile @Nullable ExecutorService workflowThreads;
    private volatile @Nullable ScheduledExecutorService timer;
    private volatile @Nullable QueueWorker queueWorker;

    ReentrantReadWriteLock handover() {
        return handover;
    }

    Executions(Engine engine, SystemDatabase db) {
        this.engine = engine;
        this.db = db;
    }

    /** The threads executions run on, and the timer of parked executions and delayed replays. */
    void attach(ExecutorService workflowThreads, ScheduledExecutorService timer) {
        this.workflowThreads = workflowThreads;
        this.timer = timer;
    }

    void attach(QueueWorker queueWorker) {
        this.queueWorker = queueWorker;
    }

    /** Admits a new execution unless this process already runs one of that id; returns that one, or null. */
    @Nullable WorkflowExecution<?, ?> admit(WorkflowExecution<?, ?> execution) {
        return running.putIfAbsent(execution.workflowId(), execution);
    }

    /**
     * Admits and runs an execution of a row this executor claimed ({@link Resuming}), counted in its queue, unless
     * this process already runs one of that id.
     */
    void admitClaimed(WorkflowExecution<?, ?> execution) {
        if (running.putIfAbsent(execution.workflowId(), execution) == null) {
            if (execution.queueName() != null) {
                queueCount(execution.queueName()).incrementAndGet();
            }
            dispatch(execution);
        }
    }

    /** The execution of {@code workflowId} in this process, or null. */
    @Nullable WorkflowExecution<?, ?> local(String workflowId) {
        return running.get(workflowId);
    }

    int size() {
        return running.size();
    }

    /** At shutdown: whoever waits on a local outcome reads the database instead. */
    void abandonAll() {
        for (WorkflowExecution<?, ?> e : running.values()) {
            e.outcome().complete(new Outcome.Unknown());
        }
        running.clear();
    }

    /**
     * Forgets an execution this process will not run. Other callers may already hold a handle on it (they started the
     * same id at the same moment), so its outcome is completed as unknown: their handles then read the database.
     */
    void drop(WorkflowExecution<?, ?> execution) {
        forget(execution);
        execution.outcome().complete(new Outcome.Unknown());
        freedSlot(execution);
    }

    /** Removes an execution from the running ones, keeping the per-queue counts in step. */
    private void forget(WorkflowExecution<?, ?> execution) {
        if (running.remove(execution.workflowId(), execution) && execution.queueName() != null) {
            queueCount(execution.queueName()).decrementAndGet();
        }
    }

    private AtomicInteger queueCount(String queue) {
        return runningPerQueue.computeIfAbsent(queue, q -> new AtomicInteger());
    }

    void dispatch(WorkflowExecution<?, ?> execution) {
        ExecutorService threads = workflowThreads;
        try {
            if (threads == null) {
                throw new RejectedExecutionException("no workflow threads");
            }
            threads.execute(() -> engine.instrumentation().run(execution));
        } catch (RejectedExecutionException e) {
            forget(execution);
            execution.outcome().complete(new Outcome.Unknown());
        }
    }

    void executionFinished(WorkflowExecution<?, ?> execution) {
        forget(execution);
        engine.instrumentation().finished(execution);
        freedSlot(execution);
    }

    /** A queued execution ended here: its queue may have more for this executor now. */
    private void freedSlot(WorkflowExecution<?, ?> execution) {
        QueueWorker worker = queueWorker;
        String queue = execution.queueName();
        if (queue != null && worker != null) {
            worker.slotFreed(queue);
        }
    }

    /** Has the queue worker look at the queues again soon (delayed workflows may be due). */
    void wakeQueueWorker() {
        QueueWorker worker = queueWorker;
        if (worker != null) {
            worker.wake();
        }
    }

    int runningInQueue(String queue) {
        return queueCount(queue).get();
    }

    /** Called on the execution's own thread when it stopped without recording an outcome. */
    void executionStopped(WorkflowExecution<?, ?> execution, ExecutionControl control) {
        String id = execution.workflowId();
        if (execution.deferredStart.pending != null && control.kind != ExecutionControl.Kind.PARK) {
            // Workflow.run whose start was never written: nothing of it is durable, so there is nothing to replay or
            // recover; its caller is told, as a start that failed would have told it.
            if (execution.deferredStart.failure == null) {
                execution.deferredStart.failure = new TandemException("workflow '" + id + "' stopped before its start"
                        + " was written (nothing of it was recorded; running it again is safe): " + control.getMessage(),
                        control);
            }
            drop(execution);
            return;
        }
        switch (control.kind) {
            case STOP -> {
                if (!engine.isStopping()) {
                    // Its thread was interrupted, but this executor lives on and owns the workflow: nobody else
                    // would recover it, so it carries on from its checkpoints on a workflow thread.
                    log.info("workflow '{}' was interrupted; resuming it from its checkpoints", id);
                    replay(execution);
                    return;
                }
                drop(execution);
            }
            case ABANDON -> {
                log.info("stopped running workflow '{}': {}", id, control.getMessage());
                drop(execution);
            }
            case PARK -> {
                // Stays in `running` without a thread; its wake-up replays it (resumeParked).
            }
            case RESTART, TRANSIENT_FAILURE -> {
                WorkflowRow row = awaitWorkflowRow(id);
                if (row == null || !owns(execution, row)) {
                    log.info("stopped running workflow '{}': it is no longer RUNNING on this executor ({})", id,
                            control.getMessage());
                    drop(execution);
                    return;
                }
                replayAfterFailure(execution, control);
            }
            case UNSTORABLE -> throw new IllegalStateException("recorded by the execution itself", control);
            case END_OF_HISTORY -> throw new IllegalStateException("only a replay of an exported history ends so",
                    control);
        }
    }

    private boolean owns(WorkflowExecution<?, ?> execution, WorkflowRow row) {
        return row.status().equals("RUNNING") && engine.executorId().equals(row.executorId())
                && row.epoch() == execution.epoch();
    }

    /**
     * Replays an execution that stopped on a failure that may pass (or on a stale view of its checkpoints). Each
     * replay counts as an attempt, so {@code maxRecoveryAttempts} bounds them, and replays in a row wait longer and
     * longer (from nothing up to 30 s): a failure that keeps coming back is never a hot loop.
     */
    private <I, O> void replayAfterFailure(WorkflowExecution<I, O> execution, ExecutionControl control) {
        String id = execution.workflowId();
        int inARow = execution.countTransientReplay();
        int attempts;
        try {
            attempts = db.workflows().countAttempt(id, engine.executorId(), execution.epoch());
        } catch (SQLException e) {
            attempts = 0; // unknown: the replay's own writes will tell
        }
        if (attempts < 0) {
            log.info("stopped running workflow '{}': it is no longer RUNNING on this executor", id);
            drop(execution);
            return;
        }
        if (attempts > engine.config().maxRecoveryAttempts() + 1) {
            String message = "workflow '" + id + "' failed " + attempts + " times without finishing"
                    + " (maxRecoveryAttempts is " + engine.config().maxRecoveryAttempts() + "); the last failure: "
                    + control.getMessage() + ". It is no longer retried. Fix the cause, then resume it.";
            log.error(message);
            forget(execution);
            engine.resuming().finishClaimed(new FinishRow(id, WorkflowStatus.RETRIES_EXCEEDED.name(), null, null,
                    engine.json().error(TandemException.class.getName(), message, null), execution.epoch()));
            execution.outcome().complete(new Outcome.Failed(WorkflowStatus.RETRIES_EXCEEDED,
                    new dev.tandem.internal.db.Json.ErrorInfo(TandemException.class.getName(), message, null)));
            engine.instrumentation().ended(execution.name(), WorkflowStatus.RETRIES_EXCEEDED,
                    execution.origin.startedNanos(), TandemException.class, message);
            freedSlot(execution);
            return;
        }
        long delayMillis = inARow <= 1 ? 0 : Math.min(30_000L, 100L << Math.min(inARow - 2, 9));
        log.warn("replaying workflow '{}' from its checkpoints{}: {}", id,
                delayMillis > 0 ? " in " + delayMillis + " ms" : "", control.getMessage());
        WorkflowExecution<I, O> fresh = new WorkflowExecution<>(engine, execution.workflow(), id, execution.epoch(),
                execution.input(), true, execution.queueName(), execution.outcome());
        fresh.continueFrom(execution);
        engine.instrumentation().replayed(execution, fresh, attempts);
        if (!running.replace(id, execution, fresh)) {
            return;
        }
        if (delayMillis == 0) {
            dispatch(fresh);
            return;
        }
        ScheduledExecutorService t = timer;
        try {
            if (t == null) {
                throw new RejectedExecutionException("no timer");
            }
            t.schedule(() -> {
                if (!engine.isStopping() && running.get(id) == fresh) {
                    dispatch(fresh);
                }
            }, delayMillis, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            drop(fresh); // the engine is stopping: recovered from its checkpoints later
        }
    }

    private <I, O> void replay(WorkflowExecution<I, O> old) {
        WorkflowExecution<I, O> fresh = new WorkflowExecution<>(engine, old.workflow(), old.workflowId(), old.epoch(),
                old.input(), true, old.queueName(), old.outcome());
        fresh.continueFrom(old);
        running.put(old.workflowId(), fresh);
        dispatch(fresh);
    }

    /**
     * A parked execution is due (its wait's signal or deadline): replay it from the checkpoints it holds, unless it
     * was cancelled meanwhile (or the engine stops; then it is recovered later, like any unfinished workflow).
     */
    <I, O> void resumeParked(WorkflowExecution<I, O> parked, boolean cancelled) {
        if (engine.isStopping() || running.get(parked.workflowId()) != parked) {
            return;
        }
        if (cancelled && !stillOwns(parked.workflowId(), parked.epoch())) {
            log.info("workflow '{}' was cancelled while it waited", parked.workflowId());
            drop(parked);
            return;
        }
        WorkflowExecution<I, O> fresh = new WorkflowExecution<>(engine, parked.workflow(), parked.workflowId(),
                parked.epoch(), parked.input(), true, parked.queueName(), parked.outcome(),
                parked.checkpoints.recorded);
        fresh.continueFrom(parked);
        if (running.replace(parked.workflowId(), parked, fresh)) {
            dispatch(fresh);
        }
    }

    /**
     * Whether this execution still owns the RUNNING workflow (a database error counts as yes: the next write tells).
     */
    boolean stillOwns(String workflowId, long epoch) {
        try {
            return db.workflows().workflowState(workflowId)
                    .map(s -> s.status().equals("RUNNING") && engine.executorId().equals(s.executorId())
                            && s.epoch() == epoch)
                    .orElse(false);
        } catch (SQLException e) {
            return true;
        }
    }

    /**
     * Runs a child its parent just started on this executor ({@code inserted}); a child that existed already runs
     * wherever it runs, or, if this executor owns it and is not running it (its start's acknowledgement was lost),
     * here. Returns a handle to it.
     */
    <I, O> Handle<O> runChild(RegisteredWorkflow<I, O> workflow, String childId, I input, boolean inserted,
            @Nullable TraceContext trace) {
        long epoch = 1; // a child's row is inserted with ownership epoch 1 (startChild)
        if (!inserted) {
            try {
                WorkflowRow row = db.workflows().loadWorkflow(childId).orElse(null);
                inserted = row != null && row.status().equals("RUNNING")
                        && engine.executorId().equals(row.executorId())
                        && engine.incarnation().toString().equals(row.incarnation()) && !running.containsKey(childId);
                epoch = row == null ? epoch : row.epoch();
            } catch (SQLException e) {
                throw new TandemException("failed to read child workflow '" + childId + "': " + e.getMessage(), e);
            }
        }
        if (inserted) {
            WorkflowExecution<I, O> execution = new WorkflowExecution<>(engine, workflow, childId, epoch, input, false,
                    null, new CompletableFuture<>());
            if (running.putIfAbsent(childId, execution) == null) {
                engine.instrumentation().childStarted(execution, trace);
                dispatch(execution);
            }
        }
        return childHandle(childId);
    }

    /** A handle to a workflow known to exist (a recorded child), without reading it. */
    <O> Handle<O> childHandle(String childId) {
        WorkflowExecution<?, ?> local = running.get(childId);
        return new Handle<>(engine, childId, local != null ? local.outcome() : null);
    }

    /** Reads the workflow row, waiting for the database to come back; null if the engine stops first. */
    private @Nullable WorkflowRow awaitWorkflowRow(String id) {
        long backoff = 50;
        while (!engine.isStopping()) {
            try {
                return db.workflows().loadWorkflow(id).orElse(null);
            } catch (SQLException e) {
                try {
                    TimeUnit.MILLISECONDS.sleep(backoff);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    return null;
                }
                backoff = Math.min(backoff * 2, 2000);
            }
        }
        return null;
    }
}
