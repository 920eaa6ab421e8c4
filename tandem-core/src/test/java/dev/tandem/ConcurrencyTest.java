package dev.tandem;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.testing.Engines;
import dev.tandem.testing.TestDatabase;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Many threads in two engines start the same workflow ids at the same time: each id runs exactly once, in one of
 * the engines, and every caller gets its result.
 */
class ConcurrencyTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    static final Duration WAIT = Duration.ofSeconds(20);
    @RegisterExtension
    final Engines engines = new Engines();

    @BeforeAll
    static void schema() {
        db.execute("CREATE TABLE executions (workflow_id text NOT NULL, executor text NOT NULL)");
    }


    Tandem engine(String executorId) {
        Tandem t = Tandem.builder()
                .databaseUrl(db.url())
                .maxPoolSize(10)
                .executorId(executorId)
                .shutdownTimeout(Duration.ofSeconds(2))
                .build();
        engines.add(t);
        return t;
    }

    /** A step that counts its runs in this engine, then a transaction that records the execution in the table. */
    static Workflow<String, String> register(Tandem t, String name, AtomicInteger runs) {
        return t.register(name, String.class, (ctx, in) -> {
            int nth = ctx.step("count", runs::incrementAndGet);
            String executor = ctx.transaction("record", conn -> {
                try (var ps = conn.prepareStatement("INSERT INTO executions VALUES (?, ?)")) {
                    ps.setString(1, ctx.workflowId());
                    ps.setString(2, t.executorId());
                    ps.executeUpdate();
                }
                return t.executorId();
            });
            return in + " by " + executor + (nth > 0 ? "" : "?");
        });
    }

    /**
     * Each of {@code threads} threads per workflow starts every id (in its own random order), all threads released
     * together; returns every handle obtained, with the id it is for.
     */
    static List<Started> startEverywhere(List<Workflow<String, String>> workflows, List<String> ids, int threads)
            throws Exception {
        int total = workflows.size() * threads;
        CyclicBarrier barrier = new CyclicBarrier(total);
        ExecutorService pool = Executors.newFixedThreadPool(total);
        ConcurrentLinkedQueue<Started> started = new ConcurrentLinkedQueue<>();
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (Workflow<String, String> wf : workflows) {
                for (int i = 0; i < threads; i++) {
                    long seed = 31L * futures.size() + 7;
                    futures.add(pool.submit(() -> {
                        List<String> order = new ArrayList<>(ids);
                        Collections.shuffle(order, new Random(seed));
                        barrier.await(10, TimeUnit.SECONDS);
                        for (String id : order) {
                            started.add(new Started(id, wf.start(id, StartOptions.withId(id))));
                        }
                        return null;
                    }));
                }
            }
            for (Future<?> f : futures) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        return new ArrayList<>(started);
    }

    record Started(String id, WorkflowHandle<String> handle) {}

    static List<String> ids(String prefix, int count) {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            ids.add(prefix + i);
        }
        return ids;
    }

    /** Two engines, {@code threads} threads each, all starting the same {@code count} ids at once. */
    List<Started> twoEnginesStart(String prefix, int count, int threads, AtomicInteger runsA, AtomicInteger runsB)
            throws Exception {
        Tandem a = engine(prefix + "a");
        Tandem b = engine(prefix + "b");
        Workflow<String, String> wfA = register(a, "once", runsA);
        Workflow<String, String> wfB = register(b, "once", runsB);
        a.start();
        b.start();
        List<Started> started = startEverywhere(List.of(wfA, wfB), ids(prefix, count), threads);
        assertThat(started).hasSize(count * 2 * threads);
        return started;
    }

    @Test
    void twoEnginesStartingTheSameIdsFromManyThreadsRunEachExactlyOnce() throws Exception {
        AtomicInteger runsA = new AtomicInteger();
        AtomicInteger runsB = new AtomicInteger();
        int count = 500;
        twoEnginesStart("same-", count, 4, runsA, runsB);
        Tandem a = engines.get(0);
        Tandem b = engines.get(1);

        // Every id ends SUCCESS, and both engines report the one result.
        for (String id : ids("same-", count)) {
            String owner = db.queryString("SELECT executor FROM executions WHERE workflow_id = '" + id + "'");
            assertThat(a.<String>handle(id).result(WAIT)).as(id).isEqualTo(id + " by " + owner);
            assertThat(b.<String>handle(id).result(WAIT)).as(id).isEqualTo(id + " by " + owner);
        }
        assertThat(db.queryLong("SELECT count(*) FROM tandem.workflows WHERE workflow_id LIKE 'same-%'"
                + " AND status = 'SUCCESS'")).isEqualTo(count);
        // Exactly once: one transaction commit and one step run per id, across both engines.
        assertThat(db.queryLong("SELECT count(*) FROM executions WHERE workflow_id LIKE 'same-%'")).isEqualTo(count);
        assertThat(db.queryLong("SELECT count(DISTINCT workflow_id) FROM executions WHERE workflow_id LIKE 'same-%'"))
                .isEqualTo(count);
        assertThat(runsA.get() + runsB.get()).as("step runs in A (%d) and B (%d)", runsA.get(), runsB.get())
                .isEqualTo(count);
        // Each ran where its row says it is owned, and that engine's counter saw it.
        assertThat(db.queryLong("SELECT count(*) FROM executions e JOIN tandem.workflows w USING (workflow_id)"
                + " WHERE w.executor_id = e.executor AND w.workflow_id LIKE 'same-%'")).isEqualTo(count);
        assertThat(db.queryLong("SELECT count(*) FROM executions WHERE executor = 'same-a'"
                + " AND workflow_id LIKE 'same-%'")).isEqualTo(runsA.get());
        assertThat(db.queryLong("SELECT count(*) FROM tandem.steps WHERE workflow_id LIKE 'same-%'"))
                .isEqualTo(2L * count);
        assertThat(db.queryLong("SELECT max(attempts) FROM tandem.workflows WHERE workflow_id LIKE 'same-%'"))
                .isEqualTo(1);
    }

    @Test
    void twoEnginesStartingTheSameIdsEveryCallerGetsTheResultFromItsOwnHandle() throws Exception {
        List<Started> started = twoEnginesStart("both-", 500, 4, new AtomicInteger(), new AtomicInteger());

        for (Started s : started) {
            String owner = db.queryString("SELECT executor FROM executions WHERE workflow_id = '" + s.id() + "'");
            assertThat(s.handle().result(WAIT)).as(s.id()).isEqualTo(s.id() + " by " + owner);
        }
    }

    @Test
    void concurrentStartsOfAnIdThatAlreadyExistsAllGetItsResult() throws Exception {
        AtomicInteger runs = new AtomicInteger();
        Tandem t = engine("engine-c");
        Workflow<String, String> wf = register(t, "again", runs);
        t.start();
        int count = 200;
        List<String> ids = ids("again-", count);
        for (String id : ids) {
            wf.start(id, StartOptions.withId(id)).result(WAIT);
        }
        assertThat(runs.get()).isEqualTo(count);

        // Every id is finished and in the database; 8 threads now start all of them again at once.
        List<Started> started = startEverywhere(List.of(wf), ids, 8);

        for (Started s : started) {
            assertThat(s.handle().status()).isEqualTo(WorkflowStatus.SUCCESS);
            // Fails for some handles: ResultTimeoutException "workflow 'again-N' did not finish within PT2S".
            assertThat(s.handle().result(Duration.ofSeconds(2))).as(s.id()).isEqualTo(s.id() + " by engine-c");
        }
        assertThat(runs.get()).isEqualTo(count);
        assertThat(db.queryLong("SELECT count(*) FROM executions WHERE workflow_id LIKE 'again-%'")).isEqualTo(count);
    }

    @Test
    void concurrentRunsOfAnIdThatAlreadyExistsAllReturnItsResult() throws Exception {
        AtomicInteger runs = new AtomicInteger();
        Tandem t = engine("engine-d");
        Workflow<String, String> wf = register(t, "inline", runs);
        t.start();
        List<String> ids = ids("inline-", 100);
        for (String id : ids) {
            assertThat(wf.run(id, StartOptions.withId(id))).isEqualTo(id + " by engine-d");
        }

        int threads = 8;
        CyclicBarrier barrier = new CyclicBarrier(threads);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                futures.add(pool.submit(() -> {
                    barrier.await(10, TimeUnit.SECONDS);
                    for (String id : ids) {
                        assertThat(wf.run(id, StartOptions.withId(id))).isEqualTo(id + " by engine-d");
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get(10, TimeUnit.SECONDS); // TimeoutException when a run() never returns
            }
        } finally {
            pool.shutdownNow(); // interrupts run() calls that are stuck
        }
        assertThat(runs.get()).isEqualTo(ids.size());
    }
}
