package dev.tandem;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tandem.testing.TestDatabase;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What a parent saw of its child (the child's outcome, or that the wait timed out) is a checkpoint: a replay takes
 * the same path even if the child has changed since, e.g. been resumed and succeeded.
 */
class ChildObservationTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    static final Duration WAIT = Duration.ofSeconds(15);
    static final AtomicBoolean fixed = new AtomicBoolean();
    static Tandem tandem;
    static Workflow<String, String> catcher;
    static Workflow<Long, String> impatient;

    @BeforeAll
    static void setUp() {
        tandem = Tandem.builder().dataSource(db.dataSource()).heartbeatInterval(Duration.ofMillis(100))
                .pollInterval(Duration.ofMillis(200)).build();
        Workflow<String, String> flaky = tandem.register("flaky", String.class, (ctx, in) -> ctx.step("work", () -> {
            if (!fixed.get()) {
                throw new IllegalStateException("broken");
            }
            return "fixed";
        }));
        catcher = tandem.register("catches-child-failure", String.class, (ctx, in) -> {
            String path;
            try {
                ctx.runChild(flaky, in);
                path = "child succeeded";
            } catch (WorkflowFailedException e) {
                path = "child failed";
            }
            String seen = path;
            return ctx.step("after", () -> seen);
        });
        Workflow<String, String> slow = tandem.register("slow-child", String.class, (ctx, in) -> {
            ctx.recv("go", String.class, Duration.ofSeconds(30));
            return "done";
        });
        impatient = tandem.register("impatient", Long.class, (ctx, millis) -> {
            WorkflowHandle<String> child = ctx.startChild(slow, "x");
            String path;
            try {
                child.result(Duration.ofMillis(millis));
                path = "in time";
            } catch (ResultTimeoutException e) {
                path = "timed out";
            }
            String seen = path;
            return ctx.step("after", () -> seen);
        });
        tandem.start();
    }

    @AfterAll
    static void tearDown() {
        tandem.close();
    }

    /** A new workflow that replays every checkpoint of {@code workflowId} but its last, and runs that again. */
    static WorkflowHandle<String> replayOfLastStep(String workflowId) {
        int last = (int) db.queryLong("SELECT max(position) FROM tandem.steps WHERE workflow_id = '" + workflowId
                + "'");
        return tandem.fork(workflowId, last);
    }

    @Test
    void aReplayKeepsTheChildFailureTheParentSawAfterTheChildWasResumed() {
        fixed.set(false);
        assertThat(catcher.start("a", StartOptions.withId("catcher-1")).result(WAIT)).isEqualTo("child failed");

        fixed.set(true);
        tandem.resume("catcher-1-1");
        assertThat(tandem.<String>handle("catcher-1-1").result(WAIT)).isEqualTo("fixed");

        assertThat(replayOfLastStep("catcher-1").result(WAIT)).isEqualTo("child failed");
    }

    @Test
    void aReplayKeepsTheTimeoutTheParentSawAfterTheChildFinished() {
        assertThat(impatient.start(100L, StartOptions.withId("impatient-1")).result(WAIT)).isEqualTo("timed out");

        tandem.send("impatient-1-1", "go", "now");
        assertThat(tandem.<String>handle("impatient-1-1").result(WAIT)).isEqualTo("done");

        assertThat(replayOfLastStep("impatient-1").result(WAIT)).isEqualTo("timed out");
    }

    @Test
    void aWaitLongerThanItTakesToParkStillTimesOut() {
        // On platform threads a wait over 200 ms parks the parent and replays it when due: the timeout must run
        // from the first wait, not start again with each replay.
        assertThat(impatient.start(700L, StartOptions.withId("impatient-2")).result(WAIT)).isEqualTo("timed out");
        tandem.send("impatient-2-1", "go", "now");
        assertThat(tandem.<String>handle("impatient-2-1").result(WAIT)).isEqualTo("done");
    }

    @Test
    void aHistoryRecordedBeforeObservationsWereCheckpointsStillReplays() {
        // Recorded by the previous version: the CHILD checkpoint, then directly the next step.
        db.execute("INSERT INTO tandem.workflow_status (workflow_id, name, status, input, output, output_type)"
                + " VALUES ('old-1-1', 'flaky', 'SUCCESS', '\"a\"', '\"fixed\"', 'java.lang.String'),"
                + "        ('old-2-1', 'flaky', 'SUCCESS', '\"a\"', '\"fixed\"', 'java.lang.String')");
        db.execute("UPDATE tandem.workflow_status SET parent_workflow_id = left(workflow_id, 5)"
                + " WHERE workflow_id IN ('old-1-1', 'old-2-1')");
        db.execute("INSERT INTO tandem.steps (workflow_id, position, name, kind, output, output_type, started_at,"
                + " child_workflow_id) VALUES"
                + " ('old-1', 1, 'flaky', 'CHILD', '\"old-1-1\"', 'java.lang.String', now(), 'old-1-1'),"
                + " ('old-1', 2, 'after', 'STEP', '\"child failed\"', 'java.lang.String', now(), NULL),"
                + " ('old-2', 1, 'flaky', 'CHILD', '\"old-2-1\"', 'java.lang.String', now(), 'old-2-1')");
        // attempts 1: the claim makes it 2, which loads the checkpoints (as for a resumed workflow).
        db.execute("INSERT INTO tandem.workflow_status (workflow_id, name, status, queue_name, input, attempts)"
                + " VALUES ('old-1', 'catches-child-failure', 'ENQUEUED', 'default', '\"a\"', 1),"
                + "        ('old-2', 'catches-child-failure', 'ENQUEUED', 'default', '\"a\"', 1)");

        // A wait followed by a recorded step: read the old way, and the recorded step stands.
        assertThat(tandem.<String>handle("old-1").result(WAIT)).isEqualTo("child failed");
        assertThat(db.queryString("SELECT string_agg(kind, ',' ORDER BY position) FROM tandem.steps"
                + " WHERE workflow_id = 'old-1'")).isEqualTo("CHILD,STEP");
        // A wait at the end of the old history: observed now, and recorded from then on.
        assertThat(tandem.<String>handle("old-2").result(WAIT)).isEqualTo("child succeeded");
        await().atMost(WAIT).until(() -> db.queryString("SELECT string_agg(kind, ',' ORDER BY position)"
                + " FROM tandem.steps WHERE workflow_id = 'old-2'").equals("CHILD,CHILD_RESULT,STEP"));
    }
}
