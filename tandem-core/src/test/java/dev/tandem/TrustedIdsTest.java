package dev.tandem;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.tandem.testing.TestDatabase;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Ids the engine derives (a child's {@code <parent>-<position>}, a cron tick's {@code <schedule>@<tick>}) cannot be
 * taken over by a role that may only call {@code tandem.enqueue_workflow}, the least privilege the README recommends
 * for applications; and that function tells such a role nothing about workflows it cannot read.
 */
class TrustedIdsTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    static final Duration WAIT = Duration.ofSeconds(15);
    static final AtomicInteger keeperChildRuns = new AtomicInteger();
    static Tandem tandem;
    static Workflow<Integer, String> order;
    static Workflow<Instant, String> tick;
    /** A role with only USAGE on schema tandem and EXECUTE on tandem.enqueue_workflow, and a URL to log in as it. */
    static String role;
    static String roleUrl;

    @BeforeAll
    static void setUp() {
        tandem = Tandem.builder().dataSource(db.dataSource()).heartbeatInterval(Duration.ofMillis(100))
                .pollInterval(Duration.ofMillis(200)).build();
        Workflow<Integer, String> fraudCheck = tandem.register("fraud_check", Integer.class,
                (ctx, cents) -> cents > 1000 ? "refused" : "ok");
        order = tandem.register("order", Integer.class, (ctx, cents) -> {
            String verdict = ctx.runChild(fraudCheck, cents);
            return ctx.step("charge", () -> verdict.equals("ok") ? "paid " + cents : "refused");
        });
        tick = tandem.register("tick", Instant.class, (ctx, at) -> at.toString());
        tandem.start();

        role = "tandem_enqueuer_" + System.nanoTime();
        db.execute("CREATE ROLE " + role + " LOGIN");
        db.execute("GRANT USAGE ON SCHEMA tandem TO " + role);
        db.execute("GRANT EXECUTE ON FUNCTION tandem.enqueue_workflow(text, jsonb, text, text, int, text, text,"
                + " interval) TO " + role);
        roleUrl = db.url().replaceAll("user=[^&]*", "user=" + role);
    }

    @AfterAll
    static void tearDown() {
        tandem.close();
        db.execute("DROP OWNED BY " + role);
        db.execute("DROP ROLE " + role);
    }

    /** Runs {@code sql} as the enqueue-only role. */
    static void asEnqueuer(String sql) throws SQLException {
        try (Connection app = DriverManager.getConnection(roleUrl); Statement st = app.createStatement()) {
            st.executeQuery(sql).close();
        }
    }

    @Test
    void aPlantedChildIdIsNotAdoptedByTheParent() throws Exception {
        asEnqueuer("SELECT tandem.enqueue_workflow('fraud_check', '[1]', workflow_id => 'order-7-1')");
        assertThat(tandem.<String>handle("order-7-1").result(WAIT)).isEqualTo("ok"); // an ordinary fraud_check

        WorkflowHandle<String> parent = order.start(5000, StartOptions.withId("order-7"));

        assertThatThrownBy(() -> parent.result(WAIT))
                .isInstanceOf(WorkflowFailedException.class)
                .hasMessageContaining("child workflow id 'order-7-1' is already used by a workflow that parent"
                        + " 'order-7' did not start");
        assertThat(db.queryString("SELECT coalesce(parent_workflow_id, 'none') || ' ' || (input #>> '{0}')"
                + " FROM tandem.workflow_status WHERE workflow_id = 'order-7-1'"))
                .as("the planted workflow is left as it was").isEqualTo("none 1");
        // The same order, where nobody planted anything, is refused by its own fraud check.
        assertThat(order.start(5000, StartOptions.withId("order-8")).result(WAIT)).isEqualTo("refused");
    }

    @Test
    void aReplayReattachesToItsOwnChildEvenWithoutTheCheckpointThatStartedIt() throws Exception {
        // Its own engine (a fixed executorId recovers its work at start) and workflows the class's engine does not
        // register, so nobody else recovers them while the test rewrites their history.
        String executorId = "reattach-" + System.nanoTime();
        Keeper first = keeper(executorId);
        try (Tandem engine = first.engine()) {
            engine.start();
            first.workflow().start("x", StartOptions.withId("keep-1"));
            await().atMost(WAIT).until(() -> db.queryLong("SELECT count(*) FROM tandem.steps"
                    + " WHERE workflow_id = 'keep-1' AND kind = 'SLEEP'") == 1); // waiting for "go"
        }
        // As if the parent's checkpoints were lost after its child was inserted: its replay meets the child's row.
        db.execute("DELETE FROM tandem.steps WHERE workflow_id = 'keep-1'");
        db.execute("SELECT tandem.send_message('keep-1', '\"go\"', 'go')");
        try (Tandem engine = keeper(executorId).engine()) {
            engine.start();
            assertThat(engine.<String>handle("keep-1").result(WAIT)).isEqualTo("X go");
        }
        assertThat(keeperChildRuns).as("the child ran once, and was re-attached").hasValue(1);
    }

    record Keeper(Tandem engine, Workflow<String, String> workflow) {}

    /** A parent that runs a child, then waits for message "go". */
    private static Keeper keeper(String executorId) {
        Tandem engine = Tandem.builder().dataSource(db.dataSource()).executorId(executorId)
                .shutdownTimeout(Duration.ofMillis(200)).build();
        Workflow<String, String> child = engine.register("keeper-child", String.class,
                (ctx, in) -> ctx.step("upper", () -> {
                    keeperChildRuns.incrementAndGet();
                    return in.toUpperCase();
                }));
        return new Keeper(engine, engine.register("keeper", String.class, (ctx, in) -> {
            String got = ctx.runChild(child, in);
            return got + " " + ctx.recv("go", String.class, Duration.ofMinutes(1));
        }));
    }

    @Test
    void aPlantedTickIdDoesNotPreemptTheTick() throws Exception {
        Schedules schedules = tandem.schedules();
        schedules.create("beat", tick, "* * * * * *", ScheduleOptions.defaults());
        Instant planted = schedules.get("beat").orElseThrow().nextTick().plusSeconds(2);
        String plantedId = "beat@" + planted;
        asEnqueuer("SELECT tandem.enqueue_workflow('tick', '[\"2000-01-01T00:00:00Z\"]', workflow_id => '"
                + plantedId + "')");
        String ranTick = "SELECT count(*) FROM tandem.workflow_status WHERE name = 'tick' AND status = 'SUCCESS'"
                + " AND input = '[\"" + planted + "\"]'::jsonb";
        try {
            await().atMost(WAIT).until(() -> db.queryLong(ranTick) == 1);
        } finally {
            schedules.pause("beat");
        }
        String tickId = db.queryString("SELECT workflow_id FROM tandem.workflow_status"
                + " WHERE input = '[\"" + planted + "\"]'::jsonb");
        assertThat(tickId).as("the tick ran under an id of its own").startsWith(plantedId).isNotEqualTo(plantedId);
        assertThat(tandem.<String>handle(tickId).result(WAIT)).isEqualTo(planted.toString());
        assertThat(db.queryString("SELECT input #>> '{0}' FROM tandem.workflow_status WHERE workflow_id = '"
                + plantedId + "'")).as("the planted workflow is left as it was").isEqualTo("2000-01-01T00:00:00Z");
    }

    @Test
    void anEnqueueConflictDoesNotTellTheOtherWorkflowsName() throws Exception {
        assertThat(order.start(10, StartOptions.withId("secret-1")).result(WAIT)).isEqualTo("paid 10");

        assertThatThrownBy(() -> asEnqueuer("SELECT tandem.enqueue_workflow('probe', '[]', workflow_id => 'secret-1')"))
                .isInstanceOf(SQLException.class)
                .hasMessageContaining("workflow id \"secret-1\" is already used")
                .hasMessageNotContaining("order")
                .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("23505"));
        // The same id and name is the idempotent case: it returns the id and enqueues nothing.
        asEnqueuer("SELECT tandem.enqueue_workflow('order', '[10]', workflow_id => 'secret-1')");
        assertThat(db.queryLong("SELECT count(*) FROM tandem.workflow_status WHERE workflow_id = 'secret-1'"))
                .isEqualTo(1);
        // The engine's own role may read the table: its Java enqueue names both workflows.
        assertThatThrownBy(() -> tick.enqueue(Instant.EPOCH, EnqueueOptions.withId("secret-1")))
                .isInstanceOf(WorkflowConflictException.class)
                .hasMessageContaining("workflow id 'secret-1' is already used by an execution of 'order', not 'tick'");
    }
}
