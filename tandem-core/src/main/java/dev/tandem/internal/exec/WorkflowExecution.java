package dev.tandem.internal.exec;

import dev.tandem.StepFunction;
import dev.tandem.StartOptions;
import dev.tandem.StepOptions;
import dev.tandem.TransactionFunction;
import dev.tandem.TransactionOptions;
import dev.tandem.Workflow;
import dev.tandem.WorkflowContext;
import dev.tandem.WorkflowHandle;
import dev.tandem.internal.db.Rows.StepRow;
import dev.tandem.internal.exec.ExecutionControl.Kind;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Set;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One run of one workflow on this executor, and the {@link WorkflowContext} its code sees. Its checkpoints, and when
 * they are written: {@link Checkpoints}.
 */
final class WorkflowExecution<I, O> implements WorkflowContext {
    static final Logger log = LoggerFactory.getLogger(WorkflowExecution.class);

    final Engine engine;
    final RegisteredWorkflow<I, O> workflow;
    final String workflowId;
    /** The ownership epoch this execution was given; every write it makes is refused once the row has another. */
    final long epoch;
    private final I input;
    private final boolean recovered;
    private final @Nullable String queueName;
    private final CompletableFuture<Outcome> outcome;

    private final @Nullable Map<Integer, StepRow> preloaded;
    /** Where its checkpoints come from and where new ones go: the database, or a recorded history (a replay). */
    final History history;
    private final Primitives primitives = new Primitives(this);
    private final Children children = new Children(this);
    private final Steps steps = new Steps(this);
    private final Patches patches = new Patches(this);
    final Waits waits = new Waits(this);

    final Checkpoints checkpoints = new Checkpoints(this);
    final Set<String> closedStreams = new HashSet<>();
    int position;
    boolean inStep;
    private boolean done;
    private @Nullable Thread thread;
    private @Nullable RuntimeException fatal; // non-determinism: sticks even if the workflow catches it
    private @Nullable ExecutionControl halted; // parked: sticks even if the workflow catches it
    /**
     * How children ended, for waits that histories of earlier versions did not record (see {@link #awaitChild}); kept
     * across parked replays so each is read once.
     */
    Map<String, Outcome> childOutcomes = new HashMap<>();
    /** Replays in a row after transient failures (the next waits longer); kept across replays, reset by a write. */
    private int transientReplays;
    /** Deadlines (nanoTime) of waits for children that have not ended, kept across parked replays of the wait. */
    Map<String, Long> childWaitDeadlines = new HashMap<>();
    /** For telemetry: its trace context, attempt and first start here; kept across replays. */
    Origin origin = Origin.NONE;
    /** Its start, if {@code Workflow.run} deferred it until the first write. */
    final DeferredStart deferredStart = new DeferredStart(this);

    WorkflowExecution(Engine engine, RegisteredWorkflow<I, O> workflow, String workflowId, long epoch, I input,
            boolean recovered, @Nullable String queueName, CompletableFuture<Outcome> outcome) {
        this(engine, workflow, workflowId, epoch, input, recovered, queueName, outcome, null);
    }

    /** With {@code preloaded} checkpoints (a parked execution's, all durable), replays without reading them. */
    WorkflowExecution(Engine engine, RegisteredWorkflow<I, O> workflow, String workflowId, long epoch, I input,
            boolean recovered, @Nullable String queueName, CompletableFuture<Outcome> outcome,
            @Nullable Map<Integer, StepRow> preloaded) {
        this(engine, workflow, workflowId, epoch, input, recovered, queueName, outcome, preloaded,
                DatabaseHistory.INSTANCE);
    }

