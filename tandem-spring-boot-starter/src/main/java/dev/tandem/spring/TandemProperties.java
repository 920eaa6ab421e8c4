package dev.tandem.spring;

import dev.tandem.TandemBuilder;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Settings of the auto-configured Tandem engine, under {@code tandem.*}. Each maps to the {@code TandemBuilder}
 * method of the same name; unset ones keep the builder's defaults. Values that cannot work (a negative duration, a
 * queue limit of 0) stop the application at startup with an error naming the property. Anything else: a {@link
 * TandemCustomizer} bean.
 *
 * <pre>
 * tandem.executor-id=orders-1
 * tandem.queues.emails.concurrency=10
 * tandem.queues.emails.rate-limit=100
 * tandem.queues.emails.rate-period=1m
 * tandem.retention=30d
 * </pre>
 */
@ConfigurationProperties(prefix = "tandem")
public class TandemProperties {
    /** Whether to auto-configure a Tandem engine at all. */
    private boolean enabled = true;
    /**
     * The stable id of this process (its pod or host name); a restarted process with the same id resumes its
     * predecessor's unfinished workflows at once. Default: the host name. Two live processes must never share one,
     * so set it when several instances run on one host.
     */
    private @Nullable String executorId;
    /** Whether starting applies Tandem's schema migrations to schema tandem; if false, it only checks the version. */
    private boolean migrate = true;
    /** How often this executor proves it is alive and looks for orphaned workflows. */
    private Duration heartbeatInterval = Duration.ofSeconds(1);
    /** How long an executor may stay silent before others take over its workflows (at least 2 heartbeats). */
    private Duration executorTimeout = Duration.ofSeconds(10);
    /** How long shutdown waits for running workflows before interrupting them (they are recovered later). */
    private Duration shutdownTimeout = Duration.ofSeconds(10);
    /** How often queues are looked at without a notification. */
    private Duration pollInterval = Duration.ofSeconds(1);
    /** How long an enqueued workflow may wait for an executor that registered its name before it fails. */
    private Duration unknownWorkflowTimeout = Duration.ofMinutes(10);
    /** Delete workflows that ended longer ago than this; unset: keep them forever. */
    private @Nullable Duration retention;
    /** How many times a workflow is recovered before it ends RETRIES_EXCEEDED. */
    private int maxRecoveryAttempts = 50;
    /** Whether workflows run on virtual threads when the JVM has them (Java 21+). */
    private boolean virtualThreads = true;
    /** Size of the workflow thread pool when virtual threads are not used. */
    private int maxConcurrentWorkflows = 256;
    /** Queues other than default, with their limits, by name. */
    private Map<String, Queue> queues = new LinkedHashMap<>();

    /** The limits of one queue ({@code dev.tandem.QueueOptions}); unset ones are unlimited. */
    public static class Queue {
        /** At most this many of its workflows run at once, across all executors. */
        private @Nullable Integer concurrency;
        /** At most this many run at once on one executor. */
        private @Nullable Integer workerConcurrency;
        /** At most this many start per rate-period, across all executors (set both or neither). */
        private @Nullable Integer rateLimit;
        /** The window of rate-limit. */
        private @Nullable Duration ratePeriod;
        /** At most this many run at once per partition key. */
        private @Nullable Integer partitionConcurrency;

        public @Nullable Integer getConcurrency() {
            return concurrency;
        }

        public void setConcurrency(@Nullable Integer concurrency) {
            this.concurrency = concurrency;
        }

        public @Nullable Integer getWorkerConcurrency() {
            return workerConcurrency;
        }

        public void setWorkerConcurrency(@Nullable Integer workerConcurrency) {
            this.workerConcurrency = workerConcurrency;
        }

        public @Nullable Integer getRateLimit() {
            return rateLimit;
        }

        public void setRateLimit(@Nullable Integer rateLimit) {
            this.rateLimit = rateLimit;
        }

        public @Nullable Duration getRatePeriod() {
            return ratePeriod;
        }

        public void setRatePeriod(@Nullable Duration ratePeriod) {
            this.ratePeriod = ratePeriod;
        }

        public @Nullable Integer getPartitionConcurrency() {
            return partitionConcurrency;
        }

        public void setPartitionConcurrency(@Nullable Integer partitionConcurrency) {
            this.partitionConcurrency = partitionConcurrency;
        }
    }

    public boolean isEnabled() {
        return enabled;
    }

    public void setEnabled(boolean enabled) {
        this.enabled = enabled;
    }

    public @Nullable String getExecutorId() {
        return executorId;
    }

    public void setExecutorId(@Nullable String executorId) {
        this.executorId = executorId;
    }

    public boolean isMigrate() {
        return migrate;
    }

    public void setMigrate(boolean migrate) {
        this.migrate = migrate;
    }

    public Duration getHeartbeatInterval() {
        return heartbeatInterval;
    }

    public void setHeartbeatInterval(Duration heartbeatInterval) {
        this.heartbeatInterval = heartbeatInterval;
    }

    public Duration getExecutorTimeout() {
        return executorTimeout;
    }

    public void setExecutorTimeout(Duration executorTimeout) {
        this.executorTimeout = executorTimeout;
    }

    public Duration getShutdownTimeout() {
        return shutdownTimeout;
    }

    public void setShutdownTimeout(Duration shutdownTimeout) {
        this.shutdownTimeout = shutdownTimeout;
    }

    public Duration getPollInterval() {
        return pollInterval;
    }

    public void setPollInterval(Duration pollInterval) {
        this.pollInterval = pollInterval;
    }

    public Duration getUnknownWorkflowTimeout() {
        return unknownWorkflowTimeout;
    }

    public void setUnknownWorkflowTimeout(Duration unknownWorkflowTimeout) {
        this.unknownWorkflowTimeout = unknownWorkflowTimeout;
    }

    public @Nullable Duration getRetention() {
        return retention;
    }

    public void setRetention(@Nullable Duration retention) {
        this.retention = retention;
    }

    public int getMaxRecoveryAttempts() {
        return maxRecoveryAttempts;
    }

    public void setMaxRecoveryAttempts(int maxRecoveryAttempts) {
        this.maxRecoveryAttempts = maxRecoveryAttempts;
    }

    public boolean isVirtualThreads() {
        return virtualThreads;
    }

    public void setVirtualThreads(boolean virtualThreads) {
        this.virtualThreads = virtualThreads;
    }

    public int getMaxConcurrentWorkflows() {
        return maxConcurrentWorkflows;
    }

    public void setMaxConcurrentWorkflows(int maxConcurrentWorkflows) {
        this.maxConcurrentWorkflows = maxConcurrentWorkflows;
    }

    public Map<String, Queue> getQueues() {
        return queues;
    }

    public void setQueues(Map<String, Queue> queues) {
        this.queues = queues;
    }
}
