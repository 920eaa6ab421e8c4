package dev.tandem.internal.exec;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.tandem.NonDeterministicWorkflowException;
import dev.tandem.StepFailedException;
import dev.tandem.StepFunction;
import dev.tandem.StepOptions;
import dev.tandem.TandemException;
import dev.tandem.TransactionFunction;
import dev.tandem.TransactionOptions;
import dev.tandem.WorkflowContext;
import dev.tandem.WorkflowStatus;
import dev.tandem.internal.db.Json;
import dev.tandem.internal.db.Json.ErrorInfo;
import dev.tandem.internal.db.Rows.FinishRow;
import dev.tandem.internal.db.Rows.StepRow;
import dev.tandem.internal.db.SqlErrors;
import dev.tandem.internal.exec.ExecutionControl.Kind;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One run of one workflow on this executor, and the {@link WorkflowContext} its code sees.
 *
 * <p>The checkpoint of a plain step is held in memory until the execution next does something with effects outside
 * its own memory, and written then: before the next step's body runs (through the group committer), inside the
 * transaction of a transactional step (in its commit), or with the final status (in the same commit). Code between
 * steps is deterministic by contract, so this is the same as writing at once, minus a commit per step: the payments
 * workflow (step, transactional step, step) costs one commit of its own plus two shared group commits.
 */
final class WorkflowExecution<I, O> implements WorkflowContext {
    private static final Logger log = LoggerFactory.getLogger(WorkflowExecution.class);
    private static final String STEP = "STEP";
    private static final String TRANSACTION = "TRANSACTION";

    private final Engine engine;
    private final RegisteredWorkflow<I, O> workflow;
    private final String workflowId;
    private final I input;
    private final boolean recovered;
    private final @Nullable String queueName;
    private final CompletableFuture<Outcome> outcome;

    private Map<Integer, StepRow> recorded = Map.of();
    private final List<StepRow> unwritten = new ArrayList<>(); // checkpoints not yet sent to the database
    private int position;
    private boolean inStep;
    private boolean done;
    private @Nullable Thread thread;
    private @Nullable RuntimeException fatal; // non-determinism: sticks even if the workflow catches it

    WorkflowExecution(Engine engine, RegisteredWorkflow<I, O> workflow, String workflowId, I input, boolean recovered,
            @Nullable String queueName, CompletableFuture<Outcome> outcome) {
        this.engine = engine;
        this.workflow = workflow;
        this.workflowId = workflowId;
        this.input = input;
        this.recovered = recovered;
        this.queueName = queueName;
        this.outcome = outcome;
    }

    /** The queue it was taken from, or null if it was started directly. */
    @Nullable String queueName() {
        return queueName;
    }

    String name() {
        return workflow.name();
    }

    I input() {
        return input;
    }

    CompletableFuture<Outcome> outcome() {
        return outcome;
    }

    /** Runs the workflow to its end (or until it must stop) on the calling thread. */
    void run() {
        thread = Thread.currentThread();
        try {
            if (recovered) {
                recorded = loadCheckpoints();
            }
            O output = workflow.function().run(this, input);
            if (fatal != null) {
                throw fatal;
            }
            String json;
            try {
                json = engine.json().write(output);
            } catch (JsonProcessingException e) {
                throw new TandemException("the output of workflow '" + workflowId + "' (" + workflow.name()
                        + ") cannot be stored as JSON: " + e.getOriginalMessage()
                        + "; return a value Jackson can serialize (a record, a POJO with getters, a String, ...)", e);
            }
            finish(new FinishRow(workflowId, WorkflowStatus.SUCCESS.name(), json, Json.typeName(output), null),
                    new Outcome.Succeeded(output));
        } catch (ExecutionControl control) {
            engine.executionStopped(this, control);
        } catch (Throwable t) {
            Throwable error = fatal != null ? fatal : t;
            if (error instanceof InterruptedException || engine.isStopping()) {
                engine.executionStopped(this, new ExecutionControl(Kind.STOP, "engine stopping", error));
                return;
            }
            recordFailure(error);
        } finally {
            done = true;
        }
    }

