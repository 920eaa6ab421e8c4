package dev.tandem;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tandem.testing.TestDatabase;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Cancel, resume and send, from Java and SQL. */
class ControlTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    static final Duration WAIT = Duration.ofSeconds(15);
    static Tandem tandem;
    static Workflow<String, String> twoSteps;
    static Workflow<String, String> flaky;
    static final CountDownLatch inFirst = new CountDownLatch(1);
    static final CountDownLatch releaseFirst = new CountDownLatch(1);
    static final AtomicInteger secondRuns = new AtomicInteger();
    static final AtomicInteger flakyRuns = new AtomicInteger();
    static final AtomicInteger ledgerRuns = new AtomicInteger();

    @BeforeAll
    static void setUp() {
        db.execute("CREATE TABLE ledger (workflow_id text)");
        tandem = Tandem.builder().dataSource(db.dataSource()).pollInterval(Duration.ofMillis(200)).build();
        twoSteps = tandem.register("two-steps", String.class, (ctx, in) -> {
            ctx.step("first", () -> {
                if (in.equals("block")) {
                    inFirst.countDown();
                    releaseFirst.await(10, TimeUnit.SECONDS);
                }
                return 1;
            });
            ctx.transaction("ledger", conn -> {
                ledgerRuns.incrementAndGet();
                try (var ps = conn.prepareStatement("INSERT INTO ledger VALUES (?)")) {
                    ps.setString(1, ctx.workflowId());
                    ps.executeUpdate();
                }
                return null;
            });
            return ctx.step("second", () -> "second ran " + secondRuns.incrementAndGet());
        });
        flaky = tandem.register("flaky", String.class, (ctx, in) -> {
            String a = ctx.step("a", () -> "a");
            String b = ctx.step("b", () -> {
                if (flakyRuns.incrementAndGet() == 1) {
                    throw new IllegalStateException("first time fails");
                }
                return "b";
            });
            return a + b;
        });
        tandem.start();
    }

    @AfterAll
    static void tearDown() {
        tandem.close();
    }

    @Test
    void aCancelledWorkflowStopsAtItsNextStepBoundary() throws Exception {
        WorkflowHandle<String> h = twoSteps.start("block", StartOptions.withId("cancel-running"));
        assertThat(inFirst.await(10, TimeUnit.SECONDS)).isTrue();
        tandem.cancel("cancel-running");
        releaseFirst.countDown();

        assertThatThrownBy(() -> h.result(WAIT))
                .isInstanceOfSatisfying(WorkflowFailedException.class,
                        e -> assertThat(e.status()).isEqualTo(WorkflowStatus.CANCELLED));
        assertThat(db.queryLong("SELECT count(*) FROM ledger WHERE workflow_id = 'cancel-running'"))
                .as("the transactional step after the cancel rolled back").isZero();
        assertThat(db.queryString("SELECT status FROM tandem.workflows WHERE workflow_id = 'cancel-running'"))
                .isEqualTo("CANCELLED");

        // Resume: continues from its checkpoints, the first step is not run again.
        tandem.resume("cancel-running");
        assertThat(tandem.<String>handle("cancel-running").result(WAIT)).startsWith("second ran");
        assertThat(db.queryLong("SELECT count(*) FROM ledger WHERE workflow_id = 'cancel-running'")).isEqualTo(1);
        assertThat(db.queryString("SELECT string_agg(name, ',' ORDER BY position) FROM tandem.steps"
                + " WHERE workflow_id = 'cancel-running'")).isEqualTo("first,ledger,second");
    }

    @Test
    void aQueuedWorkflowCancelledBeforeItStartsNeverRuns() throws Exception {
        int before = ledgerRuns.get();
        try (Connection c = db.dataSource().getConnection()) {
            c.setAutoCommit(false);
            try (var st = c.createStatement()) {
                st.execute("SELECT tandem.enqueue_workflow('two-steps', '[\"x\"]', workflow_id => 'cancel-queued',"
                        + " delay => interval '1 second')");
                st.execute("SELECT tandem.cancel_workflow('cancel-queued')");
            }
            c.commit();
        }
        Thread.sleep(1500);
        assertThat(db.queryString("SELECT status FROM tandem.workflows WHERE workflow_id = 'cancel-queued'"))
                .isEqualTo("CANCELLED");
        assertThat(ledgerRuns.get()).isEqualTo(before);
    }

    @Test
    void aFailedWorkflowResumesByRerunningOnlyTheFailedStep() {
        WorkflowHandle<String> h = flaky.start("x", StartOptions.withId("flaky-1"));
        assertThatThrownBy(() -> h.result(WAIT)).isInstanceOf(WorkflowFailedException.class)
                .hasMessageContaining("first time fails");

        db.execute("SELECT tandem.resume_workflow('flaky-1')");
        assertThat(tandem.<String>handle("flaky-1").result(WAIT)).isEqualTo("ab");
        assertThat(flakyRuns.get()).isEqualTo(2);
        assertThat(db.queryLong("SELECT count(*) FROM tandem.steps WHERE workflow_id = 'flaky-1' AND error IS NOT NULL"))
                .isZero();
    }

    @Test
    void unknownIdsAndFinishedWorkflowsAreReportedClearly() {
        assertThatThrownBy(() -> tandem.cancel("nope")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("workflow \"nope\" does not exist");
        assertThatThrownBy(() -> tandem.resume("nope")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("workflow \"nope\" does not exist");
        assertThatThrownBy(() -> tandem.send("nope", null, "hi", null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("workflow \"nope\" does not exist");
        twoSteps.run("done", StartOptions.withId("done-1"));
        assertThatThrownBy(() -> tandem.resume("done-1")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("already succeeded");
        tandem.cancel("done-1"); // ended: nothing to do
        assertThat(db.queryString("SELECT status FROM tandem.workflows WHERE workflow_id = 'done-1'"))
                .isEqualTo("SUCCESS");
        assertThatThrownBy(() -> {
            try (Connection c = db.dataSource().getConnection(); var st = c.createStatement()) {
                st.execute("SELECT tandem.send_message('done-1', NULL)");
            }
        }).isInstanceOf(SQLException.class).hasMessageContaining("message must not be null");
    }

    @Test
    void messagesAreKeptAndAnIdempotencyKeyMakesAResendANoOp() {
        twoSteps.run("m", StartOptions.withId("mail-1"));
        tandem.send("mail-1", "payment", java.util.Map.of("paid", true), "webhook-77");
        tandem.send("mail-1", "payment", java.util.Map.of("paid", true), "webhook-77");
        db.execute("SELECT tandem.send_message('mail-1', '\"hello\"')");
        assertThat(db.queryLong("SELECT count(*) FROM tandem.messages WHERE workflow_id = 'mail-1'")).isEqualTo(2);
        assertThat(db.queryString("SELECT message->>'paid' FROM tandem.messages WHERE topic = 'payment'"))
                .isEqualTo("true");
    }
}
