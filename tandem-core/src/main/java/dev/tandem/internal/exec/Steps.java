package dev.tandem.internal.exec;

import static dev.tandem.internal.exec.CheckpointKinds.STEP;
import static dev.tandem.internal.exec.CheckpointKinds.TRANSACTION;
import static dev.tandem.internal.exec.CheckpointKinds.describe;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.tandem.TandemException;
import dev.tandem.StepFailedException;
import dev.tandem.StepFunction;
import dev.tandem.StepOptions;
import dev.tandem.TransactionFunction;
import dev.tandem.TransactionOptions;
import dev.tandem.TransactionRunner;
import dev.tandem.internal.db.CheckpointStore;
import dev.tandem.internal.db.GuardedConnection;
import dev.tandem.internal.db.Json;
import dev.tandem.internal.db.Rows.StartRow;
import dev.tandem.internal.db.Rows.StepRow;
import dev.tandem.internal.db.SqlErrors;
import dev.tandem.internal.db.SystemDatabase;
import dev.tandem.internal.exec.ExecutionControl.Kind;
import dev.tandem.internal.observe.Telemetry;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Steps of one execution. A plain step runs its function (retried as its options say) and records its output as a
 * checkpoint held in memory until the execution's next write. A transactional step runs its function on a connection
 * of the application's pool and inserts its checkpoint (and those not written yet) in the same transaction, committed
 * once: exactly once, because the checkpoint's primary key refuses a second commit of a position. The engine's own
 * writing primitives (send, setEvent, writeStream, startChild) are transactional steps too.
 */
final class Steps {
    private static final Logger log = LoggerFactory.getLogger(Steps.class);
    private final WorkflowExecution<?, ?> x;

    Steps(WorkflowExecution<?, ?> execution) {
        this.x = execution;
    }

    <T extends @Nullable Object> T step(String name, StepOptions options, StepFunction<T> fn) {
        int pos = x.begin("step", name, options, fn);
        StepRow previous = x.checkpoints.recorded.get(pos);
        if (previous != null) {
            return x.checkpoints.replay(previous, STEP, name, pos);
        }
        x.checkpoints.write(); // the previous step's checkpoint is durable before this step's effects begin
        Instant startedAt = x.engine.clock().now();
        Telemetry.Observation observed = x.engine.telemetry().step(x.name(), x.workflowId, pos, STEP, name);
        x.inStep = true;
        try {
            for (int attempt = 1; ; attempt++) {
                T output;
                try {
                    output = fn.run();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new ExecutionControl(Kind.STOP, "interrupted in step '" + name + "'", e);
                } catch (Exception e) {
                    if (x.engine.isStopping()) {
                        throw new ExecutionControl(Kind.STOP, "engine stopping during step '" + name + "'", e);
                    }
                    if (attempt < options.maxAttempts() && options.retries(e)) {
                        log.debug("step '{}' (#{}) of workflow '{}' failed on attempt {}, retrying", name, pos,
                                x.workflowId, attempt, e);
                        x.pause(options.backoffBefore(attempt + 1).toMillis());
                        continue;
                    }
                    throw stepFailed(STEP, name, pos, startedAt, e);
                }
                String json = encodeOutput(STEP, name, pos, startedAt, output);
                x.checkpoints.record(x.checkpoint(pos, name, STEP, json, Json.typeName(output), null, startedAt));
                return output;
            }
        } catch (StepFailedException e) {
            observed.failed(e.getCause() != null ? e.getCause() : e);
            throw e;
        } finally {
            x.inStep = false;
            observed.close();
        }
    }

    <T extends @Nullable Object> T transaction(String name, TransactionOptions options,
            TransactionFunction<T> fn) {
        int pos = x.begin("transaction", name, options, fn);
        StepRow previous = x.checkpoints.recorded.get(pos);
        if (previous != null) {
            return x.checkpoints.replay(previous, TRANSACTION, name, pos);
        }
        return transactional(TRANSACTION, name, pos, options, fn);
    }