    private void recordFailure(Throwable error) {
        ErrorInfo info = errorInfo(error);
        String json = engine.json().error(info.type(), info.message(), info.stack());
        try {
            finish(new FinishRow(workflowId, WorkflowStatus.ERROR.name(), null, null, json),
                    new Outcome.Failed(WorkflowStatus.ERROR, info));
        } catch (ExecutionControl control) {
            engine.executionStopped(this, control);
        } catch (RuntimeException | Error e) {
            // Left RUNNING on a live executor, nobody would ever recover it: replay it instead.
            log.error("could not record the failure of workflow '{}'; replaying it", workflowId, e);
            engine.executionStopped(this, new ExecutionControl(Kind.RESTART, "recording its failure failed", e));
        }
    }

    /**
     * What is recorded for a failure. A failed step is reported as the step's own error, which is what an operator
     * wants to see first. Never throws, even for an exception whose {@code getMessage()} does.
     */
    private static ErrorInfo errorInfo(Throwable error) {
        Throwable shown = error instanceof StepFailedException sfe && sfe.getCause() != null ? sfe.getCause() : error;
        String type = error instanceof StepFailedException sfe ? sfe.errorType() : error.getClass().getName();
        return new ErrorInfo(type, Json.safeMessage(error), Json.stackTrace(shown));
    }

    private void finish(FinishRow row, Outcome result) {
        if (commit(unwritten, row)) {
            unwritten.clear();
            outcome.complete(result);
            engine.executionFinished(this);
        } else {
            throw new ExecutionControl(Kind.ABANDON, "workflow '" + workflowId
                    + "' was no longer RUNNING on this executor when it finished; its recorded status stands");
        }
    }

    private Map<Integer, StepRow> loadCheckpoints() {
        try {
            Map<Integer, StepRow> rows = new HashMap<>();
            for (StepRow row : engine.db().loadSteps(workflowId)) {
                rows.put(row.position(), row);
            }
            return rows;
        } catch (Exception e) {
            throw databaseUnavailable("load the checkpoints", e);
        }
    }

    // ---- WorkflowContext ----

    @Override
    public String workflowId() {
        return workflowId;
    }

    @Override
    public String idempotencyKey() {
        return workflowId + ":" + (inStep ? position : position + 1);
    }

    @Override
    public <T extends @Nullable Object> T step(String name, StepFunction<T> fn) {
        return step(name, StepOptions.defaults(), fn);
    }

    @Override
    public <T extends @Nullable Object> T step(String name, StepOptions options, StepFunction<T> fn) {
        int pos = begin("step", name, options, fn);
        StepRow previous = recorded.get(pos);
        if (previous != null) {
            return replay(previous, STEP, name, pos);
        }
        writeCheckpoints(); // the previous step's checkpoint is durable before this step's effects begin
        Instant startedAt = Instant.now();
        inStep = true;
        try {
            for (int attempt = 1; ; attempt++) {
                T output;
                try {
                    output = fn.run();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new ExecutionControl(Kind.STOP, "interrupted in step '" + name + "'", e);
                } catch (Exception e) {
                    if (engine.isStopping()) {
                        throw new ExecutionControl(Kind.STOP, "engine stopping during step '" + name + "'", e);
                    }
                    if (attempt < options.maxAttempts() && options.retries(e)) {
                        log.debug("step '{}' (#{}) of workflow '{}' failed on attempt {}, retrying", name, pos,
                                workflowId, attempt, e);
                        pause(options.backoffBefore(attempt + 1).toMillis());
                        continue;
                    }
                    throw stepFailed(STEP, name, pos, startedAt, e);
                }
                String json = encodeOutput(STEP, name, pos, startedAt, output);
                unwritten.add(new StepRow(workflowId, pos, name, STEP, json, Json.typeName(output), null, startedAt));
                return output;
            }
        } finally {
            inStep = false;
        }
    }

    @Override
    public <T extends @Nullable Object> T transaction(String name, TransactionFunction<T> fn) {
        return transaction(name, TransactionOptions.defaults(), fn);
    }

