package dev.tandem.test;

import dev.tandem.Tandem;
import dev.tandem.TandemBuilder;
import dev.tandem.TandemException;
import dev.tandem.Workflow;
import dev.tandem.WorkflowFunction;
import dev.tandem.WorkflowHandle;
import dev.tandem.WorkflowStatus;
import dev.tandem.internal.db.Json;
import dev.tandem.internal.db.Queries;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;

/**
 * One test's Tandem: an engine on the test class's own database, with a {@link TestClock}, the workflows the test
 * registers, and helpers to wait, assert, crash and recover. Given to test methods by {@link TandemTest}; closed
 * after each test, which also empties schema {@code tandem} for the next one.
 *
 * <pre>{@code
 * @TandemTest
 * class ApprovalTest {
 *     @Test
 *     void remindsThenApproves(TandemKit kit) {
 *         Workflow<String, String> approval = kit.register("approval", String.class, Approval::run);
 *         kit.clock().autoSkip();                      // sleeps, timeouts and cron ticks pass at once
 *         WorkflowHandle<String> h = approval.start("doc-7");
 *         kit.assertWorkflow(h.workflowId()).succeededWith("approved");
 *     }
 * }
 * }</pre>
 *
 * <p>The engine starts at the first {@link #tandem()} or at the first start of a workflow, so register every
 * workflow first. Its settings suit tests (a heartbeat every 100 ms, a short shutdown); {@link #configure} changes
 * them.
 */
public final class TandemKit implements AutoCloseable {
    static final Queries SQL = Queries.load(TandemKit.class, "/dev/tandem/test/kit.sql");
    private static final Duration DEFAULT_WAIT = Duration.ofSeconds(30);

    private final TestDatabase database;
    private final String executorId;
    private final List<Consumer<TandemBuilder>> settings = new ArrayList<>();
    private final Map<String, Registration<?, ?>> registrations = new LinkedHashMap<>();
    private final CrashPoint crashes = new CrashPoint();
    private @Nullable Tandem tandem;
    private @Nullable CuttableDataSource engineDataSource;
    private final Map<String, Workflow<?, ?>> registered = new LinkedHashMap<>();
    private boolean closed;
    private final Map<String, AtomicInteger> stepRuns = new ConcurrentHashMap<>();

    TandemKit(TestDatabase database, String executorId) {
        this.database = database;
        this.executorId = executorId;
    }

    /** The test database (a pool of its own; the engine's connections are apart from it). */
    public DataSource dataSource() {
        return database.dataSource();
    }

    /** The test database's JDBC URL, for tools that open their own connections. */
    public String databaseUrl() {
        return database.url();
    }

    /** The time the engine's workflows see; see {@link TestClock}. */
    public TestClock clock() {
        return database.clock();
    }

    /** Changes the engine's settings (queues, retention, timeouts, ...); before it starts. */
    public synchronized TandemKit configure(Consumer<TandemBuilder> setting) {
        if (setting == null) {
            throw new IllegalArgumentException("configure needs a setting, not null");
        }
        requireNotStarted("configure");
        settings.add(setting);
        return this;
    }

    /**
     * Registers a workflow with the engine (before it starts), as {@link Tandem#register} does. The workflow returned
     * stays valid across {@link #restart}s: it always starts on the current engine.
     */
    public synchronized <I, O extends @Nullable Object> Workflow<I, O> register(String name, Class<I> inputType,
            WorkflowFunction<I, O> function) {
        requireNotStarted("register");
        if (name == null || inputType == null || function == null) {
            throw new IllegalArgumentException("register needs a name, an input type and a function (got " + name
                    + ", " + inputType + ", " + function + ")");
        }
        if (registrations.containsKey(name)) {
            throw new IllegalArgumentException("workflow '" + name + "' is registered already in this test");
        }
        registrations.put(name, new Registration<>(name, inputType, function));
        return new KitWorkflow<>(this, name);
    }

    /** The engine, started now if it has not been. */
    public synchronized Tandem tandem() {
        if (closed) {
            throw new IllegalStateException("this TandemKit is closed (its test has ended)");
        }
        if (tandem == null) {
            start();
        }
        return tandem;
    }

