package dev.tandem;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.tandem.ReplayReport.Replayed;
import dev.tandem.ReplayReport.Verdict;
import dev.tandem.testing.TestDatabase;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The pre-deploy check: histories recorded by real executions (finished, and waiting at a recv), exported to a file,
 * replayed against other versions of the code without a database.
 */
class WorkflowReplayerTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    static final Duration WAIT = Duration.ofSeconds(20);
    /** Counts every step and transaction body that runs: a replay must run none. */
    static final AtomicInteger ran = new AtomicInteger();
    static Tandem recorder;
    static Path histories;

    @TempDir
    static Path dir;

    /**
     * The versions of the code. v1 recorded the histories. v2 swaps the first two calls; v3 adds a step with
     * ctx.patched; v4 adds it without; v5 drops the last step.
     */
    static WorkflowReplayer.Registrar version(int v) {
        return tandem -> {
            Workflow<String, String> child = tandem.register("child", String.class,
                    (ctx, in) -> ctx.step("inner", () -> count(in.toUpperCase())));
            tandem.register("flow", String.class, (ctx, in) -> {
                int quote;
                if (v == 2) {
                    ctx.transaction("charge", conn -> count(0));
                    quote = ctx.step("quote", () -> count(1250));
                } else {
                    quote = ctx.step("quote", () -> count(1250));
                    ctx.transaction("charge", conn -> {
                        try (Statement st = conn.createStatement()) {
                            st.execute("SELECT 1");
                        }
                        return count(quote);
                    });
                }
                if (v == 3 && ctx.patched("discount") || v == 4) {
                    ctx.step("discount", () -> count(10));
                }
                ctx.setEvent("state", "charged");
                ctx.sleep(Duration.ofMillis(1));
                String go = in.startsWith("wait") ? ctx.recv("go", String.class, Duration.ofMinutes(5)) : "no wait";
                String fromChild = ctx.runChild(child, in);
                if (v == 5) {
                    return go + "/" + fromChild;
                }
                return ctx.step("receipt", () -> count(go + "/" + fromChild + "/" + quote));
            });
        };
    }

    static <T> T count(T value) {
        ran.incrementAndGet();
        return value;
    }

    @BeforeAll
    static void record() throws Exception {
        recorder = Tandem.builder().dataSource(db.dataSource()).build();
        version(1).register(recorder);
        recorder.start();
        Workflow<String, String> flow = workflow("flow");
        assertThat(flow.run("done", StartOptions.withId("done-1"))).isEqualTo("no wait/DONE/1250");
        flow.start("wait", StartOptions.withId("wait-1"));
        await().atMost(WAIT).until(() -> db.queryLong("SELECT count(*) FROM tandem.steps WHERE workflow_id = 'wait-1'"
                + " AND kind = 'SLEEP'") == 2);
        histories = dir.resolve("histories.json");
        assertThat(recorder.exportHistories(histories, WorkflowQuery.all())).isEqualTo(3); // and the child done-1-5
    }

    /** A handle on a workflow registered on the recorder (registering again returns a handle, not a new one). */
    static Workflow<String, String> workflow(String name) {
        return new Workflow<>() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public WorkflowHandle<String> start(String input) {
                return start(input, StartOptions.defaults());
            }

            @Override
            public WorkflowHandle<String> start(String input, StartOptions options) {
                return recorder.engine().starting().start(name, input, options, false);
            }

            @Override
            public WorkflowHandle<String> enqueue(java.sql.Connection tx, String input, EnqueueOptions options) {
                throw new UnsupportedOperationException();
            }

            @Override
            public WorkflowHandle<String> enqueue(String input, EnqueueOptions options) {
                throw new UnsupportedOperationException();
            }

            @Override
            public String run(String input, StartOptions options) {
                return start(input, options).result(WAIT);
            }
        };
    }

    @AfterAll
    static void stop() {
        recorder.close();
    }

    static Map<String, Replayed> byId(ReplayReport report) {
        return report.workflows().stream().collect(Collectors.toMap(Replayed::workflowId, Function.identity()));
    }

    @Test
    void theRecordingCodeFollowsEveryHistoryWithoutRunningAnything() {
        int before = ran.get();
        ReplayReport report = WorkflowReplayer.create().replay(histories, version(1));
        assertThat(ran.get()).as("step and transaction bodies run by the replay").isEqualTo(before);
        assertThat(report.ok()).as(report.describe()).isTrue();
        Map<String, Replayed> results = byId(report);
        assertThat(results.get("done-1").verdict()).isEqualTo(Verdict.FOLLOWED);
        assertThat(results.get("done-1-5").verdict()).isEqualTo(Verdict.FOLLOWED);
        // in flight: quote, charge, setEvent, sleep, the recv's deadline; the message (#6) is not recorded yet
        Replayed waiting = results.get("wait-1");
        assertThat(waiting.verdict()).isEqualTo(Verdict.REACHED_END);
        assertThat(waiting.position()).isEqualTo(6);
        assertThat(waiting.message()).contains("the history ends at #5").contains("recv 'recv:go' (#6)");
        assertThat(report.describe()).startsWith("replayed 3 workflow histories: 2 followed to their end, 1 to the end"
                + " of their history (in flight), 0 problems");
    }

    @Test
    void reorderedStepsAreReportedWithThePositionAndBothCalls() {
        ReplayReport report = WorkflowReplayer.create().replay(histories, version(2));
        assertThat(report.problems()).extracting(Replayed::workflowId).containsExactlyInAnyOrder("done-1", "wait-1");
        Replayed problem = byId(report).get("wait-1");
        assertThat(problem.verdict()).isEqualTo(Verdict.NON_DETERMINISTIC);
        assertThat(problem.position()).isEqualTo(1);
        assertThat(problem.recordedKind()).isEqualTo("STEP");
        assertThat(problem.recordedName()).isEqualTo("quote");
        assertThat(problem.requestedKind()).isEqualTo("TRANSACTION");
        assertThat(problem.requestedName()).isEqualTo("charge");
        assertThat(problem.message()).contains("position #1 is recorded as step 'quote' but this run asked for"
                + " transaction 'charge'");
        assertThatThrownBy(() -> WorkflowReplayer.assertReplays(histories, version(2)))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("2 problems")
                .hasMessageContaining("wait-1 (flow, RUNNING): NON_DETERMINISTIC at #1: workflow 'wait-1' (flow) is not"
                        + " deterministic");
    }

    @Test
    void aStepAddedWithPatchedFollowsTheOldHistoriesAndOneAddedWithoutDoesNot() {
        WorkflowReplayer.assertReplays(histories, version(3));

        ReplayReport unpatched = WorkflowReplayer.create().replay(histories, version(4));
        Replayed problem = byId(unpatched).get("wait-1");
        assertThat(problem.verdict()).isEqualTo(Verdict.NON_DETERMINISTIC);
        assertThat(problem.position()).isEqualTo(3);
        assertThat(problem.recordedKind()).isEqualTo("SET_EVENT");
        assertThat(problem.requestedName()).isEqualTo("discount");
    }

    @Test
    void codeThatReturnsBeforeItsHistoryEndsIsReported() {
        ReplayReport report = WorkflowReplayer.create().replay(histories, version(5));
        assertThat(report.problems()).hasSize(1);
        Replayed problem = report.problems().get(0);
        assertThat(problem.workflowId()).isEqualTo("done-1");
        assertThat(problem.verdict()).isEqualTo(Verdict.NON_DETERMINISTIC);
        assertThat(problem.position()).isEqualTo(7);
        assertThat(problem.recordedName()).isEqualTo("receipt");
        assertThat(problem.requestedKind()).isNull();
        assertThat(problem.message()).isEqualTo("the code returns after #6, but the history goes on: #7 is recorded as"
                + " step 'receipt'");
    }

    @Test
    void anUnregisteredNameIsReportedNotThrown() {
        ReplayReport report = WorkflowReplayer.create().replay(histories,
                tandem -> tandem.register("child", String.class, (ctx, in) -> ctx.step("inner", in::toUpperCase)));
        assertThat(report.problems()).extracting(Replayed::workflowId, Replayed::verdict).containsExactlyInAnyOrder(
                org.assertj.core.groups.Tuple.tuple("done-1", Verdict.UNKNOWN_WORKFLOW),
                org.assertj.core.groups.Tuple.tuple("wait-1", Verdict.UNKNOWN_WORKFLOW));
        assertThat(report.problems().get(0).message()).contains("no workflow named 'flow' is registered");
    }

    @Test
    void theExportKeepsEveryCheckpointAndValueAsStored() throws Exception {
        String text = Files.readString(histories);
        assertThat(text).startsWith("{\"format\":\"tandem-histories\",\"version\":1,\"exportedAt\":");
        assertThat(text).contains("{\"position\":1,\"name\":\"quote\",\"kind\":\"STEP\",\"output\":1250,"
                + "\"outputType\":\"java.lang.Integer\"}");
        assertThat(text).contains("\"childWorkflowId\":\"done-1-5\"");
        assertThat(text.split("\"position\"", -1)).hasSize(1 + (int) db.queryLong("SELECT count(*) FROM tandem.steps"));

        // exporting a filtered set: only what is in flight
        Path inFlight = dir.resolve("in-flight.json");
        assertThat(WorkflowHistories.export(db.dataSource(), inFlight, WorkflowHistories.inFlight())).isEqualTo(1);
        assertThat(WorkflowReplayer.create().replay(inFlight, version(1)).workflows())
                .extracting(Replayed::workflowId).containsExactly("wait-1");
    }

    @Test
    void badFilesAreRefusedSayingWhatIsWrong() throws Exception {
        Path missing = dir.resolve("missing.json");
        assertThatThrownBy(() -> WorkflowReplayer.create().replay(missing, version(1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("histories file " + missing + " does not exist");
        Path garbage = Files.writeString(dir.resolve("garbage.json"), "not json", StandardCharsets.UTF_8);
        assertThatThrownBy(() -> WorkflowReplayer.create().replay(garbage, version(1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("is not a Tandem histories file (not JSON");
        Path future = Files.writeString(dir.resolve("future.json"),
                "{\"format\":\"tandem-histories\",\"version\":2,\"workflows\":[]}", StandardCharsets.UTF_8);
        assertThatThrownBy(() -> WorkflowReplayer.create().replay(future, version(1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("has format version 2; this Tandem reads version 1");
        Path noName = Files.writeString(dir.resolve("no-name.json"),
                "{\"format\":\"tandem-histories\",\"version\":1,\"workflows\":[{\"workflowId\":\"w\"}]}",
                StandardCharsets.UTF_8);
        assertThatThrownBy(() -> WorkflowReplayer.create().replay(noName, version(1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("workflows[0] ('w'): \"name\" is missing");
        assertThatThrownBy(() -> WorkflowReplayer.registrar("no.such.Registrar"))
                .hasMessageContaining("registrar class no.such.Registrar is not on the class path");
        assertThatThrownBy(() -> WorkflowReplayer.registrar(String.class.getName()))
                .hasMessageContaining("does not implement dev.tandem.WorkflowReplayer$Registrar");
    }

    @Test
    void aHandWrittenHistoryReplaysWithoutAnyDatabase() throws Exception {
        // A bad recorded output, an input that does not bind, and code that reads the database: each reported.
        Path file = Files.writeString(dir.resolve("hand.json"), """
                {"format": "tandem-histories", "version": 1, "workflows": [
                  {"workflowId": "h-1", "name": "flow", "status": "RUNNING", "input": "wait",
                   "checkpoints": [{"position": 1, "name": "quote", "kind": "STEP", "output": "x",
                                    "outputType": "java.lang.Integer"}]},
                  {"workflowId": "h-2", "name": "flow", "status": "RUNNING", "input": {"not": "a string"}},
                  {"workflowId": "h-3", "name": "reads", "status": "RUNNING", "input": "x"}
                ]}
                """, StandardCharsets.UTF_8);
        ReplayReport report = WorkflowReplayer.create().replay(file, tandem -> {
            version(1).register(tandem);
            tandem.register("reads", String.class, (ctx, in) -> tandem.listSteps("elsewhere").toString());
        });
        Map<String, Replayed> results = byId(report);
        assertThat(results.get("h-1").verdict()).isEqualTo(Verdict.FAILED);
        assertThat(results.get("h-1").message()).contains("cannot rebuild the recorded output of step 'quote' (#1)");
        assertThat(results.get("h-2").message()).startsWith("its input does not bind to java.lang.String");
        assertThat(results.get("h-3").verdict()).isEqualTo(Verdict.FAILED);
        assertThat(results.get("h-3").message()).contains("the workflow replayer has no database");
    }
}
