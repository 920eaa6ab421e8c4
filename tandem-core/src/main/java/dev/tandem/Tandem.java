package dev.tandem;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.tandem.internal.db.QueueStore;
import dev.tandem.internal.exec.Engine;
import dev.tandem.internal.exec.EngineConfig;
import dev.tandem.internal.exec.EngineHooks;
import dev.tandem.internal.observe.Telemetry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;

/**
 * A Tandem engine: one executor of durable workflows, keeping their state in schema {@code tandem} of the
 * application's own PostgreSQL database.
 *
 * <pre>{@code
 * Tandem tandem = Tandem.builder().dataSource(ds).build();
 * Workflow<Order, Receipt> pay = tandem.register("pay", Order.class, (ctx, order) -> {
 *     int cents = ctx.step("quote", () -> pricing.quote(order));
 *     long id = ctx.transaction("charge", conn -> insertPaymentAndDebit(conn, order, cents));
 *     return ctx.step("receipt", () -> mailer.sendReceipt(id));
 * });
 * tandem.start();
 * Receipt r = pay.start(order, StartOptions.withId("order-42")).result(Duration.ofSeconds(10));
 * }</pre>
 *
 * <p>Lifecycle: {@link #register} every workflow, then {@link #start()} (migrates the schema, registers this
 * executor, recovers unfinished executions), then start executions; {@link #close()} stops it. Thread-safe.
 */
public final class Tandem implements AutoCloseable {
    /** How long {@link Workflow#run} waits for an execution that runs elsewhere: in effect, until it ends. */
    private static final Duration RUN_WAIT = Duration.ofDays(3650);
    private final Engine engine;
    private final @Nullable HikariDataSource ownPool;

    Tandem(Engine engine, @Nullable HikariDataSource ownPool) {
        this.engine = engine;
        this.ownPool = ownPool;
    }

    public static TandemBuilder builder() {
        return new TandemBuilder();
    }

    /**
     * Registers a workflow type. Must be called before {@link #start()}, once per name; every process that should
     * run (or recover) this workflow registers it under the same name.
     *
     * @param name the stable name stored with each execution; renaming it orphans executions in flight
     * @param inputType the input's class, used to rebuild the input from JSON on recovery
     */
    public <I, O extends @Nullable Object> Workflow<I, O> register(String name, Class<I> inputType,
            WorkflowFunction<I, O> function) {
        engine.register(name, inputType, function);
        return new RegisteredWorkflow<>(name);
    }

    /**
     * Starts the engine: checks the database connection, migrates schema {@code tandem} (unless disabled), registers
     * this executor and recovers executions left unfinished by a previous run of it or by dead executors.
     *
     * @throws TandemException if the database cannot be reached or the schema is not at the expected version
     */
    public void start() {
        engine.start();
    }

    /** The id of this executor, as stored in {@code tandem.workflows.executor_id}. */
    public String executorId() {
        return engine.executorId();
    }

    /**
     * This executor's application version: the one given to {@link TandemBuilder#appVersion}, else derived at
     * {@link #start()} (see there). Each workflow records the version that first ran it.
     *
     * @throws IllegalStateException before {@link #start()} when no version was given
     */
    public String appVersion() {
        return engine.appVersion().version();
    }

    /**
     * Moves a workflow to application version {@code appVersion} (see SQL {@code tandem.set_workflow_version}), or
     * with null lets any executor that registered its name run it: for workflows listed in view {@code
     * tandem.stranded} (their version is gone), at the operator's risk: the new code replays their recorded
     * checkpoints, and a change it does not follow ends them in a non-determinism error.
     *
     * @throws IllegalArgumentException if no workflow has this id
     */
    public void setWorkflowVersion(String workflowId, @Nullable String appVersion) {
        engine.control().setVersion(workflowId, appVersion);
    }

    /**
     * The DataSource this engine uses for the application's data and schema {@code tandem}: the one given to the
     * builder, or the pool it built from a URL. For tools that read the same database, such as the admin dashboard.
     */
    public DataSource dataSource() {
        return engine.dataSource();
    }

    /**
     * A handle to an existing execution, started here or anywhere else.
     *
     * @throws IllegalArgumentException if no workflow has this id
     */
    public <O extends @Nullable Object> WorkflowHandle<O> handle(String workflowId) {
        return engine.handle(workflowId);
    }

    /**
     * Cancels a workflow that has not ended (see SQL {@code tandem.cancel_workflow}): it ends {@code CANCELLED} and
     * frees its queue slot at once; a running execution stops at its next step boundary. Does nothing to a workflow
     * that has ended.
     *
     * @throws IllegalArgumentException if no workflow has this id
     */
    public void cancel(String workflowId) {
        engine.control().control("cancelWorkflow", "cancel", workflowId);
    }

