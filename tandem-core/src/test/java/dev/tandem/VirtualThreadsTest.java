package dev.tandem;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.testing.Engines;
import dev.tandem.testing.TestDatabase;
import java.lang.reflect.Method;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The threads workflows run on: one virtual thread per execution on Java 21+ (thousands of executions blocked in
 * steps cost no platform thread), a bounded pool of platform threads otherwise.
 */
class VirtualThreadsTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    @RegisterExtension
    final Engines engines = new Engines();


    Tandem engine(boolean virtualThreads, int maxConcurrentWorkflows) {
        Tandem t = Tandem.builder()
                .dataSource(db.dataSource())
                .virtualThreads(virtualThreads)
                .maxConcurrentWorkflows(maxConcurrentWorkflows)
                .shutdownTimeout(Duration.ofSeconds(2))
                .build();
        engines.add(t);
        return t;
    }

    /** {@code Thread.isVirtual()}, which the Java 17 API does not have. */
    static boolean isVirtual(Thread t) {
        try {
            Method m = Thread.class.getMethod("isVirtual");
            return (Boolean) m.invoke(t);
        } catch (NoSuchMethodException e) {
            return false;
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Counts executions inside the step at once, and remembers the most, and the threads they ran on. */
    static final class Probe {
        final AtomicInteger current = new AtomicInteger();
        final AtomicInteger max = new AtomicInteger();
        final AtomicInteger virtual = new AtomicInteger();
        final AtomicInteger platform = new AtomicInteger();
        final AtomicInteger gateTimeouts = new AtomicInteger();
        final Set<String> threadNames = ConcurrentHashMap.newKeySet();
        final CountDownLatch gate;

        /** @param together how many executions must be in the step at once before any of them goes on (0: none) */
        Probe(int together) {
            gate = new CountDownLatch(together);
        }

        Workflow<Integer, Integer> register(Tandem t, String name, long sleepMillis) {
            return t.register(name, Integer.class, (ctx, n) -> ctx.step("sleep", () -> {
                Thread me = Thread.currentThread();
                threadNames.add(me.getName());
                (isVirtual(me) ? virtual : platform).incrementAndGet();
                int now = current.incrementAndGet();
                max.accumulateAndGet(now, Math::max);
                try {
                    gate.countDown();
                    if (!gate.await(10, TimeUnit.SECONDS)) {
                        gateTimeouts.incrementAndGet();
                    }
                    Thread.sleep(sleepMillis);
                } finally {
                    current.decrementAndGet();
                }
                return n * 2;
            }));
        }
    }

    /** Starts {@code count} executions from {@code starters} threads and waits for every result. */
    static void startAndAwait(Workflow<Integer, Integer> wf, String prefix, int count, int starters,
            Duration wait) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(starters);
        try {
            List<Future<WorkflowHandle<Integer>>> started = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                int n = i;
                started.add(pool.submit(() -> wf.start(n, StartOptions.withId(prefix + n))));
            }
            long deadline = System.nanoTime() + wait.toNanos();
            for (int i = 0; i < count; i++) {
                WorkflowHandle<Integer> h = started.get(i).get(wait.toMillis(), TimeUnit.MILLISECONDS);
                Duration left = Duration.ofNanos(Math.max(0, deadline - System.nanoTime()));
                assertThat(h.result(left)).isEqualTo(i * 2);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void thousandsOfBlockedWorkflowsRunAtOnceOnVirtualThreads() throws Exception {
        Assumptions.assumeTrue(Runtime.version().feature() >= 21, "virtual threads need Java 21+");
        int count = 2000;
        Tandem t = engine(true, 256);
        Probe probe = new Probe(count); // every execution waits in its step until all of them are in theirs
        Workflow<Integer, Integer> wf = probe.register(t, "sleepy-virtual", 200);
        t.start();

        long t0 = System.nanoTime();
        startAndAwait(wf, "virtual-", count, 16, Duration.ofSeconds(20));
        Duration elapsed = Duration.ofNanos(System.nanoTime() - t0);

        // On the 256 platform threads of the fallback pool, the 2,000 could never all be in a step at once.
        assertThat(elapsed).isLessThan(Duration.ofSeconds(10));
        assertThat(probe.gateTimeouts.get()).isZero();
        assertThat(probe.max.get()).as("executions in a step at once").isEqualTo(count);
        assertThat(probe.virtual.get()).isEqualTo(count);
        assertThat(probe.platform.get()).isZero();
        assertThat(probe.threadNames).allMatch(n -> n.startsWith("tandem-workflow-"));
        assertThat(db.queryLong("SELECT count(*) FROM tandem.workflows WHERE workflow_id LIKE 'virtual-%'"
                + " AND status = 'SUCCESS'")).isEqualTo(count);
        assertThat(db.queryLong("SELECT count(*) FROM tandem.steps WHERE workflow_id LIKE 'virtual-%'"))
                .isEqualTo(count);
    }

    @Test
    void onJava17VirtualThreadsFallBackToTheBoundedPool() throws Exception {
        Assumptions.assumeTrue(Runtime.version().feature() < 21, "this JVM has virtual threads");
        Tandem t = engine(true, 3);
        Probe probe = new Probe(0);
        Workflow<Integer, Integer> wf = probe.register(t, "sleepy-fallback", 50);
        t.start();

        startAndAwait(wf, "fallback-", 12, 6, Duration.ofSeconds(10));

        assertThat(probe.max.get()).isEqualTo(3);
        assertThat(probe.virtual.get()).isZero();
        assertThat(probe.threadNames).hasSize(3).allMatch(n -> n.matches("tandem-workflow-[1-3]"));
        assertThat(db.queryLong("SELECT count(*) FROM tandem.workflows WHERE workflow_id LIKE 'fallback-%'"
                + " AND status = 'SUCCESS'")).isEqualTo(12);
    }

    @Test
    void platformThreadsRunAtMostMaxConcurrentWorkflowsAtOnceAndAllFinish() throws Exception {
        Tandem t = engine(false, 4);
        Probe probe = new Probe(0);
        Workflow<Integer, Integer> wf = probe.register(t, "sleepy-platform", 100);
        t.start();

        int count = 24;
        startAndAwait(wf, "platform-", count, 8, Duration.ofSeconds(15));

        assertThat(probe.max.get()).as("executions in a step at once").isEqualTo(4);
        assertThat(probe.virtual.get()).isZero();
        assertThat(probe.platform.get()).isEqualTo(count);
        assertThat(probe.threadNames).hasSize(4).allMatch(n -> n.matches("tandem-workflow-[1-4]"));
        assertThat(db.queryLong("SELECT count(*) FROM tandem.workflows WHERE workflow_id LIKE 'platform-%'"
                + " AND status = 'SUCCESS'")).isEqualTo(count);
        assertThat(db.queryLong("SELECT count(*) FROM tandem.steps WHERE workflow_id LIKE 'platform-%'"))
                .isEqualTo(count);
    }
}