    @Override
    public <T extends @Nullable Object> T transaction(String name, TransactionOptions options,
            TransactionFunction<T> fn) {
        int pos = begin("transaction", name, options, fn);
        StepRow previous = recorded.get(pos);
        if (previous != null) {
            return replay(previous, TRANSACTION, name, pos);
        }
        Instant startedAt = Instant.now();
        long unavailableBackoff = 10;
        inStep = true;
        try {
            for (int attempt = 1; ; ) {
                try {
                    T result = engine.db().inTransaction(options.isolation(), conn -> {
                        T output = fn.run(conn);
                        String json = encodeOutput(TRANSACTION, name, pos, startedAt, output);
                        List<StepRow> rows = new ArrayList<>(unwritten); // earlier checkpoints commit with this one
                        rows.add(new StepRow(workflowId, pos, name, TRANSACTION, json, Json.typeName(output), null,
                                startedAt));
                        engine.db().insertTransactionCheckpointsAndCommit(conn, engine.executorId(), rows);
                        return output;
                    });
                    unwritten.clear();
                    return result;
                } catch (ExecutionControl | StepFailedException e) {
                    throw e;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new ExecutionControl(Kind.STOP, "interrupted in transaction '" + name + "'", e);
                } catch (Exception e) {
                    if (SqlErrors.isNotOwner(e)) {
                        throw new ExecutionControl(Kind.RESTART, "workflow '" + workflowId + "' was cancelled or taken"
                                + " over during transaction '" + name + "' (#" + pos + "); it rolled back", e);
                    }
                    if (SqlErrors.isCheckpointConflict(e)) {
                        // Another execution of this workflow committed this position first: ours rolled back.
                        throw new ExecutionControl(Kind.RESTART, "step '" + name + "' (#" + pos + ") of workflow '"
                                + workflowId + "' was committed by another execution; replaying", e);
                    }
                    if (SqlErrors.isConnectionError(e)) {
                        // The commit may or may not have happened. The checkpoint says which: it commits with it.
                        if (engine.isStopping()) {
                            throw new ExecutionControl(Kind.STOP, "engine stopping", e);
                        }
                        log.warn("transaction '{}' (#{}) of workflow '{}' lost its connection; checking whether it "
                                + "committed", name, pos, workflowId);
                        pause(unavailableBackoff);
                        unavailableBackoff = Math.min(unavailableBackoff * 2, 2000);
                        Optional<StepRow> committed = lookUpCheckpoint(pos);
                        if (committed.isPresent()) {
                            unwritten.clear(); // they committed with it
                            return replay(committed.get(), TRANSACTION, name, pos);
                        }
                        continue; // it rolled back: run it again; does not count as an attempt
                    }
                    if (SqlErrors.isRetryableTransaction(e) && attempt < options.maxAttempts()) {
                        attempt++;
                        pause(Math.min(5L << Math.min(attempt, 8), 1000));
                        continue;
                    }
                    throw stepFailed(TRANSACTION, name, pos, startedAt, e);
                }
            }
        } finally {
            inStep = false;
        }
    }

