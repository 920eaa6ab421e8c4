package dev.tandem.internal.exec;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.tandem.NonDeterministicWorkflowException;
import dev.tandem.ResultTimeoutException;
import dev.tandem.StepFailedException;
import dev.tandem.StepFunction;
import dev.tandem.StartOptions;
import dev.tandem.StepOptions;
import dev.tandem.TandemException;
import dev.tandem.TransactionFunction;
import dev.tandem.TransactionOptions;
import dev.tandem.Workflow;
import dev.tandem.WorkflowConflictException;
import dev.tandem.WorkflowContext;
import dev.tandem.WorkflowFailedException;
import dev.tandem.WorkflowHandle;
import dev.tandem.WorkflowStatus;
import dev.tandem.internal.db.GuardedConnection;
import dev.tandem.internal.db.Json;
import dev.tandem.internal.db.Json.ErrorInfo;
import dev.tandem.internal.db.Rows.FinishRow;
import dev.tandem.internal.db.Rows.StepRow;
import dev.tandem.internal.db.SqlErrors;
import dev.tandem.internal.db.SystemDatabase.Taken;
import dev.tandem.internal.db.SystemDatabase.ChildStart;
import dev.tandem.internal.exec.ExecutionControl.Kind;
import dev.tandem.internal.exec.Waiters.Wakeup;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import java.util.Map;
import java.util.Objects;
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
    private static final String SLEEP = "SLEEP";
    private static final String RECV = "RECV";
    private static final String SEND = "SEND";
    private static final String SET_EVENT = "SET_EVENT";
    private static final String WRITE_STREAM = "WRITE_STREAM";
    private static final String CHILD = "CHILD";
    private static final String CHILD_RESULT = "CHILD_RESULT";
    /** On platform threads a wait for a message blocks this long before it parks (most replies come sooner). */
    private static final long BLOCK_BEFORE_PARKING_NANOS = TimeUnit.MILLISECONDS.toNanos(200);

    private final Engine engine;
    private final RegisteredWorkflow<I, O> workflow;
    private final String workflowId;
    /** The ownership epoch this execution was given; every write it makes is refused once the row has another. */
    private final long epoch;
    private final I input;
    private final boolean recovered;
    private final @Nullable String queueName;
    private final CompletableFuture<Outcome> outcome;

    private final @Nullable Map<Integer, StepRow> preloaded;

    /** Checkpoints by position: the recorded ones, and those this run made (written or not). */
    private Map<Integer, StepRow> recorded = new HashMap<>();
    private final List<StepRow> unwritten = new ArrayList<>(); // checkpoints not yet sent to the database
    private final Set<String> closedStreams = new HashSet<>();
    private int position;
    private boolean inStep;
    private boolean done;
    private @Nullable Thread thread;
    private @Nullable RuntimeException fatal; // non-determinism: sticks even if the workflow catches it
    private @Nullable ExecutionControl halted; // parked: sticks even if the workflow catches it
    /**
     * How children ended, for waits that histories of earlier versions did not record (see {@link #awaitChild}); kept
     * across parked replays so each is read once.
     */
    private Map<String, Outcome> childOutcomes = new HashMap<>();
    /** Replays in a row after transient failures (the next one waits longer); kept across replays. */
    private int transientReplays;
    /** Deadlines (nanoTime) of waits for children that have not ended, kept across parked replays of the wait. */
    private Map<String, Long> childWaitDeadlines = new HashMap<>();

    WorkflowExecution(Engine engine, RegisteredWorkflow<I, O> workflow, String workflowId, long epoch, I input,
            boolean recovered, @Nullable String queueName, CompletableFuture<Outcome> outcome) {
        this(engine, workflow, workflowId, epoch, input, recovered, queueName, outcome, null);
    }

    /** With {@code preloaded} checkpoints (a parked execution's, all durable), replays without reading them. */
    WorkflowExecution(Engine engine, RegisteredWorkflow<I, O> workflow, String workflowId, long epoch, I input,
            boolean recovered, @Nullable String queueName, CompletableFuture<Outcome> outcome,
            @Nullable Map<Integer, StepRow> preloaded) {
        this.engine = engine;
        this.workflow = workflow;
        this.workflowId = workflowId;
        this.epoch = epoch;
        this.input = input;
        this.recovered = recovered;
        this.queueName = queueName;
        this.outcome = outcome;
        this.preloaded = preloaded;
    }

    /** Every checkpoint this execution knows; complete and durable once it has parked. */
    Map<Integer, StepRow> checkpoints() {
        return recorded;
    }

    RegisteredWorkflow<I, O> workflow() {
        return workflow;
    }

    /** Takes over what an earlier execution learnt besides its checkpoints (it parked, or it is replayed). */
    void continueFrom(WorkflowExecution<I, O> earlier) {
        this.childOutcomes = earlier.childOutcomes;
        this.transientReplays = earlier.transientReplays;
        this.childWaitDeadlines = earlier.childWaitDeadlines;
    }

    long epoch() {
        return epoch;
    }

    /** Counts a replay after a transient failure; returns how many there were in a row. */
    int countTransientReplay() {
        return ++transientReplays;
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
            if (preloaded != null) {
                recorded = new HashMap<>(preloaded);
            } else if (recovered) {
                recorded = loadCheckpoints();
            }
            O output = workflow.function().run(this, input);
            if (halted != null) {
                throw halted;
            }
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
            finish(new FinishRow(workflowId, WorkflowStatus.SUCCESS.name(), json, Json.typeName(output), null, epoch),
                    new Outcome.Succeeded(output));
        } catch (ExecutionControl control) {
            if (control.kind == Kind.UNSTORABLE) {
                recordUnstorable(control);
            } else {
                engine.executionStopped(this, control);
            }
        } catch (Throwable t) {
            if (halted != null) { // the workflow caught the control that parks it
                engine.executionStopped(this, halted);
                return;
            }
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
            finish(new FinishRow(workflowId, WorkflowStatus.ERROR.name(), null, null, json, epoch),
                    new Outcome.Failed(WorkflowStatus.ERROR, info));
        } catch (ExecutionControl control) {
            if (control.kind == Kind.UNSTORABLE) {
                recordUnstorable(control);
            } else {
                engine.executionStopped(this, control);
            }
        } catch (RuntimeException | Error e) {
            // Left RUNNING on a live executor, nobody would ever recover it: replay it instead.
            log.error("could not record the failure of workflow '{}'; replaying it", workflowId, e);
            engine.executionStopped(this, new ExecutionControl(Kind.RESTART, "recording its failure failed", e));
        }
    }

    /**
     * PostgreSQL refused to store a checkpoint or the final status (a data error: writing it again fails again). The
     * workflow ends ERROR saying so, without the rows it refused; replaying it would only fail the same way, in a loop.
     */
    private void recordUnstorable(ExecutionControl control) {
        unwritten.clear();
        String message = control.getMessage();
        log.error(message);
        String json = engine.json().error(TandemException.class.getName(), message, null);
        try {
            finish(new FinishRow(workflowId, WorkflowStatus.ERROR.name(), null, null, json, epoch),
                    new Outcome.Failed(WorkflowStatus.ERROR, new ErrorInfo(TandemException.class.getName(), message,
                            null)));
        } catch (ExecutionControl again) {
            engine.executionStopped(this, again.kind == Kind.UNSTORABLE
                    ? new ExecutionControl(Kind.TRANSIENT_FAILURE, "recording an unstorable value failed", again)
                    : again);
        } catch (RuntimeException | Error e) {
            engine.executionStopped(this, new ExecutionControl(Kind.TRANSIENT_FAILURE, "recording its failure failed",
                    e));
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

    private HashMap<Integer, StepRow> loadCheckpoints() {
        try {
            HashMap<Integer, StepRow> rows = new HashMap<>();
            for (StepRow row : engine.db().loadSteps(workflowId)) {
                rows.put(row.position(), row);
            }
            return rows;
        } catch (Exception e) {
            throw transientFailure("load the checkpoints", e);
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
                record(checkpoint(pos, name, STEP, json, Json.typeName(output), null, startedAt));
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
        return transactional(TRANSACTION, name, pos, options, fn);
    }

    /**
     * Runs {@code fn} and inserts the checkpoint at {@code pos} (with those not written yet) in one transaction,
     * committed once: the transactional step, and every primitive that writes (send, setEvent, writeStream, startChild).
     */
    private <T extends @Nullable Object> T transactional(String kind, String name, int pos, TransactionOptions options,
            TransactionFunction<T> fn) {
        Instant startedAt = Instant.now();
        long unavailableBackoff = 10;
        inStep = true;
        try {
            for (int attempt = 1; ; ) {
                try {
                    StepRow[] committed = new StepRow[1];
                    T result = engine.db().inTransaction(options.isolation(), conn -> {
                        T output = fn.run(GuardedConnection.wrap(conn, describe(kind) + " '" + name + "' (#" + pos
                                + ") of workflow '" + workflowId + "'"));
                        String json = encodeOutput(kind, name, pos, startedAt, output);
                        List<StepRow> rows = new ArrayList<>(unwritten); // earlier checkpoints commit with this one
                        committed[0] = checkpoint(pos, name, kind, json, Json.typeName(output), null, startedAt);
                        rows.add(committed[0]);
                        engine.db().insertTransactionCheckpointsAndCommit(conn, engine.executorId(), rows);
                        return output;
                    });
                    unwritten.clear();
                    recorded.put(pos, committed[0]);
                    return result;
                } catch (ExecutionControl | StepFailedException e) {
                    throw e;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new ExecutionControl(Kind.STOP, "interrupted in transaction '" + name + "'", e);
                } catch (Exception e) {
                    SqlErrors.Kind failure = SqlErrors.classify(e);
                    if (failure == SqlErrors.Kind.NOT_OWNER) {
                        throw new ExecutionControl(Kind.RESTART, "workflow '" + workflowId + "' was cancelled or taken"
                                + " over during transaction '" + name + "' (#" + pos + "); it rolled back", e);
                    }
                    if (failure == SqlErrors.Kind.CHECKPOINT_CONFLICT) {
                        // Another execution of this workflow committed this position first: ours rolled back.
                        throw new ExecutionControl(Kind.RESTART, "step '" + name + "' (#" + pos + ") of workflow '"
                                + workflowId + "' was committed by another execution; replaying", e);
                    }
                    if (failure == SqlErrors.Kind.CONNECTION) {
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
                            recorded.put(pos, committed.get());
                            return replay(committed.get(), kind, name, pos);
                        }
                        continue; // it rolled back: run it again; does not count as an attempt
                    }
                    // A serialization failure or deadlock, or a lock timeout (the fence's lock on the workflow row is
                    // held by an application transaction, e.g. an uncommitted cancel): it rolled back; run it again.
                    if ((SqlErrors.isRetryableTransaction(e) || SqlErrors.isLockTimeout(e))
                            && attempt < options.maxAttempts()) {
                        attempt++;
                        pause(Math.min(5L << Math.min(attempt, 8), 1000));
                        continue;
                    }
                    throw stepFailed(kind, name, pos, startedAt, e);
                }
            }
        } finally {
            inStep = false;
        }
    }

    // ---- durable primitives ----

    @Override
    public void sleep(Duration duration) {
        if (duration == null || duration.isNegative()) {
            throw new IllegalArgumentException("sleep duration must be zero or positive (was " + duration
                    + ") in workflow '" + workflowId + "'");
        }
        durableSleep(() -> Instant.now().plus(duration));
    }

    @Override
    public void sleepUntil(Instant wakeAt) {
        if (wakeAt == null) {
            throw new IllegalArgumentException("sleepUntil needs a wake-up time, not null (workflow '" + workflowId
                    + "')");
        }
        durableSleep(() -> wakeAt);
    }

    private void durableSleep(Supplier<Instant> wakeAtIfNew) {
        int pos = begin("sleep", "sleep", this, this);
        Instant wakeAt = wakeUpTime(pos, "sleep", wakeAtIfNew);
        Wakeup wakeup = engine.waiters().register(workflowId, Waiters.CANCEL);
        try {
            while (true) {
                long left = Duration.between(Instant.now(), wakeAt).toNanos();
                if (left <= 0) {
                    return;
                }
                long due = System.nanoTime() + left; // before the write, which would otherwise make it late
                writeCheckpoints(); // the wake-up time is durable before the wait: a recovery sleeps what is left
                await(wakeup, due, true);
                afterWakeUp(wakeup);
            }
        } finally {
            release(wakeup);
        }
    }

    /** The wake-up time recorded at {@code pos}, or a new one, recorded now (durable with the next write). */
    private Instant wakeUpTime(int pos, String name, Supplier<Instant> fresh) {
        StepRow previous = recorded.get(pos);
        if (previous != null) {
            checkRecorded(previous, SLEEP, name, pos);
            return Instant.ofEpochMilli(Long.parseLong(Objects.requireNonNull(previous.output())));
        }
        Instant wakeAt = fresh.get();
        record(checkpoint(pos, name, SLEEP, Long.toString(wakeAt.toEpochMilli()), "java.lang.Long", null,
                Instant.now()));
        return wakeAt;
    }

    @Override
    public <T> @Nullable T recv(String topic, Class<T> type, Duration timeout) {
        if (topic == null) {
            throw new IllegalArgumentException("recv topic must not be null (workflow '" + workflowId
                    + "'); use recv(type, timeout) for the default topic");
        }
        return receive(topic, type, timeout);
    }

    @Override
    public <T> @Nullable T recv(Class<T> type, Duration timeout) {
        return receive("", type, timeout);
    }

    /**
     * Takes two positions: the deadline (a SLEEP checkpoint, so a recovered workflow waits only for what was left)
     * and the message (a RECV checkpoint, committed with the message's deletion).
     */
    private <T> @Nullable T receive(String topic, Class<T> type, Duration timeout) {
        if (type == null) {
            throw new IllegalArgumentException("recv needs the message type, not null (workflow '" + workflowId + "')");
        }
        if (timeout == null || timeout.isNegative()) {
            throw new IllegalArgumentException("recv timeout must be zero or positive (was " + timeout
                    + ") in workflow '" + workflowId + "'");
        }
        String name = topic.isEmpty() ? "recv" : "recv:" + topic;
        int deadlinePos = begin("recv", name, this, this);
        Instant deadline = wakeUpTime(deadlinePos, name, () -> Instant.now().plus(timeout));
        int pos = begin("recv", name, this, this);
        StepRow previous = recorded.get(pos);
        if (previous != null) {
            checkRecorded(previous, RECV, name, pos);
            return decodeMessage(previous.output(), type, name, pos);
        }
        Instant startedAt = Instant.now();
        Wakeup wakeup = engine.waiters().register(workflowId, Waiters.MESSAGE | Waiters.CANCEL);
        try {
            long heldBackoffMillis = 5;
            while (true) {
                Taken taken = takeMessage(topic, name, pos, type, startedAt);
                if (taken.message() != null) {
                    return decodeMessage(taken.message(), type, name, pos);
                }
                long left = Duration.between(Instant.now(), deadline).toNanos();
                if (taken.heldElsewhere() && left > 0) {
                    // A message is there, locked by another transaction (a zombie execution of this workflow whose
                    // take the fence will roll back): look again soon; its rollback sends no notification.
                    writeCheckpoints(); // the deadline is durable before any wait
                    block(wakeup, System.nanoTime() + Math.min(left, TimeUnit.MILLISECONDS.toNanos(heldBackoffMillis)));
                    heldBackoffMillis = Math.min(heldBackoffMillis * 2, 500);
                    afterWakeUp(wakeup);
                    continue;
                }
                heldBackoffMillis = 5;
                if (left <= 0) {
                    record(checkpoint(pos, name, RECV, "null", null, null, startedAt));
                    return null;
                }
                long due = System.nanoTime() + left;
                writeCheckpoints(); // the deadline is durable before the wait
                await(wakeup, due, false);
                afterWakeUp(wakeup);
            }
        } finally {
            release(wakeup);
        }
    }

    /**
     * Consumes the oldest message and commits its checkpoint with it (one round trip); no message if there is none,
     * or if the only ones are locked by another transaction.
     */
    private Taken takeMessage(String topic, String name, int pos, Class<?> type, Instant startedAt) {
        long backoff = 10;
        while (true) {
            try {
                List<StepRow> rows = new ArrayList<>(unwritten); // earlier checkpoints commit with this one
                rows.add(checkpoint(pos, name, RECV, null, type.getName(), null, startedAt));
                Taken taken = engine.db().takeMessage(workflowId, topic, rows, pos, engine.executorId(), epoch);
                if (taken.message() != null) {
                    unwritten.clear();
                    recorded.put(pos, checkpoint(pos, name, RECV, taken.message(), type.getName(), null, startedAt));
                }
                return taken;
            } catch (Exception e) {
                SqlErrors.Kind failure = SqlErrors.classify(e);
                if (failure == SqlErrors.Kind.NOT_OWNER || failure == SqlErrors.Kind.CHECKPOINT_CONFLICT) {
                    throw new ExecutionControl(Kind.RESTART, "workflow '" + workflowId + "' was cancelled, taken over"
                            + " or replayed elsewhere while receiving (#" + pos + "); the message stays queued", e);
                }
                if (failure == SqlErrors.Kind.DATA) {
                    throw unstorable(e);
                }
                if (failure != SqlErrors.Kind.CONNECTION) {
                    throw transientFailure("receive a message (#" + pos + ")", e);
                }
                if (engine.isStopping()) {
                    throw new ExecutionControl(Kind.STOP, "engine stopping", e);
                }
                // The commit may or may not have happened: the checkpoint says which.
                pause(backoff);
                backoff = Math.min(backoff * 2, 2000);
                Optional<StepRow> found = lookUpCheckpoint(pos);
                if (found.isPresent()) {
                    unwritten.clear(); // they committed with it
                    recorded.put(pos, found.get());
                    return new Taken(found.get().output(), false);
                }
            }
        }
    }

    private <T> @Nullable T decodeMessage(@Nullable String json, Class<T> type, String name, int pos) {
        if (json == null || json.equals("null")) {
            return null;
        }
        try {
            return engine.json().mapper().readValue(json, type);
        } catch (JsonProcessingException e) {
            throw new TandemException("the message received by " + name + " (#" + pos + ") of workflow '" + workflowId
                    + "' does not bind to " + type.getName() + ": " + e.getOriginalMessage() + "; message was "
                    + json, e);
        }
    }

    @Override
    public void send(String destinationId, String topic, Object message) {
        if (topic == null) {
            throw new IllegalArgumentException("send topic must not be null (workflow '" + workflowId
                    + "'); use send(workflowId, message) for the default topic");
        }
        sendMessage(destinationId, topic, message);
    }

    @Override
    public void send(String destinationId, Object message) {
        sendMessage(destinationId, "", message);
    }

    private void sendMessage(String destinationId, String topic, Object message) {
        if (destinationId == null || destinationId.isBlank()) {
            throw new IllegalArgumentException("send needs the id of the receiving workflow (workflow '" + workflowId
                    + "')");
        }
        String json = encodeValue("message to workflow '" + destinationId + "'", message);
        String name = topic.isEmpty() ? "send" : "send:" + topic;
        int pos = begin("send", name, this, this);
        StepRow previous = recorded.get(pos);
        if (previous != null) {
            replay(previous, SEND, name, pos);
            return;
        }
        String idempotencyKey = workflowId + ":" + pos; // a replay that re-sends is a no-op
        transactional(SEND, name, pos, TransactionOptions.defaults(), conn -> {
            engine.db().sendMessage(conn, destinationId, json, topic.isEmpty() ? null : topic, idempotencyKey);
            return null;
        });
        engine.waiters().signal(destinationId, Waiters.MESSAGE); // a receiver here need not wait for the NOTIFY
    }

    @Override
    public void setEvent(String key, Object value) {
        if (key == null) {
            throw new IllegalArgumentException("event key must not be null (workflow '" + workflowId + "')");
        }
        String json = encodeValue("value of event '" + key + "'", value);
        String name = "setEvent:" + key;
        int pos = begin("setEvent", name, this, this);
        StepRow previous = recorded.get(pos);
        if (previous != null) {
            replay(previous, SET_EVENT, name, pos);
            return;
        }
        transactional(SET_EVENT, name, pos, TransactionOptions.defaults(), conn -> {
            engine.db().setEvent(conn, workflowId, pos, key, json);
            return null;
        });
        engine.waiters().signal(workflowId, Waiters.EVENT);
    }

    @Override
    public void writeStream(String key, Object value) {
        if (key == null) {
            throw new IllegalArgumentException("stream key must not be null (workflow '" + workflowId + "')");
        }
        String json = encodeValue("value for stream '" + key + "'", value);
        appendToStream(key, json, false);
    }

    @Override
    public void closeStream(String key) {
        if (key == null) {
            throw new IllegalArgumentException("stream key must not be null (workflow '" + workflowId + "')");
        }
        appendToStream(key, null, true);
    }

    private void appendToStream(String key, @Nullable String json, boolean close) {
        if (closedStreams.contains(key)) {
            throw new IllegalArgumentException("stream '" + key + "' of workflow '" + workflowId + "' is closed; "
                    + (close ? "it cannot be closed twice" : "nothing more can be written to it"));
        }
        String name = (close ? "closeStream:" : "writeStream:") + key;
        int pos = begin("writeStream", name, this, this);
        StepRow previous = recorded.get(pos);
        if (previous != null) {
            replay(previous, WRITE_STREAM, name, pos);
        } else {
            transactional(WRITE_STREAM, name, pos, TransactionOptions.defaults(), conn -> {
                engine.db().writeStream(conn, workflowId, key, pos, json, close);
                return null;
            });
            engine.waiters().signal(workflowId, Waiters.STREAM);
        }
        if (close) {
            closedStreams.add(key);
        }
    }

    @Override
    public <C, R extends @Nullable Object> WorkflowHandle<R> startChild(Workflow<C, R> child, C childInput) {
        return startChild(child, childInput, StartOptions.defaults());
    }

    @Override
    public <C, R extends @Nullable Object> R runChild(Workflow<C, R> child, C childInput) {
        return startChild(child, childInput, StartOptions.defaults()).result(Duration.ofDays(3650));
    }

    @Override
    public <C, R extends @Nullable Object> WorkflowHandle<R> startChild(Workflow<C, R> child, C childInput,
            StartOptions options) {
        if (child == null || options == null) {
            throw new IllegalArgumentException("startChild needs a workflow and options, not null (workflow '"
                    + workflowId + "')");
        }
        RegisteredWorkflow<C, R> registered = engine.registered(child.name());
        String inputJson = engine.encodeInput(registered, childInput);
        String name = child.name();
        int pos = begin("child workflow", name, options, child);
        StepRow previous = recorded.get(pos);
        if (previous != null) {
            String childId = replay(previous, CHILD, name, pos);
            return new ChildHandle<>(this, engine.childHandle(childId));
        }
        String childId = options.workflowId() != null ? options.workflowId() : workflowId + "-" + pos;
        Long timeoutMillis = options.timeout() == null ? null : options.timeout().toMillis();
        boolean[] inserted = new boolean[1];
        transactional(CHILD, name, pos, TransactionOptions.defaults(), conn -> {
            ChildStart start = engine.db().startChild(conn, childId, name, inputJson, engine.executorId(),
                    engine.incarnation(), timeoutMillis, workflowId);
            if (!start.inserted() && start.existingName() != null && !isOwnChild(start, name)) {
                // Ids are predictable, and a role that may only enqueue can take one first: what it planted must
                // not pass for this parent's child. Thrown in the transaction, so the failure is the checkpoint.
                throw new WorkflowConflictException("child workflow id '" + childId + "' is already used by a"
                        + " workflow that parent '" + workflowId + "' did not start; a parent only re-attaches to a"
                        + " child it started itself (same workflow '" + name + "', parent_workflow_id '" + workflowId
                        + "'). Find out who enqueued '" + childId + "', remove it or give the child another id, then"
                        + " resume '" + workflowId + "'");
            }
            inserted[0] = start.inserted();
            return childId;
        });
        return new ChildHandle<>(this, engine.runChild(registered, childId, childInput, inserted[0]));
    }

    /** Whether the workflow that held the id is this parent's own child: a replay meeting what it started before. */
    private boolean isOwnChild(ChildStart start, String name) {
        return name.equals(start.existingName()) && workflowId.equals(start.existingParentId());
    }

    /** Whether a wait for a child can be a wait of this execution: called by its own code, outside any step. */
    boolean canWaitHere() {
        return Thread.currentThread() == thread && !inStep && !done && halted == null;
    }

    /**
     * Waits for a child to end, like any other wait of the workflow (it parks on platform threads): woken when a
     * child that runs here ends (however it came to run here: started, or recovered), and looking every second for
     * one that runs elsewhere. What the wait saw, the child's outcome or that the wait timed out, is recorded at the
     * next position as a {@code CHILD_RESULT} checkpoint, and a replay returns (or throws) that: a child may end
     * otherwise later (resumed after it failed, or ended after the wait gave up), and the parent's path must not
     * change with it. A failure or a timeout is recorded as an error, so resuming a parent that failed right after it
     * re-reads the child, as it re-runs a failed step.
     *
     * <p>Histories recorded before these checkpoints existed have the parent's next call right after the CHILD
     * checkpoint. So if the next position holds anything but a {@code CHILD_RESULT}, this wait takes no position and
     * reads the child's outcome, as those versions did; at the end of such a history (nothing recorded next) it is
     * recorded like any new wait. The price: code that now waits where its recorded run made another call is not
     * reported as non-deterministic (code that no longer waits where a run did is).
     */
    <R> R awaitChild(Handle<R> child, Duration timeout) {
        StepRow next = recorded.get(position + 1);
        if (next != null && !next.kind().equals(CHILD_RESULT)) {
            return awaitChildUnrecorded(child, timeout);
        }
        String name = "result:" + child.workflowId();
        int pos = begin("child result", name, this, this);
        if (next != null) {
            checkRecorded(next, CHILD_RESULT, name, pos);
            return replayObservation(next, child, pos);
        }
        Instant startedAt = Instant.now();
        Outcome ended = waitForChild(child, timeout, pos + ":" + child.workflowId());
        if (ended == null) {
            ResultTimeoutException timedOut = child.timedOut(timeout);
            record(checkpoint(pos, name, CHILD_RESULT, null, null,
                    engine.json().error(ResultTimeoutException.class.getName(), timedOut.getMessage(), null),
                    startedAt));
            throw timedOut;
        }
        if (ended instanceof Outcome.Failed failed) {
            record(checkpoint(pos, name, CHILD_RESULT, null, null,
                    engine.json().error(failed.error(), failed.status().name()), startedAt));
        } else {
            Object output = ((Outcome.Succeeded) ended).output();
            String json;
            try {
                json = engine.json().write(output);
            } catch (JsonProcessingException e) { // it was stored as JSON when the child ended
                throw new TandemException("the output of child workflow '" + child.workflowId() + "' cannot be"
                        + " recorded by its parent '" + workflowId + "': " + e.getOriginalMessage(), e);
            }
            record(checkpoint(pos, name, CHILD_RESULT, json, Json.typeName(output), null, startedAt));
        }
        return child.unwrap(ended);
    }

    /** A wait for a child in a history of an earlier version, which did not record it (see {@link #awaitChild}). */
    private <R> R awaitChildUnrecorded(Handle<R> child, Duration timeout) {
        Outcome known = childOutcomes.get(child.workflowId());
        if (known != null) {
            return child.unwrap(known);
        }
        Outcome ended = waitForChild(child, timeout, "unrecorded:" + position + ":" + child.workflowId());
        if (ended == null) {
            throw child.timedOut(timeout);
        }
        childOutcomes.put(child.workflowId(), ended);
        return child.unwrap(ended);
    }

    /** What a recorded {@code CHILD_RESULT} says: the child's output, or its failure or the timeout, thrown. */
    private <R> R replayObservation(StepRow row, Handle<R> child, int pos) {
        if (row.error() == null) {
            return replay(row, CHILD_RESULT, row.name(), pos);
        }
        ErrorInfo info = engine.json().readError(row.error());
        if (info.type().equals(ResultTimeoutException.class.getName())) {
            throw new ResultTimeoutException(Objects.requireNonNullElse(info.message(), "timed out"));
        }
        String status = engine.json().readStatus(row.error());
        throw new WorkflowFailedException(child.workflowId(),
                status != null ? WorkflowStatus.valueOf(status) : WorkflowStatus.ERROR, info.type(), info.message(),
                info.stack());
    }

    /**
     * Waits until the child has ended and returns how, or null once {@code timeout} has passed. The deadline is kept
     * under {@code waitKey} across parked replays of this wait, which would otherwise each start it again.
     */
    private @Nullable Outcome waitForChild(Handle<?> child, Duration timeout, String waitKey) {
        long deadline = childWaitDeadlines.computeIfAbsent(waitKey, k -> System.nanoTime() + timeout.toNanos());
        Wakeup wakeup = engine.waiters().register(workflowId, Waiters.CHILD | Waiters.CANCEL);
        try {
            while (true) {
                Outcome ended = child.endedOutcome();
                long now = System.nanoTime();
                if (ended != null || now - deadline >= 0) {
                    childWaitDeadlines.remove(waitKey);
                    return ended;
                }
                long until;
                if (child.runsHere()) {
                    child.whenEnded(() -> engine.waiters().signal(workflowId, Waiters.CHILD));
                    until = deadline;
                } else {
                    until = Math.min(deadline, now + TimeUnit.SECONDS.toNanos(1));
                }
                writeCheckpoints();
                await(wakeup, until, false);
                afterWakeUp(wakeup);
            }
        } finally {
            release(wakeup);
        }
    }

    private String encodeValue(String what, @Nullable Object value) {
        try {
            return engine.json().write(value);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("the " + what + " cannot be stored as JSON: " + e.getOriginalMessage()
                    + " (workflow '" + workflowId + "'); pass a value Jackson can serialize", e);
        }
    }

    /**
     * Waits for a signal on {@code wakeup} or until {@code deadlineNanos}. A virtual thread, or a short wait, blocks;
     * otherwise the execution parks: its thread unwinds, and it is replayed from its checkpoints (kept in memory, all
     * durable by now) at the signal or the deadline. A wait for a message blocks a moment first, as replies often
     * come at once.
     */
    private void await(Wakeup wakeup, long deadlineNanos, boolean parkAtOnce) {
        long left = deadlineNanos - System.nanoTime();
        if (engine.parksWaits() && left > BLOCK_BEFORE_PARKING_NANOS) {
            if (!parkAtOnce && block(wakeup, System.nanoTime() + BLOCK_BEFORE_PARKING_NANOS)) {
                return;
            }
            writeCheckpoints();
            if (wakeup.park(deadlineNanos, () -> engine.resumeParked(this, wakeup.cancelled()))) {
                halted = new ExecutionControl(Kind.PARK, "workflow '" + workflowId + "' is parked until it is due");
                throw halted;
            }
            return; // signalled meanwhile
        }
        block(wakeup, deadlineNanos);
    }

    private boolean block(Wakeup wakeup, long deadlineNanos) {
        try {
            return wakeup.await(deadlineNanos);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ExecutionControl(Kind.STOP, "interrupted while waiting", e);
        }
    }

    /** After a wait: stops if the engine stops, or if the workflow was cancelled (or taken over) meanwhile. */
    private void afterWakeUp(Wakeup wakeup) {
        if (engine.isStopping()) {
            throw new ExecutionControl(Kind.STOP, "engine stopping");
        }
        if (wakeup.cancelled() && !engine.stillOwns(workflowId, epoch)) {
            throw new ExecutionControl(Kind.ABANDON, "workflow '" + workflowId + "' was cancelled while it waited");
        }
        wakeup.reset();
    }

    /** Unregisters a wait, unless the execution parked on it (then its signal replays the execution). */
    private void release(Wakeup wakeup) {
        if (halted == null || halted.kind != Kind.PARK) {
            wakeup.unregister();
        }
    }

    /** Checks that the context may be used now and takes the next position. */
    private int begin(String what, String name, Object options, Object fn) {
        if (halted != null) {
            throw halted;
        }
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

    /** Fails the workflow for good if the checkpoint at {@code pos} is not of the call this run makes there. */
    private void checkRecorded(StepRow row, String kind, String name, int pos) {
        if (!row.name().equals(name) || !row.kind().equals(kind)) {
            fatal = new NonDeterministicWorkflowException("workflow '" + workflowId + "' (" + workflow.name()
                    + ") is not deterministic: position #" + pos + " is recorded as " + describe(row.kind())
                    + " '" + row.name() + "' but this run asked for " + describe(kind) + " '" + name
                    + "'; workflow code must call the same steps in the same order on every run");
            throw fatal;
        }
    }

    @SuppressWarnings("unchecked")
    private <T extends @Nullable Object> T replay(StepRow row, String kind, String name, int pos) {
        checkRecorded(row, kind, name, pos);
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
        return switch (kind) {
            case TRANSACTION -> "transaction";
            case SLEEP -> "sleep";
            case RECV -> "recv";
            case SEND -> "send";
            case SET_EVENT -> "setEvent";
            case WRITE_STREAM -> "writeStream";
            case CHILD -> "child workflow";
            case CHILD_RESULT -> "child result";
            default -> "step";
        };
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
        record(checkpoint(pos, name, kind, null, null, json, startedAt));
        return new StepFailedException(workflowId, name, pos, error.getClass().getName(), error.getMessage(), error);
    }

    /** A checkpoint of this execution, to be written under its ownership epoch. */
    private StepRow checkpoint(int pos, String name, String kind, @Nullable String output,
            @Nullable String outputType, @Nullable String error, Instant startedAt) {
        return new StepRow(workflowId, pos, name, kind, output, outputType, error, startedAt, epoch);
    }

    /** A new checkpoint, held in memory until the next write. */
    private void record(StepRow row) {
        unwritten.add(row);
        recorded.put(row.position(), row);
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
            if (SqlErrors.classify(e) == SqlErrors.Kind.DATA) {
                throw unstorable(e, steps, finish);
            }
            throw transientFailure("write checkpoints", e);
        }
    }

    /** PostgreSQL refused a value of this execution's write: the workflow ends ERROR (see recordUnstorable). */
    private ExecutionControl unstorable(Throwable cause, List<StepRow> steps, @Nullable FinishRow finish) {
        List<String> what = new ArrayList<>();
        for (StepRow row : steps) {
            what.add("the checkpoint of " + describe(row.kind()) + " '" + row.name() + "' (#" + row.position() + ")");
        }
        if (finish != null) {
            what.add(finish.output() != null ? "the workflow's output" : "its final status");
        }
        return new ExecutionControl(Kind.UNSTORABLE, "workflow '" + workflowId + "' (" + workflow.name() + ") ended"
                + " because PostgreSQL cannot store " + String.join(" or ", what) + ": " + cause.getMessage()
                + "; return values PostgreSQL's jsonb can store", cause);
    }

    private ExecutionControl unstorable(Throwable cause) {
        return unstorable(cause, unwritten, null);
    }

    private Optional<StepRow> lookUpCheckpoint(int pos) {
        long backoff = 10;
        while (true) {
            try {
                return engine.db().loadStep(workflowId, pos);
            } catch (Exception e) {
                if (!SqlErrors.isConnectionError(e) || engine.isStopping()) {
                    throw transientFailure("check checkpoint #" + pos, e);
                }
                pause(backoff);
                backoff = Math.min(backoff * 2, 2000);
            }
        }
    }

    /** The database was unreachable, or refused for a reason that may pass: replayed later, within a budget. */
    private ExecutionControl transientFailure(String action, Throwable cause) {
        if (engine.isStopping()) {
            return new ExecutionControl(Kind.STOP, "engine stopping", cause);
        }
        return new ExecutionControl(Kind.TRANSIENT_FAILURE, "could not " + action + " of workflow '" + workflowId
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