    /** With its checkpoints from {@code history} instead of the database (a replay of an exported history). */
    WorkflowExecution(Engine engine, RegisteredWorkflow<I, O> workflow, String workflowId, long epoch, I input,
            boolean recovered, @Nullable String queueName, CompletableFuture<Outcome> outcome,
            @Nullable Map<Integer, StepRow> preloaded, History history) {
        this.engine = engine;
        this.workflow = workflow;
        this.workflowId = workflowId;
        this.epoch = epoch;
        this.input = input;
        this.recovered = recovered;
        this.queueName = queueName;
        this.outcome = outcome;
        this.preloaded = preloaded;
        this.history = history;
    }

    RegisteredWorkflow<I, O> workflow() {
        return workflow;
    }

    /** Takes over what an earlier execution learnt besides its checkpoints (it parked, or it is replayed). */
    void continueFrom(WorkflowExecution<I, O> earlier) {
        this.childOutcomes = earlier.childOutcomes;
        this.transientReplays = earlier.transientReplays;
        this.childWaitDeadlines = earlier.childWaitDeadlines;
        this.origin = earlier.origin;
    }

    long epoch() {
        return epoch;
    }

    /** Counts a replay after a transient failure; returns how many there were in a row. */
    int countTransientReplay() {
        return ++transientReplays;
    }

