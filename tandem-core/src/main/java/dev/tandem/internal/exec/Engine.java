package dev.tandem.internal.exec;

import dev.tandem.TandemException;
import dev.tandem.WorkflowFunction;
import dev.tandem.WorkflowHandle;
import dev.tandem.WorkflowClock;
import com.zaxxer.hikari.HikariDataSource;
import dev.tandem.internal.db.AppVersion;
import dev.tandem.internal.db.EnginePool;
import dev.tandem.internal.db.Json;
import dev.tandem.internal.db.Notifications;
import dev.tandem.internal.db.Rows.ClaimedRow;
import dev.tandem.internal.db.QueueStore;
import dev.tandem.internal.db.SystemDatabase;
import dev.tandem.internal.observe.Telemetry;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One executor, and the composition root of its parts: it builds them, starts and stops them in order, and holds the
 * registry of workflows. The work itself is done by the parts:
 *
 * <ul>
 *   <li>{@link Starting}: start and enqueue; {@link Control}: cancel, resume, send, getEvent, readStream;
 *   <li>{@link Executions}: the executions this executor runs and every transition of their lives; {@link Resuming}:
 *       runs the workflows it claimed (from a queue, a dead executor or reconciliation);
 *   <li>{@link GroupCommitter}: their starts, checkpoints and final statuses, many per commit;
 *   <li>{@link Maintenance}: heartbeat, recovery of dead executors' work, reconciliation of this executor's own rows,
 *       deadlines, cron, unknown workflows, retention;
 *   <li>{@link QueueWorker}: claims from queues; {@link Waiters} and {@code Notifications}: waits and wake-ups.
 *   <li>{@link StartupChecks} and {@link Stopping}: what start and close wait on; {@link WorkflowReads}: reading a
 *       workflow's row for handles.
 * </ul>
 *
 * <p>Ownership: a RUNNING workflow row names its owner (executor id, incarnation, and an ownership epoch that every
 * change of owner increments). An execution writes only while the row still carries its epoch, so at most one
 * execution commits for a workflow at a time; one that was presumed dead but is not (a long GC pause), or that runs
 * in a second process started with the same executor id, finds its writes refused and stops. Transactional steps do
 * not even need that fence for exactly-once: their checkpoint's primary key refuses a second commit of a position.
 */
