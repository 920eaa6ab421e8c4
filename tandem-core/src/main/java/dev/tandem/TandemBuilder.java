package dev.tandem;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.tandem.internal.db.QueueStore;
import dev.tandem.internal.exec.Engine;
import dev.tandem.internal.exec.EngineConfig;
import dev.tandem.internal.exec.EngineHooks;
import dev.tandem.internal.observe.Telemetry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;

/** Configures a {@link Tandem}; {@link #build()} validates every setting and names any that is wrong. */
public final class TandemBuilder {
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
    private @Nullable Duration retention;
    private WorkflowClock clock = WorkflowClock.system();
    // Typed Object: this class must load without the optional OpenTelemetry and Micrometer jars.
    private @Nullable Object openTelemetry;
    private @Nullable Object meterRegistry;
    private @Nullable String appVersion;
    private final List<String> compatibleWith = new ArrayList<>();
    private @Nullable AmbientTransaction ambientTransaction;
    private @Nullable TransactionRunner transactionRunner;

    TandemBuilder() {}

    /**
     * The version of the application's workflow code, recorded on each workflow this executor first runs; it
     * recovers, dequeues and resumes only workflows of its own version, of a version it is {@link
     * #compatibleWith}, or that have not run yet. Default: the {@code Implementation-Version} in the manifest of
     * the jar of the registered workflows' code, else {@code sha-} and 12 hex digits of a hash of the registered
     * workflow names and input types. Workflows no live executor can run are listed in view {@code
     * tandem.stranded} (and logged): see docs/versioning.md.
     */
    public TandemBuilder appVersion(String appVersion) {
        if (appVersion == null || appVersion.isBlank()) {
            throw new IllegalArgumentException("appVersion must not be null or blank (e.g. \"2026.11.3\")");
        }
        this.appVersion = appVersion.strip();
        return this;
    }

    /**
     * Versions whose workflows this executor may also run, as patterns where {@code *} matches any text
     * ({@code "2026.11.*"}): declare it when the new code replays the old versions' histories (the change kept
     * their steps, or guarded new ones with {@code ctx.patched}).
     */
    public TandemBuilder compatibleWith(String... patterns) {
        if (patterns == null) {
            throw new IllegalArgumentException("patterns must not be null");
        }
        for (String pattern : patterns) {
            if (pattern == null || pattern.isBlank()) {
                throw new IllegalArgumentException("a compatible version pattern must not be null or blank (was "
                        + java.util.Arrays.toString(patterns) + ")");
            }
            compatibleWith.add(pattern.strip());
        }
        return this;
    }

