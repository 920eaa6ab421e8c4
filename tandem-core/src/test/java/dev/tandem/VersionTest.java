package dev.tandem;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tandem.testing.Engines;
import dev.tandem.testing.TestDatabase;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Application versions: a workflow records the version that first ran it, and is recovered, dequeued and resumed only
 * by an executor whose version can run it; one that no live executor can run is listed in tandem.stranded, never
 * skipped in silence, and an operator can move it.
 */
class VersionTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    @RegisterExtension
    final Engines engines = new Engines();

    @BeforeEach
    void cleanUp() { // the previous test's engines are closed by now
        if (db.queryLong("SELECT count(*) FROM pg_namespace WHERE nspname = 'tandem'") == 0) {
            return; // the first engine creates the schema
        }
        db.execute("DELETE FROM tandem.workflow_status");
        db.execute("DELETE FROM tandem.steps");
        db.execute("DELETE FROM tandem.messages");
        db.execute("DELETE FROM tandem.executors");
    }

    /** The workflow "approval" of the last executor built. */
    private Workflow<String, String> approval;

    /** An executor of version {@code version} running workflow "approval": waits for a message, returns it. */
    private Tandem executor(String id, String version, String... compatible) {
        Tandem t = Tandem.builder().dataSource(db.dataSource()).executorId(id).appVersion(version)
                .compatibleWith(compatible).heartbeatInterval(Duration.ofMillis(100))
                .executorTimeout(Duration.ofMillis(600)).build();
        approval = t.register("approval", String.class, (ctx, in) -> {
            ctx.step("asked", () -> in);
            return in + ": " + ctx.recv("decision", String.class, Duration.ofMinutes(1));
        });
        return t;
    }

    private static String column(String column, String id) {
        return db.queryString("SELECT coalesce(" + column + "::text, '-') FROM tandem.workflows WHERE workflow_id = '"
                + id + "'");
    }

    @Test
    void aWorkflowRecordsTheVersionThatFirstRanIt() {
        Tandem v1 = engines.add(executor("svc-1", "2026.11.1"));
        v1.start();
        assertThat(v1.appVersion()).isEqualTo("2026.11.1");
        approval.start("order-1", StartOptions.withId("started"));
        approval.enqueue("order-2", EnqueueOptions.withId("queued"));
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> column("status", "queued").equals("RUNNING"));
        assertThat(column("app_version", "started")).isEqualTo("2026.11.1");
        assertThat(column("app_version", "queued")).isEqualTo("2026.11.1");
        assertThat(db.queryString("SELECT app_version FROM tandem.executors WHERE executor_id = 'svc-1'"))
                .isEqualTo("2026.11.1");
    }

    @Test
    void anExecutorRecoversOnlyWorkflowsItsVersionCanRunAndTheRestAreListedAsStranded() {
        Tandem v1 = engines.add(executor("svc-1", "2026.11.1"));
        v1.start();
        approval.start("order-1", StartOptions.withId("in-flight"));
        Awaitility.await().atMost(Duration.ofSeconds(10))
                .until(() -> db.queryLong("SELECT count(*) FROM tandem.steps WHERE workflow_id = 'in-flight'") >= 1);
        v1.close(); // the deploy: its workflow stays RUNNING, waiting for its message

        Tandem v2 = engines.add(executor("svc-2", "2026.12.0"));
        v2.start();
        Awaitility.await().pollDelay(Duration.ofMillis(1500)).atMost(Duration.ofSeconds(5)).until(() -> true);
        assertThat(column("executor_id", "in-flight")).as("not recovered by another version").isEqualTo("svc-1");
        assertThat(db.queryString("SELECT reason FROM tandem.stranded WHERE workflow_id = 'in-flight'"))
                .isEqualTo("no live executor runs version 2026.11.1 of workflow 'approval' (live: 2026.12.0)");

        Tandem compatible = engines.add(executor("svc-3", "2026.12.1", "2026.11.*"));
        compatible.start();
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> column("executor_id", "in-flight").equals("svc-3"));
        assertThat(db.queryLong("SELECT count(*) FROM tandem.stranded")).isZero();
        compatible.send("in-flight", "decision", "approved");
        assertThat(compatible.<String>handle("in-flight").result(Duration.ofSeconds(10))).isEqualTo("order-1: approved");
        assertThat(column("app_version", "in-flight")).as("the version that started it").isEqualTo("2026.11.1");
    }

    @Test
    void aResumedWorkflowWaitsForItsVersionAndAnOperatorCanMoveIt() {
        Tandem v1 = engines.add(executor("svc-1", "1.0"));
        v1.start();
        approval.start("order-7", StartOptions.withId("cancelled-then-resumed"));
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> db.queryLong(
                "SELECT count(*) FROM tandem.steps WHERE workflow_id = 'cancelled-then-resumed'") >= 1);
        v1.cancel("cancelled-then-resumed");
        v1.close();
        // never run: any version may start it
        db.execute("SELECT tandem.enqueue_workflow('approval', '[\"order-8\"]', workflow_id => 'never-ran')");

        Tandem v2 = engines.add(executor("svc-2", "2.0"));
        v2.start();
        v2.resume("cancelled-then-resumed");
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> column("status", "never-ran").equals("RUNNING"));
        assertThat(column("app_version", "never-ran")).isEqualTo("2.0");
        Awaitility.await().pollDelay(Duration.ofMillis(1500)).atMost(Duration.ofSeconds(5)).until(() -> true);
        assertThat(column("status", "cancelled-then-resumed")).as("version 1.0 is not running").isEqualTo("ENQUEUED");
        assertThat(column("waiting_reason", "cancelled-then-resumed"))
                .isEqualTo("no running executor runs version 1.0 of workflow 'approval'");
        assertThat(db.queryString("SELECT workflow_id FROM tandem.stranded")).isEqualTo("cancelled-then-resumed");

        v2.setWorkflowVersion("cancelled-then-resumed", "2.0"); // the operator vouches for the new code
        Awaitility.await().atMost(Duration.ofSeconds(10))
                .until(() -> column("status", "cancelled-then-resumed").equals("RUNNING"));
        v2.send("cancelled-then-resumed", "decision", "ok");
        assertThat(v2.<String>handle("cancelled-then-resumed").result(Duration.ofSeconds(10))).isEqualTo("order-7: ok");
        assertThatThrownBy(() -> v2.setWorkflowVersion("no-such-workflow", "2.0"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("does not exist");
    }

    @Test
    void aRedeployUnderTheSameExecutorIdLeavesOldWorkToAnExecutorThatCanRunIt() {
        Tandem v1 = engines.add(executor("svc", "1.0"));
        v1.start();
        approval.start("order-9", StartOptions.withId("redeployed"));
        Awaitility.await().atMost(Duration.ofSeconds(10))
                .until(() -> db.queryLong("SELECT count(*) FROM tandem.steps WHERE workflow_id = 'redeployed'") >= 1);
        v1.close();
        Tandem v2 = engines.add(executor("svc", "2.0")); // same id, new code: its previous incarnation's work ...
        v2.start();
        Awaitility.await().pollDelay(Duration.ofMillis(1000)).atMost(Duration.ofSeconds(5)).until(() -> true);
        assertThat(column("app_version", "redeployed")).isEqualTo("1.0");
        assertThat(db.queryLong("SELECT count(*) FROM tandem.stranded WHERE workflow_id = 'redeployed'")).isEqualTo(1);

        Tandem old = engines.add(executor("svc-old", "1.0")); // ... goes to an executor still on 1.0
        old.start();
        Awaitility.await().atMost(10, TimeUnit.SECONDS).until(() -> column("executor_id", "redeployed").equals("svc-old"));
        old.send("redeployed", "decision", "fine");
        assertThat(old.<String>handle("redeployed").result(Duration.ofSeconds(10))).isEqualTo("order-9: fine");
    }

    @Test
    void withoutAVersionOneIsDerivedFromTheRegisteredWorkflows() {
        Tandem a = engines.add(Tandem.builder().dataSource(db.dataSource()).executorId("derived-a").build());
        a.register("approval", String.class, (ctx, in) -> in);
        a.start();
        Tandem b = engines.add(Tandem.builder().dataSource(db.dataSource()).executorId("derived-b").build());
        b.register("approval", String.class, (ctx, in) -> in + " (changed code, same workflows)");
        b.start();
        Tandem c = engines.add(Tandem.builder().dataSource(db.dataSource()).executorId("derived-c").build());
        c.register("approval", String.class, (ctx, in) -> in);
        c.register("refund", String.class, (ctx, in) -> in);
        c.start();
        assertThat(a.appVersion()).matches("sha-[0-9a-f]{12}").isEqualTo(b.appVersion());
        assertThat(c.appVersion()).as("a workflow was added").isNotEqualTo(a.appVersion());
    }

    @Test
    void badVersionsAreRefused() {
        assertThatThrownBy(() -> Tandem.builder().appVersion(" ")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("appVersion");
        assertThatThrownBy(() -> Tandem.builder().compatibleWith("1.*", "")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("pattern");
        engines.add(executor("svc-bad", "1.0")).start(); // the schema
        assertThatThrownBy(() -> db.execute("SELECT tandem.set_workflow_version('x', '')"))
                .hasStackTraceContaining("must not be empty");
    }
}
