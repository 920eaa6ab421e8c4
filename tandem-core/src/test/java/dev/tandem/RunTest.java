package dev.tandem;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tandem.testing.TestDatabase;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code Workflow.run} writes the workflow's start with its first transactional step (one commit fewer on the path):
 * the row is not there while the plain steps before it run, the step and the start commit together, an id that
 * exists runs nothing again, and a start of the same id that commits first rolls the step back.
 */
class RunTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    static final Duration WAIT = Duration.ofSeconds(20);
    static Tandem tandem;
    static Tandem other;
    static Workflow<String, String> pay;
    static Workflow<String, String> payElsewhere;
    static Workflow<String, String> failing;
    static Workflow<String, String> sleeping;
    static final AtomicInteger quotes = new AtomicInteger();
    static final AtomicInteger quotesElsewhere = new AtomicInteger();

    @BeforeAll
    static void setUp() {
        db.execute("CREATE TABLE run_payments (workflow_id text NOT NULL, cents int NOT NULL)");
        tandem = Tandem.builder().dataSource(db.dataSource()).executorId("run-a").build();
        other = Tandem.builder().dataSource(db.dataSource()).executorId("run-b").build();
        pay = tandem.register("run_pay", String.class, (ctx, in) -> {
            long rowsBefore = ctx.step("quote", () -> {
                quotes.incrementAndGet();
                if (in.equals("race")) {
                    // Another executor starts the same id and commits first, while this run has written nothing.
                    payElsewhere.start(in, StartOptions.withId(ctx.workflowId())).result(WAIT);
                }
                return db.queryLong("SELECT count(*) FROM tandem.workflow_status WHERE workflow_id = '"
                        + ctx.workflowId() + "'");
            });
            ctx.transaction("charge", conn -> charge(conn, ctx.workflowId()));
            long rowsAfter = ctx.step("receipt", () -> db.queryLong("SELECT count(*) FROM tandem.workflow_status"
                    + " WHERE workflow_id = '" + ctx.workflowId() + "' AND status = 'RUNNING'"));
            return "here " + rowsBefore + " " + rowsAfter;
        });
        payElsewhere = other.register("run_pay", String.class, (ctx, in) -> {
            ctx.step("quote", quotesElsewhere::incrementAndGet);
            ctx.transaction("charge", conn -> charge(conn, ctx.workflowId()));
            ctx.step("receipt", () -> 1);
            return "elsewhere";
        });
        failing = tandem.register("run_failing", String.class, (ctx, in) -> {
            ctx.step("ok", () -> 1);
            throw new IllegalStateException("no transaction: " + in);
        });
        sleeping = tandem.register("run_sleeping", String.class, (ctx, in) -> {
            ctx.sleep(Duration.ofMillis(20));
            ctx.transaction("charge", conn -> charge(conn, ctx.workflowId()));
            return "slept";
        });
        tandem.start();
        other.start();
    }

    static int charge(java.sql.Connection conn, String workflowId) throws java.sql.SQLException {
        try (var ps = conn.prepareStatement("INSERT INTO run_payments (workflow_id, cents) VALUES (?, 100)")) {
            ps.setString(1, workflowId);
            return ps.executeUpdate();
        }
    }

    @AfterAll
    static void tearDown() {
        other.close();
        tandem.close();
    }

    @Test
    void theStartCommitsWithTheFirstTransactionalStep() {
        String out = pay.run("a", StartOptions.withId("run-1"));

        // Not there while the plain step before the transaction ran; RUNNING right after the transaction.
        assertThat(out).isEqualTo("here 0 1");
        assertThat(db.queryString("SELECT status || ' ' || attempts || ' ' || owner_epoch || ' ' || executor_id"
                + " FROM tandem.workflow_status WHERE workflow_id = 'run-1'")).isEqualTo("SUCCESS 1 1 run-a");
        assertThat(db.queryString("SELECT string_agg(name || ':' || kind, ',' ORDER BY position) FROM tandem.steps"
                + " WHERE workflow_id = 'run-1'")).isEqualTo("quote:STEP,charge:TRANSACTION,receipt:STEP");
        assertThat(db.queryLong("SELECT count(*) FROM run_payments WHERE workflow_id = 'run-1'")).isEqualTo(1);
    }

    @Test
    void theRowSaysTheWorkflowWasCreatedWhenRunBeganBeforeItsFirstStep() {
        pay.run("a", StartOptions.withId("run-7")); // the start commits with the charge, after the quote ran
        assertThatThrownBy(() -> failing.run("y", StartOptions.withId("run-8"))) // written alone, before its end
                .isInstanceOf(WorkflowFailedException.class);
        assertThat(db.queryLong("SELECT count(*) FROM tandem.steps s JOIN tandem.workflow_status w USING (workflow_id)"
                + " WHERE w.workflow_id IN ('run-7', 'run-8')")).isEqualTo(4);
        assertThat(db.queryLong("SELECT count(*) FROM tandem.workflow_status w JOIN tandem.steps s USING (workflow_id)"
                + " WHERE w.workflow_id IN ('run-7', 'run-8') AND s.started_at < w.created_at")).isZero();
    }

    @Test
    void runningAnIdThatExistsRunsNothingAgain() {
        String first = pay.run("a", StartOptions.withId("run-2"));
        int quotesBefore = quotes.get();

        assertThat(pay.run("b", StartOptions.withId("run-2"))).isEqualTo(first);
        assertThat(quotes.get()).isEqualTo(quotesBefore);
        assertThat(db.queryLong("SELECT count(*) FROM run_payments WHERE workflow_id = 'run-2'")).isEqualTo(1);
    }

    @Test
    void aStartOfTheSameIdThatCommitsFirstRollsTheStepBack() {
        int elsewhereBefore = quotesElsewhere.get();

        // The other executor's execution is the one that exists: this run returns its outcome.
        assertThat(pay.run("race", StartOptions.withId("run-3"))).isEqualTo("elsewhere");
        assertThat(quotesElsewhere.get() - elsewhereBefore).isEqualTo(1);
        assertThat(db.queryLong("SELECT count(*) FROM run_payments WHERE workflow_id = 'run-3'")).isEqualTo(1);
        assertThat(db.queryString("SELECT executor_id FROM tandem.workflow_status WHERE workflow_id = 'run-3'"))
                .isEqualTo("run-b");
    }

    @Test
    void aRunWithoutTransactionalStepRecordsItsEnd() {
        assertThatThrownBy(() -> failing.run("x", StartOptions.withId("run-4")))
                .isInstanceOf(WorkflowFailedException.class)
                .hasMessageContaining("no transaction: x");
        assertThat(db.queryString("SELECT status FROM tandem.workflow_status WHERE workflow_id = 'run-4'"))
                .isEqualTo("ERROR");
        assertThat(db.queryLong("SELECT count(*) FROM tandem.steps WHERE workflow_id = 'run-4'")).isEqualTo(1);
    }

    @Test
    void aDurableCallBeforeAnyTransactionWritesTheStartFirst() {
        assertThat(sleeping.run("x", StartOptions.withId("run-5"))).isEqualTo("slept");
        assertThat(db.queryString("SELECT string_agg(kind, ',' ORDER BY position) FROM tandem.steps"
                + " WHERE workflow_id = 'run-5'")).isEqualTo("SLEEP,TRANSACTION");
        assertThat(db.queryString("SELECT status FROM tandem.workflow_status WHERE workflow_id = 'run-5'"))
                .isEqualTo("SUCCESS");
    }

    @Test
    void startStillWritesItsRowBeforeItReturns() throws Exception {
        WorkflowHandle<String> h = sleeping.start("x", StartOptions.withId("run-6"));
        assertThat(db.queryLong("SELECT count(*) FROM tandem.workflow_status WHERE workflow_id = 'run-6'"))
                .isEqualTo(1);
        assertThat(h.result(WAIT)).isEqualTo("slept");
    }
}
