package dev.tandem.admin;

import static dev.tandem.admin.AdminFixture.OPERATOR;
import static dev.tandem.admin.AdminFixture.VIEWER;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tandem.StartOptions;
import dev.tandem.admin.ApiClient.Response;
import dev.tandem.testing.TestDatabase;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The admin API's reads against real workflows: every endpoint and filter, paging, auth, bad input. */
class AdminApiTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    static AdminFixture fixture;
    static TandemAdmin admin;
    static ApiClient api;

    @BeforeAll
    static void setUp() {
        fixture = new AdminFixture(db.dataSource());
        fixture.populate();
        for (int i = 0; i < 25; i++) { // for paging
            fixture.charge.start(new AdminFixture.Order("page-" + i, i), StartOptions.withId(String.format("bulk-%02d", i)))
                    .result(java.time.Duration.ofSeconds(30));
        }
        admin = TandemAdmin.create(fixture.tandem).port(0).tokens(OPERATOR, VIEWER).start();
        api = new ApiClient(admin.url(), VIEWER);
    }

    @AfterAll
    static void tearDown() {
        admin.close();
        fixture.close();
    }

    @Test
    void healthNeedsNoTokenAndReportsTheEngine() {
        Response r = api.as(null).get("/api/v1/health");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.body().path("status").asText()).isEqualTo("UP");
        assertThat(r.body().path("executor_id").asText()).isEqualTo("admin-test");
        assertThat(r.body().path("schema_version").asInt()).isEqualTo(r.body().path("schema_version_expected").asInt());
    }

    @Test
    void readsNeedAValidToken() {
        assertThat(api.as(null).get("/api/v1/workflows").status()).isEqualTo(401);
        assertThat(api.as("not-a-token-at-all-xxxxxx").get("/api/v1/workflows").status()).isEqualTo(401);
        Response me = api.get("/api/v1/me");
        assertThat(me.status()).isEqualTo(200);
        assertThat(me.body().path("role").asText()).isEqualTo("viewer");
        assertThat(api.as(OPERATOR).get("/api/v1/me").body().path("role").asText()).isEqualTo("operator");
    }

    @Test
    void listsByStatusNameAndLimit() {
        Response r = api.get("/api/v1/workflows?status=ERROR&name=flaky&limit=5");
        assertThat(r.status()).isEqualTo(200);
        assertThat(ids(r.body())).containsExactly("flaky-1");
        JsonNode row = r.body().path("workflows").get(0);
        assertThat(row.path("name").asText()).isEqualTo("flaky");
        assertThat(row.path("status").asText()).isEqualTo("ERROR");
        assertThat(row.path("error").path("message").asText()).contains("the service is down for payments");
        assertThat(r.body().has("next")).isTrue();
        assertThat(r.body().path("next").isNull()).isTrue();

        assertThat(ids(api.get("/api/v1/workflows?status=running,enqueued&limit=100").body()))
                .contains("waiter-1", "waiter-2", "parent-1").doesNotContain("flaky-1", "order-ada");
        assertThat(ids(api.get("/api/v1/workflows?status=RUNNING&status=ERROR").body()))
                .contains("flaky-1", "waiter-1");
    }

    @Test
    void filtersByQueueExecutorIdPrefixParentAndTime() {
        assertThat(ids(api.get("/api/v1/workflows?queue=serial").body()))
                .containsExactlyInAnyOrder("waiter-1", "waiter-2");
        assertThat(ids(api.get("/api/v1/workflows?executor=admin-test&status=RUNNING").body()))
                .contains("waiter-1", "parent-1");
        assertThat(ids(api.get("/api/v1/workflows?id_prefix=order-").body()))
                .containsExactlyInAnyOrder("order-ada", "order-bob");
        JsonNode children = api.get("/api/v1/workflows?parent=parent-1").body();
        assertThat(ids(children)).hasSize(1);
        assertThat(children.path("workflows").get(0).path("name").asText()).isEqualTo("child");
        assertThat(ids(api.get("/api/v1/workflows?since=1h&name=flaky").body())).containsExactly("flaky-1");
        assertThat(ids(api.get("/api/v1/workflows?created_before=2000-01-01T00:00:00Z").body())).isEmpty();
    }

    @Test
    void filtersByJsonContainmentOnInputAndOutput() {
        assertThat(ids(api.get("/api/v1/workflows?input=" + encode("{\"customer\":\"ada\"}")).body()))
                .containsExactly("order-ada");
        assertThat(ids(api.get("/api/v1/workflows?input=" + encode("{\"amount\":7}") + "&status=SUCCESS").body()))
                .containsExactlyInAnyOrder("order-bob", "bulk-07");
        assertThat(ids(api.get("/api/v1/workflows?output=" + encode("[]")).body())).isEmpty();
    }

    @Test
    void pagesWithAKeysetCursorWithoutRepeatsOrGaps() {
        Set<String> seen = new HashSet<>();
        List<String> order = new ArrayList<>();
        String cursor = null;
        int pages = 0;
        do {
            JsonNode page = api.get("/api/v1/workflows?id_prefix=bulk-&limit=10"
                    + (cursor == null ? "" : "&cursor=" + cursor)).body();
            for (String id : ids(page)) {
                assertThat(seen.add(id)).as("repeated " + id).isTrue();
                order.add(id);
            }
            cursor = page.path("next").isNull() ? null : page.path("next").asText();
            pages++;
        } while (cursor != null);
        assertThat(pages).isEqualTo(3);
        assertThat(seen).hasSize(25);
        assertThat(order.get(0)).isEqualTo("bulk-24"); // newest first
    }

    @Test
    void countsPerStatusIgnoreTheStatusFilter() {
        JsonNode counts = api.get("/api/v1/workflows/counts?status=ERROR").body();
        assertThat(counts.path("by_status").path("ERROR").asLong()).isEqualTo(1);
        assertThat(counts.path("by_status").path("SUCCESS").asLong()).isGreaterThanOrEqualTo(27);
        assertThat(counts.path("by_status").has("RETRIES_EXCEEDED")).isTrue();
        long sum = 0;
        for (JsonNode n : counts.path("by_status")) {
            sum += n.asLong();
        }
        assertThat(counts.path("total").asLong()).isEqualTo(sum);
        assertThat(api.get("/api/v1/workflows/counts?name=charge").body().path("total").asLong()).isEqualTo(27);
    }

    @Test
    void oneWorkflowWithItsStepsEventsStreamsAndChildren() {
        Response r = api.get("/api/v1/workflows/order-ada");
        assertThat(r.status()).isEqualTo(200);
        JsonNode w = r.body();
        assertThat(w.path("workflow_id").asText()).isEqualTo("order-ada");
        assertThat(w.path("input").path("customer").asText()).isEqualTo("ada");
        assertThat(w.path("output").asText()).isEqualTo("ada paid 1200");
        List<String> kinds = new ArrayList<>();
        w.path("steps").forEach(s -> kinds.add(s.path("kind").asText()));
        assertThat(kinds).containsExactly("STEP", "TRANSACTION", "SET_EVENT", "WRITE_STREAM", "WRITE_STREAM");
        JsonNode first = w.path("steps").get(0);
        assertThat(first.path("name").asText()).isEqualTo("quote");
        assertThat(first.path("output").asInt()).isEqualTo(1200);
        assertThat(first.path("offset_millis").asLong()).isNotNegative();
        assertThat(first.path("duration_millis").asLong()).isNotNegative();
        assertThat(w.path("events").get(0).path("key").asText()).isEqualTo("progress");
        assertThat(w.path("streams")).hasSize(2);
        assertThat(api.get("/api/v1/workflows/order-ada/steps").body()).hasSize(5);

        JsonNode failed = api.get("/api/v1/workflows/flaky-1").body();
        assertThat(failed.path("error").path("stack").asText()).contains("IllegalStateException");
        JsonNode parent = api.get("/api/v1/workflows/parent-1").body();
        assertThat(parent.path("children")).hasSize(1);
        assertThat(parent.path("children").get(0).path("parent_workflow_id").asText()).isEqualTo("parent-1");
    }

    @Test
    void unknownIdsAndPathsAre404() {
        assertThat(api.get("/api/v1/workflows/no-such-id").status()).isEqualTo(404);
        assertThat(api.get("/api/v1/workflows/no-such-id").body().path("error").asText())
                .contains("no workflow with id 'no-such-id'");
        assertThat(api.get("/api/v1/nothing-here").status()).isEqualTo(404);
    }

    @Test
    void badInputIs400WithAMessage() {
        assertBad("/api/v1/workflows?status=NOPE", "status 'NOPE' is not one of");
        assertBad("/api/v1/workflows?limit=0", "limit");
        assertBad("/api/v1/workflows?limit=abc", "limit");
        assertBad("/api/v1/workflows?input=" + encode("{not json"), "must be JSON");
        assertBad("/api/v1/workflows?input=" + encode("\"ada\""), "JSON object or array");
        assertBad("/api/v1/workflows?cursor=garbage", "cursor");
        assertBad("/api/v1/workflows?since=yesterday", "duration");
        assertBad("/api/v1/workflows?created_after=today", "ISO-8601");
        assertBad("/api/v1/workflows?stauts=ERROR", "unknown parameter 'stauts'");
        assertBad("/api/v1/workflows?name=", "empty");
    }

    @Test
    void queuesExecutorsSchedulesAndStuck() {
        JsonNode queues = api.get("/api/v1/queues").body();
        JsonNode serial = null;
        for (JsonNode q : queues) {
            if (q.path("name").asText().equals("serial")) {
                serial = q;
            }
        }
        assertThat(serial).isNotNull();
        assertThat(serial.path("concurrency").asInt()).isEqualTo(1);
        assertThat(serial.path("running").asLong()).isEqualTo(1);
        assertThat(serial.path("waiting").asLong()).isEqualTo(1);
        assertThat(serial.path("oldest_waiting_seconds").asDouble()).isNotNegative();

        JsonNode executors = api.get("/api/v1/executors").body();
        assertThat(executors.get(0).path("executor_id").asText()).isEqualTo("admin-test");
        assertThat(executors.get(0).path("alive").asBoolean()).isTrue();
        assertThat(executors.get(0).path("running_by_name").path("waiter").asLong()).isEqualTo(1);

        assertThat(api.get("/api/v1/schedules").body().isArray()).isTrue();
        assertThat(api.get("/api/v1/stuck").status()).isEqualTo(200);
        assertThat(api.get("/api/v1/audit").status()).isEqualTo(200);
    }

    @Test
    void theDashboardIsServedWithAStrictContentSecurityPolicy() throws Exception {
        var http = java.net.http.HttpClient.newHttpClient();
        var page = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(admin.url())).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).contains("text/html"));
        assertThat(page.headers().firstValue("Content-Security-Policy"))
                .hasValueSatisfying(csp -> assertThat(csp).contains("script-src 'self'"));
        assertThat(page.body()).containsIgnoringCase("<html");
        var escape = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(admin.url()
                + "ui/..%2F..%2Fops.sql")).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(escape.statusCode()).isEqualTo(404);
    }

    private static void assertBad(String path, String message) {
        Response r = api.get(path);
        assertThat(r.status()).as(path).isEqualTo(400);
        assertThat(r.body().path("error").asText()).as(path).contains(message);
    }

    static List<String> ids(JsonNode page) {
        List<String> ids = new ArrayList<>();
        page.path("workflows").forEach(w -> ids.add(w.path("workflow_id").asText()));
        return ids;
    }

    static String encode(String text) {
        return URLEncoder.encode(text, StandardCharsets.UTF_8);
    }
}
