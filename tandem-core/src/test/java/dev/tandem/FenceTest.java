package dev.tandem;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tandem.testing.Engines;
import dev.tandem.testing.TestDatabase;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The ownership fence: a workflow's writes are refused once it is cancelled or taken over, at every isolation level
 * and even when two processes share an executorId; and a transactional step's code cannot commit behind the fence.
 */
class FenceTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    @RegisterExtension
    final Engines engines = new Engines();

    static final Duration WAIT = Duration.ofSeconds(20);

    /**
     * Defect: tandem.check_owner took no lock, so a REPEATABLE READ or SERIALIZABLE step whose snapshot predates a
     * committed cancel still saw its workflow RUNNING and committed its application row and checkpoint.
     */
    @ParameterizedTest
    @EnumSource(IsolationLevel.class)
    void aCancelCommittedDuringATransactionalStepRollsItBackAtEveryIsolationLevel(IsolationLevel isolation)
            throws Exception {
        String table = "fence_" + isolation.name().toLowerCase();
        db.execute("CREATE TABLE " + table + " (workflow_id text)");
        CountDownLatch inBody = new CountDownLatch(1);
        CountDownLatch cancelled = new CountDownLatch(1);
        AtomicInteger bodies = new AtomicInteger();
        Tandem tandem = engines.add(Tandem.builder().dataSource(db.dataSource()).build());
        Workflow<String, String> pay = tandem.register("pay", String.class, (ctx, in) ->
                ctx.transaction("charge", TransactionOptions.isolation(isolation), conn -> {
                    try (var st = conn.createStatement()) {
                        st.execute("SELECT count(*) FROM " + table); // the transaction's snapshot is taken here
                    }
                    if (bodies.incrementAndGet() == 1) {
                        inBody.countDown();
                        cancelled.await(10, TimeUnit.SECONDS);
                    }
                    try (var ps = conn.prepareStatement("INSERT INTO " + table + " VALUES (?)")) {
                        ps.setString(1, ctx.workflowId());
                        ps.executeUpdate();
                    }
                    return "paid";
                }));
        tandem.start();

        WorkflowHandle<String> h = pay.start("x", StartOptions.withId("fenced-" + isolation));
        assertThat(inBody.await(10, TimeUnit.SECONDS)).isTrue();
        tandem.cancel("fenced-" + isolation); // commits while the step's transaction is open
        cancelled.countDown();

        assertThatThrownBy(() -> h.result(WAIT)).isInstanceOfSatisfying(WorkflowFailedException.class,
                e -> assertThat(e.status()).isEqualTo(WorkflowStatus.CANCELLED));
        // The step may be retried (a serialization failure), but it never commits after the cancel.
        await(() -> db.queryLong("SELECT count(*) FROM tandem.workflows WHERE status = 'RUNNING'") == 0);
        assertThat(db.queryLong("SELECT count(*) FROM " + table)).as("application rows committed after the cancel")
                .isZero();
        assertThat(db.queryLong("SELECT count(*) FROM tandem.steps WHERE workflow_id = 'fenced-" + isolation + "'"))
                .isZero();
    }

    /**
     * Defect: the fence was the executor id alone, so two processes started with the same executorId passed each
     * other's fences. With ownership epochs, the one whose claim is older is refused at its next write.
     */
    @Test
    void twoProcessesWithTheSameExecutorIdDoNotPassEachOthersFence() throws Exception {
        CountDownLatch firstInBlock = new CountDownLatch(1);
        CountDownLatch releaseFirst = new CountDownLatch(1);
        CountDownLatch secondInBlock = new CountDownLatch(1);
        CountDownLatch releaseSecond = new CountDownLatch(1);
        AtomicInteger blocks = new AtomicInteger();
        List<String> afterRanOn = new CopyOnWriteArrayList<>();

        Tandem first = engines.add(Tandem.builder().dataSource(db.dataSource()).executorId("twin").build());
        Tandem second = engines.add(Tandem.builder().dataSource(db.dataSource()).executorId("twin").build());
        List<Workflow<String, String>> twins = new java.util.ArrayList<>();
        for (Tandem t : List.of(first, second)) {
            String engineName = t == first ? "first" : "second";
            twins.add(t.register("twin-work", String.class, (ctx, in) -> {
                ctx.step("block", () -> {
                    if (blocks.incrementAndGet() == 1) {
                        firstInBlock.countDown();
                        releaseFirst.await(20, TimeUnit.SECONDS);
                    } else {
                        secondInBlock.countDown();
                        releaseSecond.await(20, TimeUnit.SECONDS);
                    }
                    return 1;
                });
                ctx.step("after", () -> afterRanOn.add(engineName));
                return "done";
            }));
        }
        first.start();
        twins.get(0).start("x", StartOptions.withId("twin-1"));
        assertThat(firstInBlock.await(10, TimeUnit.SECONDS)).isTrue();

        second.start(); // recovers its "previous incarnation's" RUNNING workflow: takes it with a new epoch
        assertThat(secondInBlock.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(db.queryLong("SELECT owner_epoch FROM tandem.workflow_status WHERE workflow_id = 'twin-1'"))
                .isEqualTo(2);

        releaseFirst.countDown(); // the first process's execution now tries to record "block" and run "after"
        Thread.sleep(500);
        releaseSecond.countDown();

        assertThat(second.<String>handle("twin-1").result(WAIT)).isEqualTo("done");
        await(() -> afterRanOn.size() >= 1);
        Thread.sleep(300);
        assertThat(afterRanOn).as("only the current owner ran the step after the takeover").containsExactly("second");
        assertThat(db.queryString("SELECT status FROM tandem.workflows WHERE workflow_id = 'twin-1'"))
                .isEqualTo("SUCCESS");
    }

    /** A transactional step's code cannot commit its writes apart from its checkpoint. */
    @Test
    void aTransactionalStepsConnectionRefusesCommitRollbackAndAutocommit() throws Exception {
        db.execute("CREATE TABLE guarded (workflow_id text)");
        Tandem tandem = engines.add(Tandem.builder().dataSource(db.dataSource()).build());
        Workflow<String, String> sneaky = tandem.register("sneaky", String.class, (ctx, how) ->
                ctx.transaction("charge", conn -> {
                    try (var ps = conn.prepareStatement("INSERT INTO guarded VALUES (?)")) {
                        ps.setString(1, ctx.workflowId());
                        ps.executeUpdate();
                    }
                    switch (how) {
                        case "commit" -> conn.commit();
                        case "rollback" -> conn.rollback();
                        case "autocommit" -> conn.setAutoCommit(true);
                        case "close" -> conn.close();
                        default -> {
                            var savepoint = conn.setSavepoint(); // savepoints are the application's to use
                            conn.rollback(savepoint);
                        }
                    }
                    return how;
                }));
        tandem.start();

        for (String how : List.of("commit", "rollback", "autocommit", "close")) {
            assertThatThrownBy(() -> sneaky.run(how, StartOptions.withId("sneaky-" + how)))
                    .isInstanceOfSatisfying(WorkflowFailedException.class, e -> assertThat(e.getMessage())
                            .contains("belongs to Tandem").contains(how.equals("autocommit") ? "setAutoCommit" : how));
        }
        assertThat(db.queryLong("SELECT count(*) FROM guarded")).as("nothing committed behind the checkpoint").isZero();
        assertThat(sneaky.run("savepoint", StartOptions.withId("sneaky-savepoint"))).isEqualTo("savepoint");
        assertThat(db.queryLong("SELECT count(*) FROM guarded")).isEqualTo(1);
    }

    static void await(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not met within " + WAIT);
            }
            Thread.sleep(20);
        }
    }
}
