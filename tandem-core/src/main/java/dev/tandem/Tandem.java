package dev.tandem;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.tandem.internal.db.SystemDatabase;
import dev.tandem.internal.exec.Engine;
import dev.tandem.internal.exec.EngineConfig;
import java.time.Duration;
import java.util.LinkedHashMap;
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

    private Tandem(Engine engine, @Nullable HikariDataSource ownPool) {
        this.engine = engine;
        this.ownPool = ownPool;
    }

    public static Builder builder() {
        return new Builder();
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
        engine.control("cancelWorkflow", "cancel", workflowId);
    }

    /**
     * Continues a {@code CANCELLED}, {@code ERROR} or {@code RETRIES_EXCEEDED} workflow from its last checkpoint (see
     * SQL {@code tandem.resume_workflow}): it is queued again (queue {@code default} if it was started directly), and
     * failed steps at the end of its history run again.
     *
     * @throws IllegalArgumentException if no workflow has this id, or it already succeeded
     */
    public void resume(String workflowId) {
        engine.control("resumeWorkflow", "resume", workflowId);
    }

    /**
     * Sends a message to a workflow on {@code topic} (null: the default topic), kept until it receives it. With an
     * {@code idempotencyKey}, sending the same key to the same workflow again does nothing.
     *
     * @throws IllegalArgumentException if no workflow has this id, or the message cannot be stored as JSON
     */
    public void send(String workflowId, @Nullable String topic, Object message, @Nullable String idempotencyKey) {
        engine.send(workflowId, topic, message, idempotencyKey);
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
            return engine.start(name, input, StartOptions.defaults(), false);
        }

        @Override
        public WorkflowHandle<O> start(I input, StartOptions options) {
            return engine.start(name, input, options, false);
        }

        @Override
        public WorkflowHandle<O> enqueue(java.sql.Connection tx, I input, EnqueueOptions options) {
            if (tx == null) {
                throw new IllegalArgumentException("tx must not be null; use enqueue(input, options) for a"
                        + " transaction of its own");
            }
            return engine.enqueue(tx, name, input, options);
        }

        @Override
        public WorkflowHandle<O> enqueue(I input, EnqueueOptions options) {
            return engine.enqueue(null, name, input, options);
        }

        @Override
        public O run(I input, StartOptions options) {
            return engine.<I, O>start(name, input, options, true).result(RUN_WAIT);
        }

        @Override
        public String toString() {
            return "Workflow[" + name + "]";
        }
    }

    /** Configures a {@link Tandem}; {@link #build()} validates every setting and names any that is wrong. */
    public static final class Builder {
        private @Nullable DataSource dataSource;
        private @Nullable String databaseUrl;
        private @Nullable String user;
        private @Nullable String password;
        private int maxPoolSize = 16;
        private @Nullable String executorId;
        private boolean migrate = true;
        private Duration heartbeatInterval = Duration.ofSeconds(1);
        private Duration executorTimeout = Duration.ofSeconds(10);
        private int maxRecoveryAttempts = 50;
        private boolean virtualThreads = true;
        private int maxConcurrentWorkflows = 256;
        private Duration shutdownTimeout = Duration.ofSeconds(10);
        private @Nullable ObjectMapper objectMapper;
        private final Map<String, QueueOptions> queues = new LinkedHashMap<>();
        private Duration pollInterval = Duration.ofSeconds(1);
        private Duration unknownWorkflowTimeout = Duration.ofMinutes(10);

        private Builder() {}

        /**
         * Declares a queue and its limits; stored in {@code tandem.queues} at {@link Tandem#start()}, replacing the
         * limits stored before. Queue {@code default} exists without being declared (no limits).
         */
        public Builder queue(String name, QueueOptions options) {
            if (name == null || name.isBlank()) {
                throw new IllegalArgumentException("queue name must not be null or blank");
            }
            if (options == null) {
                throw new IllegalArgumentException("options of queue '" + name + "' must not be null");
            }
            queues.put(name, options);
            return this;
        }

        /**
         * How often the executor looks for enqueued workflows even without a notification (default 1 s). A NOTIFY
         * from {@code tandem.enqueue_workflow} wakes it at once; this bounds the delay if one is lost.
         */
        public Builder pollInterval(Duration pollInterval) {
            this.pollInterval = pollInterval;
            return this;
        }

        /**
         * How long an enqueued workflow may wait for an executor that has registered its name before it ends
         * {@code ERROR} with "unknown workflow 'x'" (default 10 minutes). Until then, {@code tandem.workflows}
         * ({@code waiting_reason}) and the logs say why it waits.
         */
        public Builder unknownWorkflowTimeout(Duration unknownWorkflowTimeout) {
            this.unknownWorkflowTimeout = unknownWorkflowTimeout;
            return this;
        }

        /** The application's DataSource (a pool). Tandem's tables go in its database; Tandem never closes it. */
        public Builder dataSource(DataSource dataSource) {
            this.dataSource = dataSource;
            return this;
        }

        /** A JDBC URL ({@code jdbc:postgresql://host:5432/db}); Tandem then creates and owns a HikariCP pool. */
        public Builder databaseUrl(String jdbcUrl) {
            this.databaseUrl = jdbcUrl;
            return this;
        }

        /** Credentials for {@link #databaseUrl}, if the URL does not carry them. */
        public Builder credentials(String user, @Nullable String password) {
            this.user = user;
            this.password = password;
            return this;
        }

        /** Size of the pool Tandem creates for {@link #databaseUrl} (default 16). */
        public Builder maxPoolSize(int maxPoolSize) {
            this.maxPoolSize = maxPoolSize;
            return this;
        }

        /**
         * A stable id for this process (e.g. its host or pod name). With the same id, a restarted process resumes its
         * predecessor's unfinished executions at once instead of waiting for the heartbeat timeout. Two live processes
         * must never share one. Default: a random id.
         */
        public Builder executorId(String executorId) {
            this.executorId = executorId;
            return this;
        }

        /** Whether {@link Tandem#start()} applies the schema migrations (default true). */
        public Builder migrate(boolean migrate) {
            this.migrate = migrate;
            return this;
        }

        /** How often this executor proves it is alive and looks for orphaned executions (default 1 s). */
        public Builder heartbeatInterval(Duration heartbeatInterval) {
            this.heartbeatInterval = heartbeatInterval;
            return this;
        }

        /** How long an executor may stay silent before others take over its executions (default 10 s). */
        public Builder executorTimeout(Duration executorTimeout) {
            this.executorTimeout = executorTimeout;
            return this;
        }

        /** How many times an execution is recovered before it ends {@code RETRIES_EXCEEDED} (default 50). */
        public Builder maxRecoveryAttempts(int maxRecoveryAttempts) {
            this.maxRecoveryAttempts = maxRecoveryAttempts;
            return this;
        }

        /** Whether to run workflows on virtual threads when the JVM has them (Java 21+; default true). */
        public Builder virtualThreads(boolean virtualThreads) {
            this.virtualThreads = virtualThreads;
            return this;
        }

        /** Size of the workflow thread pool when virtual threads are not used (default 256). */
        public Builder maxConcurrentWorkflows(int maxConcurrentWorkflows) {
            this.maxConcurrentWorkflows = maxConcurrentWorkflows;
            return this;
        }

        /** How long {@link Tandem#close()} waits for running executions before interrupting them (default 10 s). */
        public Builder shutdownTimeout(Duration shutdownTimeout) {
            this.shutdownTimeout = shutdownTimeout;
            return this;
        }

        /** The Jackson mapper for inputs and outputs (default: one with Java time support). */
        public Builder objectMapper(ObjectMapper objectMapper) {
            this.objectMapper = objectMapper;
            return this;
        }

        public Tandem build() {
            if ((dataSource == null) == (databaseUrl == null)) {
                throw new IllegalArgumentException("set exactly one of dataSource(...) and databaseUrl(...)"
                        + (dataSource == null ? " (neither was set)" : " (both were set)"));
            }
            if (databaseUrl != null && !databaseUrl.startsWith("jdbc:postgresql:")) {
                throw new IllegalArgumentException(
                        "databaseUrl must start with jdbc:postgresql: (was '" + databaseUrl + "')");
            }
            if (maxPoolSize < 2) {
                throw new IllegalArgumentException("maxPoolSize must be at least 2 (was " + maxPoolSize + ")");
            }
            if (executorId != null && executorId.isBlank()) {
                throw new IllegalArgumentException("executorId must not be blank");
            }
            requirePositive("heartbeatInterval", heartbeatInterval);
            requirePositive("executorTimeout", executorTimeout);
            requirePositive("shutdownTimeout", shutdownTimeout);
            requirePositive("pollInterval", pollInterval);
            requirePositive("unknownWorkflowTimeout", unknownWorkflowTimeout);
            if (executorTimeout.compareTo(heartbeatInterval.multipliedBy(2)) < 0) {
                throw new IllegalArgumentException("executorTimeout must be at least twice heartbeatInterval ("
                        + heartbeatInterval + ") (was " + executorTimeout + ")");
            }
            if (maxRecoveryAttempts < 0) {
                throw new IllegalArgumentException(
                        "maxRecoveryAttempts must be zero or more (was " + maxRecoveryAttempts + ")");
            }
            if (maxConcurrentWorkflows < 1) {
                throw new IllegalArgumentException(
                        "maxConcurrentWorkflows must be at least 1 (was " + maxConcurrentWorkflows + ")");
            }
            HikariDataSource pool = null;
            DataSource ds = dataSource;
            if (ds == null) {
                HikariConfig hikari = new HikariConfig();
                hikari.setJdbcUrl(databaseUrl);
                if (user != null) {
                    hikari.setUsername(user);
                    hikari.setPassword(password);
                }
                hikari.setMaximumPoolSize(maxPoolSize);
                hikari.setPoolName("tandem");
                hikari.setInitializationFailTimeout(-1); // start() reports an unreachable database clearly
                hikari.setConnectionTimeout(10_000);
                pool = new HikariDataSource(hikari);
                ds = pool;
            }
            String id = executorId != null ? executorId : "executor-" + UUID.randomUUID();
            Map<String, SystemDatabase.QueueRow> queueRows = new LinkedHashMap<>();
            queues.forEach((name, q) -> queueRows.put(name, new SystemDatabase.QueueRow(name, q.concurrency(),
                    q.workerConcurrency(), q.rateLimit(), q.ratePeriod(), q.partitionConcurrency())));
            EngineConfig config = new EngineConfig(ds, id, migrate, heartbeatInterval, executorTimeout,
                    maxRecoveryAttempts, virtualThreads, maxConcurrentWorkflows, shutdownTimeout, objectMapper,
                    Map.copyOf(queueRows), pollInterval, unknownWorkflowTimeout);
            return new Tandem(new Engine(config), pool);
        }

        private static void requirePositive(String name, @Nullable Duration value) {
            if (value == null || value.isZero() || value.isNegative()) {
                throw new IllegalArgumentException(name + " must be positive (was " + value + ")");
            }
        }
    }
}