    /**
     * The executor dies, now: every connection it holds is cut (the server rolls back what was open, as when a
     * process is killed), nothing it does from here on reaches the database, and its threads are stopped. Its
     * unfinished workflows stay RUNNING in the database until {@link #restart}. A plain step whose checkpoint had
     * not been written yet runs again after the restart: plain steps are at least once, transactional steps
     * exactly once.
     */
    public synchronized void crash() {
        Tandem dying = tandem;
        CuttableDataSource cut = engineDataSource;
        if (dying == null || cut == null) {
            throw new IllegalStateException("no engine is running to crash");
        }
        cut.cut();
        tandem = null;
        engineDataSource = null;
        registered.clear();
        // Its threads stop in the background (a few seconds of timeouts on a database it cannot reach, which it can
        // never touch again): a restarted process does not wait for its killed predecessor either.
        Thread closer = new Thread(dying::close, "tandem-test-crashed-engine");
        closer.setDaemon(true);
        closer.start();
    }

    /**
     * Starts a new engine with the same executor id and the same workflows, as a restarted process would: it
     * resumes the unfinished workflows of the previous one from their checkpoints at once. Crashes the running
     * engine first if there is one.
     */
    public synchronized Tandem restart() {
        if (tandem != null) {
            crash();
        }
        return tandem();
    }

    /**
     * Makes the executor crash (see {@link #crash}) right after the next time any workflow's code returns from a
     * step or transaction named {@code stepName}: its effects have happened; a transactional step has committed
     * with its checkpoint; a plain step's checkpoint is not written yet. {@link #awaitCrash} waits for it.
     */
    public void crashAfterStep(String stepName) {
        if (stepName == null || stepName.isBlank()) {
            throw new IllegalArgumentException("crashAfterStep needs a step name");
        }
        crashes.arm(stepName);
    }

    /** Waits until the crash asked for by {@link #crashAfterStep} has happened. */
    public void awaitCrash(Duration timeout) {
        if (!crashes.await(timeout)) {
            throw new AssertionError("no workflow finished step '" + crashes.armedStep() + "' within " + timeout
                    + ", so the executor did not crash");
        }
    }

    /** Waits (up to 30 s) until workflow {@code workflowId} has {@code status}; see {@link #awaitStatus(String,
     * WorkflowStatus, Duration)}. */
    public void awaitStatus(String workflowId, WorkflowStatus status) {
        awaitStatus(workflowId, status, DEFAULT_WAIT);
    }