    /** Whether it replays recorded checkpoints (recovered, parked, or replayed after a failure). */
    boolean recovered() {
        return recovered;
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

    /** Runs the workflow to its end (or until it must stop) on the calling thread; see {@link Finishing}. */
    void run() {
        try {
            Finishing.run(this);
        } finally {
            done = true;
        }
    }

    /**
     * Runs the workflow's function over its recorded checkpoints on the calling thread and returns its output; throws
     * what stopped it: a control (parked, stopped, the end of a replayed history), the non-determinism even if the
     * code caught it, or the code's own failure.
     */
    O runFunction() throws Exception {
        thread = Thread.currentThread();
        if (preloaded != null) {
            checkpoints.recorded = new HashMap<>(preloaded);
        } else if (recovered) {
            checkpoints.recorded = history.load(this);
        }
        O output = workflow.function().run(this, input);
        if (halted != null) {
            throw halted;
        }
        if (fatal != null) {
            throw fatal;
        }
        return output;
    }

    /** What stopped the code for good, if anything did, even if the code caught it: a control, or non-determinism. */
    @Nullable Throwable stoppedBy() {
        return halted != null ? halted : fatal;
    }

    /** Stops the execution with {@code control}, which sticks even if the workflow catches it; returns it to throw. */
    ExecutionControl halt(ExecutionControl control) {
        halted = control;
        return control;
    }

    /** Whether it parked: it stopped, to be replayed at a signal or a deadline. */
    boolean parked() {
        return halted != null && halted.kind == Kind.PARK;
    }

    /** Fails the execution for good (non-determinism), which sticks even if the workflow catches it; returns it. */
    RuntimeException failForGood(RuntimeException e) {
        fatal = e;
        return e;
    }

    /** A write went through: a later transient failure starts its backoff from the beginning. */
    void resetTransientReplays() {
        transientReplays = 0;
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
    public <T extends @Nullable Object> T transaction(String name, TransactionFunction<T> fn) {
        return transaction(name, TransactionOptions.defaults(), fn);
    }

    @Override
    public <T extends @Nullable Object> T step(String name, StepOptions options, StepFunction<T> fn) {
        return steps.step(name, options, fn);
    }

    @Override
    public <T extends @Nullable Object> T transaction(String name, TransactionOptions options,
            TransactionFunction<T> fn) {
        return steps.transaction(name, options, fn);
    }

    /** See {@link Steps#transactional}. */
    <T extends @Nullable Object> T transactional(String kind, String name, int pos, TransactionOptions options,
            TransactionFunction<T> fn) {
        return steps.transactional(kind, name, pos, options, fn);
    }

    // ---- durable primitives (Primitives) and child workflows (Children) ----

    @Override
    public void sleep(Duration duration) {
        primitives.sleep(duration);
    }

    @Override
    public void sleepUntil(Instant wakeAt) {
        primitives.sleepUntil(wakeAt);
    }

    @Override
    public <T> @Nullable T recv(String topic, Class<T> type, Duration timeout) {
        return primitives.recv(topic, type, timeout);
    }

    @Override
    public <T> @Nullable T recv(Class<T> type, Duration timeout) {
        return primitives.recv(type, timeout);
    }

    @Override
    public void send(String destinationId, String topic, Object message) {
        primitives.send(destinationId, topic, message);
    }

    @Override
    public void send(String destinationId, Object message) {
        primitives.send(destinationId, message);
    }

    @Override
    public void setEvent(String key, Object value) {
        primitives.setEvent(key, value);
    }

    @Override
    public void writeStream(String key, Object value) {
        primitives.writeStream(key, value);
    }

    @Override
    public void closeStream(String key) {
        primitives.closeStream(key);
    }

    @Override
    public <C, R extends @Nullable Object> WorkflowHandle<R> startChild(Workflow<C, R> child, C childInput,
            StartOptions options) {
        return children.startChild(child, childInput, options);
    }

    @Override
    public boolean patched(String changeId) {
        return patches.patched(changeId);
    }

    @Override
    public void deprecatePatch(String changeId) {
        patches.deprecatePatch(changeId);
    }

    /** Waits for a child's end as a wait of this workflow; see {@link Children#awaitChild}. */
    <R> R awaitChild(Handle<R> child, Duration timeout) {
        return children.awaitChild(child, timeout);
    }

    @Override
    public <C, R extends @Nullable Object> WorkflowHandle<R> startChild(Workflow<C, R> child, C childInput) {
        return startChild(child, childInput, StartOptions.defaults());
    }

    @Override
    public <C, R extends @Nullable Object> R runChild(Workflow<C, R> child, C childInput) {
        return startChild(child, childInput, StartOptions.defaults()).result(Duration.ofDays(3650));
    }

    /** Whether a wait for a child can be a wait of this execution: called by its own code, outside any step. */
    boolean canWaitHere() {
        return Thread.currentThread() == thread && !inStep && !done && halted == null;
    }

    /**
     * Checks that the context may be used now and takes the next position; where nothing is recorded, the history
     * decides whether the call may go on (live) or not (the end of a replayed history).
     */
    int begin(String what, String name, Object options, Object fn) {
        checkUsable(what, name);
        if (options == null || fn == null) {
            throw new IllegalArgumentException(what + " '" + name + "' needs non-null options and function");
        }
        if (deferredStart.pending != null && !what.equals("step") && !what.equals("transaction")) {
            deferredStart.ensureWritten(); // a durable call, a wait or a child: the workflow's row must exist first
        }
        int pos = ++position;
        if (!checkpoints.recorded.containsKey(pos)) {
            history.beyondRecorded(this, pos, what, name);
        }
        return pos;
    }

    /** Checks that the context may be used now, by this thread, outside a step, with a name. */
    void checkUsable(String what, String name) {
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
    }

    /** A checkpoint of this execution, to be written under its ownership epoch. */
    StepRow checkpoint(int pos, String name, String kind, @Nullable String output,
            @Nullable String outputType, @Nullable String error, Instant startedAt) {
        return new StepRow(workflowId, pos, name, kind, output, outputType, error, startedAt, epoch);
    }

    /** The database was unreachable, or refused for a reason that may pass: replayed later, within a budget. */
    ExecutionControl transientFailure(String action, Throwable cause) {
        if (engine.isStopping()) {
            return new ExecutionControl(Kind.STOP, "engine stopping", cause);
        }
        return new ExecutionControl(Kind.TRANSIENT_FAILURE, "could not " + action + " of workflow '" + workflowId
                + "': " + cause.getMessage(), cause);
    }

    void pause(long millis) {
        try {
            TimeUnit.MILLISECONDS.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ExecutionControl(Kind.STOP, "interrupted", e);
        }
    }
}