public final class Engine implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Engine.class);

    private enum State { NEW, STARTED, STOPPING, STOPPED }

    private final EngineConfig config;
    private final EngineHooks hooks;
    private final HikariDataSource enginePool;
    private final SystemDatabase db;
    private final Json json;
    private final Admin admin;
    private final Scheduler scheduler;
    private final Executions executions;
    private final Resuming resuming;
    private final Starting starting;
    private final Control control;
    private final Maintenance maintenance;
    private final Instrumentation instrumentation;
    private final WorkflowReads reads;
    private final UUID incarnation = UUID.randomUUID();
    private final Map<String, RegisteredWorkflow<?, ?>> registry = new ConcurrentHashMap<>();
    private volatile @Nullable AppVersion appVersion;
    private final ClassLoader classLoader;
    private volatile State state = State.NEW;
    private @Nullable GroupCommitter committer;
    private @Nullable ExecutorService workflowThreads;
    private @Nullable ScheduledExecutorService timer;
    private @Nullable Waiters waiters;
    private @Nullable Notifications notifications;
    private @Nullable Thread queueThread;
    private WorkflowClock.Subscription clockSubscription = () -> { };

    public Engine(EngineConfig config) {
        this(config, EngineHooks.NONE);
    }

    public Engine(EngineConfig config, EngineHooks hooks) {
        this.config = config;
        this.hooks = hooks;
        this.enginePool = EnginePool.create(config.dataSource(), config.executorId());
        this.db = new SystemDatabase(config.dataSource(), enginePool);
        this.json = new Json(config.objectMapper());
        this.instrumentation = new Instrumentation(config.telemetry());
        this.admin = new Admin(this, config.dataSource(), config.retention());
        this.scheduler = new Scheduler(config.dataSource());
        this.executions = new Executions(this, db);
        this.resuming = new Resuming(this, executions);
        this.starting = new Starting(this, db, executions, resuming);
        this.control = new Control(this, db);
        this.maintenance = new Maintenance(this, config, db, executions, resuming);
        ClassLoader context = Thread.currentThread().getContextClassLoader();
        this.classLoader = context != null ? context : Engine.class.getClassLoader();
        this.reads = new WorkflowReads(db, json, classLoader);
    }

    public String executorId() {
        return config.executorId();
    }

    /** This process's incarnation: the rows it takes carry it, so it reconciles only its own. */
    UUID incarnation() {
        return incarnation;
    }

    /** The application's DataSource, which holds schema {@code tandem} beside the application's tables. */
    public javax.sql.DataSource dataSource() {
        return db.dataSource();
    }

    SystemDatabase db() {
        return db;
    }

    /** Traces and metrics ({@code Telemetry.NONE} unless the application configured them). */
    Telemetry telemetry() {
        return instrumentation.telemetry();
    }

    Instrumentation instrumentation() {
        return instrumentation;
    }

    EngineConfig config() {
        return config;
    }

    /** The time workflows see (WorkflowClock.system() unless the builder was given another). */
    WorkflowClock clock() {
        return config.clock();
    }

    /** The application's transaction hooks ({@code EngineHooks.NONE} unless the builder was given some). */
    EngineHooks hooks() {
        return hooks;
    }

    /** Start and enqueue (Tandem's and Workflow's methods of those names). */
    public Starting starting() {
        return starting;
    }

    /** Cancel, resume, send, getEvent, readStream (Tandem's methods of those names). */
    public Control control() {
        return control;
    }

    Executions executions() {
        return executions;
    }

    Resuming resuming() {
        return resuming;
    }

    Map<String, RegisteredWorkflow<?, ?>> registry() {
        return registry;
    }

    List<String> workflowNames() {
        return new ArrayList<>(registry.keySet());
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

    /** Reading a workflow's row, and rebuilding the values it stores as JSON. */
    WorkflowReads reads() {
        return reads;
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

    void checkStarted(String action) {
        if (state != State.STARTED) {
            throw new IllegalStateException("cannot " + action + ": the engine is "
                    + (state == State.NEW ? "not started yet; call Tandem.start() first" : "stopped"));
        }
    }

    /** The waiters, or null before start. */
    @Nullable Waiters waitersIfStarted() {
        return waiters;
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
        if (registry.putIfAbsent(name, RegisteredWorkflow.of(name, inputType, function)) != null) {
            throw new IllegalArgumentException("a workflow named '" + name + "' is already registered;"
                    + " workflow names must be unique");
        }
    }

    public synchronized void start() {
        if (state != State.NEW) {
            throw new IllegalStateException("this Tandem engine was already started"
                    + (state == State.STARTED ? "" : " and has been closed; build a new one"));
        }
        try {
            startParts();
        } catch (RuntimeException | Error e) {
            // Whatever was started stops again: no thread may be left running without a heartbeat or queue worker.
            log.error("Tandem executor '{}' failed to start: {}", config.executorId(), e.getMessage());
            if (state == State.STARTED) {
                close();
            } else {
                stopParts();
                enginePool.close();
                state = State.STOPPED;
            }
            throw e;
        }
    }

    private void startParts() {
        StartupChecks.checkReachable(db);
        StartupChecks.checkSchema(config, db);
        appVersion = new AppVersion(config.appVersion() != null ? config.appVersion()
                : AppVersions.derive(registry.values()), config.compatibleWith());
        log.info("Tandem executor '{}' runs application version {}{}", config.executorId(), appVersion.version(),
                appVersion.compatibleWith().isEmpty() ? "" : " (and versions " + appVersion.compatibleWith() + ")");
        try {
            registerExecutor();
        } catch (SQLException e) {
            throw new TandemException("failed to register executor '" + config.executorId() + "': "
                    + e.getMessage(), e);
        }
        try {
            for (QueueStore.QueueRow queue : config.queues().values()) {
                db.queues().upsertQueue(queue);
            }
        } catch (SQLException e) {
            throw new TandemException("failed to declare queues " + config.queues().keySet() + ": " + e.getMessage(), e);
        }
        committer = new GroupCommitter(db, config.executorId(), incarnation, config.telemetry());
        ScheduledExecutorService timerThread = Maintenance.daemonScheduler("tandem-timer");
        timer = timerThread;
        Waiters w = new Waiters(timerThread, config.executorId());
        waiters = w;
        notifications = new Notifications(db.engineDataSource(), w);
        notifications.start();
        ExecutorService threads = WorkflowThreads.create(config.virtualThreads(), config.maxConcurrentWorkflows());
        workflowThreads = threads;
        executions.attach(threads, timerThread);
        state = State.STARTED;
        clockSubscription = config.clock().onJump(maintenance::timeJumped);
        maintenance.recoverPreviousIncarnation(); // our previous incarnation's work first
        maintenance.start();
        if (!registry.isEmpty()) {
            QueueWorker worker = new QueueWorker(db, config.executorId(), incarnation, appVersion(), workflowNames(),
                    config.pollInterval(), config.maxConcurrentWorkflows(), executions::runningInQueue, config.clock(),
                    new QueueWorker.Sink() {
                        @Override
                        public void run(ClaimedRow row, String queue) {
                            resuming.resumeClaimed(row, queue, "queue");
                        }

                        @Override
                        public boolean stopping() {
                            return isStopping();
                        }
                    }, executions.handover().readLock());
            executions.attach(worker);
            queueThread = new Thread(worker, "tandem-queue-worker");
            queueThread.setDaemon(true);
            queueThread.start();
        }
        log.info("Tandem executor '{}' started ({} workflows registered, {})", config.executorId(), registry.size(),
                config.virtualThreads() && WorkflowThreads.virtualThreadsAvailable()
                        ? "virtual threads" : config.maxConcurrentWorkflows() + " workflow threads");
    }

    /** Registers this executor (and the workflow names it runs) in tandem.executors. */
    void registerExecutor() throws SQLException {
        db.executors().registerExecutor(config.executorId(), incarnation, workflowNames(), appVersion());
    }

    /** This executor's application version: configured, or derived at start from the registered workflows. */
    public AppVersion appVersion() {
        AppVersion version = appVersion;
        if (version == null) {
            throw new IllegalStateException("the application version is known once the engine has started");
        }
        return version;
    }

    /**
     * Stops the executor within {@code shutdownTimeout} (plus a few seconds for threads that ignore interrupts):
     * running executions get until then to finish, then are interrupted and left to be recovered from their
     * checkpoints; the heartbeat goes on until they have stopped, so that no other executor takes them over while
     * they still run here.
     */
    @Override
    public void close() {
        synchronized (this) {
            if (state != State.STARTED) {
                state = State.STOPPED;
                enginePool.close();
                return;
            }
            state = State.STOPPING;
        }
        stopParts();
        Stopping.expireExecutor(db, config.executorId(), incarnation);
        enginePool.close();
        state = State.STOPPED;
    }

    /** Stops every part that was started, in order; safe to call on a partly started engine. */
    private void stopParts() {
        Stopping stopping = new Stopping(config.shutdownTimeout());
        clockSubscription.close();
        maintenance.stopMaintenance();
        if (waiters != null) {
            waiters.signalAll(); // waiting executions see the engine stopping and unwind
        }
        if (timer != null) {
            timer.shutdownNow(); // parked executions stay parked: recovered from their checkpoints later
        }
        if (queueThread != null) {
            stopping.joinQueueWorker(queueThread);
        }
        if (workflowThreads != null) {
            stopping.drainWorkflowThreads(workflowThreads, committer, executions);
        }
        maintenance.stopHeartbeat(); // only now: until the executions stopped, nobody may take them over
        if (committer != null) {
            committer.close(Math.max(1000, stopping.millisLeft()));
        }
        if (notifications != null) {
            notifications.close();
        }
        executions.abandonAll();
    }

    // ---- finding workflows ----

    public <O> WorkflowHandle<O> handle(String workflowId) {
        if (workflowId == null || workflowId.isBlank()) {
            throw new IllegalArgumentException("workflowId must not be null or blank");
        }
        WorkflowExecution<?, ?> local = executions.local(workflowId);
        if (local != null) {
            return new Handle<>(this, workflowId, local.outcome());
        }
        reads.loadWorkflow(workflowId); // fails clearly for an unknown id
        return new Handle<>(this, workflowId, null);
    }

    @SuppressWarnings("unchecked")
    <I, O> RegisteredWorkflow<I, O> registered(String name) {
        RegisteredWorkflow<I, O> workflow = (RegisteredWorkflow<I, O>) registry.get(name);
        if (workflow == null) {
            throw new IllegalArgumentException("unknown workflow '" + name + "'; register it before start()");
        }
        return workflow;
    }

}
