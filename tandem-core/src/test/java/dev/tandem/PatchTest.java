package dev.tandem;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.tandem.testing.TestDatabase;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The life of a code change made with {@code ctx.patched} (docs/versioning.md), against real recorded executions:
 * each phase's code is "deployed" as a new engine with the same executor id, which recovers the executions the
 * previous one left waiting at a recv, and runs them on the new code.
 *
 * <pre>
 * v1: a; recv; b
 * v2: a; if (patched("fee")) fee; recv; b
 * v3: a; deprecatePatch("fee"); fee; recv; b
 * v4: a; fee; recv; b
 * </pre>
 */
class PatchTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    static final Duration WAIT = Duration.ofSeconds(20);
    static final String EXECUTOR = "patch-test";
    Tandem tandem;
    Workflow<String, String> order;

    @AfterEach
    void close() {
        if (tandem != null) {
            tandem.close();
        }
    }

    /** Stops the running engine (its waiting executions stay RUNNING) and starts {@code version}'s code. */
    void deploy(int version) {
        if (tandem != null) {
            tandem.close();
        }
        tandem = Tandem.builder().dataSource(db.dataSource()).executorId(EXECUTOR)
                .heartbeatInterval(Duration.ofMillis(200)).pollInterval(Duration.ofMillis(200)).build();
        order = tandem.register("order", String.class, (ctx, in) -> {
            List<String> ran = new ArrayList<>();
            ran.add(ctx.step("a", () -> "a"));
            switch (version) {
                case 2 -> {
                    if (ctx.patched("fee")) {
                        ran.add(ctx.step("fee", () -> "fee"));
                    }
                }
                case 3 -> {
                    ctx.deprecatePatch("fee");
                    ran.add(ctx.step("fee", () -> "fee"));
                }
                case 4 -> ran.add(ctx.step("fee", () -> "fee"));
                default -> { }
            }
            ctx.recv("go", String.class, Duration.ofMinutes(5));
            ran.add(ctx.step("b", () -> "b"));
            return String.join(",", ran) + "@v" + version;
        });
        tandem.start();
    }

    /** Starts an execution and waits until it waits at its recv (the recv's deadline is recorded). */
    void startAndPark(String id) {
        order.start(id, StartOptions.withId(id));
        awaitParked(id);
    }

    static void awaitParked(String id) {
        await().atMost(WAIT).until(() -> db.queryLong("SELECT count(*) FROM tandem.steps WHERE workflow_id = '" + id
                + "' AND kind = 'SLEEP'") == 1);
    }

    String finish(String id) {
        tandem.send(id, "go", "now");
        return tandem.<String>handle(id).result(WAIT);
    }

    static String kinds(String id) {
        return db.queryString("SELECT string_agg(kind || ':' || name, ',' ORDER BY position) FROM tandem.steps"
                + " WHERE workflow_id = '" + id + "'");
    }

    @Test
    void everyPhaseOfAChangeRunsTheExecutionsInFlightOnTheirOwnSideOfIt() {
        deploy(1);
        startAndPark("v1-a");

        // v2: the execution from v1 passed the patch point before the change: old path, no PATCH recorded.
        deploy(2);
        awaitParked("v1-a");
        startAndPark("v2-a");
        startAndPark("v2-b");
        assertThat(finish("v1-a")).isEqualTo("a,b@v2");
        assertThat(kinds("v1-a")).isEqualTo("STEP:a,SLEEP:recv:go,RECV:recv:go,STEP:b");
        assertThat(finish("v2-a")).isEqualTo("a,fee,b@v2");
        assertThat(kinds("v2-a")).isEqualTo("STEP:a,PATCH:fee,STEP:fee,SLEEP:recv:go,RECV:recv:go,STEP:b");

        // v3 (no v1 execution in flight any more): v2-b recorded the PATCH, which deprecatePatch consumes; one
        // started on v3 records none.
        deploy(3);
        awaitParked("v2-b");
        startAndPark("v3-a");
        startAndPark("v3-b");
        assertThat(finish("v2-b")).isEqualTo("a,fee,b@v3");
        assertThat(finish("v3-a")).isEqualTo("a,fee,b@v3");
        assertThat(kinds("v3-a")).isEqualTo("STEP:a,STEP:fee,SLEEP:recv:go,RECV:recv:go,STEP:b");

        // v4 (no execution with a PATCH in flight any more): the code is plain again.
        deploy(4);
        awaitParked("v3-b");
        assertThat(finish("v3-b")).isEqualTo("a,fee,b@v4");
        assertThat(db.queryLong("SELECT count(*) FROM tandem.workflow_status WHERE name = 'order'"
                + " AND status <> 'SUCCESS'")).isZero();
    }

    @Test
    void removingTheOldPathTooEarlyIsReportedAsNonDeterminism() {
        deploy(1);
        startAndPark("early-v1");
        deploy(2);
        awaitParked("early-v1");
        startAndPark("early-v2");

        // v4 while a v2 execution (with its PATCH) is in flight: position 2 is a PATCH, the code asks for 'fee'.
        deploy(4);
        assertThatThrownBy(() -> tandem.<String>handle("early-v2").result(WAIT))
                .isInstanceOf(WorkflowFailedException.class)
                .hasMessageContaining(NonDeterministicWorkflowException.class.getName())
                .hasMessageContaining("position #2 is recorded as patch 'fee' but this run asked for step 'fee'");
        // v3 while a v1 execution is in flight: deprecatePatch finds no PATCH, and 'fee' meets the recv's deadline.
        deploy(3);
        assertThatThrownBy(() -> tandem.<String>handle("early-v1").result(WAIT))
                .isInstanceOf(WorkflowFailedException.class)
                .hasMessageContaining("position #2 is recorded as sleep 'recv:go' but this run asked for step 'fee'");
    }

    @Test
    void aChangeIdMustBeNamed() {
        tandem = Tandem.builder().dataSource(db.dataSource()).build();
        Workflow<String, String> blank = tandem.register("blank-patch", String.class,
                (ctx, in) -> ctx.patched(in) ? "new" : "old");
        Workflow<String, String> nullId = tandem.register("null-patch", String.class, (ctx, in) -> {
            ctx.deprecatePatch(null);
            return "never";
        });
        tandem.start();
        assertThatThrownBy(() -> blank.run(" ", StartOptions.defaults()))
                .isInstanceOf(WorkflowFailedException.class)
                .hasMessageContaining("patched needs a change id, not a blank one (' ')");
        assertThatThrownBy(() -> nullId.run("x", StartOptions.defaults()))
                .isInstanceOf(WorkflowFailedException.class)
                .hasMessageContaining("deprecatePatch needs a change id, not null");
        assertThat(blank.run("first", StartOptions.defaults())).isEqualTo("new");
    }
}
