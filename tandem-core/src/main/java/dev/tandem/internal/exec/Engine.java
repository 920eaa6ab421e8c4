package dev.tandem.internal.exec;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.tandem.StartOptions;
import dev.tandem.TandemException;
import dev.tandem.WorkflowConflictException;
import dev.tandem.WorkflowFunction;
import dev.tandem.WorkflowHandle;
import dev.tandem.WorkflowStatus;
import dev.tandem.internal.db.Json;
import dev.tandem.internal.db.Migrator;
import dev.tandem.internal.db.Notifications;
import dev.tandem.internal.db.Rows.ClaimedRow;
import dev.tandem.internal.db.Rows.FinishRow;
import dev.tandem.internal.db.Rows.StartRow;
import dev.tandem.internal.db.Rows.WorkflowRow;
import dev.tandem.internal.db.SqlErrors;
import dev.tandem.internal.db.SystemDatabase;
import dev.tandem.internal.exec.ExecutionControl.Kind;
import java.net.InetAddress;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One executor: runs workflow executions, writes their checkpoints through the group committer, sends heartbeats,
 * and recovers executions orphaned by dead executors (or by its own previous incarnation, at start).
 *
 * <p>Ownership: a RUNNING workflow row names the executor that runs it. An executor writes checkpoints and final
 * statuses only for rows it owns, and recovery changes the owner atomically ({@code FOR UPDATE SKIP LOCKED}), so at
 * most one live executor works on an execution at a time; an executor that was presumed dead but is not (a long GC
 * pause) finds its writes refused and stops. Transactional steps do not even need that fence: their checkpoint's
 * primary key refuses a second commit of the same position.
 */
