package dev.tandem;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.tandem.testing.Engines;
import dev.tandem.testing.TestDatabase;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * An executor resumes every RUNNING workflow it owns but does not run (a start, claim or recovery whose commit landed
 * while its acknowledgement was lost), and its heartbeat cannot be starved by the application.
 */
class ReconciliationTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    @RegisterExtension
    final Engines engines = new Engines();

    /**
     * The state a lost acknowledgement leaves: the row says RUNNING on this live executor, and the executor never
     * heard of it. Before reconciliation, nobody would ever run it (the executor is alive, so nobody recovers it).
     */
    @Test
    void aRowThisExecutorOwnsButDoesNotRunIsResumed() throws Exception {
        AtomicInteger runs = new AtomicInteger();
        Tandem tandem = engines.add(Tandem.builder().dataSource(db.dataSource()).executorId("reconciler")
                .heartbeatInterval(Duration.ofMillis(100)).executorTimeout(Duration.ofSeconds(1)).build());
        tandem.register("lost-ack", String.class, (ctx, in) -> ctx.step("s", () -> in + " ran " + runs.incrementAndGet()));
        tandem.start();

        db.execute("INSERT INTO tandem.workflow_status (workflow_id, name, status, input, executor_id, owner_epoch,"
                + " owner_incarnation, updated_at)"
                + " SELECT 'orphan-of-a-lost-ack', 'lost-ack', 'RUNNING', '\"x\"', executor_id, 1, incarnation,"
                + " now() - interval '5 seconds' FROM tandem.executors WHERE executor_id = 'reconciler'");
        assertThat(tandem.<String>handle("orphan-of-a-lost-ack").result(Duration.ofSeconds(10))).isEqualTo("x ran 1");
        assertThat(db.queryLong("SELECT owner_epoch FROM tandem.workflow_status"
                + " WHERE workflow_id = 'orphan-of-a-lost-ack'")).as("taken again with a new epoch").isEqualTo(2);
    }

    @Test
    void aRowAnotherProcessWithTheSameIdOwnsIsLeftAlone() throws Exception {
        Tandem tandem = engines.add(Tandem.builder().dataSource(db.dataSource()).executorId("reconciler-2")
                .heartbeatInterval(Duration.ofMillis(100)).executorTimeout(Duration.ofSeconds(1)).build());
        tandem.register("other", String.class, (ctx, in) -> in);
        tandem.start();
        db.execute("INSERT INTO tandem.workflow_status (workflow_id, name, status, input, executor_id, owner_epoch,"
                + " owner_incarnation, updated_at) VALUES ('twin-owned', 'other', 'RUNNING', '\"x\"', 'reconciler-2',"
                + " 1, gen_random_uuid(), now() - interval '5 seconds')");
        Thread.sleep(1500); // several reconciliations
        assertThat(db.queryLong("SELECT owner_epoch FROM tandem.workflow_status WHERE workflow_id = 'twin-owned'"))
                .isEqualTo(1);
        assertThat(db.queryString("SELECT status FROM tandem.workflow_status WHERE workflow_id = 'twin-owned'"))
                .isEqualTo("RUNNING");
    }

    /**
     * Defect: heartbeats shared the application's pool, so an application that held every connection made a live
     * executor look dead, and another executor took over its workflows (and ran their plain steps again).
     */
    @Test
    void anExhaustedApplicationPoolDoesNotStopTheHeartbeat() throws Exception {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(db.url());
        config.setMaximumPoolSize(4);
        config.setConnectionTimeout(250);
        config.setPoolName("small-app-pool");
        CountDownLatch inStep = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger stepRuns = new AtomicInteger();
        try (HikariDataSource small = new HikariDataSource(config)) {
            Tandem busy = engines.add(Tandem.builder().dataSource(small).executorId("busy")
                    .heartbeatInterval(Duration.ofMillis(100)).executorTimeout(Duration.ofSeconds(1)).build());
            Workflow<String, String> w = busy.register("long", String.class, (ctx, in) -> ctx.step("s", () -> {
                stepRuns.incrementAndGet();
                inStep.countDown();
                release.await(20, TimeUnit.SECONDS);
                return in;
            }));
            busy.start();
            Tandem watcher = engines.add(Tandem.builder().dataSource(db.dataSource()).executorId("watcher")
                    .heartbeatInterval(Duration.ofMillis(100)).executorTimeout(Duration.ofSeconds(1)).build());
            watcher.register("long", String.class, (ctx, in) -> ctx.step("s", () -> {
                stepRuns.incrementAndGet();
                return "taken over";
            }));
            watcher.start();

            WorkflowHandle<String> h = w.start("mine", StartOptions.withId("long-1"));
            assertThat(inStep.await(10, TimeUnit.SECONDS)).isTrue();
            List<Connection> held = new ArrayList<>();
            try {
                while (true) {
                    held.add(small.getConnection()); // the application takes every connection of its pool
                }
            } catch (java.sql.SQLException exhausted) {
                // as intended
            }
            Thread.sleep(3000); // three executor timeouts
            for (Connection c : held) {
                c.close();
            }
            assertThat(db.queryString("SELECT executor_id FROM tandem.workflows WHERE workflow_id = 'long-1'"))
                    .as("still owned by the live executor").isEqualTo("busy");
            release.countDown();
            assertThat(h.result(Duration.ofSeconds(10))).isEqualTo("mine");
            assertThat(stepRuns.get()).isEqualTo(1);
        }
    }
}
