package dev.tandem.internal.observe;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.TimeGauge;
import io.micrometer.core.instrument.Timer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import org.jspecify.annotations.Nullable;

/**
 * Metrics in the application's {@code MeterRegistry}. Loaded only when the application passed one to the builder.
 * Tags have low cardinality (workflow name, queue, status, step kind), never a workflow id. Meters are looked up once
 * per tag combination and kept, so the hot paths do one map lookup, not a registration.
 */
final class MicrometerMetrics implements Metrics {
    /** Tag value of workflows started directly rather than taken from a queue. */
    static final String NO_QUEUE = "none";

    private final MeterRegistry registry;
    private final Map<String, Counter> counters = new ConcurrentHashMap<>();
    private final Map<String, Timer> timers = new ConcurrentHashMap<>();
    private final Map<String, AtomicLongArray> queueSizes = new ConcurrentHashMap<>();
    private final DistributionSummary batchSize;
    private final Counter groupCommits;
    private final Counter transactionCommits;
    private final AtomicLong lastHeartbeatNanos = new AtomicLong(System.nanoTime());

    private MicrometerMetrics(MeterRegistry registry) {
        this.registry = registry;
        this.batchSize = DistributionSummary.builder("tandem.commit.batch.size")
                .description("Writes (starts, checkpoints, final statuses of one execution each) per group commit")
                .baseUnit("writes")
                .register(registry);
        this.groupCommits = Counter.builder("tandem.commits").tag("type", "group")
                .description("Commits of the engine's checkpoints: group commits, and transactional steps' commits")
                .register(registry);
        this.transactionCommits = Counter.builder("tandem.commits").tag("type", "transaction")
                .description("Commits of the engine's checkpoints: group commits, and transactional steps' commits")
                .register(registry);
        TimeGauge.builder("tandem.executor.heartbeat.age", lastHeartbeatNanos, TimeUnit.NANOSECONDS,
                        last -> System.nanoTime() - last.get())
                .description("Time since this executor last recorded its heartbeat")
                .register(registry);
    }

    static Metrics create(Object meterRegistry) {
        if (!(meterRegistry instanceof MeterRegistry registry)) {
            throw new IllegalArgumentException("meterRegistry must be an io.micrometer.core.instrument.MeterRegistry"
                    + " (was " + meterRegistry.getClass().getName() + ")");
        }
        return new MicrometerMetrics(registry);
    }

    @Override
    public boolean enabled() {
        return true;
    }

    @Override
    public void workflowStarted(String workflow, @Nullable String queue) {
        String q = queue == null ? NO_QUEUE : queue;
        counters.computeIfAbsent("started\0" + workflow + "\0" + q, k -> Counter.builder("tandem.workflows.started")
                .description("Executions this executor began for the first time (started, child, or taken from a queue)")
                .tag("workflow", workflow).tag("queue", q).register(registry)).increment();
    }

    @Override
    public void workflowFinished(String workflow, String status, long nanos) {
        String key = workflow + "\0" + status;
        counters.computeIfAbsent("finished\0" + key, k -> Counter.builder("tandem.workflows.finished")
                .description("Executions that ended here, by final status")
                .tag("workflow", workflow).tag("status", status).register(registry)).increment();
        if (nanos >= 0) {
            timers.computeIfAbsent("workflow\0" + key, k -> Timer.builder("tandem.workflow.duration")
                    .description("From an execution's first run on this executor to its final status")
                    .tag("workflow", workflow).tag("status", status)
                    .publishPercentileHistogram().register(registry)).record(nanos, TimeUnit.NANOSECONDS);
        }
    }

    @Override
    public void stepFinished(String workflow, String kind, boolean failed, long nanos) {
        String outcome = failed ? "error" : "success";
        timers.computeIfAbsent("step\0" + workflow + "\0" + kind + "\0" + outcome, k -> Timer.builder("tandem.step.duration")
                .description("Steps that ran (not replayed), from the body's start to its checkpoint (in memory, or"
                        + " committed for a transactional step)")
                .tag("workflow", workflow).tag("kind", kind).tag("outcome", outcome)
                .publishPercentileHistogram().register(registry)).record(nanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void queueWait(String queue, long millis) {
        timers.computeIfAbsent("queue\0" + queue, k -> Timer.builder("tandem.queue.wait")
                .description("From when a queued workflow could run (its enqueue, or the end of its delay) to its claim")
                .tag("queue", queue).publishPercentileHistogram().register(registry))
                .record(Math.max(0, millis), TimeUnit.MILLISECONDS);
    }

    @Override
    public void recovered(String workflow, String reason) {
        counters.computeIfAbsent("recovered\0" + workflow + "\0" + reason, k -> Counter.builder("tandem.recoveries")
                .description("Executions run again from their checkpoints: taken over after a crash, reconciled, or"
                        + " replayed after a transient failure")
                .tag("workflow", workflow).tag("reason", reason).register(registry)).increment();
    }

    @Override
    public void groupCommit(int writes) {
        groupCommits.increment();
        batchSize.record(writes);
    }

    @Override
    public void transactionCommitted() {
        transactionCommits.increment();
    }

    @Override
    public void queueSizes(Map<String, long[]> sizes) {
        for (Map.Entry<String, long[]> e : sizes.entrySet()) {
            long[] now = e.getValue();
            AtomicLongArray held = queueSizes.computeIfAbsent(e.getKey(), this::registerQueueGauges);
            held.set(0, now[0]);
            held.set(1, now[1]);
        }
        for (Map.Entry<String, AtomicLongArray> e : queueSizes.entrySet()) {
            if (!sizes.containsKey(e.getKey())) { // a queue that is gone
                e.getValue().set(0, 0);
                e.getValue().set(1, 0);
            }
        }
    }

    /** The gauges read the values maintenance stored last: a scrape costs no query. */
    private AtomicLongArray registerQueueGauges(String queue) {
        AtomicLongArray held = new AtomicLongArray(2);
        Gauge.builder("tandem.queue.depth", held, h -> h.get(0))
                .description("Workflows waiting in the queue (ENQUEUED or DELAYED), across executors")
                .tag("queue", queue).register(registry);
        Gauge.builder("tandem.queue.running", held, h -> h.get(1))
                .description("Workflows of the queue RUNNING, across executors")
                .tag("queue", queue).register(registry);
        return held;
    }

    @Override
    public void heartbeat() {
        lastHeartbeatNanos.set(System.nanoTime());
    }
}