public final class Engine implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Engine.class);
    private static final Duration START_TIMEOUT = Duration.ofSeconds(30);
    private static final int RECOVERY_BATCH = 100;
    private static final int UNKNOWN_CHECK_ROUNDS = 10; // heartbeats between checks for workflows nobody runs

    private enum State { NEW, STARTED, STOPPING, STOPPED }

    private final EngineConfig config;
    private final SystemDatabase db;
    private final Json json;
    private final Admin admin;
    private final Scheduler scheduler;
    private final UUID incarnation = UUID.randomUUID();
    private final Map<String, RegisteredWorkflow<?, ?>> registry = new ConcurrentHashMap<>();
    private final Map<String, WorkflowExecution<?, ?>> running = new ConcurrentHashMap<>();
    /** How many of {@code running} came from each queue; a replay replaces its entry and keeps the count. */
    private final Map<String, AtomicInteger> runningPerQueue = new ConcurrentHashMap<>();
    private final ClassLoader classLoader;
    private volatile State state = State.NEW;
    private @Nullable GroupCommitter committer;
    private @Nullable ExecutorService workflowThreads;
    private @Nullable ScheduledExecutorService maintenance;
    private @Nullable QueueWorker queueWorker;
    private @Nullable ScheduledExecutorService timer;
    private @Nullable Waiters waiters;
    private @Nullable Notifications notifications;
    private @Nullable Thread queueThread;
    private long maintenanceRounds;
    private boolean databaseWarned;

    public Engine(EngineConfig config) {
        this.config = config;
        this.db = new SystemDatabase(config.dataSource());
        this.json = new Json(config.objectMapper());
        this.admin = new Admin(this, config.dataSource(), config.retention());
        this.scheduler = new Scheduler(config.dataSource());
        ClassLoader context = Thread.currentThread().getContextClassLoader();
        this.classLoader = context != null ? context : Engine.class.getClassLoader();
    }

    public String executorId() {
        return config.executorId();
    }

    SystemDatabase db() {
        return db;
    }

    /** Listing, fork and deletion of workflows (Tandem's operator methods). */
    public Admin admin() {
        return admin;
    }

    /** Cron schedules (Tandem.schedules()); the maintenance loop starts their ticks. */
    public Scheduler scheduler() {
        return scheduler;
    }

    /** The input type of workflow {@code name} as registered here, or null if this executor did not register it. */
    public @Nullable Class<?> inputType(String name) {
        RegisteredWorkflow<?, ?> workflow = registry.get(name);
        return workflow == null ? null : workflow.inputType();
    }

    Json json() {
        return json;
    }

    ClassLoader classLoader() {
        return classLoader;
    }

    GroupCommitter committer() {
        GroupCommitter c = committer;
        if (c == null) {
            throw new IllegalStateException("engine not started");
        }
        return c;
    }

    boolean isStopping() {
        return state != State.STARTED;
    }

    Waiters waiters() {
        Waiters w = waiters;
        if (w == null) {
            throw new IllegalStateException("the engine is not started; call Tandem.start() first");
        }
        return w;
    }

    /** Whether long waits give their thread back (platform threads) rather than block (virtual threads). */
    boolean parksWaits() {
        return !(config.virtualThreads() && WorkflowThreads.virtualThreadsAvailable());
    }

    // ---- registration and lifecycle ----

    public synchronized <I, O> void register(String name, Class<I> inputType, WorkflowFunction<I, O> function) {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("workflow name must not be null or blank");
        }
        if (inputType == null || function == null) {
            throw new IllegalArgumentException("workflow '" + name + "' needs a non-null input type and function");
        }
        if (state != State.NEW) {
            throw new IllegalStateException("cannot register workflow '" + name + "' after start(): register every"
                    + " workflow first, so that recovery at start finds them");
        }
        if (registry.putIfAbsent(name, new RegisteredWorkflow<>(name, boxed(inputType), function)) != null) {
            throw new IllegalArgumentException("a workflow named '" + name + "' is already registered;"
                    + " workflow names must be unique");
        }
    }

    /** {@code int.class} and the like stand for their boxes: inputs arrive as objects. */
    @SuppressWarnings("unchecked")
    private static <I> Class<I> boxed(Class<I> type) {
        return (Class<I>) java.lang.invoke.MethodType.methodType(type).wrap().returnType();
    }

    public synchronized void start() {
        if (state != State.NEW) {
            throw new IllegalStateException("this Tandem engine was already started"
                    + (state == State.STARTED ? "" : " and has been closed; build a new one"));
        }
        checkReachable();
        if (config.migrate()) {
            Migrator.migrate(db.dataSource());
        } else {
            Migrator.verify(db.dataSource());
        }
        try {
            db.registerExecutor(config.executorId(), incarnation, hostname(), ProcessHandle.current().pid(),
                    new ArrayList<>(registry.keySet()));
        } catch (SQLException e) {
            throw new TandemException("failed to register executor '" + config.executorId() + "': "
                    + e.getMessage(), e);
        }
        try {
            for (SystemDatabase.QueueRow queue : config.queues().values()) {
                db.upsertQueue(queue);
            }
        } catch (SQLException e) {
            throw new TandemException("failed to declare queues " + config.queues().keySet() + ": " + e.getMessage(), e);
        }
        committer = new GroupCommitter(db, config.executorId());
        ScheduledExecutorService timerThread = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "tandem-timer");
            t.setDaemon(true);
            return t;
        });
        timer = timerThread;
        Waiters w = new Waiters(timerThread, config.executorId());
        waiters = w;
        notifications = new Notifications(db.dataSource(), w);
        notifications.start();
        workflowThreads = WorkflowThreads.create(config.virtualThreads(), config.maxConcurrentWorkflows());
        state = State.STARTED;
        recoverOrphans(config.executorId()); // our previous incarnation's work first, then any dead executor's
        maintenance = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "tandem-maintenance");
            t.setDaemon(true);
            return t;
        });
        long period = config.heartbeatInterval().toMillis();
        maintenance.scheduleWithFixedDelay(this::maintain, period, period, TimeUnit.MILLISECONDS);
        if (!registry.isEmpty()) {
            QueueWorker worker = new QueueWorker(db, config.executorId(), new ArrayList<>(registry.keySet()),
                    config.pollInterval(), config.maxConcurrentWorkflows(), this::runningInQueue,
                    new QueueWorker.Sink() {
                        @Override
                        public void run(ClaimedRow row, String queue) {
                            RegisteredWorkflow<?, ?> workflow = registry.get(row.name());
                            if (workflow != null) {
                                resume(workflow, row.workflowId(), row.input(), row.attempts(), queue);
                            }
                        }

                        @Override
                        public boolean stopping() {
                            return isStopping();
                        }
                    });
            queueWorker = worker;
            queueThread = new Thread(worker, "tandem-queue-worker");
            queueThread.setDaemon(true);
            queueThread.start();
        }
        log.info("Tandem executor '{}' started ({} workflows registered, {})", config.executorId(), registry.size(),
                config.virtualThreads() && WorkflowThreads.virtualThreadsAvailable()
                        ? "virtual threads" : config.maxConcurrentWorkflows() + " workflow threads");
    }

    private void checkReachable() {
        try (Connection conn = db.connect()) {
            conn.isValid(5);
        } catch (SQLException e) {
            Throwable root = e;
            while (root.getCause() != null && root.getCause() != root) {
                root = root.getCause();
            }
            throw new TandemException("cannot connect to the database: " + e.getMessage()
                    + (root != e ? " (" + root.getMessage() + ")" : "")
                    + "; check that PostgreSQL is running and that the URL, user and password are right", e);
        }
    }

    private static String hostname() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (Exception e) {
            return "unknown";
        }
    }

    @Override
    public void close() {
        synchronized (this) {
            if (state != State.STARTED) {
                state = State.STOPPED;
                return;
            }
            state = State.STOPPING;
        }
        if (maintenance != null) {
            maintenance.shutdownNow();
        }
        if (waiters != null) {
            waiters.signalAll(); // waiting executions see the engine stopping and unwind
        }
        if (timer != null) {
            timer.shutdownNow(); // parked executions stay parked: recovered from their checkpoints later
        }
        if (queueThread != null) {
            try {
                queueThread.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (workflowThreads != null) {
            workflowThreads.shutdown();
            try {
                if (!workflowThreads.awaitTermination(config.shutdownTimeout().toMillis(), TimeUnit.MILLISECONDS)) {
                    log.info("{} workflows still running at shutdown; they will be recovered from their checkpoints",
                            running.size());
                    workflowThreads.shutdownNow();
                    workflowThreads.awaitTermination(5, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (committer != null) {
            committer.close();
        }
        if (notifications != null) {
            notifications.close();
        }
        for (WorkflowExecution<?, ?> e : running.values()) {
            e.outcome().complete(new Outcome.Unknown());
        }
        running.clear();
        try {
            db.expireExecutor(config.executorId(), incarnation); // others may take over what is left, now
        } catch (SQLException e) {
            log.debug("could not mark executor '{}' as stopped", config.executorId(), e);
        }
        state = State.STOPPED;
    }

    // ---- starting and finding executions ----

    /**
     * Starts an execution; with {@code inline} it then runs on the calling thread before this returns (if this call
     * started it), otherwise on a workflow thread.
     */
    public <I, O> WorkflowHandle<O> start(String name, I input, StartOptions options, boolean inline) {
        if (options == null) {
            throw new IllegalArgumentException("options must not be null; use StartOptions.defaults()");
        }
        @SuppressWarnings("unchecked")
        RegisteredWorkflow<I, O> workflow = (RegisteredWorkflow<I, O>) registry.get(name);
        if (workflow == null) {
            throw new IllegalArgumentException("unknown workflow '" + name + "'; register it before start()");
        }
        if (state != State.STARTED) {
            throw new IllegalStateException("cannot start workflow '" + name + "': the engine is "
                    + (state == State.NEW ? "not started yet; call Tandem.start() first" : "stopped"));
        }
        String inputJson = encodeInput(workflow, input);
        String id = options.workflowId() != null ? options.workflowId() : UUID.randomUUID().toString();

        WorkflowExecution<I, O> execution =
                new WorkflowExecution<>(this, workflow, id, input, false, null, new CompletableFuture<>());
        WorkflowExecution<?, ?> already = running.putIfAbsent(id, execution);
        if (already != null) {
            return existing(id, name, already);
        }
        boolean inserted;
        try {
            Long timeoutMillis = options.timeout() == null ? null : options.timeout().toMillis();
            inserted = committer().start(new StartRow(id, name, null, inputJson, timeoutMillis),
                    START_TIMEOUT.toNanos());
        } catch (GroupCommitter.WriteTimeoutException e) {
            drop(execution);
            throw new TandemException("the database did not confirm the start of workflow '" + id + "' within "
                    + START_TIMEOUT + " (is it reachable?); nothing was written, so starting it again is safe");
        } catch (SQLException | RuntimeException e) {
            drop(execution);
            throw new TandemException("failed to start workflow '" + id + "': " + e.getMessage(), e);
        }
        if (inserted) {
            if (inline) {
                execution.run();
            } else {
                dispatch(execution);
            }
            return new Handle<>(this, id, execution.outcome());
        }
        drop(execution); // the id existed before: whatever runs it, the database has its outcome
        WorkflowRow row = loadWorkflow(id);
        if (!row.name().equals(name)) {
            throw new WorkflowConflictException("workflow id '" + id + "' is already used by an execution of '"
                    + row.name() + "', not '" + name + "'; workflow ids must be unique across workflow types");
        }
        if (row.status().equals("RUNNING") && config.executorId().equals(row.executorId())
                && !running.containsKey(id)) {
            // Our own insert landed but its acknowledgement was lost and the retry found the row: run it.
            resume(workflow, row.workflowId(), row.input(), row.attempts(), null);
            WorkflowExecution<?, ?> now = running.get(id);
            return new Handle<>(this, id, now != null ? now.outcome() : null);
        }
        return new Handle<>(this, id, null);
    }

    /**
     * Forgets an execution this process will not run. Other callers may already hold a handle on it (they started the
     * same id at the same moment), so its outcome is completed as unknown: their handles then read the database.
     */
    private void drop(WorkflowExecution<?, ?> execution) {
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

    /** Checks a caller's input (not null, of the registered type, storable) and encodes it; writes nothing. */
    String encodeInput(RegisteredWorkflow<?, ?> workflow, @Nullable Object input) {
        String name = workflow.name();
        if (input == null) {
            throw new IllegalArgumentException("the input of workflow '" + name + "' must not be null");
        }
        if (!workflow.inputType().isInstance(input)) {
            throw new IllegalArgumentException("the input of workflow '" + name + "' must be a "
                    + workflow.inputType().getName() + " (was " + input.getClass().getName() + ")");
        }
        try {
            return json.write(input);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("the input of workflow '" + name + "' cannot be stored as JSON: "
                    + e.getOriginalMessage() + "; pass a value Jackson can serialize", e);
        }
    }

    private <O> WorkflowHandle<O> existing(String id, String name, WorkflowExecution<?, ?> execution) {
        if (!execution.name().equals(name)) {
            throw new WorkflowConflictException("workflow id '" + id + "' is already used by an execution of '"
                    + execution.name() + "', not '" + name + "'; workflow ids must be unique across workflow types");
        }
        return new Handle<>(this, id, execution.outcome());
    }

    public <O> WorkflowHandle<O> handle(String workflowId) {
        if (workflowId == null || workflowId.isBlank()) {
            throw new IllegalArgumentException("workflowId must not be null or blank");
        }
        WorkflowExecution<?, ?> local = running.get(workflowId);
        if (local != null) {
            return new Handle<>(this, workflowId, local.outcome());
        }
        loadWorkflow(workflowId); // fails clearly for an unknown id
        return new Handle<>(this, workflowId, null);
    }

    WorkflowRow loadWorkflow(String workflowId) {
        try {
            return db.loadWorkflow(workflowId).orElseThrow(() -> new IllegalArgumentException(
                    "no workflow with id '" + workflowId + "' exists"));
        } catch (SQLException e) {
            throw new TandemException("failed to read workflow '" + workflowId + "': " + e.getMessage(), e);
        }
    }

    @Nullable Object decodeOutput(WorkflowRow row) {
        try {
            return json.read(row.output(), row.outputType(), classLoader);
        } catch (JsonProcessingException | ClassNotFoundException e) {
            throw new TandemException("cannot rebuild the output of workflow '" + row.workflowId() + "' as "
                    + row.outputType() + ": " + e.getMessage(), e);
        }
    }

    private void dispatch(WorkflowExecution<?, ?> execution) {
        ExecutorService threads = workflowThreads;
        try {
            if (threads == null) {
                throw new RejectedExecutionException("no workflow threads");
            }
            threads.execute(execution::run);
        } catch (RejectedExecutionException e) {
            forget(execution);
            execution.outcome().complete(new Outcome.Unknown());
        }
    }

    // ---- the end of an execution ----

    void executionFinished(WorkflowExecution<?, ?> execution) {
        forget(execution);
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

    private int runningInQueue(String queue) {
        return queueCount(queue).get();
    }

    /** Runs one of the control functions (cancel, resume) for {@code workflowId}, mapping its errors. */
    public void control(String query, String action, String workflowId) {
        if (workflowId == null || workflowId.isBlank()) {
            throw new IllegalArgumentException("workflowId must not be null or blank");
        }
        try {
            db.control(query, workflowId);
        } catch (SQLException e) {
            throw controlFailure(action, workflowId, e);
        }
    }

    public void send(String workflowId, @Nullable String topic, Object message, @Nullable String idempotencyKey) {
        if (workflowId == null || workflowId.isBlank()) {
            throw new IllegalArgumentException("workflowId must not be null or blank");
        }
        if (topic != null && topic.isEmpty()) {
            throw new IllegalArgumentException("topic must not be empty; pass null for the default topic");
        }
        String messageJson;
        try {
            messageJson = json.write(message);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("the message to workflow '" + workflowId + "' cannot be stored as JSON: "
                    + e.getOriginalMessage(), e);
        }
        try {
            db.control("sendMessage", workflowId, messageJson, topic, idempotencyKey);
        } catch (SQLException e) {
            throw controlFailure("send a message to", workflowId, e);
        }
        Waiters w = waiters;
        if (w != null) {
            w.signal(workflowId, Waiters.MESSAGE); // a receiver in this process need not wait for the NOTIFY
        }
    }

    /** Cancels a workflow and, with {@code includeChildren}, its descendants. */
    public void cancel(String workflowId, boolean includeChildren) {
        if (workflowId == null || workflowId.isBlank()) {
            throw new IllegalArgumentException("workflowId must not be null or blank");
        }
        try {
            db.control("cancelWorkflowTree", workflowId, includeChildren);
        } catch (SQLException e) {
            throw controlFailure("cancel", workflowId, e);
        }
    }

    /**
     * The last value of event {@code key} of a workflow, waiting up to {@code timeout} for it to be set; null if it
     * is not set by then. Woken by the NOTIFY of the setEvent's commit, without polling.
     */
    public <T> @Nullable T getEvent(String workflowId, String key, Class<T> type, Duration timeout) {
        if (workflowId == null || workflowId.isBlank()) {
            throw new IllegalArgumentException("workflowId must not be null or blank");
        }
        if (key == null) {
            throw new IllegalArgumentException("event key must not be null");
        }
        if (type == null) {
            throw new IllegalArgumentException("the event's type must not be null");
        }
        if (timeout == null || timeout.isNegative()) {
            throw new IllegalArgumentException("timeout must be zero or positive (was " + timeout + ")");
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        Waiters.Wakeup wakeup = waiters().register(workflowId, Waiters.EVENT);
        try {
            while (true) {
                java.util.Optional<String> value;
                try {
                    value = db.getEvent(workflowId, key);
                } catch (SQLException e) {
                    throw new TandemException("failed to read event '" + key + "' of workflow '" + workflowId + "': "
                            + e.getMessage(), e);
                }
                if (value.isPresent()) {
                    return decode(value.get(), type, "event '" + key + "' of workflow '" + workflowId + "'");
                }
                if (!wakeup.await(deadline)) {
                    return null;
                }
                wakeup.reset();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TandemException("interrupted while waiting for event '" + key + "' of workflow '" + workflowId
                    + "'", e);
        } finally {
            wakeup.unregister();
        }
    }

    /** The values of stream {@code key} of a workflow, as they arrive; see {@code Tandem.readStream}. */
    public <T> java.util.stream.Stream<T> readStream(String workflowId, String key, Class<T> type) {
        if (workflowId == null || workflowId.isBlank()) {
            throw new IllegalArgumentException("workflowId must not be null or blank");
        }
        if (key == null) {
            throw new IllegalArgumentException("stream key must not be null");
        }
        if (type == null) {
            throw new IllegalArgumentException("the stream's value type must not be null");
        }
        loadWorkflow(workflowId); // an unknown id fails now, clearly
        StreamReader<T> reader = new StreamReader<>(this, workflowId, key, type);
        return java.util.stream.StreamSupport.stream(
                java.util.Spliterators.spliteratorUnknownSize(reader, java.util.Spliterator.ORDERED), false)
                .onClose(reader::close);
    }

    <T> T decode(String json, Class<T> type, String what) {
        try {
            return json.equals("null") ? null : this.json.mapper().readValue(json, type);
        } catch (JsonProcessingException e) {
            throw new TandemException("the " + what + " does not bind to " + type.getName() + ": "
                    + e.getOriginalMessage() + "; it is " + json, e);
        }
    }

    private static RuntimeException controlFailure(String action, String workflowId, SQLException e) {
        String state = e.getSQLState();
        if ("P0002".equals(state) || "22023".equals(state)) { // no_data_found, invalid_parameter_value
            return new IllegalArgumentException(e.getMessage(), e);
        }
        return new TandemException("failed to " + action + " workflow '" + workflowId + "': " + e.getMessage(), e);
    }

    /** Enqueues on the caller's connection (its transaction); see {@code Workflow.enqueue}. */
    public <I, O> WorkflowHandle<O> enqueue(@Nullable Connection tx, String name, I input,
            dev.tandem.EnqueueOptions options) {
        if (options == null) {
            throw new IllegalArgumentException("options must not be null; use EnqueueOptions.defaults()");
        }
        RegisteredWorkflow<?, ?> workflow = registry.get(name);
        if (workflow == null) {
            throw new IllegalArgumentException("unknown workflow '" + name + "'");
        }
        String inputJson = encodeInput(workflow, input);
        String id;
        try {
            if (tx != null) {
                id = enqueueOn(tx, name, inputJson, options);
            } else {
                try (Connection conn = db.connect()) {
                    // With a timeout, the enqueue and the timeout commit together (no claim between them).
                    conn.setAutoCommit(options.timeout() == null);
                    try {
                        id = enqueueOn(conn, name, inputJson, options);
                        if (options.timeout() != null) {
                            conn.commit();
                        }
                    } finally {
                        if (!conn.getAutoCommit()) {
                            conn.rollback(); // nothing left after a commit; undoes a failed enqueue
                            conn.setAutoCommit(true);
                        }
                    }
                }
            }
        } catch (SQLException e) {
            if ("23505".equals(e.getSQLState())) {
                throw new WorkflowConflictException(e.getMessage());
            }
            if ("22023".equals(e.getSQLState())) {
                throw new IllegalArgumentException(e.getMessage(), e);
            }
            throw new TandemException("failed to enqueue workflow '" + name + "': " + e.getMessage(), e);
        }
        return new Handle<>(this, id, null);
    }

    private String enqueueOn(Connection conn, String name, String inputJson, dev.tandem.EnqueueOptions o)
            throws SQLException {
        String id = db.enqueue(conn, name, inputJson, o.workflowId(), o.queueName(), o.priority(), o.deduplicationId(),
                o.partitionKey(), o.delay());
        if (o.timeout() != null) {
            db.setTimeout(conn, id, o.timeout().toMillis());
        }
        return id;
    }

    /** Called on the execution's own thread when it stopped without recording an outcome. */
    void executionStopped(WorkflowExecution<?, ?> execution, ExecutionControl control) {
        String id = execution.workflowId();
        switch (control.kind) {
            case STOP -> {
                if (!isStopping()) {
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
            case RESTART, DATABASE_UNAVAILABLE -> {
                log.warn("replaying workflow '{}' from its checkpoints: {}", id, control.getMessage());
                WorkflowRow row = awaitWorkflowRow(id);
                if (row == null || !row.status().equals("RUNNING") || !config.executorId().equals(row.executorId())) {
                    drop(execution);
                    return;
                }
                replay(execution);
            }
        }
    }

    private <I, O> void replay(WorkflowExecution<I, O> old) {
        WorkflowExecution<I, O> fresh = new WorkflowExecution<>(this, old.workflow(), old.workflowId(), old.input(),
                true, old.queueName(), old.outcome());
        running.put(old.workflowId(), fresh);
        dispatch(fresh);
    }

    /**
     * A parked execution is due (its wait's signal or deadline): replay it from the checkpoints it holds, unless it
     * was cancelled meanwhile (or the engine stops; then it is recovered later, like any unfinished workflow).
     */
    <I, O> void resumeParked(WorkflowExecution<I, O> parked, boolean cancelled) {
        if (isStopping() || running.get(parked.workflowId()) != parked) {
            return;
        }
        if (cancelled && !stillOwns(parked.workflowId())) {
            log.info("workflow '{}' was cancelled while it waited", parked.workflowId());
            drop(parked);
            return;
        }
        WorkflowExecution<I, O> fresh = new WorkflowExecution<>(this, parked.workflow(), parked.workflowId(),
                parked.input(), true, parked.queueName(), parked.outcome(), parked.checkpoints());
        fresh.continueFrom(parked);
        if (running.replace(parked.workflowId(), parked, fresh)) {
            dispatch(fresh);
        }
    }

    /** Whether this executor still owns the RUNNING workflow (a database error counts as yes: the next write tells). */
    boolean stillOwns(String workflowId) {
        try {
            return db.workflowState(workflowId)
                    .map(s -> s.status().equals("RUNNING") && config.executorId().equals(s.executorId()))
                    .orElse(false);
        } catch (SQLException e) {
            return true;
        }
    }

    @SuppressWarnings("unchecked")
    <I, O> RegisteredWorkflow<I, O> registered(String name) {
        RegisteredWorkflow<I, O> workflow = (RegisteredWorkflow<I, O>) registry.get(name);
        if (workflow == null) {
            throw new IllegalArgumentException("unknown workflow '" + name + "'; register it before start()");
        }
        return workflow;
    }

    /**
     * Runs a child its parent just started on this executor ({@code inserted}); a child that existed already runs
     * wherever it runs, or, if this executor owns it and is not running it (its start's acknowledgement was lost),
     * here. Returns a handle to it.
     */
    <I, O> Handle<O> runChild(RegisteredWorkflow<I, O> workflow, String childId, I input, boolean inserted) {
        if (!inserted) {
            try {
                var state = db.workflowState(childId);
                inserted = state.isPresent() && state.get().status().equals("RUNNING")
                        && config.executorId().equals(state.get().executorId()) && !running.containsKey(childId);
            } catch (SQLException e) {
                throw new TandemException("failed to read child workflow '" + childId + "': " + e.getMessage(), e);
            }
        }
        if (inserted) {
            WorkflowExecution<I, O> execution = new WorkflowExecution<>(this, workflow, childId, input, false, null,
                    new CompletableFuture<>());
            if (running.putIfAbsent(childId, execution) == null) {
                dispatch(execution);
            }
        }
        return childHandle(childId);
    }

    /** A handle to a workflow known to exist (a recorded child), without reading it. */
    <O> Handle<O> childHandle(String childId) {
        WorkflowExecution<?, ?> local = running.get(childId);
        return new Handle<>(this, childId, local != null ? local.outcome() : null);
    }

    /** Reads the workflow row, waiting for the database to come back; null if the engine stops first. */
    private @Nullable WorkflowRow awaitWorkflowRow(String id) {
        long backoff = 50;
        while (!isStopping()) {
            try {
                return db.loadWorkflow(id).orElse(null);
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

    // ---- heartbeat and recovery ----

    private void maintain() {
        try {
            if (!db.heartbeat(config.executorId(), incarnation)) {
                log.warn("executor '{}' lost its registration (another process with the same executorId, or a long"
                        + " outage); registering again. Give every process its own executorId.", config.executorId());
                db.registerExecutor(config.executorId(), incarnation, hostname(), ProcessHandle.current().pid(),
                    new ArrayList<>(registry.keySet()));
            }
            recoverOrphans(null);
            scheduler.runDue();
            for (String expired : db.expireDeadlines()) {
                log.info("workflow '{}' passed its deadline and was cancelled", expired);
                waiters().signal(expired, Waiters.CANCEL);
            }
            if (maintenanceRounds % UNKNOWN_CHECK_ROUNDS == 0) {
                checkUnknownWorkflows();
            }
            if (++maintenanceRounds % 600 == 0) {
                Duration silence = Duration.ofHours(1).compareTo(config.executorTimeout().multipliedBy(10)) > 0
                        ? Duration.ofHours(1) : config.executorTimeout().multipliedBy(10);
                db.forgetDeadExecutors(silence);
            }
            admin.applyRetention(config.heartbeatInterval().dividedBy(2)); // leaves the heartbeat its pace
            if (databaseWarned) {
                log.info("database reachable again; executor '{}' carries on", config.executorId());
                databaseWarned = false;
            }
        } catch (Exception | Error e) { // an Error must not end the scheduled task: heartbeats would stop silently
            if (!databaseWarned || !SqlErrors.isConnectionError(e)) {
                log.warn("executor '{}' maintenance failed (heartbeat/recovery), will retry: {}",
                        config.executorId(), e.getMessage());
            }
            databaseWarned = true;
        }
    }

    /** Warns about waiting workflows nobody runs, and fails those that waited longer than the configured time. */
    private void checkUnknownWorkflows() throws SQLException {
        Duration alive = config.executorTimeout();
        for (String failed : db.failUnknownWorkflows(config.unknownWorkflowTimeout(), alive)) {
            log.error("workflow {} ended ERROR: no running executor registered its name within {}", failed,
                    config.unknownWorkflowTimeout());
        }
        db.unknownWaiting(alive).forEach((name, count) -> log.warn("{} workflows named '{}' are waiting, but no running"
                + " executor has registered that name; they fail after {} unless one does", count, name,
                config.unknownWorkflowTimeout()));
    }

    /**
     * Claims and resumes orphaned executions, in batches until none is left.
     *
     * @param previousIncarnation this executor's id at start (its own earlier incarnation's work is orphaned), else null
     */
    private void recoverOrphans(@Nullable String previousIncarnation) {
        List<String> names = new ArrayList<>(registry.keySet());
        if (names.isEmpty()) {
            return;
        }
        while (state == State.STARTED) {
            List<ClaimedRow> claimed;
            try {
                claimed = db.claimOrphans(config.executorId(), names, previousIncarnation, config.executorTimeout(),
                        RECOVERY_BATCH);
            } catch (SQLException e) {
                throw new TandemException("recovery failed: " + e.getMessage(), e);
            }
            for (ClaimedRow row : claimed) {
                RegisteredWorkflow<?, ?> workflow = registry.get(row.name());
                if (workflow == null || running.containsKey(row.workflowId())) {
                    continue;
                }
                log.info("recovering workflow '{}' ({}), attempt {}", row.workflowId(), row.name(), row.attempts());
                resume(workflow, row.workflowId(), row.input(), row.attempts(), row.queueName());
            }
            if (claimed.size() < RECOVERY_BATCH) {
                return;
            }
        }
    }

    /** Ends a workflow this executor claimed without running it; if that fails, the next recovery tries again. */
    private void finishClaimed(FinishRow row) {
        try {
            committer().write(List.of(), row);
        } catch (SQLException | RuntimeException e) {
            log.warn("could not record the end of workflow '{}': {}", row.workflowId(), e.getMessage());
        }
    }

    /** Runs an execution this executor owns in the database, from its checkpoints. */
    private <I, O> void resume(RegisteredWorkflow<I, O> workflow, String id, @Nullable String inputJson, int attempts,
            @Nullable String queueName) {
        if (attempts > config.maxRecoveryAttempts() + 1) {
            String message = "workflow '" + id + "' was started or recovered " + attempts + " times without"
                    + " finishing (maxRecoveryAttempts is " + config.maxRecoveryAttempts() + "); it is no longer"
                    + " retried. Fix the cause, then resume it.";
            log.error(message);
            finishClaimed(new FinishRow(id, WorkflowStatus.RETRIES_EXCEEDED.name(), null, null,
                    json.error(TandemException.class.getName(), message, null)));
            return;
        }
        I input;
        try {
            input = bindInput(inputJson, workflow.inputType());
        } catch (JsonProcessingException e) {
            String message = "the input of workflow '" + id + "' (" + workflow.name() + ") does not bind to "
                    + workflow.inputType().getName() + ": " + e.getOriginalMessage() + "; input was " + inputJson;
            log.error(message);
            finishClaimed(new FinishRow(id, WorkflowStatus.ERROR.name(), null, null,
                    json.error(IllegalArgumentException.class.getName(), message, null)));
            return;
        }
        // A first run (attempts 1) has no checkpoints to load: one query saved per dequeued workflow.
        WorkflowExecution<I, O> execution = new WorkflowExecution<>(this, workflow, id, input, attempts > 1,
                queueName, new CompletableFuture<>());
        if (running.putIfAbsent(id, execution) == null) {
            if (queueName != null) {
                queueCount(queueName).incrementAndGet();
            }
            dispatch(execution);
        }
    }

    /**
     * Binds stored JSON to the input type. SQL callers pass arguments as an array ({@code '[42]'}), so a one-element
     * array is unwrapped unless the input type is itself an array or a collection.
     */
    private <I> I bindInput(@Nullable String inputJson, Class<I> type) throws JsonProcessingException {
        com.fasterxml.jackson.databind.JsonNode node = json.mapper().readTree(inputJson == null ? "null" : inputJson);
        boolean takesArray = type.isArray() || java.util.Collection.class.isAssignableFrom(type)
                || type == Object.class || com.fasterxml.jackson.databind.JsonNode.class.isAssignableFrom(type);
        if (node.isArray() && node.size() == 1 && !takesArray) {
            node = node.get(0);
        }
        I input = json.mapper().treeToValue(node, type);
        if (input == null) {
            throw com.fasterxml.jackson.databind.exc.MismatchedInputException.from(null, type,
                    "the input is null, and workflows need an input");
        }
        return input;
    }
}
