package dev.tandem;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tandem.testing.Engines;
import dev.tandem.testing.TestDatabase;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Recovery and replay, in one JVM: an engine is stopped while a workflow is mid-way (its step is interrupted, nothing
 * is recorded for it), and another engine, or the same executor id restarted, takes the workflow over.
 */
class RecoveryTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    static final Duration WAIT = Duration.ofSeconds(15);
    @RegisterExtension
    final Engines engines = new Engines();

    @BeforeAll
    static void schema() {
        db.execute("CREATE TABLE ledger (workflow_id text, entry text)");
    }


    Tandem engine(String executorId) {
        Tandem t = Tandem.builder()
                .dataSource(db.dataSource())
                .executorId(executorId)
                .heartbeatInterval(Duration.ofMillis(100))
                .executorTimeout(Duration.ofMillis(500))
                .shutdownTimeout(Duration.ofMillis(200))
                .build();
        engines.add(t);
        return t;
    }

    /** Registers "transfer": step a, transaction b (writes a ledger row), step c that blocks until released. */
    static Workflow<String, String> transfer(Tandem t, AtomicInteger aRuns, AtomicInteger bRuns, CountDownLatch block) {
        return t.register("transfer", String.class, (ctx, in) -> {
            String a = ctx.step("a", () -> in + "-a" + aRuns.incrementAndGet());
            String b = ctx.transaction("b", conn -> {
                bRuns.incrementAndGet();
                try (var ps = conn.prepareStatement("INSERT INTO ledger VALUES (?, ?)")) {
                    ps.setString(1, ctx.workflowId());
                    ps.setString(2, a);
                    ps.executeUpdate();
                }
                return a + "-b";
            });
            return ctx.step("c", () -> {
                block.await(1, TimeUnit.MINUTES);
                return b + "-c";
            });
        });
    }

    @Test
    void anotherExecutorResumesFromTheLastCheckpointWithoutRerunningCompletedSteps() throws Exception {
        AtomicInteger aRuns = new AtomicInteger();
        AtomicInteger bRuns = new AtomicInteger();
        Tandem first = engine("first");
        Workflow<String, String> wf1 = transfer(first, aRuns, bRuns, new CountDownLatch(1)); // never released
        first.start();
        wf1.start("t1", StartOptions.withId("rec-1"));
        awaitSteps("rec-1", 2);
        first.close(); // interrupts step c: nothing recorded for it

        Tandem second = engine("second");
        transfer(second, aRuns, bRuns, new CountDownLatch(0));
        second.start();

        assertThat(second.<String>handle("rec-1").result(WAIT)).isEqualTo("t1-a1-b-c");
        assertThat(aRuns.get()).isEqualTo(1);
        assertThat(bRuns.get()).isEqualTo(1);
        assertThat(db.queryLong("SELECT count(*) FROM ledger WHERE workflow_id = 'rec-1'")).isEqualTo(1);
        assertThat(db.queryString("SELECT executor_id FROM tandem.workflows WHERE workflow_id = 'rec-1'"))
                .isEqualTo("second");
        assertThat(db.queryLong("SELECT attempts FROM tandem.workflows WHERE workflow_id = 'rec-1'")).isEqualTo(2);
    }

    @Test
    void aRestartedExecutorResumesItsOwnWorkAtStart() throws Exception {
        AtomicInteger aRuns = new AtomicInteger();
        AtomicInteger bRuns = new AtomicInteger();
        Tandem before = engine("same");
        Workflow<String, String> wf = transfer(before, aRuns, bRuns, new CountDownLatch(1));
        before.start();
        wf.start("t2", StartOptions.withId("rec-2"));
        awaitSteps("rec-2", 2);
        before.close();

        Tandem after = engine("same");
        transfer(after, aRuns, bRuns, new CountDownLatch(0));
        after.start();

        assertThat(after.<String>handle("rec-2").result(WAIT)).isEqualTo("t2-a1-b-c");
        assertThat(bRuns.get()).isEqualTo(1);
    }

    @Test
    void changedStepOrderOnReplayFailsTheWorkflowAsNonDeterministic() throws Exception {
        Tandem first = engine("nd-first");
        Workflow<String, String> wf = transfer(first, new AtomicInteger(), new AtomicInteger(), new CountDownLatch(1));
        first.start();
        wf.start("t3", StartOptions.withId("rec-3"));
        awaitSteps("rec-3", 2);
        first.close();

        Tandem second = engine("nd-second");
        AtomicInteger sideEffects = new AtomicInteger();
        second.register("transfer", String.class, (ctx, in) -> {
            ctx.step("a", () -> "x");
            try {
                ctx.step("refund", sideEffects::incrementAndGet); // position 2 is recorded as transaction 'b'
            } catch (NonDeterministicWorkflowException swallowed) {
                // Even if the code swallows it, the workflow must not carry on as if nothing happened.
            }
            return "done";
        });
        second.start();

        assertThatThrownBy(() -> second.handle("rec-3").result(WAIT))
                .isInstanceOfSatisfying(WorkflowFailedException.class, e -> {
                    assertThat(e.errorType()).isEqualTo(NonDeterministicWorkflowException.class.getName());
                    assertThat(e.errorMessage()).contains("#2", "transaction 'b'", "step 'refund'");
                });
        assertThat(sideEffects.get()).isZero();
    }

    @Test
    void aWorkflowRecoveredTooOftenEndsRetriesExceeded() throws Exception {
        db.execute("INSERT INTO tandem.workflow_status (workflow_id, name, status, input, attempts, executor_id)"
                + " VALUES ('rec-4', 'transfer', 'RUNNING', '\"t4\"', 51, 'long-gone')");
        Tandem t = engine("rescuer");
        transfer(t, new AtomicInteger(), new AtomicInteger(), new CountDownLatch(0));
        t.start();

        assertThatThrownBy(() -> t.handle("rec-4").result(WAIT))
                .isInstanceOfSatisfying(WorkflowFailedException.class, e -> {
                    assertThat(e.status()).isEqualTo(WorkflowStatus.RETRIES_EXCEEDED);
                    assertThat(e.errorMessage()).contains("52 times", "maxRecoveryAttempts is 50");
                });
    }

    @Test
    void inputThatDoesNotBindEndsTheWorkflowInErrorAndTheWorkerCarriesOn() throws Exception {
        db.execute("INSERT INTO tandem.workflow_status (workflow_id, name, status, input, executor_id)"
                + " VALUES ('rec-5', 'transfer', 'RUNNING', '{\"not\": \"a string\"}', 'long-gone')");
        Tandem t = engine("binder");
        Workflow<String, String> wf = transfer(t, new AtomicInteger(), new AtomicInteger(), new CountDownLatch(0));
        t.start();

        assertThatThrownBy(() -> t.handle("rec-5").result(WAIT))
                .isInstanceOf(WorkflowFailedException.class)
                .hasMessageContaining("does not bind to java.lang.String");
        assertThat(wf.start("ok", StartOptions.withId("rec-6")).result(WAIT)).isEqualTo("ok-a1-b-c");
    }

    static void awaitSteps(String workflowId, int count) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (db.queryLong("SELECT count(*) FROM tandem.steps WHERE workflow_id = '" + workflowId + "'") < count) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("workflow " + workflowId + " did not record " + count + " steps");
            }
            Thread.sleep(10);
        }
    }
}