    /** Checks that the context may be used now and takes the next position. */
    private int begin(String what, String name, Object options, Object fn) {
        if (fatal != null) {
            throw fatal;
        }
        if (done) {
            throw new IllegalStateException("workflow '" + workflowId + "' is no longer running; its context cannot"
                    + " run " + what + " '" + name + "' (use the context only inside the workflow function)");
        }
        if (Thread.currentThread() != thread) {
            throw new IllegalStateException("the context of workflow '" + workflowId + "' was used from another"
                    + " thread (" + Thread.currentThread().getName() + "); run " + what + "s from the workflow's"
                    + " own thread");
        }
        if (inStep) {
            throw new IllegalStateException("cannot run " + what + " '" + name + "' inside step #" + position
                    + " of workflow '" + workflowId + "': steps cannot be nested");
        }
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException(what + " name must not be null or blank (workflow '" + workflowId
                    + "', position #" + (position + 1) + ")");
        }
        if (options == null || fn == null) {
            throw new IllegalArgumentException(what + " '" + name + "' needs non-null options and function");
        }
        return ++position;
    }

    @SuppressWarnings("unchecked")
    private <T extends @Nullable Object> T replay(StepRow row, String kind, String name, int pos) {
        if (!row.name().equals(name) || !row.kind().equals(kind)) {
            fatal = new NonDeterministicWorkflowException("workflow '" + workflowId + "' (" + workflow.name()
                    + ") is not deterministic: position #" + pos + " is recorded as " + describe(row.kind())
                    + " '" + row.name() + "' but this run asked for " + describe(kind) + " '" + name
                    + "'; workflow code must call the same steps in the same order on every run");
            throw fatal;
        }
        if (row.error() != null) {
            ErrorInfo info = engine.json().readError(row.error());
            throw new StepFailedException(workflowId, name, pos, info.type(), info.message(), null);
        }
        try {
            return (T) engine.json().read(row.output(), row.outputType(), engine.classLoader());
        } catch (JsonProcessingException | ClassNotFoundException | LinkageError e) {
            throw new TandemException("cannot rebuild the recorded output of " + describe(kind) + " '" + name
                    + "' (#" + pos + ") of workflow '" + workflowId + "' as " + row.outputType() + ": "
                    + e.getMessage(), e);
        }
    }

    private static String describe(String kind) {
        return kind.equals(TRANSACTION) ? "transaction" : "step";
    }

    private String encodeOutput(String kind, String name, int pos, Instant startedAt, @Nullable Object output) {
        try {
            return engine.json().write(output);
        } catch (JsonProcessingException e) {
            TandemException problem = new TandemException("the output of " + describe(kind) + " '" + name + "' (#"
                    + pos + ") of workflow '" + workflowId + "' cannot be stored as JSON: " + e.getOriginalMessage()
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
        String json = engine.json().error(error);
        unwritten.add(new StepRow(workflowId, pos, name, kind, null, null, json, startedAt));
        return new StepFailedException(workflowId, name, pos, error.getClass().getName(), error.getMessage(), error);
    }

    /** Writes the checkpoints held in memory through the group committer and waits until they are durable. */
    private void writeCheckpoints() {
        if (unwritten.isEmpty()) {
            return;
        }
        if (!commit(unwritten, null)) {
            // Not ours to write any more, or a position was taken: only the database knows which.
            throw new ExecutionControl(Kind.RESTART, "checkpoints of workflow '" + workflowId
                    + "' were not recorded; checking ownership and replaying");
        }
        unwritten.clear();
    }

    /** Writes through the group committer; true if everything was recorded. */
    private boolean commit(List<StepRow> steps, @Nullable FinishRow finish) {
        try {
            return engine.committer().write(steps, finish);
        } catch (EngineStoppedException e) {
            throw new ExecutionControl(Kind.STOP, e.getMessage(), e);
        } catch (Exception e) {
            throw databaseUnavailable("write checkpoints", e);
        }
    }

    private Optional<StepRow> lookUpCheckpoint(int pos) {
        long backoff = 10;
        while (true) {
            try {
                return engine.db().loadStep(workflowId, pos);
            } catch (Exception e) {
                if (!SqlErrors.isConnectionError(e) || engine.isStopping()) {
                    throw databaseUnavailable("check checkpoint #" + pos, e);
                }
                pause(backoff);
                backoff = Math.min(backoff * 2, 2000);
            }
        }
    }

    private ExecutionControl databaseUnavailable(String action, Throwable cause) {
        if (engine.isStopping()) {
            return new ExecutionControl(Kind.STOP, "engine stopping", cause);
        }
        return new ExecutionControl(Kind.DATABASE_UNAVAILABLE, "could not " + action + " of workflow '" + workflowId
                + "': " + cause.getMessage(), cause);
    }

    private void pause(long millis) {
        try {
            TimeUnit.MILLISECONDS.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ExecutionControl(Kind.STOP, "interrupted", e);
        }
    }
}
