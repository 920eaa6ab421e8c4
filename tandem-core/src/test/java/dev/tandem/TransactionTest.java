package dev.tandem;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tandem.testing.Engines;
import dev.tandem.testing.TestDatabase;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Transactional steps: the application's rows and the checkpoint commit together, or not at all. */
class TransactionTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    static final Duration WAIT = Duration.ofSeconds(15);
    @RegisterExtension
    final Engines engines = new Engines();

    @BeforeAll
    static void schema() {
        db.execute("CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL CHECK (balance >= 0))");
        db.execute("INSERT INTO accounts SELECT g, 100 FROM generate_series(1, 10) g");
        db.execute("CREATE TABLE ledger (workflow_id text NOT NULL, amount int NOT NULL)");
    }


    Tandem engine(String executorId, Duration heartbeat, Duration timeout) {
        Tandem t = Tandem.builder()
                .dataSource(db.dataSource())
                .executorId(executorId)
                .heartbeatInterval(heartbeat)
                .executorTimeout(timeout)
                .shutdownTimeout(Duration.ofMillis(500))
                .build();
        engines.add(t);
        return t;
    }

    Tandem engine(String executorId) {
        return engine(executorId, Duration.ofMillis(100), Duration.ofMillis(500));
    }

    static void record(Connection conn, String workflowId, int amount) throws SQLException {
        try (var ps = conn.prepareStatement("INSERT INTO ledger VALUES (?, ?)")) {
            ps.setString(1, workflowId);
            ps.setInt(2, amount);
            ps.executeUpdate();
        }
    }

    static void debit(Connection conn, String workflowId, int account, int amount) throws SQLException {
        try (var ps = conn.prepareStatement("INSERT INTO ledger VALUES (?, ?)")) {
            ps.setString(1, workflowId);
            ps.setInt(2, amount);
            ps.executeUpdate();
        }
        try (var ps = conn.prepareStatement("UPDATE accounts SET balance = balance - ? WHERE id = ?")) {
            ps.setInt(1, amount);
            ps.setInt(2, account);
            ps.executeUpdate();
        }
    }

    @Test
    void aFailingTransactionRollsBackItsRowsAndRecordsTheFailure() {
        Tandem t = engine("tx-fail");
        AtomicInteger runs = new AtomicInteger();
        Workflow<Integer, String> overdraw = t.register("overdraw", Integer.class, (ctx, amount) -> {
            try {
                ctx.transaction("debit", conn -> {
                    runs.incrementAndGet();
                    debit(conn, ctx.workflowId(), 1, amount); // the ledger row goes in, then the CHECK fails
                    return null;
                });
                return "debited";
            } catch (StepFailedException e) {
                return "declined: " + e.errorType();
            }
        });
        t.start();

        String out = overdraw.start(1000, StartOptions.withId("tx-1")).result(WAIT);

        assertThat(out).isEqualTo("declined: org.postgresql.util.PSQLException");
        assertThat(runs.get()).isEqualTo(1); // a check violation is not retried
        assertThat(db.queryLong("SELECT count(*) FROM ledger WHERE workflow_id = 'tx-1'")).isZero();
        assertThat(db.queryLong("SELECT balance FROM accounts WHERE id = 1")).isEqualTo(100);
        assertThat(db.queryString("SELECT error->>'type' FROM tandem.steps WHERE workflow_id = 'tx-1'"))
                .isEqualTo("org.postgresql.util.PSQLException");
    }

    @Test
    void serializationFailuresAreRetriedUntilTheTransactionCommitsOnce() throws Exception {
        Tandem t = engine("tx-serial");
        CyclicBarrier bothRead = new CyclicBarrier(2);
        AtomicInteger attempts = new AtomicInteger();
        Workflow<Integer, Integer> bump = t.register("bump", Integer.class, (ctx, account) ->
                ctx.transaction("bump", TransactionOptions.isolation(IsolationLevel.SERIALIZABLE), conn -> {
                    int attempt = attempts.incrementAndGet();
                    int balance;
                    try (var rs = conn.createStatement().executeQuery("SELECT balance FROM accounts WHERE id = 2")) {
                        rs.next();
                        balance = rs.getInt(1);
                    }
                    if (attempt <= 2) {
                        bothRead.await(5, TimeUnit.SECONDS); // both first attempts read before either writes
                    }
                    try (var ps = conn.prepareStatement("UPDATE accounts SET balance = ? WHERE id = 2")) {
                        ps.setInt(1, balance + 1);
                        ps.executeUpdate();
                    }
                    return balance + 1;
                }));
        t.start();

        var a = bump.start(2, StartOptions.withId("serial-a"));
        var b = bump.start(2, StartOptions.withId("serial-b"));

        assertThat(List.of(a.result(WAIT), b.result(WAIT))).containsExactlyInAnyOrder(101, 102);
        assertThat(attempts.get()).isEqualTo(3); // one of the two was aborted (40001) and ran again
        assertThat(db.queryLong("SELECT balance FROM accounts WHERE id = 2")).isEqualTo(102);
    }

    /**
     * A "zombie": executor A is presumed dead (its heartbeat is stale) while it is inside a transactional step; B takes
     * the workflow over and commits the step. When A's transaction reaches its checkpoint, the primary key refuses it,
     * so A's application rows roll back too: the step's rows exist exactly once, and A stops.
     */
    @Test
    void aPresumedDeadExecutorCannotCommitAStepTwice() throws Exception {
        CountDownLatch zombieInside = new CountDownLatch(1);
        CountDownLatch releaseZombie = new CountDownLatch(1);
        AtomicInteger runs = new AtomicInteger();
        Tandem a = engine("zombie", Duration.ofSeconds(30), Duration.ofSeconds(60));
        Workflow<Integer, Integer> payA = a.register("pay-once", Integer.class, (ctx, amount) -> ctx.transaction("pay", conn -> {
            runs.incrementAndGet();
            record(conn, ctx.workflowId(), amount); // no row lock that B would wait on
            zombieInside.countDown();
            releaseZombie.await(10, TimeUnit.SECONDS);
            return amount;
        }));
        a.start();
        var handle = payA.start(7, StartOptions.withId("zombie-1"));
        assertThat(zombieInside.await(10, TimeUnit.SECONDS)).isTrue();

        db.execute("UPDATE tandem.executors SET heartbeat_at = '-infinity' WHERE executor_id = 'zombie'");
        Tandem b = engine("rescuer");
        b.register("pay-once", Integer.class, (ctx, amount) -> ctx.transaction("pay", conn -> {
            runs.incrementAndGet();
            record(conn, ctx.workflowId(), amount);
            return amount;
        }));
        b.start();
        assertThat(b.<Integer>handle("zombie-1").result(WAIT)).isEqualTo(7);

        releaseZombie.countDown();
        assertThat(handle.result(WAIT)).isEqualTo(7); // A's handle falls back to the database's answer
        assertThat(runs.get()).isEqualTo(2);
        assertThat(db.queryLong("SELECT count(*) FROM ledger WHERE workflow_id = 'zombie-1'")).isEqualTo(1);
        assertThat(db.queryString("SELECT executor_id FROM tandem.workflows WHERE workflow_id = 'zombie-1'"))
                .isEqualTo("rescuer");
    }

    @Test
    void anOutputThatCannotBeStoredRollsTheTransactionBack() {
        Tandem t = engine("tx-json");
        Workflow<Integer, String> wf = t.register("unstorable", Integer.class, (ctx, amount) -> {
            ctx.transaction("debit", conn -> {
                debit(conn, ctx.workflowId(), 4, amount);
                return new Object(); // Jackson cannot serialize a bean without properties
            });
            return "unreachable";
        });
        t.start();

        assertThatThrownBy(() -> wf.start(5, StartOptions.withId("json-1")).result(WAIT))
                .isInstanceOf(WorkflowFailedException.class)
                .hasMessageContaining("cannot be stored as JSON");
        assertThat(db.queryLong("SELECT count(*) FROM ledger WHERE workflow_id = 'json-1'")).isZero();
        assertThat(db.queryLong("SELECT balance FROM accounts WHERE id = 4")).isEqualTo(100);
    }
}