    /**
     * Waits until workflow {@code workflowId} has {@code status}. Time on the test clock only passes by
     * {@link TestClock#advance} or auto-skip, so a workflow that sleeps needs one of them.
     */
    public void awaitStatus(String workflowId, WorkflowStatus status, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        WorkflowStatus last = null;
        while (true) {
            last = assertWorkflow(workflowId).status();
            if (last == status) {
                return;
            }
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("workflow '" + workflowId + "' is " + last + ", not " + status + ", after "
                        + timeout + "; it is waiting on: " + waitingOn(workflowId));
            }
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted while waiting for workflow '" + workflowId + "'", e);
            }
        }
    }

    /** Assertions on workflow {@code workflowId}, read from the database when each is checked. */
    public WorkflowAssert assertWorkflow(String workflowId) {
        if (workflowId == null) {
            throw new IllegalArgumentException("assertWorkflow needs a workflow id, not null");
        }
        return new WorkflowAssert(this, workflowId);
    }

    /** Assertions on the workflow of {@code handle}. */
    public WorkflowAssert assertWorkflow(WorkflowHandle<?> handle) {
        return assertWorkflow(handle.workflowId());
    }

    /**
     * What workflow {@code workflowId} is waiting on, in words: "sleep until 2026-12-01T10:00:00Z", "message on
     * topic 'approval' until ...", "child 'order-1-3'", "queue", "delay until ...", "nothing: running", or its final
     * status ("ended SUCCESS").
     */
    public String waitingOn(String workflowId) {
        return assertWorkflow(workflowId).waitingOn();
    }

    /** Stops the engine (orderly), turns auto-skip off, and empties schema {@code tandem} for the next test. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        clock().stopAutoSkip();
        crashes.disarm();
        if (tandem != null) {
            tandem.close();
            tandem = null;
        }
        try (Connection conn = database.dataSource().getConnection(); Statement st = conn.createStatement()) {
            st.execute(SQL.get("reset"));
        } catch (SQLException e) {
            throw new TandemException("could not empty schema tandem after the test: " + e.getMessage(), e);
        }
        database.clock().resetAfterTest();
    }

    /** Decodes a stored output with the engine's JSON mapping, or the default one if no engine runs here. */
    <T> @Nullable T decode(@Nullable String json, Class<T> type) {
        Tandem engine;
        synchronized (this) {
            engine = tandem;
        }
        if (engine != null) {
            return engine.decode(json, type);
        }
        try {
            return json == null ? null : Json.defaultMapper().readValue(json, type);
        } catch (java.io.IOException e) {
            throw new AssertionError("output " + json + " does not read as " + type.getName() + ": " + e.getMessage(), e);
        }
    }

    /** The current engine's registration of {@code name} (starting the engine if needed). */
    @SuppressWarnings("unchecked")
    synchronized <I, O extends @Nullable Object> Workflow<I, O> current(String name) {
        tandem();
        return (Workflow<I, O>) registered.get(name);
    }

    void stepRan(String workflowId, String stepName) {
        stepRuns.computeIfAbsent(workflowId + '\n' + stepName, k -> new AtomicInteger()).incrementAndGet();
    }

    /** How many times the code of step {@code stepName} of workflow {@code workflowId} ran in this test. */
    int stepRuns(String workflowId, String stepName) {
        AtomicInteger runs = stepRuns.get(workflowId + '\n' + stepName);
        return runs == null ? 0 : runs.get();
    }

    void stepFinished(String stepName) {
        if (crashes.take(stepName)) {
            CuttableDataSource cut = engineDataSource;
            if (cut != null) {
                cut.cut(); // at once, on the workflow's thread: nothing it does next reaches the database
            }
            Thread closer = new Thread(() -> {
                synchronized (this) {
                    if (tandem != null && engineDataSource == cut) {
                        crash();
                    }
                }
                crashes.happened();
            }, "tandem-test-crash");
            closer.start();
            throw new ExecutorCrashed(stepName);
        }
    }

    private void start() {
        CuttableDataSource ds = new CuttableDataSource(database.dataSource());
        TandemBuilder builder = Tandem.builder()
                .dataSource(ds)
                .executorId(executorId)
                .clock(database.clock())
                .heartbeatInterval(Duration.ofMillis(100))
                .executorTimeout(Duration.ofSeconds(1))
                .shutdownTimeout(Duration.ofMillis(500))
                .pollInterval(Duration.ofMillis(200));
        for (Consumer<TandemBuilder> setting : settings) {
            setting.accept(builder);
        }
        Tandem engine = builder.build();
        registered.clear();
        for (Registration<?, ?> r : registrations.values()) {
            registered.put(r.name(), r.registerOn(engine, this));
        }
        engine.start();
        tandem = engine;
        engineDataSource = ds;
    }

    private void requireNotStarted(String what) {
        if (closed) {
            throw new IllegalStateException("this TandemKit is closed (its test has ended)");
        }
        if (tandem != null) {
            throw new IllegalStateException(what + " must come before the engine starts (before the first"
                    + " tandem() or the first workflow started)");
        }
    }

    private record Registration<I, O extends @Nullable Object>(String name, Class<I> inputType,
            WorkflowFunction<I, O> function) {
        Workflow<I, O> registerOn(Tandem engine, TandemKit kit) {
            return engine.register(name, inputType, (ctx, input) -> function.run(new CrashingContext(ctx, kit), input));
        }
    }

    /** Thrown on the workflow's thread where the kit crashed the executor: the execution ends there, unrecorded. */
    static final class ExecutorCrashed extends Error {
        ExecutorCrashed(String stepName) {
            super("the executor was crashed by the test after step '" + stepName + "' (TandemKit.crashAfterStep)");
        }
    }
}