    /**
     * Continues a {@code CANCELLED}, {@code ERROR} or {@code RETRIES_EXCEEDED} workflow from its last checkpoint (see
     * SQL {@code tandem.resume_workflow}): it is queued again (queue {@code default} if it was started directly), and
     * failed steps at the end of its history run again.
     *
     * @throws IllegalArgumentException if no workflow has this id, or it already succeeded
     */
    public void resume(String workflowId) {
        engine.control().control("resumeWorkflow", "resume", workflowId);
    }

    /**
     * Sends a message to a workflow on {@code topic} (null: the default topic), kept until it receives it. With an
     * {@code idempotencyKey}, sending the same key to the same workflow again does nothing.
     *
     * @throws IllegalArgumentException if no workflow has this id, or the message cannot be stored as JSON
     */
    public void send(String workflowId, @Nullable String topic, Object message, @Nullable String idempotencyKey) {
        engine.control().send(workflowId, topic, message, idempotencyKey);
    }

    /** {@link #send(String, String, Object, String)} without an idempotency key. */
    public void send(String workflowId, @Nullable String topic, Object message) {
        engine.control().send(workflowId, topic, message, null);
    }

    /**
     * Cancels a workflow like {@link #cancel(String)}; with {@code includeChildren}, also every workflow it started,
     * their children, and so on (SQL {@code tandem.cancel_workflow(workflow_id, include_children)}).
     *
     * @throws IllegalArgumentException if no workflow has this id
     */
    public void cancel(String workflowId, boolean includeChildren) {
        engine.control().cancel(workflowId, includeChildren);
    }

    /**
     * The last value a workflow set for event {@code key} ({@link WorkflowContext#setEvent}), waiting up to
     * {@code timeout} for it to be set. The wait holds no connection and does not poll: the commit of the setEvent
     * wakes it.
     *
     * @return the value bound to {@code type}, or null if the event was not set within the timeout
     * @throws IllegalArgumentException if an argument is null or the timeout negative
     */
    public <T> @Nullable T getEvent(String workflowId, String key, Class<T> type, Duration timeout) {
        return engine.control().getEvent(workflowId, key, type, timeout);
    }

    /**
     * The values a workflow writes to stream {@code key} ({@link WorkflowContext#writeStream}), in order, as they are
     * committed: the stream blocks for the next value and ends when the stream is closed or the workflow has ended.
     * Close it (try-with-resources) to stop reading early.
     *
     * @throws IllegalArgumentException if no workflow has this id, or an argument is null
     */
    public <T> java.util.stream.Stream<T> readStream(String workflowId, String key, Class<T> type) {
        return engine.control().readStream(workflowId, key, type);
    }

    /**
     * Lists workflows that match {@code query}, one page of them, newest first unless the query says otherwise. Reads
     * the same rows as the SQL view {@code tandem.workflows}; an operator can also query that view directly.
     *
     * <pre>{@code
     * List<WorkflowInfo> failed = tandem.listWorkflows(WorkflowQuery.all().statuses(WorkflowStatus.ERROR).limit(20));
     * }</pre>
     */
    public List<WorkflowInfo> listWorkflows(WorkflowQuery query) {
        return engine.admin().listWorkflows(query);
    }

    /**
     * Writes the recorded histories of the workflows {@code query}'s filters match (all of them, oldest first: its
     * paging is not used) to {@code file}, for a pre-deploy replay check of new code ({@link WorkflowReplayer}). See
     * {@link WorkflowHistories#export(DataSource, Path, WorkflowQuery)}; returns how many were written.
     *
     * <pre>{@code
     * tandem.exportHistories(Path.of("histories.json"), WorkflowHistories.inFlight());
     * }</pre>
     */
    public int exportHistories(Path file, WorkflowQuery query) {
        return WorkflowHistories.export(dataSource(), file, query);
    }

    /** The engine, for {@link WorkflowReplayer}. */
    Engine engine() {
        return engine;
    }

    /**
     * The recorded steps (checkpoints) of a workflow, in order; the same rows as the SQL view
     * {@code tandem.workflow_steps}. A step that is running right now is not recorded yet.
     *
     * @throws IllegalArgumentException if no workflow has this id
     */
    public List<StepInfo> listSteps(String workflowId) {
        return engine.admin().listSteps(workflowId);
    }

