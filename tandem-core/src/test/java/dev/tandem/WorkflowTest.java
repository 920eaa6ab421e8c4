package dev.tandem;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tandem.testing.TestDatabase;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class WorkflowTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    static final Duration WAIT = Duration.ofSeconds(10);
    static Tandem tandem;
    static Workflow<Order, Receipt> pay;
    static Workflow<String, String> failing;
    static Workflow<String, Integer> blocking;
    static Workflow<String, List<String>> retrying;
    static final AtomicInteger quotes = new AtomicInteger();
    static final AtomicInteger flakyCalls = new AtomicInteger();
    static final CountDownLatch release = new CountDownLatch(1);
    static final AtomicInteger blockingRuns = new AtomicInteger();

    record Order(String customer, int items) {}

    record Receipt(long paymentId, int cents, String text) {}

    @BeforeAll
    static void setUp() {
        db.execute("CREATE TABLE payments (id bigserial PRIMARY KEY, customer text NOT NULL, cents int NOT NULL)");
        tandem = Tandem.builder().dataSource(db.dataSource()).build();
        pay = tandem.register("pay", Order.class, (ctx, order) -> {
            int cents = ctx.step("quote", () -> {
                quotes.incrementAndGet();
                return order.items() * 250;
            });
            long id = ctx.transaction("charge", conn -> {
                try (var ps = conn.prepareStatement("INSERT INTO payments (customer, cents) VALUES (?, ?) RETURNING id")) {
                    ps.setString(1, order.customer());
                    ps.setInt(2, cents);
                    try (var rs = ps.executeQuery()) {
                        rs.next();
                        return rs.getLong(1);
                    }
                }
            });
            String text = ctx.step("receipt", () -> order.customer() + " paid " + cents);
            return new Receipt(id, cents, text);
        });
        failing = tandem.register("failing", String.class, (ctx, in) -> {
            ctx.step("ok", () -> 1);
            throw new IllegalStateException("boom: " + in);
        });
        blocking = tandem.register("blocking", String.class, (ctx, in) -> {
            blockingRuns.incrementAndGet();
            return ctx.step("wait", () -> release.await(10, TimeUnit.SECONDS) ? 1 : 0);
        });
        retrying = tandem.register("retrying", String.class, (ctx, in) -> {
            String v = ctx.step("flaky", StepOptions.retries(3).withBackoff(Duration.ZERO, 1.0, Duration.ZERO), () -> {
                if (flakyCalls.incrementAndGet() < 3) {
                    throw new java.io.IOException("try again");
                }
                return "ok after " + flakyCalls.get();
            });
            return List.of(v, ctx.idempotencyKey());
        });
        tandem.start();
    }

    @AfterAll
    static void tearDown() {
        tandem.close();
    }

    @Test
    void runsStepsAndTransactionAndRecordsEverything() {
        Receipt r = pay.start(new Order("ada", 4), StartOptions.withId("order-1")).result(WAIT);

        assertThat(r.cents()).isEqualTo(1000);
        assertThat(r.text()).isEqualTo("ada paid 1000");
        assertThat(db.queryLong("SELECT count(*) FROM payments WHERE customer = 'ada'")).isEqualTo(1);
        assertThat(db.queryString("SELECT status FROM tandem.workflows WHERE workflow_id = 'order-1'"))
                .isEqualTo("SUCCESS");
        assertThat(db.queryString("SELECT input->>'customer' FROM tandem.workflows WHERE workflow_id = 'order-1'"))
                .isEqualTo("ada");
        assertThat(db.queryLong("SELECT (output->>'cents')::int FROM tandem.workflows WHERE workflow_id = 'order-1'"))
                .isEqualTo(1000);
        assertThat(db.queryString("SELECT string_agg(name || ':' || kind, ',' ORDER BY position) FROM tandem.steps"
                + " WHERE workflow_id = 'order-1'")).isEqualTo("quote:STEP,charge:TRANSACTION,receipt:STEP");
        assertThat(db.queryLong("SELECT attempts FROM tandem.workflows WHERE workflow_id = 'order-1'")).isEqualTo(1);
    }

    @Test
    void startingAnExistingIdReturnsTheSameExecution() {
        Receipt first = pay.start(new Order("bob", 1), StartOptions.withId("order-2")).result(WAIT);
        int quotesBefore = quotes.get();

        WorkflowHandle<Receipt> again = pay.start(new Order("bob", 99), StartOptions.withId("order-2"));

        assertThat(again.result(WAIT)).isEqualTo(first);
        assertThat(quotes.get()).isEqualTo(quotesBefore);
        assertThat(db.queryLong("SELECT count(*) FROM payments WHERE customer = 'bob'")).isEqualTo(1);
        assertThat(tandem.<Receipt>handle("order-2").result(WAIT)).isEqualTo(first);
        assertThat(tandem.handle("order-2").status()).isEqualTo(WorkflowStatus.SUCCESS);
    }

    @Test
    void concurrentStartsOfOneIdRunItOnce() throws Exception {
        int before = blockingRuns.get();
        WorkflowHandle<Integer> a = blocking.start("x", StartOptions.withId("block-1"));
        WorkflowHandle<Integer> b = blocking.start("x", StartOptions.withId("block-1"));
        assertThat(a.status()).isEqualTo(WorkflowStatus.RUNNING);
        release.countDown();
        assertThat(a.result(WAIT)).isEqualTo(1);
        assertThat(b.result(WAIT)).isEqualTo(1);
        assertThat(blockingRuns.get() - before).isEqualTo(1);
    }

    @Test
    void aThrowingWorkflowEndsInErrorWithTheExceptionRecorded() {
        WorkflowHandle<String> h = failing.start("x", StartOptions.withId("fail-1"));

        assertThatThrownBy(() -> h.result(WAIT))
                .isInstanceOfSatisfying(WorkflowFailedException.class, e -> {
                    assertThat(e.status()).isEqualTo(WorkflowStatus.ERROR);
                    assertThat(e.errorType()).isEqualTo("java.lang.IllegalStateException");
                    assertThat(e.errorMessage()).isEqualTo("boom: x");
                    assertThat(e.errorStack()).contains("WorkflowTest");
                });
        assertThat(db.queryString("SELECT error->>'message' FROM tandem.workflows WHERE workflow_id = 'fail-1'"))
                .isEqualTo("boom: x");
        // A handle from the database reports the same.
        assertThatThrownBy(() -> tandem.handle("fail-1").result(WAIT))
                .isInstanceOf(WorkflowFailedException.class)
                .hasMessageContaining("boom: x");
    }

    @Test
    void stepsRetryAsConfiguredAndExposeAStableIdempotencyKey() {
        List<String> out = retrying.start("x", StartOptions.withId("retry-1")).result(WAIT);
        assertThat(out).containsExactly("ok after 3", "retry-1:2");
        assertThat(db.queryLong("SELECT count(*) FROM tandem.steps WHERE workflow_id = 'retry-1'")).isEqualTo(1);
    }

    @Test
    void generatedIdsAreUnique() {
        WorkflowHandle<Receipt> a = pay.start(new Order("gen", 1));
        WorkflowHandle<Receipt> b = pay.start(new Order("gen", 1));
        assertThat(a.workflowId()).isNotEqualTo(b.workflowId());
        a.result(WAIT);
        b.result(WAIT);
        assertThat(db.queryLong("SELECT count(*) FROM payments WHERE customer = 'gen'")).isEqualTo(2);
    }
}
