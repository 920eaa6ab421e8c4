package dev.tandem;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tandem.testing.TestDatabase;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Fork and restart, from Java and SQL: which steps run again, what is copied, and refusals that write nothing. */
class ForkTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    static final Duration WAIT = Duration.ofSeconds(15);
    static Tandem tandem;
    static Workflow<String, String> fourSteps;
    /** Inputs whose step "three" throws: the bug. Removing an input is deploying the fix. */
    static final Set<String> broken = ConcurrentHashMap.newKeySet();
    /** How many times each step body ran, per input: "input/step". */
    static final Map<String, AtomicInteger> runs = new ConcurrentHashMap<>();

    @BeforeAll
    static void setUp() {
        tandem = Tandem.builder()
                .dataSource(db.dataSource())
                .pollInterval(Duration.ofMillis(200))
                .queue("replays", QueueOptions.unlimited())
                .build();
        fourSteps = tandem.register("four-steps", String.class, (ctx, in) -> {
            String one = ctx.step("one", () -> ran(in, "one"));
            String two = ctx.transaction("two", conn -> ran(in, "two"));
            String three = ctx.step("three", () -> {
                ran(in, "three");
                if (broken.contains(in)) {
                    throw new IllegalStateException("bug in step three for " + in);
                }
                return "3";
            });
            String four = ctx.step("four", () -> ran(in, "four"));
            return one + two + three + four;
        });
        tandem.start();
    }

    @AfterAll
    static void tearDown() {
        tandem.close();
    }

    static String ran(String input, String step) {
        return step + runs.computeIfAbsent(input + "/" + step, k -> new AtomicInteger()).incrementAndGet();
    }

    static int runCount(String input, String step) {
        AtomicInteger n = runs.get(input + "/" + step);
        return n == null ? 0 : n.get();
    }

    /** Runs {@code id} with step three broken, so that it ends ERROR after recording steps 1 to 3. */
    static void failAtStepThree(String id) {
        broken.add(id);
        assertThatThrownBy(() -> fourSteps.run(id, StartOptions.withId(id)))
                .isInstanceOf(WorkflowFailedException.class).hasMessageContaining("bug in step three");
        broken.remove(id); // the fix is deployed
    }

    @Test
    void aForkAtTheFailedStepReplaysTheStepsBeforeItAndRunsTheRest() {
        failAtStepThree("order-1");

        WorkflowHandle<String> fork = tandem.fork("order-1", 3, ForkOptions.withId("order-1-fixed"));

        assertThat(fork.workflowId()).isEqualTo("order-1-fixed");
        assertThat(fork.result(WAIT)).isEqualTo("one1two13four1");
        assertThat(runCount("order-1", "one")).as("step 1 replayed").isEqualTo(1);
        assertThat(runCount("order-1", "two")).as("transactional step 2 replayed").isEqualTo(1);
        assertThat(runCount("order-1", "three")).isEqualTo(2);
        assertThat(runCount("order-1", "four")).isEqualTo(1);
        assertThat(db.queryString("SELECT forked_from FROM tandem.workflows WHERE workflow_id = 'order-1-fixed'"))
                .isEqualTo("order-1");
        assertThat(db.queryString("SELECT status FROM tandem.workflows WHERE workflow_id = 'order-1'"))
                .as("the original is left as it was").isEqualTo("ERROR");
        List<StepInfo> steps = tandem.listSteps("order-1-fixed");
        assertThat(steps).extracting(StepInfo::name).containsExactly("one", "two", "three", "four");
        assertThat(steps).extracting(StepInfo::outputJson)
                .containsExactly("\"one1\"", "\"two1\"", "\"3\"", "\"four1\"");
    }

    @Test
    void aForkFromSqlGetsAGeneratedIdAndRunsFromTheGivenStep() {
        failAtStepThree("order-2");

        String id = db.queryString("SELECT tandem.fork_workflow('order-2', 3)");

        assertThat(tandem.<String>handle(id).result(WAIT)).isEqualTo("one1two13four1");
        assertThat(runCount("order-2", "one")).isEqualTo(1);
        assertThat(runCount("order-2", "two")).isEqualTo(1);
        assertThat(runCount("order-2", "three")).isEqualTo(2);
        assertThat(db.queryString("SELECT forked_from || ' ' || queue_name FROM tandem.workflows"
                + " WHERE workflow_id = '" + id + "'")).isEqualTo("order-2 default");
    }

    @Test
    void aRestartRunsEveryStepAgainAsANewWorkflow() {
        assertThat(fourSteps.run("order-3", StartOptions.withId("order-3"))).isEqualTo("one1two13four1");

        WorkflowHandle<String> again = tandem.restart("order-3");

        assertThat(again.workflowId()).isNotEqualTo("order-3");
        assertThat(again.result(WAIT)).isEqualTo("one2two23four2");
        assertThat(runCount("order-3", "three")).isEqualTo(2);
        assertThat(tandem.listSteps(again.workflowId())).hasSize(4);
        assertThat(tandem.listSteps("order-3")).as("the original keeps its history").hasSize(4);
    }

    @Test
    void aForkAfterTheLastRecordedStepReplaysTheRecordedFailure() {
        failAtStepThree("order-4");

        WorkflowHandle<String> fork = tandem.fork("order-4", 4, ForkOptions.defaults().queue("replays"));

        assertThatThrownBy(() -> fork.result(WAIT)).isInstanceOf(WorkflowFailedException.class)
                .hasMessageContaining("bug in step three");
        assertThat(runCount("order-4", "three")).as("the recorded failure is replayed, not run").isEqualTo(1);
        assertThat(db.queryString("SELECT queue_name FROM tandem.workflows WHERE workflow_id = '"
                + fork.workflowId() + "'")).isEqualTo("replays");
    }

    @Test
    void eventsAndStreamValuesWrittenBeforeTheForkStepAreCopied() {
        // A workflow nobody runs, with history rows written directly: the fork copies; it never runs here.
        db.execute("INSERT INTO tandem.workflow_status (workflow_id, name, status, input) VALUES"
                + " ('src', 'not-registered', 'ERROR', '\"x\"')");
        db.execute("INSERT INTO tandem.steps (workflow_id, position, name, kind, output, started_at) VALUES"
                + " ('src', 1, 'e1', 'SET_EVENT', 'null', now()), ('src', 2, 's1', 'WRITE_STREAM', 'null', now()),"
                + " ('src', 3, 'e2', 'SET_EVENT', 'null', now()), ('src', 4, 's2', 'WRITE_STREAM', 'null', now())");
        db.execute("INSERT INTO tandem.event_history (workflow_id, position, key, value) VALUES"
                + " ('src', 1, 'state', '\"first\"'), ('src', 3, 'state', '\"second\"')");
        db.execute("INSERT INTO tandem.events (workflow_id, key, value) VALUES ('src', 'state', '\"second\"')");
        db.execute("INSERT INTO tandem.streams (workflow_id, key, position, value) VALUES"
                + " ('src', 'log', 2, '\"a\"'), ('src', 'log', 4, '\"b\"')");

        db.execute("SELECT tandem.fork_workflow('src', 3, 'src-fork')");

        assertThat(db.queryString("SELECT string_agg(name, ',' ORDER BY position) FROM tandem.steps"
                + " WHERE workflow_id = 'src-fork'")).isEqualTo("e1,s1");
        assertThat(db.queryString("SELECT value #>> '{}' FROM tandem.events WHERE workflow_id = 'src-fork'"))
                .as("the event's value as of step 2").isEqualTo("first");
        assertThat(db.queryLong("SELECT count(*) FROM tandem.event_history WHERE workflow_id = 'src-fork'"))
                .isEqualTo(1);
        assertThat(db.queryString("SELECT string_agg(value #>> '{}', ',' ORDER BY position) FROM tandem.streams"
                + " WHERE workflow_id = 'src-fork'")).isEqualTo("a");
        assertThat(db.queryString("SELECT status || ' ' || name || ' ' || input::text FROM tandem.workflows"
                + " WHERE workflow_id = 'src-fork'")).isEqualTo("ENQUEUED not-registered \"x\"");
    }

    @Test
    void badForksAreRefusedClearlyAndWriteNothing() {
        failAtStepThree("order-5"); // three recorded steps: a fork may start at 1 to 4
        long workflows = db.queryLong("SELECT count(*) FROM tandem.workflow_status");
        long steps = db.queryLong("SELECT count(*) FROM tandem.steps");

        assertThatThrownBy(() -> tandem.fork("order-5", 5)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("tandem.fork_workflow: start_step must be between 1 and 4 (workflow \"order-5\" has 3"
                        + " recorded steps; was 5)");
        assertThatThrownBy(() -> tandem.fork("order-5", 0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("startStep must be at least 1").hasMessageContaining("was 0");
        assertThatThrownBy(() -> tandem.fork("no-such-workflow", 1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("workflow \"no-such-workflow\" does not exist");
        assertThatThrownBy(() -> tandem.restart("no-such-workflow")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("does not exist");
        assertThatThrownBy(() -> tandem.fork("order-5", 3, ForkOptions.withId("order-5")))
                .isInstanceOf(WorkflowConflictException.class)
                .hasMessageContaining("workflow id \"order-5\" is already used");
        assertThatThrownBy(() -> tandem.fork("order-5", 3, ForkOptions.defaults().queue("no-such-queue")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("queue \"no-such-queue\" does not exist");
        assertThatThrownBy(() -> tandem.fork(" ", 1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("workflowId must not be null or blank");
        assertThatThrownBy(() -> tandem.fork("order-5", 1, null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("ForkOptions.defaults()");
        assertThatThrownBy(() -> ForkOptions.withId(" ")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("workflowId must not be blank");
        for (String sql : List.of("SELECT tandem.fork_workflow('order-5', 0)",
                "SELECT tandem.fork_workflow('order-5', NULL)", "SELECT tandem.fork_workflow('order-5', 5)",
                "SELECT tandem.fork_workflow(NULL, 1)", "SELECT tandem.fork_workflow('order-5', 1, '  ')")) {
            assertThatThrownBy(() -> execute(sql)).as(sql).isInstanceOf(SQLException.class)
                    .hasMessageContaining("tandem.fork_workflow: ");
        }

        assertThat(db.queryLong("SELECT count(*) FROM tandem.workflow_status")).isEqualTo(workflows);
        assertThat(db.queryLong("SELECT count(*) FROM tandem.steps")).isEqualTo(steps);
    }

    static void execute(String sql) throws SQLException {
        try (Connection c = db.dataSource().getConnection(); var st = c.createStatement()) {
            st.execute(sql);
        }
    }
}
