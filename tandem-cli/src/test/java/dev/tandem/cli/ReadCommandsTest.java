package dev.tandem.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tandem.Tandem;
import dev.tandem.testing.TestDatabase;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The read commands over real workflows: tables for people, --json with the HTTP API's fields, bad input. */
class ReadCommandsTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    static Tandem tandem;

    @BeforeAll
    static void setUp() {
        tandem = Demo.start(db.dataSource());
    }

    @AfterAll
    static void tearDown() {
        tandem.close();
    }

    static CliRun tandem(String... args) {
        return CliRun.run(db.url(), args);
    }

    static List<String> ids(JsonNode array) {
        List<String> ids = new ArrayList<>();
        array.forEach(w -> ids.add(w.path("workflow_id").asText()));
        return ids;
    }

    @Test
    void listJsonIsAnArrayWithTheContractFields() {
        CliRun r = tandem("workflows", "list", "--status", "SUCCESS", "--json");
        assertThat(r.code()).as(r.toString()).isZero();
        JsonNode array = r.json();
        assertThat(array.isArray()).isTrue();
        assertThat(ids(array)).contains("pay-1", "pay-2", "order-1", "order-1-1", "order-1-3")
                .doesNotContain("fail-1", "approval-1");
        for (JsonNode w : array) {
            assertThat(w.has("workflow_id") && w.has("name") && w.has("created_at")).isTrue();
            assertThat(w.path("status").asText()).isEqualTo("SUCCESS");
        }
        assertThat(array.get(0).path("created_at").asText()).as("ISO-8601 in JSON").matches("\\d{4}-\\d\\d-\\d\\dT.*Z");
    }

    @Test
    void statusesMayBeRepeatedOrCommaSeparatedInAnyCase() {
        List<String> comma = ids(tandem("workflows", "list", "--status", "error,Cancelled", "--json").json());
        List<String> repeated = ids(tandem("workflows", "list", "-s", "ERROR", "-s", "cancelled", "--json").json());
        assertThat(comma).containsExactlyInAnyOrder("fail-1", "approval-cancel");
        assertThat(repeated).containsExactlyInAnyOrderElementsOf(comma);
    }

    @Test
    void filtersNarrowTheList() {
        assertThat(ids(tandem("workflows", "list", "--name", "order", "--input-contains", "{\"customer\":\"ada\"}",
                "--json").json())).containsExactly("order-1");
        assertThat(ids(tandem("workflows", "list", "--parent", "order-1", "--json").json()))
                .containsExactlyInAnyOrder("order-1-1", "order-1-3");
        assertThat(ids(tandem("workflows", "list", "--id-prefix", "pay-", "--since", "1h", "--json").json()))
                .containsExactlyInAnyOrder("pay-1", "pay-2");
        assertThat(ids(tandem("workflows", "list", "--until", "1h", "--json").json())).isEmpty();
        assertThat(ids(tandem("workflows", "list", "--output-contains", "[]", "--name", "nap", "--json").json()))
                .isEmpty();
    }

    @Test
    void pagesFollowTheCursor() {
        CliRun first = tandem("workflows", "list", "--limit", "3", "--json");
        assertThat(first.json()).hasSize(3);
        assertThat(first.err()).startsWith("more: --cursor ");
        String cursor = first.err().trim().substring("more: --cursor ".length());
        CliRun second = tandem("workflows", "list", "--limit", "3", "--cursor", cursor, "--json");
        assertThat(ids(second.json())).hasSize(3).doesNotContainAnyElementsOf(ids(first.json()));

        CliRun table = tandem("workflows", "list", "--limit", "3");
        assertThat(table.out()).contains("(3 shown; for more, add --cursor ");
    }

    @Test
    void listTableIsAlignedWithRelativeAges() {
        CliRun r = tandem("workflows", "list");
        assertThat(r.code()).as(r.toString()).isZero();
        List<String> lines = r.out().lines().toList();
        assertThat(lines.get(0)).startsWith("WORKFLOW ID").contains("NAME", "STATUS", "QUEUE", "CREATED", "DETAIL");
        int statusColumn = lines.get(0).indexOf("STATUS");
        String fail = lines.stream().filter(l -> l.startsWith("fail-1 ")).findFirst().orElseThrow();
        assertThat(fail.indexOf("ERROR")).as("aligned under STATUS").isEqualTo(statusColumn);
        assertThat(fail).contains("s ago", "step 'charge' (#2): IllegalStateException: card declined for bob");
        String ghost = lines.stream().filter(l -> l.startsWith("ghost-1 ")).findFirst().orElseThrow();
        assertThat(ghost).contains("ENQUEUED");
        assertThat(r.out()).doesNotContain("\u001b[");
    }

    @Test
    void showJsonHasTheStepsChildrenEventsAndStreams() {
        JsonNode order = tandem("workflows", "show", "order-1", "--json").json();
        assertThat(order.path("workflow_id").asText()).isEqualTo("order-1");
        assertThat(order.path("status").asText()).isEqualTo("SUCCESS");
        assertThat(order.path("steps")).hasSizeGreaterThanOrEqualTo(2);
        assertThat(order.path("children")).hasSize(2);

        JsonNode approval = tandem("workflows", "show", "approval-1", "--json").json();
        assertThat(approval.path("events").get(0).path("key").asText()).isEqualTo("state");
        assertThat(approval.path("streams").get(0).path("value").asText()).isEqualTo("asked the approver");
    }

    @Test
    void showPrintsTheErrorWithItsStackAndTheTimeline() {
        CliRun r = tandem("workflows", "show", "fail-1");
        assertThat(r.code()).as(r.toString()).isZero();
        assertThat(r.out()).contains("status     ERROR", "error      java.lang.IllegalStateException: step 'charge' (#2) of workflow 'fail-1' failed: java.lang.IllegalStateException: card declined for bob",
                "at dev.tandem.cli.Demo", "steps (");
        String pay = tandem("workflows", "show", "pay-1").out();
        List<String> steps = pay.lines().dropWhile(l -> !l.startsWith("steps")).toList();
        assertThat(steps.get(1)).contains("#", "KIND", "NAME", "START", "DURATION", "0 … ");
        assertThat(steps.get(2)).contains("1", "STEP", "quote", "+", "ms", "|", "█");
        assertThat(steps.get(3)).contains("2", "TRANSACTION", "charge");
        // The transaction (50 ms of pg_sleep) starts after the quote (30 ms): its bar starts further right.
        assertThat(steps.get(3).indexOf('█')).isGreaterThan(steps.get(2).indexOf('█'));
        String order = tandem("workflows", "show", "order-1").out();
        assertThat(order).contains("children (2)", "order-1-1", "→ order-1-3");
    }

    @Test
    void anUnknownIdIsNotFound() {
        CliRun r = tandem("workflows", "show", "no-such-id");
        assertThat(r.code()).isEqualTo(ExitCode.NOT_FOUND);
        assertThat(r.out()).isEmpty();
        assertThat(r.err().lines()).hasSize(1).first().asString().contains("no workflow has id 'no-such-id'");
    }

    @Test
    void badInputExitsTwoWithOneReadableLine() {
        CliRun status = tandem("workflows", "list", "--status", "NOPE");
        assertThat(status.code()).isEqualTo(ExitCode.BAD_INPUT);
        assertThat(status.err().lines()).hasSize(1).first().asString()
                .contains("--status", "NOPE", "ENQUEUED", "see 'tandem workflows list --help'");
        CliRun since = tandem("workflows", "list", "--since", "5x");
        assertThat(since.code()).isEqualTo(ExitCode.BAD_INPUT);
        assertThat(since.err()).contains("'5x' is neither a duration ago (90s, 30m, 1h, 30d)");
        CliRun json = tandem("workflows", "list", "--input-contains", "{customer:");
        assertThat(json.code()).isEqualTo(ExitCode.BAD_INPUT);
        assertThat(json.err()).contains("is not valid JSON");
        CliRun scalar = tandem("workflows", "list", "--input-contains", "42");
        assertThat(scalar.code()).isEqualTo(ExitCode.BAD_INPUT);
        assertThat(scalar.err()).contains("must be a JSON object or array");
        CliRun limit = tandem("workflows", "list", "--limit", "0");
        assertThat(limit.code()).isEqualTo(ExitCode.BAD_INPUT);
        assertThat(limit.err()).contains("limit must be between 1 and 1000 (was 0)");
        CliRun typo = tandem("workflows", "lst");
        assertThat(typo.code()).isEqualTo(ExitCode.BAD_INPUT);
        assertThat(typo.err()).contains("did you mean list");
        CliRun none = tandem("workflows");
        assertThat(none.code()).isEqualTo(ExitCode.BAD_INPUT);
        assertThat(none.err()).contains("give a command: list, count, show");
        for (CliRun run : List.of(status, since, json, scalar, limit, typo, none)) {
            assertThat(run.err()).doesNotContain("Exception", "\tat ");
            assertThat(run.err().lines()).hasSize(1);
        }
    }

    @Test
    void countShowsEveryStatus() {
        JsonNode counts = tandem("workflows", "count", "--json").json();
        assertThat(counts.path("by_status").path("ERROR").asLong()).isEqualTo(1);
        assertThat(counts.path("by_status").path("RUNNING").asLong()).isEqualTo(2);
        assertThat(tandem("workflows", "count").out()).contains("SUCCESS", "total");
    }

    @Test
    void queuesExecutorsStuckSchedulesAndAudit() {
        CliRun queues = tandem("queues");
        assertThat(queues.out()).contains("QUEUE", "default", "emails", "concurrency 10, rate 100/1m");
        assertThat(tandem("queues", "--json").json().findValuesAsText("name")).contains("default", "emails");

        CliRun executors = tandem("executors");
        assertThat(executors.out()).contains("demo-worker", "alive", "pay");
        JsonNode executor = tandem("executors", "--json").json().get(0);
        assertThat(executor.path("executor_id").asText()).isEqualTo("demo-worker");
        assertThat(executor.path("alive").asBoolean()).isTrue();

        CliRun stuck = tandem("stuck");
        assertThat(stuck.out()).contains("UNKNOWN_WORKFLOW", "ghost-1");
        assertThat(tandem("stuck", "--json").json().findValuesAsText("workflow_id")).contains("ghost-1");

        CliRun schedules = tandem("schedules", "list");
        assertThat(schedules.out()).contains("nightly", "nightly-report", "0 3 * * *", "active", "in ");
        assertThat(tandem("schedules", "list", "--json").json().get(0).path("cron").asText()).isEqualTo("0 3 * * *");

        assertThat(tandem("audit", "--json").json().isArray()).isTrue();
    }

    @Test
    void exportWritesTheHistoriesOfWhatIsInFlightByDefault(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        java.nio.file.Path file = dir.resolve("histories.json");
        CliRun r = tandem("workflows", "export", "--file", file.toString());
        assertThat(r.code()).as(r.toString()).isZero();
        assertThat(r.out()).startsWith("exported ").contains("(ENQUEUED, DELAYED, RUNNING) to " + file);
        JsonNode root = new com.fasterxml.jackson.databind.ObjectMapper().readTree(file.toFile());
        assertThat(root.path("format").asText()).isEqualTo("tandem-histories");
        List<String> exported = new ArrayList<>();
        root.path("workflows").forEach(w -> exported.add(w.path("workflowId").asText()));
        assertThat(exported).contains("approval-1").doesNotContain("pay-1");

        CliRun paid = tandem("workflows", "export", "-f", file.toString(), "--status", "success", "--name", "pay");
        assertThat(paid.out()).matches("(?s)exported \\d+ workflow histories \\(SUCCESS\\) to .*");
        assertThat(java.nio.file.Files.readString(file)).contains("\"workflowId\":\"pay-1\"")
                .doesNotContain("\"name\":\"approval\"");
        assertThat(tandem("workflows", "export", "-f", file.toString(), "--executor", "x").err())
                .contains("export filters by --status");
    }
}