    /**
     * Starts a new workflow that runs {@code workflowId}'s code again from step {@code startStep} on, for "fix the
     * bug, re-run from the failed step": the steps before it (and the events and stream values they wrote) are
     * copied and replay their recorded outputs without running; {@code startStep} and everything after it run. The
     * new workflow has the same name and input, a generated id, {@link WorkflowInfo#forkedFrom} set to the original,
     * and waits in the original's queue ({@code default} if it was started directly) for an executor that registered
     * its name. The original is left as it is, whatever its status. Same as SQL {@code tandem.fork_workflow}.
     *
     * <pre>{@code
     * // step 3 failed because of a bug; deploy the fix, then:
     * WorkflowHandle<Receipt> again = tandem.fork("order-42", 3);
     * }</pre>
     *
     * @param startStep the position of the first step to run (see {@link #listSteps}): from 1 to one more than the
     *     last recorded step
     * @return a handle to the new workflow
     * @throws IllegalArgumentException if no workflow has this id, or {@code startStep} is out of that range;
     *     nothing is written then
     */
    public <O extends @Nullable Object> WorkflowHandle<O> fork(String workflowId, int startStep) {
        return engine.admin().fork(workflowId, startStep, ForkOptions.defaults());
    }

    /**
     * {@link #fork(String, int)} with the new workflow's id or queue chosen.
     *
     * @throws IllegalArgumentException if no workflow has this id, {@code startStep} is out of range, or the queue
     *     does not exist
     * @throws WorkflowConflictException if the new id is already used; nothing is written then
     */
    public <O extends @Nullable Object> WorkflowHandle<O> fork(String workflowId, int startStep,
            ForkOptions options) {
        return engine.admin().fork(workflowId, startStep, options);
    }

    /**
     * Runs a workflow again from the beginning, as a new workflow with the same name and input: a
     * {@linkplain #fork(String, int) fork} at step 1, which copies no checkpoint, so every step runs again. Unlike
     * {@link #resume}, it works whatever the original's status (also after {@code SUCCESS}), and leaves the original
     * as it is.
     *
     * @return a handle to the new workflow
     * @throws IllegalArgumentException if no workflow has this id
     */
    public <O extends @Nullable Object> WorkflowHandle<O> restart(String workflowId) {
        return fork(workflowId, 1);
    }

    /**
     * Deletes the workflows that ended ({@code SUCCESS}, {@code ERROR}, {@code CANCELLED}, {@code RETRIES_EXCEEDED})
     * more than {@code olderThan} ago, with their steps, messages, events and streams; waiting and running workflows
     * are never deleted. Works in batches of 1,000 workflows, each a short transaction of its own that skips rows in
     * use, until none is left (SQL: {@code tandem.delete_workflows}). For a regular clean-up, see
     * {@link TandemBuilder#retention}.
     *
     * @param olderThan zero or positive; zero deletes every ended workflow
     * @return how many workflows were deleted
     */
    public int deleteWorkflows(Duration olderThan) {
        return engine.admin().deleteWorkflows(olderThan);
    }

    /**
     * Decodes JSON from {@link WorkflowInfo} or {@link StepInfo} with this engine's object mapper: {@code
     * tandem.decode(info.outputJson(), Receipt.class)}. Null stays null.
     *
     * @throws IllegalArgumentException if the JSON does not bind to {@code type}
     */
    public <T> @Nullable T decode(@Nullable String json, Class<T> type) {
        return engine.admin().decode(json, type);
    }

    /**
     * Cron schedules of this database: create, list, pause, resume, delete, trigger and backfill them (see {@link
     * Schedules}). Every started executor runs their ticks, each tick exactly once across executors.
     */
    public Schedules schedules() {
        return new Schedules(engine);
    }

    /**
     * Stops the engine: waits up to the shutdown timeout for running executions, then interrupts them (they are
     * recovered from their checkpoints later, here or by another executor), and releases the connection pool Tandem
     * created itself. A {@code DataSource} passed to the builder is not closed.
     */
    @Override
    public void close() {
        try {
            engine.close();
        } finally {
            if (ownPool != null) {
                ownPool.close();
            }
        }
    }

    private final class RegisteredWorkflow<I, O extends @Nullable Object> implements Workflow<I, O> {
        private final String name;

        RegisteredWorkflow(String name) {
            this.name = name;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public WorkflowHandle<O> start(I input) {
            return engine.starting().start(name, input, StartOptions.defaults(), false);
        }

        @Override
        public WorkflowHandle<O> start(I input, StartOptions options) {
            return engine.starting().start(name, input, options, false);
        }

        @Override
        public WorkflowHandle<O> enqueue(java.sql.Connection tx, I input, EnqueueOptions options) {
            if (tx == null) {
                throw new IllegalArgumentException("tx must not be null; use enqueue(input, options) for a"
                        + " transaction of its own");
            }
            return engine.starting().enqueue(tx, name, input, options);
        }

        @Override
        public WorkflowHandle<O> enqueue(I input, EnqueueOptions options) {
            return engine.starting().enqueue(null, name, input, options);
        }

        @Override
        public O run(I input, StartOptions options) {
            return engine.starting().<I, O>start(name, input, options, true).result(RUN_WAIT);
        }

        @Override
        public String toString() {
            return "Workflow[" + name + "]";
        }
    }
}
