package dev.tandem;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.testing.Engines;
import dev.tandem.testing.TestDatabase;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Defect: a workflow waited "unknown" from its creation, and an executor that stopped in order looked as if it had
 * never registered anything, so one service's redeploy let another service's executors fail its whole backlog,
 * including workflows delayed until tomorrow. A workflow now fails only when no executor has registered its name for
 * {@code unknownWorkflowTimeout} while it was due to run.
 */
class UnknownWorkflowTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    @RegisterExtension
    final Engines engines = new Engines();

    static final Duration TIMEOUT = Duration.ofSeconds(3);

    /** Service A: runs only "a", checks for unknown workflows every second (10 maintenance rounds of 100 ms). */
    private Tandem serviceA() {
        Tandem a = engines.add(Tandem.builder().dataSource(db.dataSource()).executorId("service-a")
                .heartbeatInterval(Duration.ofMillis(100)).unknownWorkflowTimeout(TIMEOUT).build());
        a.register("a", String.class, (ctx, in) -> in);
        a.start();
        return a;
    }

    private Tandem serviceB() {
        Tandem b = Tandem.builder().dataSource(db.dataSource()).executorId("service-b")
                .heartbeatInterval(Duration.ofMillis(100)).unknownWorkflowTimeout(TIMEOUT).build();
        b.register("b", String.class, (ctx, in) -> "b ran " + in);
        return b;
    }

    @Test
    void aRedeployOfAnotherServiceDoesNotFailItsBacklog() throws Exception {
        Tandem b = serviceB();
        b.start();
        b.close(); // stopped: its backlog builds up while it is being redeployed
        db.execute("SELECT tandem.enqueue_workflow('b', '[\"1\"]', workflow_id => 'b-backlog')");
        Thread.sleep(TIMEOUT.toMillis() + 500); // enqueued longer ago than the timeout ...
        Tandem b2 = serviceB();
        b2.start();
        b2.close(); // ... and a second redeploy: service B was registered a moment ago

        serviceA();
        Thread.sleep(1200); // A checks at least once (every second), well within the timeout since B's stop
        assertThat(db.queryString("SELECT status FROM tandem.workflows WHERE workflow_id = 'b-backlog'"))
                .as("B registered 'b' within the timeout").isEqualTo("ENQUEUED");

        Tandem b3 = engines.add(serviceB());
        b3.start();
        assertThat(b3.<String>handle("b-backlog").result(Duration.ofSeconds(10))).isEqualTo("b ran 1");
    }

    @Test
    void timeSpentDelayedDoesNotCount() throws Exception {
        serviceA();
        db.execute("SELECT tandem.enqueue_workflow('c', '[\"1\"]', workflow_id => 'c-delayed',"
                + " delay => interval '3500 milliseconds')");
        Thread.sleep(TIMEOUT.toMillis() + 1500); // longer than the timeout since the enqueue, but due only 1 s ago
        assertThat(db.queryString("SELECT status FROM tandem.workflows WHERE workflow_id = 'c-delayed'"))
                .isIn("DELAYED", "ENQUEUED");

        FenceTest.await(() -> db.queryString("SELECT status FROM tandem.workflows WHERE workflow_id = 'c-delayed'")
                .equals("ERROR"));
        assertThat(db.queryString("SELECT error->>'message' FROM tandem.workflows WHERE workflow_id = 'c-delayed'"))
                .contains("unknown workflow 'c'").contains("no executor has registered it");
    }

    @Test
    void aNameNobodyRegistersStillFailsAfterTheTimeout() throws Exception {
        serviceA();
        db.execute("SELECT tandem.enqueue_workflow('nobody', '[\"1\"]', workflow_id => 'nobody-1')");
        long began = System.nanoTime();
        FenceTest.await(() -> db.queryString("SELECT status FROM tandem.workflows WHERE workflow_id = 'nobody-1'")
                .equals("ERROR"));
        assertThat(Duration.ofNanos(System.nanoTime() - began)).isGreaterThanOrEqualTo(TIMEOUT.minusMillis(100));
    }
}