    /**
     * Declares a queue and its limits; stored in {@code tandem.queues} at {@link Tandem#start()}, replacing the
     * limits stored before. Queue {@code default} exists without being declared (no limits).
     */
    public TandemBuilder queue(String name, QueueOptions options) {
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
    public TandemBuilder pollInterval(Duration pollInterval) {
        this.pollInterval = pollInterval;
        return this;
    }

    /**
     * How long an enqueued workflow may wait for an executor that has registered its name before it ends
     * {@code ERROR} with "unknown workflow 'x'" (default 10 minutes). Until then, {@code tandem.workflows}
     * ({@code waiting_reason}) and the logs say why it waits.
     */
    public TandemBuilder unknownWorkflowTimeout(Duration unknownWorkflowTimeout) {
        this.unknownWorkflowTimeout = unknownWorkflowTimeout;
        return this;
    }

    /**
     * Deletes workflows that ended more than {@code olderThan} ago, with their steps, messages, events and
     * streams (see {@link Tandem#deleteWorkflows}): the executor does it in the background, once at start and
     * then once a minute (sooner while a backlog lasts), in batches of 1,000 workflows, each a short transaction
     * of its own that skips rows in use. Every executor may do it; they do not get in each other's way. Default:
     * null, workflows are kept forever.
     */
    public TandemBuilder retention(@Nullable Duration olderThan) {
        this.retention = olderThan;
        return this;
    }

    /**
     * The time workflows see (default {@link WorkflowClock#system()}). For tests: the test kit's
     * {@code TestClock} skips time, together with {@code tandem.now()} in its test database.
     */
    public TandemBuilder clock(WorkflowClock clock) {
        if (clock == null) {
            throw new IllegalArgumentException("clock must not be null; WorkflowClock.system() is the default");
        }
        this.clock = clock;
        return this;
    }

    /** The application's DataSource (a pool). Tandem's tables go in its database; Tandem never closes it. */
    public TandemBuilder dataSource(DataSource dataSource) {
        this.dataSource = dataSource;
        return this;
    }

    /** A JDBC URL ({@code jdbc:postgresql://host:5432/db}); Tandem then creates and owns a HikariCP pool. */
    public TandemBuilder databaseUrl(String jdbcUrl) {
        this.databaseUrl = jdbcUrl;
        return this;
    }

    /** Credentials for {@link #databaseUrl}, if the URL does not carry them. */
    public TandemBuilder credentials(String user, @Nullable String password) {
        this.user = user;
        this.password = password;
        return this;
    }

    /**
     * Size of the pool Tandem creates for {@link #databaseUrl} (default 16, at least 4): it serves the work of
     * workflows (transactional steps, receives, reads) and callers' queries. The engine's own connections (group
     * commit, heartbeat, the two listening connections, queue claims, maintenance) come from a small pool of its
     * own, of at most 8, opened the same way; with a {@code DataSource} that does not tell how it connects (not
     * HikariCP with a JDBC URL, nor PostgreSQL's own), those are borrowed from it, and it needs that headroom.
     */
    public TandemBuilder maxPoolSize(int maxPoolSize) {
        this.maxPoolSize = maxPoolSize;
        return this;
    }

    /**
     * A stable id for this process (e.g. its host or pod name). With the same id, a restarted process resumes its
     * predecessor's unfinished executions at once instead of waiting for the heartbeat timeout. Two live processes
     * must never share one. Default: a random id.
     */
    public TandemBuilder executorId(String executorId) {
        this.executorId = executorId;
        return this;
    }

    /** Whether {@link Tandem#start()} applies the schema migrations (default true). */
    public TandemBuilder migrate(boolean migrate) {
        this.migrate = migrate;
        return this;
    }

    /** How often this executor proves it is alive and looks for orphaned executions (default 1 s). */
    public TandemBuilder heartbeatInterval(Duration heartbeatInterval) {
        this.heartbeatInterval = heartbeatInterval;
        return this;
    }

    /** How long an executor may stay silent before others take over its executions (default 10 s). */
    public TandemBuilder executorTimeout(Duration executorTimeout) {
        this.executorTimeout = executorTimeout;
        return this;
    }

    /** How many times an execution is recovered before it ends {@code RETRIES_EXCEEDED} (default 50). */
    public TandemBuilder maxRecoveryAttempts(int maxRecoveryAttempts) {
        this.maxRecoveryAttempts = maxRecoveryAttempts;
        return this;
    }

    /** Whether to run workflows on virtual threads when the JVM has them (Java 21+; default true). */
    public TandemBuilder virtualThreads(boolean virtualThreads) {
        this.virtualThreads = virtualThreads;
        return this;
    }

    /** Size of the workflow thread pool when virtual threads are not used (default 256). */
    public TandemBuilder maxConcurrentWorkflows(int maxConcurrentWorkflows) {
        this.maxConcurrentWorkflows = maxConcurrentWorkflows;
        return this;
    }

    /** How long {@link Tandem#close()} waits for running executions before interrupting them (default 10 s). */
    public TandemBuilder shutdownTimeout(Duration shutdownTimeout) {
        this.shutdownTimeout = shutdownTimeout;
        return this;
    }

    /** The Jackson mapper for inputs and outputs (default: one with Java time support). */
    public TandemBuilder objectMapper(ObjectMapper objectMapper) {
        this.objectMapper = objectMapper;
        return this;
    }

    /**
     * Traces with the application's OpenTelemetry (its SDK, exporters and sampler; Tandem adds none of its own):
     * a span per start and enqueue, per run of an execution (including each recovery), per step and per wait.
     * The trace context of a start or enqueue is stored with the workflow, so its executions continue that
     * trace on whichever executor runs them, after any delay or crash. Needs {@code
     * io.opentelemetry:opentelemetry-api} on the class path; off by default. Spans and attributes:
     * docs/observability.md.
     */
    public TandemBuilder openTelemetry(io.opentelemetry.api.OpenTelemetry openTelemetry) {
        if (openTelemetry == null) {
            throw new IllegalArgumentException("openTelemetry must not be null; leave it unset to trace nothing");
        }
        this.openTelemetry = openTelemetry;
        return this;
    }

    /**
     * Metrics in the application's Micrometer registry: workflows started and finished, workflow, step and queue
     * wait timers, queue depth, recoveries, commits, heartbeat age, all named {@code tandem.*} with low-cardinality
     * tags. Needs {@code io.micrometer:micrometer-core} on the class path; off by default. Meters:
     * docs/observability.md.
     */
    public TandemBuilder meterRegistry(io.micrometer.core.instrument.MeterRegistry meterRegistry) {
        if (meterRegistry == null) {
            throw new IllegalArgumentException("meterRegistry must not be null; leave it unset to record no metrics");
        }
        this.meterRegistry = meterRegistry;
        return this;
    }

    /**
     * The application's transaction active on the calling thread, which {@link Workflow#enqueue(Object,
     * EnqueueOptions)} and {@link Tandem#send} join when there is one: their rows then commit or roll back with
     * it. Not used by {@link Workflow#start} and {@link Workflow#run}, which commit before they return. Default:
     * none, each such call commits on its own. See {@link AmbientTransaction}.
     */
    public TandemBuilder ambientTransaction(AmbientTransaction ambientTransaction) {
        if (ambientTransaction == null) {
            throw new IllegalArgumentException("ambientTransaction must not be null; leave it unset for none");
        }
        this.ambientTransaction = ambientTransaction;
        return this;
    }

    /**
     * Runs the transactions of transactional steps (for example with a framework's transaction manager, so the
     * application's data access joins them). The step's SQL and its checkpoint still commit in one transaction,
     * once. Default: Tandem opens them itself on its DataSource. See {@link TransactionRunner}.
     */
    public TandemBuilder transactionRunner(TransactionRunner transactionRunner) {
        if (transactionRunner == null) {
            throw new IllegalArgumentException("transactionRunner must not be null; leave it unset for Tandem's own");
        }
        this.transactionRunner = transactionRunner;
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
        if (maxPoolSize < 4) {
            throw new IllegalArgumentException("maxPoolSize must be at least 4 (was " + maxPoolSize
                    + "): transactional steps, receives and reads of concurrent workflows need connections");
        }
        if (executorId != null && executorId.isBlank()) {
            throw new IllegalArgumentException("executorId must not be blank");
        }
        requirePositive("heartbeatInterval", heartbeatInterval);
        requirePositive("executorTimeout", executorTimeout);
        requirePositive("shutdownTimeout", shutdownTimeout);
        requirePositive("pollInterval", pollInterval);
        requirePositive("unknownWorkflowTimeout", unknownWorkflowTimeout);
        if (retention != null) {
            requirePositive("retention", retention);
        }
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
        Map<String, QueueStore.QueueRow> queueRows = new LinkedHashMap<>();
        queues.forEach((name, q) -> queueRows.put(name, new QueueStore.QueueRow(name, q.concurrency(),
                q.workerConcurrency(), q.rateLimit(), q.ratePeriod(), q.partitionConcurrency())));
        EngineConfig config = new EngineConfig(ds, id, migrate, heartbeatInterval, executorTimeout,
                maxRecoveryAttempts, virtualThreads, maxConcurrentWorkflows, shutdownTimeout, objectMapper,
                Map.copyOf(queueRows), pollInterval, unknownWorkflowTimeout, retention,
                Telemetry.create(openTelemetry, meterRegistry, id), appVersion, List.copyOf(compatibleWith), clock);
        return new Tandem(new Engine(config, new EngineHooks(ambientTransaction, transactionRunner)), pool);
    }

    private static void requirePositive(String name, @Nullable Duration value) {
        if (value == null || value.isZero() || value.isNegative()) {
            throw new IllegalArgumentException(name + " must be positive (was " + value + ")");
        }
    }
}
