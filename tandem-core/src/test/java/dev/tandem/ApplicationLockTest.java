package dev.tandem;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.testing.Engines;
import dev.tandem.testing.TestDatabase;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Defect: the group commit waited on row locks with no timeout, so one open application transaction (an uncommitted
 * {@code tandem.enqueue_workflow} or {@code tandem.cancel_workflow}, as the README encourages) stalled every workflow
 * of the executor for as long as it stayed open. Now only the workflow whose row is locked waits.
 */
class ApplicationLockTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    @RegisterExtension
    final Engines engines = new Engines();

    @Test
    void anUncommittedEnqueueOfTheSameIdDelaysOnlyThatStart() throws Exception {
        Tandem tandem = engines.add(Tandem.builder().dataSource(db.dataSource()).build());
        Workflow<String, String> echo = tandem.register("echo", String.class, (ctx, in) -> ctx.step("s", () -> in));
        tandem.start();

        try (Connection app = db.dataSource().getConnection()) {
            app.setAutoCommit(false);
            try (Statement st = app.createStatement()) {
                st.execute("SELECT tandem.enqueue_workflow('echo', '[\"from-sql\"]', workflow_id => 'order-42')");
            }
            // A start of the same id must wait for the application's transaction; nothing else may.
            CompletableFuture<WorkflowHandle<String>> blocked = CompletableFuture.supplyAsync(
                    () -> echo.start("from-java", StartOptions.withId("order-42")));
            Thread.sleep(200);
            long began = System.nanoTime();
            List<WorkflowHandle<String>> others = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                others.add(echo.start("other-" + i, StartOptions.withId("other-" + i)));
            }
            for (int i = 0; i < 20; i++) {
                assertThat(others.get(i).result(Duration.ofSeconds(10))).isEqualTo("other-" + i);
            }
            long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began);
            assertThat(tookMillis).as("20 unrelated workflows while the application holds a lock").isLessThan(5000);
            assertThat(blocked).as("the start of the locked id waits for the application").isNotDone();

            app.commit(); // the enqueued workflow exists now: the start returns it, and nothing runs twice
            WorkflowHandle<String> h = blocked.get(10, TimeUnit.SECONDS);
            assertThat(h.result(Duration.ofSeconds(10))).isEqualTo("from-sql");
        }
        assertThat(db.queryLong("SELECT count(*) FROM tandem.workflow_status WHERE workflow_id = 'order-42'"))
                .isEqualTo(1);
    }

    @Test
    void anUncommittedCancelDelaysOnlyTheCancelledWorkflowsEnd() throws Exception {
        CountDownLatch inSlow = new CountDownLatch(1);
        CountDownLatch releaseSlow = new CountDownLatch(1);
        Tandem tandem = engines.add(Tandem.builder().dataSource(db.dataSource()).build());
        Workflow<String, String> work = tandem.register("work", String.class, (ctx, in) -> ctx.step("s", () -> {
            if (in.equals("slow")) {
                inSlow.countDown();
                releaseSlow.await(20, TimeUnit.SECONDS);
            }
            return in;
        }));
        tandem.start();

        WorkflowHandle<String> slow = work.start("slow", StartOptions.withId("slow-1"));
        assertThat(inSlow.await(10, TimeUnit.SECONDS)).isTrue();
        try (Connection app = db.dataSource().getConnection()) {
            app.setAutoCommit(false);
            try (Statement st = app.createStatement()) {
                st.execute("SELECT tandem.cancel_workflow('slow-1')"); // holds slow-1's row until commit
            }
            releaseSlow.countDown(); // slow-1 finishes and tries to record SUCCESS: it must wait for the cancel
            Thread.sleep(300);
            long began = System.nanoTime();
            for (int i = 0; i < 20; i++) {
                assertThat(work.run("fast-" + i, StartOptions.withId("fast-" + i))).isEqualTo("fast-" + i);
            }
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began))
                    .as("20 unrelated workflows, one after the other, while slow-1's row is locked").isLessThan(5000);
            assertThat(db.queryString("SELECT status FROM tandem.workflows WHERE workflow_id = 'slow-1'"))
                    .isEqualTo("RUNNING");
            app.commit();
        }
        try {
            slow.result(Duration.ofSeconds(10));
            throw new AssertionError("slow-1 should have ended CANCELLED");
        } catch (WorkflowFailedException e) {
            assertThat(e.status()).isEqualTo(WorkflowStatus.CANCELLED);
        }
    }

    @Test
    void aRolledBackCancelLetsTheWorkflowFinish() throws Exception {
        CountDownLatch inSlow = new CountDownLatch(1);
        CountDownLatch releaseSlow = new CountDownLatch(1);
        Tandem tandem = engines.add(Tandem.builder().dataSource(db.dataSource()).build());
        Workflow<String, String> work = tandem.register("work2", String.class, (ctx, in) -> ctx.step("s", () -> {
            inSlow.countDown();
            releaseSlow.await(20, TimeUnit.SECONDS);
            return in;
        }));
        tandem.start();
        WorkflowHandle<String> slow = work.start("slow", StartOptions.withId("slow-2"));
        assertThat(inSlow.await(10, TimeUnit.SECONDS)).isTrue();
        try (Connection app = db.dataSource().getConnection()) {
            app.setAutoCommit(false);
            try (Statement st = app.createStatement()) {
                st.execute("SELECT tandem.cancel_workflow('slow-2')");
            }
            releaseSlow.countDown();
            Thread.sleep(1500); // longer than the batch's lock timeout: the write now waits on its own
            app.rollback();
        }
        assertThat(slow.result(Duration.ofSeconds(10))).isEqualTo("slow");
    }

    /**
     * Defect: the partitioned claim held the queue's lock while it waited on a waiting workflow's row that an
     * application transaction held, so every executor's claims of that queue stalled behind it.
     */
    @Test
    void aLockedWaitingWorkflowDoesNotStallItsPartitionedQueue() throws Exception {
        Tandem tandem = engines.add(Tandem.builder().dataSource(db.dataSource()).pollInterval(Duration.ofMillis(200))
                .queue("tenants", QueueOptions.unlimited().partitionConcurrency(1)).build());
        tandem.register("tenant-job", String.class, (ctx, in) -> ctx.step("s", () -> in));
        tandem.start();
        try (Connection app = db.dataSource().getConnection()) {
            app.setAutoCommit(false);
            try (Statement st = app.createStatement()) {
                // Enqueued and committed by someone else, then held (uncommitted cancel) by this transaction.
                db.execute("SELECT tandem.enqueue_workflow('tenant-job', '[\"held\"]', 'tenants', workflow_id => 'held-1',"
                        + " partition_key => 'a', delay => interval '300 milliseconds')");
                st.execute("SELECT tandem.cancel_workflow('held-1')");
            }
            Thread.sleep(400); // held-1 is due, and locked
            for (int i = 0; i < 10; i++) {
                db.execute("SELECT tandem.enqueue_workflow('tenant-job', '[\"t" + i + "\"]', 'tenants',"
                        + " workflow_id => 'tenant-" + i + "', partition_key => 'p" + i + "')");
            }
            for (int i = 0; i < 10; i++) {
                assertThat(tandem.<String>handle("tenant-" + i).result(Duration.ofSeconds(10))).isEqualTo("t" + i);
            }
            app.rollback();
        }
        assertThat(tandem.<String>handle("held-1").result(Duration.ofSeconds(10))).isEqualTo("held");
    }
}