    /**
     * Runs {@code fn} and inserts the checkpoint at {@code pos} (with those not written yet) in one transaction,
     * committed once: the transactional step, and every primitive that writes (send, setEvent, writeStream, startChild).
     */
    <T extends @Nullable Object> T transactional(String kind, String name, int pos, TransactionOptions options,
            TransactionFunction<T> fn) {
        Instant startedAt = x.engine.clock().now();
        long unavailableBackoff = 10;
        Telemetry.Observation observed = x.engine.telemetry().step(x.name(), x.workflowId, pos, kind, name);
        x.inStep = true;
        try {
            for (int attempt = 1; ; ) {
                try {
                    StepRow[] committed = new StepRow[1];
                    // The application's runner (e.g. its Spring transaction manager) commits a transactional step's
                    // transaction; the engine's primitives, and every step without a runner, commit their own.
                    TransactionRunner runner = kind.equals(TRANSACTION) ? x.engine.hooks().transactionRunner() : null;
                    StartRow start = x.deferredStart.pending; // Workflow.run: the start commits with this step
                    SystemDatabase.TransactionBody<T> body = conn -> {
                        T output = fn.run(GuardedConnection.wrap(conn, () -> describe(kind) + " '" + name + "' (#"
                                + pos + ") of workflow '" + x.workflowId + "'"));
                        String json = encodeOutput(kind, name, pos, startedAt, output);
                        // Earlier checkpoints commit with this one.
                        List<StepRow> rows = new ArrayList<>(x.checkpoints.unwritten);
                        committed[0] = x.checkpoint(pos, name, kind, json, Json.typeName(output), null, startedAt);
                        rows.add(committed[0]);
                        CheckpointStore store = x.engine.db().checkpoints();
                        if (start != null && runner == null) {
                            store.insertStartAndCheckpointsAndCommit(conn, x.engine.executorId(),
                                    x.engine.incarnation(), start, rows);
                        } else if (start != null) {
                            store.insertStartAndCheckpoints(conn, x.engine.executorId(), x.engine.incarnation(), start,
                                    rows);
                        } else if (runner == null) {
                            store.insertTransactionCheckpointsAndCommit(conn, x.engine.executorId(), rows);
                        } else {
                            store.insertTransactionCheckpoints(conn, x.engine.executorId(), rows);
                        }
                        return output;
                    };
                    T result = runner == null
                            ? x.engine.db().inTransaction(options.isolation(), body)
                            : runner.inTransaction(options.isolation(), body::run);
                    x.deferredStart.writtenWithStep();
                    x.checkpoints.unwritten.clear();
                    x.checkpoints.recorded.put(pos, committed[0]);
                    x.engine.telemetry().transactionCommitted();
                    return result;
                } catch (ExecutionControl e) {
                    throw e;
                } catch (StepFailedException e) {
                    observed.failed(e.getCause() != null ? e.getCause() : e);
                    throw e;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new ExecutionControl(Kind.STOP, "interrupted in transaction '" + name + "'", e);
                } catch (Exception e) {
                    if (x.deferredStart.pending != null && SqlErrors.isStartConflict(e)) {
                        // Workflow.run: another start of this id committed first; this one rolled back with its step.
                        x.deferredStart.conflict = true;
                        x.deferredStart.pending = null;
                        throw x.halt(new ExecutionControl(Kind.ABANDON, "workflow '" + x.workflowId + "' was started"
                                + " elsewhere first; transaction '" + name + "' (#" + pos + ") rolled back", e));
                    }
                    SqlErrors.Kind failure = SqlErrors.classify(e);
                    if (failure == SqlErrors.Kind.NOT_OWNER) {
                        throw new ExecutionControl(Kind.RESTART, "workflow '" + x.workflowId + "' was cancelled or taken"
                                + " over during transaction '" + name + "' (#" + pos + "); it rolled back", e);
                    }
                    if (failure == SqlErrors.Kind.CHECKPOINT_CONFLICT) {
                        // Another execution of this workflow committed this position first: ours rolled back.
                        throw new ExecutionControl(Kind.RESTART, "step '" + name + "' (#" + pos + ") of workflow '"
                                + x.workflowId + "' was committed by another execution; replaying", e);
                    }
                    if (failure == SqlErrors.Kind.CONNECTION) {
                        // The commit may or may not have happened. The checkpoint says which: it commits with it.
                        if (x.engine.isStopping()) {
                            throw new ExecutionControl(Kind.STOP, "engine stopping", e);
                        }
                        log.warn("transaction '{}' (#{}) of workflow '{}' lost its connection; checking whether it "
                                + "committed", name, pos, x.workflowId);
                        x.pause(unavailableBackoff);
                        unavailableBackoff = Math.min(unavailableBackoff * 2, 2000);
                        Optional<StepRow> committed = x.checkpoints.committedCheckpoint(pos);
                        if (committed.isPresent()) {
                            return x.checkpoints.replay(committed.get(), kind, name, pos);
                        }
                        continue; // it rolled back: run it again; does not count as an attempt
                    }
                    // A serialization failure or deadlock, or a lock timeout (the fence's lock on the workflow row is
                    // held by an application transaction, e.g. an uncommitted cancel): it rolled back; run it again.
                    if ((SqlErrors.isRetryableTransaction(e) || SqlErrors.isLockTimeout(e))
                            && attempt < options.maxAttempts()) {
                        attempt++;
                        x.pause(Math.min(5L << Math.min(attempt, 8), 1000));
                        continue;
                    }
                    StepFailedException failed = stepFailed(kind, name, pos, startedAt, e);
                    observed.failed(e);
                    throw failed;
                }
            }
        } finally {
            x.inStep = false;
            observed.close();
        }
    }

    private String encodeOutput(String kind, String name, int pos, Instant startedAt, @Nullable Object output) {
        try {
            return x.engine.json().write(output);
        } catch (JsonProcessingException e) {
            TandemException problem = new TandemException("the output of " + describe(kind) + " '" + name + "' (#"
                    + pos + ") of workflow '" + x.workflowId + "' cannot be stored as JSON: " + e.getOriginalMessage()
                    + "; return a value Jackson can serialize", e);
            throw stepFailed(kind, name, pos, startedAt, problem);
        }
    }

    /**
     * Records the step's failure (so replay fails it the same way) and returns the exception to throw. A failed
     * transactional step's checkpoint cannot ride in its own rolled-back transaction, so it waits in memory with the
     * others, for the next write.
     */
    private StepFailedException stepFailed(String kind, String name, int pos, Instant startedAt, Throwable error) {
        String json = x.engine.json().error(error);
        x.checkpoints.record(x.checkpoint(pos, name, kind, null, null, json, startedAt));
        return new StepFailedException(x.workflowId, name, pos, error.getClass().getName(), error.getMessage(), error);
    }
}
