package dev.tandem;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tandem.testing.TestDatabase;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The transactional outbox: workflows enqueued inside the application's transaction, from Java and from SQL. */
class QueueTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    static final Duration WAIT = Duration.ofSeconds(15);
    static Tandem tandem;
    static Workflow<Long, String> processOrder;
    static Workflow<Integer, Integer> square;
    static Workflow<String, String> record;
    static final CountDownLatch gate = new CountDownLatch(1);

    @BeforeAll
    static void setUp() {
        db.execute("CREATE TABLE orders (id bigserial PRIMARY KEY, customer text, status text DEFAULT 'NEW')");
        tandem = Tandem.builder()
                .dataSource(db.dataSource())
                .pollInterval(Duration.ofSeconds(30)) // only a NOTIFY can make these tests fast
                .queue("serial", QueueOptions.unlimited().workerConcurrency(1))
                .build();
        processOrder = tandem.register("process_order", Long.class, (ctx, id) -> ctx.transaction("ship", conn -> {
            try (var ps = conn.prepareStatement("UPDATE orders SET status = 'SHIPPED' WHERE id = ?")) {
                ps.setLong(1, id);
                ps.executeUpdate();
            }
            return "order " + id + " shipped";
        }));
        square = tandem.register("square", Integer.class, (ctx, n) -> ctx.step("square", () -> n * n));
        record = tandem.register("record", String.class, (ctx, s) -> ctx.step("record", () -> {
            gate.await(10, TimeUnit.SECONDS); // holds the first one running, so its deduplication id stays active
            return s;
        }));
        tandem.start();
    }

    @AfterAll
    static void tearDown() {
        tandem.close();
    }

    @Test
    void aWorkflowEnqueuedInATransactionExistsOnlyIfItCommits() throws Exception {
        try (Connection tx = db.dataSource().getConnection()) {
            tx.setAutoCommit(false);
            processOrder.enqueue(tx, 1L, EnqueueOptions.withId("outbox-rolled-back"));
            tx.rollback();
        }
        WorkflowHandle<String> committed;
        try (Connection tx = db.dataSource().getConnection()) {
            tx.setAutoCommit(false);
            committed = processOrder.enqueue(tx, 2L, EnqueueOptions.withId("outbox-committed"));
            Thread.sleep(200);
            assertThat(db.queryLong("SELECT count(*) FROM tandem.workflows WHERE workflow_id = 'outbox-committed'"))
                    .as("invisible before commit").isZero();
            tx.commit();
        }
        assertThat(committed.result(WAIT)).isEqualTo("order 2 shipped");
        assertThat(db.queryLong("SELECT count(*) FROM tandem.workflows WHERE workflow_id = 'outbox-rolled-back'"))
                .isZero();
    }

    @Test
    void sqlCallersEnqueueWithTheFunctionAndArgsBindToTheInputType() throws Exception {
        String id = db.queryString("SELECT tandem.enqueue_workflow('square', '[7]')");
        assertThat(tandem.<Integer>handle(id).result(WAIT)).isEqualTo(49);

        String plain = db.queryString("SELECT tandem.enqueue_workflow('square', '8', workflow_id => 'sq-8')");
        assertThat(plain).isEqualTo("sq-8");
        assertThat(tandem.<Integer>handle("sq-8").result(WAIT)).isEqualTo(64);
        // Again with the same id: the same workflow, nothing new.
        assertThat(db.queryString("SELECT tandem.enqueue_workflow('square', '9', workflow_id => 'sq-8')"))
                .isEqualTo("sq-8");
        assertThat(db.queryLong("SELECT count(*) FROM tandem.workflows WHERE workflow_id = 'sq-8'")).isEqualTo(1);
        assertThat(db.queryString("SELECT input::text FROM tandem.workflows WHERE workflow_id = 'sq-8'")).isEqualTo("8");
    }

    @Test
    void aTriggerEnqueuesAWorkflowForEveryInsertedRow() {
        db.execute("""
                CREATE FUNCTION enqueue_process_order() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    PERFORM tandem.enqueue_workflow('process_order', jsonb_build_array(NEW.id),
                                                    workflow_id => 'process-order-' || NEW.id);
                    RETURN NEW;
                END $$""");
        db.execute("CREATE TRIGGER orders_enqueue AFTER INSERT ON orders FOR EACH ROW EXECUTE FUNCTION enqueue_process_order()");
        db.execute("INSERT INTO orders (customer) SELECT 'c' || g FROM generate_series(1, 20) g");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (db.queryLong("SELECT count(*) FROM tandem.workflows WHERE name = 'process_order'"
                + " AND workflow_id LIKE 'process-order-%' AND status = 'SUCCESS'") < 20) {
            assertThat(System.nanoTime()).as("all 20 workflows succeed").isLessThan(deadline);
            Thread.onSpinWait();
        }
        assertThat(db.queryLong("SELECT count(*) FROM orders o WHERE o.status = 'SHIPPED' AND EXISTS (SELECT 1 FROM"
                + " tandem.workflows w WHERE w.workflow_id = 'process-order-' || o.id)")).isEqualTo(20);
    }

    @Test
    void aNotifyStartsTheWorkflowWithinMilliseconds() {
        long t0 = System.nanoTime();
        String id = db.queryString("SELECT tandem.enqueue_workflow('square', '[3]')");
        assertThat(tandem.<Integer>handle(id).result(WAIT)).isEqualTo(9);
        // The poll interval is 30 s: finishing in well under that means the NOTIFY woke the worker.
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(5));
    }

    @Test
    void aDroppedListenerConnectionLosesNoWorkflow() {
        // Kill the worker's LISTEN connection, and enqueue at once: that NOTIFY has nobody to hear it.
        long killed = db.queryLong("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                + " WHERE datname = current_database() AND query = 'LISTEN tandem_queue'");
        assertThat(killed).isEqualTo(1);
        long t0 = System.nanoTime();
        String id = db.queryString("SELECT tandem.enqueue_workflow('square', '[4]')");
        assertThat(tandem.<Integer>handle(id).result(WAIT)).isEqualTo(16);
        // Well within the 30 s poll interval: the worker reconnected and looked at once.
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(5));
        String next = db.queryString("SELECT tandem.enqueue_workflow('square', '[5]')");
        assertThat(tandem.<Integer>handle(next).result(WAIT)).isEqualTo(25);
    }

    @Test
    void badCallsAreRefusedClearlyAndWriteNothing() {
        long before = db.queryLong("SELECT count(*) FROM tandem.workflow_status");
        assertSqlError("SELECT tandem.enqueue_workflow(NULL)", "workflow_name must not be null or empty");
        assertSqlError("SELECT tandem.enqueue_workflow('  ')", "workflow_name must not be null or empty");
        assertSqlError("SELECT tandem.enqueue_workflow('square', '[1]', 'nope')", "queue \"nope\" does not exist");
        assertSqlError("SELECT tandem.enqueue_workflow('square', '[1]', priority => 5000)",
                "priority must be between -1000 and 1000 (was 5000)");
        assertSqlError("SELECT tandem.enqueue_workflow('square', '[1]', delay => '-1 minute')",
                "delay must not be negative");
        assertSqlError("SELECT tandem.enqueue_workflow('square', NULL)", "args must not be null");
        db.queryString("SELECT tandem.enqueue_workflow('square', '[2]', workflow_id => 'taken')");
        before++;
        assertSqlError("SELECT tandem.enqueue_workflow('process_order', '[2]', workflow_id => 'taken')",
                "workflow id \"taken\" is already used by a workflow other than \"process_order\"");
        assertThat(db.queryLong("SELECT count(*) FROM tandem.workflow_status")).isEqualTo(before);

        assertThatThrownBy(() -> square.enqueue(1, EnqueueOptions.defaults().queue("nope")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("queue \"nope\" does not exist");
        assertThatThrownBy(() -> EnqueueOptions.defaults().priority(-1001))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("(was -1001)");
        assertThatThrownBy(() -> square.enqueue(null, 1, EnqueueOptions.defaults()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("tx must not be null");
    }

    @Test
    void anActiveDeduplicationIdIsRefused() {
        record.enqueue("dedup-1", EnqueueOptions.defaults().deduplicationId("same").queue("serial"));
        assertThatThrownBy(() -> record.enqueue("dedup-2", EnqueueOptions.defaults().deduplicationId("same").queue("serial")))
                .isInstanceOf(WorkflowConflictException.class)
                .hasMessageContaining("deduplication id \"same\" is already used");
        assertSqlError("SELECT tandem.enqueue_workflow('record', '[\"x\"]', 'serial', deduplication_id => 'same')",
                "deduplication id \"same\" is already used");
        gate.countDown();
        assertThat(tandem.<String>handle(db.queryString("SELECT workflow_id FROM tandem.workflows"
                + " WHERE deduplication_id = 'same'")).result(WAIT)).isEqualTo("dedup-1");
        // Once it has ended, the id is free again.
        assertThat(record.enqueue("dedup-3", EnqueueOptions.defaults().deduplicationId("same").queue("serial"))
                .result(WAIT)).isEqualTo("dedup-3");
    }

    @Test
    void argsThatDoNotBindEndTheWorkflowInErrorAndTheWorkerCarriesOn() {
        String id = db.queryString("SELECT tandem.enqueue_workflow('square', '{\"not\": \"a number\"}')");
        assertThatThrownBy(() -> tandem.handle(id).result(WAIT))
                .isInstanceOf(WorkflowFailedException.class)
                .hasMessageContaining("(square)", "java.lang.Integer", "{\"not\": \"a number\"}");
        assertThat(square.enqueue(5, EnqueueOptions.defaults()).result(WAIT)).isEqualTo(25);
    }

    @Test
    void delayedWorkflowsWaitTheirTurn() {
        long t0 = System.nanoTime();
        WorkflowHandle<Integer> h = square.enqueue(6, EnqueueOptions.defaults().delay(Duration.ofMillis(700)));
        assertThat(h.status()).isEqualTo(WorkflowStatus.DELAYED);
        assertThat(h.result(WAIT)).isEqualTo(36);
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isGreaterThanOrEqualTo(Duration.ofMillis(700));
    }

    private static void assertSqlError(String sql, String message) {
        assertThatThrownBy(() -> {
            try (Connection c = db.dataSource().getConnection(); var st = c.createStatement()) {
                st.execute(sql);
            }
        }).isInstanceOf(SQLException.class).hasMessageContaining(message);
    }
}
