package dev.tandem;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.tandem.testing.TestDatabase;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Micrometer meters of one engine, in a SimpleMeterRegistry: what they count matches what ran. */
class MetricsTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    static final Duration WAIT = Duration.ofSeconds(10);
    static final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    static Tandem tandem;
    static Workflow<Integer, Integer> ok;
    static Workflow<Integer, Integer> bad;

    @BeforeAll
    static void setUp() {
        tandem = Tandem.builder()
                .dataSource(db.dataSource())
                .queue("q1", QueueOptions.unlimited())
                .heartbeatInterval(Duration.ofMillis(100))
                .executorTimeout(Duration.ofMillis(500))
                .meterRegistry(registry)
                .build();
        ok = tandem.register("ok", Integer.class, (ctx, n) -> {
            int doubled = ctx.step("double", () -> n * 2);
            return ctx.transaction("store", conn -> doubled + 1);
        });
        bad = tandem.register("bad", Integer.class, (ctx, n) -> {
            ctx.step("fail", () -> {
                throw new IllegalStateException("bad " + n);
            });
            return 0;
        });
        tandem.register("recoverable", Integer.class, (ctx, n) -> ctx.step("add", () -> n + 1));
        tandem.start();
    }

    @AfterAll
    static void tearDown() {
        tandem.close();
    }

    @Test
    void countsAndTimersMatchWhatRan() throws Exception {
        List<WorkflowHandle<Integer>> handles = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            handles.add(ok.start(i));
        }
        for (int i = 0; i < 4; i++) {
            handles.add(ok.enqueue(i, EnqueueOptions.defaults().queue("q1")));
        }
        for (int i = 0; i < 2; i++) {
            handles.add(tandem.handle(db.queryString("SELECT tandem.enqueue_workflow('ok', '[" + i + "]', 'q1')")));
        }
        for (WorkflowHandle<Integer> h : handles) {
            h.result(WAIT);
        }
        for (int i = 0; i < 3; i++) {
            WorkflowHandle<Integer> h = bad.start(i);
            assertThatThrownBy(() -> h.result(WAIT)).isInstanceOf(WorkflowFailedException.class);
        }

        // Counted on the execution's thread just after its result is published.
        await().atMost(WAIT).untilAsserted(() -> {
            assertThat(count("tandem.workflows.finished", "workflow", "ok", "status", "SUCCESS")).isEqualTo(11);
            assertThat(count("tandem.workflows.finished", "workflow", "bad", "status", "ERROR")).isEqualTo(3);
        });
        assertThat(count("tandem.workflows.started", "workflow", "ok", "queue", "none")).isEqualTo(5);
        assertThat(count("tandem.workflows.started", "workflow", "ok", "queue", "q1")).isEqualTo(6);
        assertThat(count("tandem.workflows.started", "workflow", "bad", "queue", "none")).isEqualTo(3);
        assertThat(registry.get("tandem.workflow.duration").tags("workflow", "ok", "status", "SUCCESS").timer().count())
                .isEqualTo(11);
        assertThat(registry.get("tandem.step.duration").tags("workflow", "ok", "kind", "STEP", "outcome", "success")
                .timer().count()).isEqualTo(11);
        assertThat(registry.get("tandem.step.duration").tags("workflow", "ok", "kind", "TRANSACTION").timer().count())
                .isEqualTo(11);
        assertThat(registry.get("tandem.step.duration").tags("workflow", "bad", "kind", "STEP", "outcome", "error")
                .timer().count()).isEqualTo(3);
        assertThat(registry.get("tandem.queue.wait").tags("queue", "q1").timer().count()).isEqualTo(6);
        assertThat(registry.find("tandem.queue.wait").tags("queue", "default").timer()).isNull();
        assertThat(count("tandem.commits", "type", "transaction")).isEqualTo(11);
        assertThat(count("tandem.commits", "type", "group")).isPositive();
        assertThat(registry.get("tandem.commit.batch.size").summary().count())
                .isEqualTo((long) count("tandem.commits", "type", "group"));
        assertThat(registry.get("tandem.commit.batch.size").summary().totalAmount()).isGreaterThanOrEqualTo(14);
        assertThat(registry.get("tandem.executor.heartbeat.age").timeGauge().value(TimeUnit.SECONDS)).isLessThan(5);
        // No meter carries a workflow id.
        assertThat(registry.getMeters()).allSatisfy(m -> assertThat(m.getId().getTags())
                .noneMatch(t -> t.getKey().contains("id")));
    }

    @Test
    void queueGaugesShowWhatWaitsAndRunsAcrossExecutors() {
        // Nobody runs 'nobody-runs-this': it waits in q1 and shows in the gauge, which maintenance refreshes.
        for (int i = 0; i < 3; i++) {
            db.execute("SELECT tandem.enqueue_workflow('nobody-runs-this', '[1]', 'q1')");
        }
        db.execute("INSERT INTO tandem.workflow_status (workflow_id, name, status, queue_name, input, executor_id)"
                + " VALUES ('elsewhere', 'nobody-runs-this', 'RUNNING', 'q1', '[1]', 'other-executor')");
        await().atMost(WAIT).untilAsserted(() -> {
            assertThat(gauge("tandem.queue.depth", "q1")).isEqualTo(3);
            assertThat(gauge("tandem.queue.running", "q1")).isEqualTo(1);
            assertThat(gauge("tandem.queue.depth", "default")).isZero();
        });
        db.execute("DELETE FROM tandem.workflow_status WHERE name = 'nobody-runs-this'");
    }

    @Test
    void aWorkflowTakenOverFromADeadExecutorCountsAsARecovery() {
        // A RUNNING row whose executor never sent a heartbeat: this executor's maintenance takes it over.
        db.execute("INSERT INTO tandem.workflow_status (workflow_id, name, status, input, executor_id)"
                + " VALUES ('orphan-1', 'recoverable', 'RUNNING', '[20]', 'dead-executor')");
        assertThat(tandem.<Integer>handle("orphan-1").result(WAIT)).isEqualTo(21);
        await().atMost(WAIT).untilAsserted(() -> {
            assertThat(count("tandem.recoveries", "workflow", "recoverable", "reason", "crash")).isEqualTo(1);
            assertThat(count("tandem.workflows.finished", "workflow", "recoverable", "status", "SUCCESS")).isEqualTo(1);
        });
        assertThat(count("tandem.workflows.started", "workflow", "recoverable", "queue", "none"))
                .as("a recovery is not a start").isZero();
    }

    /** The gauge's value, or -1 while maintenance has not registered it yet. */
    static double gauge(String name, String queue) {
        var gauge = registry.find(name).tags("queue", queue).gauge();
        return gauge == null ? -1 : gauge.value();
    }

    static double count(String name, String... tags) {
        var counter = registry.find(name).tags(tags).counter();
        return counter == null ? 0 : counter.count();
    }
}
