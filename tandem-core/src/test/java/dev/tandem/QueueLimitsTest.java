package dev.tandem;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tandem.testing.Engines;
import dev.tandem.testing.TestDatabase;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Queue limits across executors, queue order, and the SQL API's permissions. */
class QueueLimitsTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    @RegisterExtension
    final Engines engines = new Engines();


    Tandem engine(String id, QueueOptions options, Workflow<?, ?>[] out, AtomicInteger running, AtomicInteger max,
            List<String> ran) {
        Tandem t = Tandem.builder()
                .dataSource(db.dataSource())
                .executorId(id)
                .queue("limited", options)
                .pollInterval(Duration.ofMillis(200))
                .build();
        out[0] = t.register("slow", String.class, (ctx, s) -> ctx.step("work", () -> {
            int now = running.incrementAndGet();
            max.accumulateAndGet(now, Math::max);
            ran.add(s);
            Thread.sleep(50);
            running.decrementAndGet();
            return s;
        }));
        engines.add(t);
        return t;
    }

    @Test
    void aGlobalConcurrencyLimitHoldsAcrossTwoExecutors() throws Exception {
        AtomicInteger running = new AtomicInteger();
        AtomicInteger max = new AtomicInteger();
        List<String> ran = Collections.synchronizedList(new ArrayList<>());
        Workflow<?, ?>[] wf = new Workflow<?, ?>[1];
        // 3 at once in all, 2 at most per executor: only the global limit keeps it from 4, and it takes both.
        QueueOptions options = QueueOptions.unlimited().concurrency(3).workerConcurrency(2);
        Tandem a = engine("limit-a", options, wf, running, max, ran);
        engine("limit-b", options, new Workflow<?, ?>[1], running, max, ran).start();
        a.start();
        try (Connection c = db.dataSource().getConnection(); var st = c.createStatement()) {
            st.execute("SELECT tandem.enqueue_workflow('slow', to_jsonb('job-' || g), 'limited')"
                    + " FROM generate_series(1, 30) g");
        }
        awaitCount("SELECT count(*) FROM tandem.workflows WHERE name = 'slow' AND status = 'SUCCESS'"
                + " AND input #>> '{}' LIKE 'job-%'", 30);
        assertThat(max.get()).as("most running at once, across both executors").isBetween(1, 3);
        assertThat(ran).hasSize(30).doesNotHaveDuplicates();
        assertThat(db.queryLong("SELECT count(DISTINCT executor_id) FROM tandem.workflows WHERE name = 'slow'"
                + " AND input #>> '{}' LIKE 'job-%'"))
                .as("both executors took work").isEqualTo(2);
    }

    @Test
    void higherPriorityFirstThenFirstInFirstOut() throws Exception {
        db.execute("DELETE FROM tandem.workflow_status WHERE name = 'slow'");
        AtomicInteger running = new AtomicInteger();
        List<String> ran = Collections.synchronizedList(new ArrayList<>());
        Workflow<?, ?>[] wf = new Workflow<?, ?>[1];
        Tandem t = engine("order", QueueOptions.unlimited().workerConcurrency(1), wf, running, new AtomicInteger(),
                ran);
        // Enqueued before any worker runs: the queue order alone decides.
        t.start();
        try (Connection c = db.dataSource().getConnection()) {
            c.setAutoCommit(false);
            try (var st = c.createStatement()) {
                st.execute("SELECT tandem.enqueue_workflow('slow', '\"low-1\"', 'limited', priority => -5)");
                st.execute("SELECT tandem.enqueue_workflow('slow', '\"mid-1\"', 'limited')");
                st.execute("SELECT tandem.enqueue_workflow('slow', '\"high-1\"', 'limited', priority => 10)");
                st.execute("SELECT tandem.enqueue_workflow('slow', '\"mid-2\"', 'limited')");
                st.execute("SELECT tandem.enqueue_workflow('slow', '\"high-2\"', 'limited', priority => 10)");
            }
            c.commit();
        }
        awaitCount("SELECT count(*) FROM tandem.workflows WHERE name = 'slow' AND status = 'SUCCESS'", 5);
        assertThat(ran).containsExactly("high-1", "high-2", "mid-1", "mid-2", "low-1");
    }

    @Test
    void aRoleWithOnlyExecuteCanEnqueueButNotReadOrChangeWorkflows() throws Exception {
        Tandem t = Tandem.builder().dataSource(db.dataSource()).build();
        engines.add(t);
        t.register("slow", String.class, (ctx, s) -> s);
        t.start();
        String role = "tandem_app_" + System.nanoTime();
        db.execute("CREATE ROLE " + role + " LOGIN");
        db.execute("GRANT USAGE ON SCHEMA tandem TO " + role);
        db.execute("GRANT EXECUTE ON FUNCTION tandem.enqueue_workflow(text, jsonb, text, text, int, text, text, interval) TO "
                + role);
        String url = db.url().replaceAll("user=[^&]*", "user=" + role);
        try (Connection app = DriverManager.getConnection(url); var st = app.createStatement()) {
            try (var rs = st.executeQuery("SELECT tandem.enqueue_workflow('slow', '\"from-app\"', workflow_id => 'app-1')")) {
                rs.next();
                assertThat(rs.getString(1)).isEqualTo("app-1");
            }
            assertThatThrownBy(() -> st.executeQuery("SELECT * FROM tandem.workflow_status"))
                    .isInstanceOf(SQLException.class).hasMessageContaining("permission denied");
            assertThatThrownBy(() -> st.executeUpdate("UPDATE tandem.workflow_status SET status = 'CANCELLED'"))
                    .isInstanceOf(SQLException.class).hasMessageContaining("permission denied");
            assertThatThrownBy(() -> st.executeQuery("SELECT * FROM tandem.workflows"))
                    .isInstanceOf(SQLException.class).hasMessageContaining("permission denied");
        } finally {
            db.execute("DROP OWNED BY " + role);
            db.execute("DROP ROLE " + role);
        }
        assertThat(t.<String>handle("app-1").result(Duration.ofSeconds(15))).isEqualTo("from-app");
    }

    @Test
    void aWorkflowNoExecutorRunsSaysWhyItWaitsAndEventuallyFails() throws Exception {
        Tandem t = Tandem.builder()
                .dataSource(db.dataSource())
                .heartbeatInterval(Duration.ofMillis(100))
                .executorTimeout(Duration.ofMillis(500))
                .unknownWorkflowTimeout(Duration.ofSeconds(2))
                .build();
        engines.add(t);
        t.register("known", String.class, (ctx, s) -> s);
        t.start();
        String id = db.queryString("SELECT tandem.enqueue_workflow('ghost', '[1]')");
        Thread.sleep(300);
        assertThat(db.queryString("SELECT status || ': ' || waiting_reason FROM tandem.workflows WHERE workflow_id = '"
                + id + "'")).isEqualTo("ENQUEUED: no running executor has registered workflow 'ghost'");
        assertThatThrownBy(() -> t.handle(id).result(Duration.ofSeconds(15)))
                .isInstanceOfSatisfying(WorkflowFailedException.class, e -> {
                    assertThat(e.status()).isEqualTo(WorkflowStatus.ERROR);
                    assertThat(e.errorMessage()).startsWith("unknown workflow 'ghost'");
                });
    }

    @Test
    void aRateLimitSpacesStartsAcrossExecutors() throws Exception {
        AtomicInteger running = new AtomicInteger();
        List<String> ran = Collections.synchronizedList(new ArrayList<>());
        QueueOptions options = QueueOptions.unlimited().rateLimit(5, Duration.ofSeconds(1));
        engine("rate-a", options, new Workflow<?, ?>[1], running, new AtomicInteger(), ran).start();
        engine("rate-b", options, new Workflow<?, ?>[1], running, new AtomicInteger(), ran).start();
        db.execute("SELECT tandem.enqueue_workflow('slow', to_jsonb('rate-' || g), 'limited') FROM generate_series(1, 12) g");
        awaitCount("SELECT count(*) FROM tandem.workflows WHERE status = 'SUCCESS' AND input #>> '{}' LIKE 'rate-%'", 12);
        // No one-second window holds more than 5 starts.
        assertThat(db.queryLong("SELECT max((SELECT count(*) FROM tandem.workflow_status b"
                + " WHERE b.input #>> '{}' LIKE 'rate-%' AND b.started_at >= a.started_at"
                + " AND b.started_at < a.started_at + interval '1 second'))"
                + " FROM tandem.workflow_status a WHERE a.input #>> '{}' LIKE 'rate-%'")).isBetween(1L, 5L);
        assertThat(db.queryLong("SELECT (extract(epoch FROM max(started_at) - min(started_at)) * 1000)::bigint"
                + " FROM tandem.workflow_status WHERE input #>> '{}' LIKE 'rate-%'")).isGreaterThanOrEqualTo(1900L);
    }

    @Test
    void partitionConcurrencyKeepsOneTenantFromTakingEverySlot() throws Exception {
        java.util.Map<String, AtomicInteger> runningPerKey = new java.util.concurrent.ConcurrentHashMap<>();
        AtomicInteger maxPerKey = new AtomicInteger();
        AtomicInteger running = new AtomicInteger();
        AtomicInteger maxOverall = new AtomicInteger();
        Tandem t = Tandem.builder()
                .dataSource(db.dataSource())
                .queue("tenants", QueueOptions.unlimited().partitionConcurrency(1))
                .pollInterval(Duration.ofMillis(100))
                .build();
        engines.add(t);
        t.register("tenant-job", String.class, (ctx, s) -> ctx.step("work", () -> {
            AtomicInteger mine = runningPerKey.computeIfAbsent(s.substring(0, 1), k -> new AtomicInteger());
            maxPerKey.accumulateAndGet(mine.incrementAndGet(), Math::max);
            maxOverall.accumulateAndGet(running.incrementAndGet(), Math::max);
            Thread.sleep(60);
            running.decrementAndGet();
            mine.decrementAndGet();
            return s;
        }));
        t.start();
        try (Connection c = db.dataSource().getConnection(); var st = c.createStatement()) {
            c.setAutoCommit(false); // all nine become visible at once
            st.execute("SELECT tandem.enqueue_workflow('tenant-job', to_jsonb('a' || g), 'tenants', partition_key => 'a')"
                    + " FROM generate_series(1, 6) g");
            st.execute("SELECT tandem.enqueue_workflow('tenant-job', to_jsonb('b' || g), 'tenants', partition_key => 'b')"
                    + " FROM generate_series(1, 3) g");
            c.commit();
        }
        awaitCount("SELECT count(*) FROM tandem.workflows WHERE name = 'tenant-job' AND status = 'SUCCESS'", 9);
        assertThat(maxPerKey.get()).isEqualTo(1);
        assertThat(maxOverall.get()).as("the two tenants ran side by side").isEqualTo(2);
        // Tenant b, enqueued after all of a's work, did not wait for a's queue to drain.
        assertThat(db.queryLong("SELECT count(*) FROM tandem.workflows WHERE name = 'tenant-job' AND partition_key = 'a'"
                + " AND started_at > (SELECT max(started_at) FROM tandem.workflows WHERE partition_key = 'b')"))
                .isPositive();
    }

    private static void awaitCount(String sql, long expected) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (db.queryLong(sql) < expected) {
            assertThat(System.nanoTime()).as(sql).isLessThan(deadline);
            Thread.sleep(20);
        }
    }
}
