package dev.tandem.admin;

import static dev.tandem.admin.AdminFixture.OPERATOR;
import static dev.tandem.admin.AdminFixture.VIEWER;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tandem.StartOptions;
import dev.tandem.WorkflowStatus;
import dev.tandem.admin.ApiClient.Response;
import dev.tandem.testing.TestDatabase;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The admin API's actions on real workflows: roles, idempotence (a repeat changes nothing and says so), bulk actions
 * and their dry run, and the audit log, written in the action's transaction.
 */
class AdminActionsTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    static AdminFixture fixture;
    static TandemAdmin admin;
    static ApiClient operator;
    static ApiClient viewer;

    @BeforeAll
    static void setUp() {
        fixture = new AdminFixture(db.dataSource());
        fixture.populate();
        admin = TandemAdmin.create(fixture.tandem).port(0).tokens(OPERATOR, VIEWER).start();
        operator = new ApiClient(admin.url(), OPERATOR);
        viewer = operator.as(VIEWER);
    }

    @AfterAll
    static void tearDown() {
        admin.close();
        fixture.close();
    }

    @Test
    void actionsNeedAnOperator() {
        assertThat(operator.as(null).post("/api/v1/workflows/waiter-2/cancel", null).status()).isEqualTo(401);
        Response refused = viewer.post("/api/v1/workflows/waiter-2/cancel", null);
        assertThat(refused.status()).isEqualTo(403);
        assertThat(refused.body().path("error").asText()).contains("operator");
        assertThat(fixture.tandem.handle("waiter-2").status()).isEqualTo(WorkflowStatus.ENQUEUED);
        assertThat(operator.post("/api/v1/workflows/no-such-id/cancel", null).status()).isEqualTo(404);
        assertThat(operator.post("/api/v1/workflows/no-such-id/resume", null).status()).isEqualTo(404);
    }

    @Test
    void cancelIsIdempotentAndAudited() {
        fixture.waiter.start("x", StartOptions.withId("to-cancel"));
        fixture.awaitStatus("to-cancel", WorkflowStatus.RUNNING);
        Response first = operator.post("/api/v1/workflows/to-cancel/cancel", null);
        assertThat(first.status()).isEqualTo(200);
        assertThat(first.body().path("changed").asBoolean()).isTrue();
        assertThat(first.body().path("status").asText()).isEqualTo("CANCELLED");
        Response again = operator.post("/api/v1/workflows/to-cancel/cancel", null);
        assertThat(again.status()).isEqualTo(200);
        assertThat(again.body().path("changed").asBoolean()).isFalse();
        assertThat(again.body().path("outcome").asText()).contains("already ended");
        assertThat(db.queryLong("SELECT count(*) FROM tandem.audit_log WHERE action = 'workflow.cancel'"
                + " AND target = 'to-cancel' AND actor = 'operator-token' AND source = 'api'")).isEqualTo(1);
    }

    @Test
    void cancellingAParentCancelsItsChildren() {
        fixture.parent.start("q", StartOptions.withId("parent-2"));
        fixture.awaitStatus("parent-2", WorkflowStatus.RUNNING);
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> db.queryLong(
                "SELECT count(*) FROM tandem.workflow_status WHERE parent_workflow_id = 'parent-2'") == 1);
        assertThat(operator.post("/api/v1/workflows/parent-2/cancel", "{\"with_children\": true}").status())
                .isEqualTo(200);
        assertThat(db.queryString("SELECT status FROM tandem.workflow_status WHERE parent_workflow_id = 'parent-2'"))
                .isEqualTo("CANCELLED");
    }

    @Test
    void resumeRunsAFailedWorkflowAgainFromItsLastCheckpoint() {
        fixture.flaky.start("resume-me", StartOptions.withId("flaky-resume"));
        fixture.awaitStatus("flaky-resume", WorkflowStatus.ERROR);
        fixture.fixed.set(true);
        try {
            Response r = operator.post("/api/v1/workflows/flaky-resume/resume", null);
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.body().path("changed").asBoolean()).isTrue();
            fixture.awaitStatus("flaky-resume", WorkflowStatus.SUCCESS);
            assertThat(fixture.tandem.<String>handle("flaky-resume").result(Duration.ofSeconds(5)))
                    .isEqualTo("ok resume-me");
            Response succeeded = operator.post("/api/v1/workflows/flaky-resume/resume", null);
            assertThat(succeeded.status()).isEqualTo(409);
            assertThat(succeeded.body().path("error").asText()).contains("already succeeded");
        } finally {
            fixture.fixed.set(false);
        }
    }

    @Test
    void forkAndRestartWithANewIdAreSafeToRepeat() {
        Response fork = operator.post("/api/v1/workflows/order-ada/fork",
                "{\"from_step\": 2, \"new_workflow_id\": \"order-ada-fork\"}");
        assertThat(fork.status()).isEqualTo(200);
        assertThat(fork.body().path("new_workflow_id").asText()).isEqualTo("order-ada-fork");
        fixture.awaitStatus("order-ada-fork", WorkflowStatus.SUCCESS);
        Response repeat = operator.post("/api/v1/workflows/order-ada/fork",
                "{\"from_step\": 2, \"new_workflow_id\": \"order-ada-fork\"}");
        assertThat(repeat.status()).isEqualTo(200);
        assertThat(repeat.body().path("changed").asBoolean()).isFalse();
        Response taken = operator.post("/api/v1/workflows/order-bob/fork",
                "{\"from_step\": 1, \"new_workflow_id\": \"order-ada-fork\"}");
        assertThat(taken.status()).isEqualTo(409);

        Response restart = operator.post("/api/v1/workflows/order-bob/restart", "{\"new_workflow_id\": \"bob-2\"}");
        assertThat(restart.status()).isEqualTo(200);
        fixture.awaitStatus("bob-2", WorkflowStatus.SUCCESS);
        assertThat(db.queryString("SELECT forked_from FROM tandem.workflow_status WHERE workflow_id = 'bob-2'"))
                .isEqualTo("order-bob");
        assertThat(operator.post("/api/v1/workflows/order-bob/fork", "{\"from_step\": 99}").status()).isEqualTo(400);
        assertThat(operator.post("/api/v1/workflows/order-bob/fork", "{}").status()).isEqualTo(400);
        assertThat(operator.post("/api/v1/workflows/order-bob/fork", "{\"from_step\": \"two\"}").status())
                .isEqualTo(400);
    }

    @Test
    void sendDeliversOnceWithAnIdempotencyKey() {
        fixture.waiter.start("s", StartOptions.withId("to-message"));
        fixture.awaitStatus("to-message", WorkflowStatus.RUNNING);
        String body = "{\"topic\": \"go\", \"message\": \"approved\", \"idempotency_key\": \"k-1\"}";
        Response sent = operator.post("/api/v1/workflows/to-message/send", body);
        assertThat(sent.status()).isEqualTo(200);
        assertThat(sent.body().path("changed").asBoolean()).isTrue();
        Response again = operator.post("/api/v1/workflows/to-message/send", body);
        assertThat(again.body().path("changed").asBoolean()).isFalse();
        fixture.awaitStatus("to-message", WorkflowStatus.SUCCESS);
        assertThat(fixture.tandem.<String>handle("to-message").result(Duration.ofSeconds(5))).isEqualTo("approved");
        assertThat(operator.post("/api/v1/workflows/to-message/send", "{\"topic\": \"go\"}").status())
                .isEqualTo(400);
        assertThat(operator.post("/api/v1/workflows/to-message/send", "{\"message\": 1, \"color\": \"red\"}")
                .body().path("error").asText()).contains("unknown field 'color'");
        assertThat(operator.post("/api/v1/workflows/to-message/send", "not json").status()).isEqualTo(400);
    }

    @Test
    void bulkActionsApplyToWhatTheFilterMatchesAndADryRunChangesNothing() {
        for (int i = 0; i < 3; i++) {
            fixture.flaky.start("bulk", StartOptions.withId("bulk-flaky-" + i));
            fixture.awaitStatus("bulk-flaky-" + i, WorkflowStatus.ERROR);
        }
        String filter = "{\"filter\": {\"id_prefix\": \"bulk-flaky-\", \"status\": [\"ERROR\"]}";
        Response dry = operator.post("/api/v1/workflows/bulk/resume", filter + ", \"dry_run\": true}");
        assertThat(dry.status()).isEqualTo(200);
        assertThat(dry.body().path("matched").asLong()).isEqualTo(3);
        assertThat(dry.body().path("affected").asLong()).isZero();
        assertThat(db.queryLong("SELECT count(*) FROM tandem.workflow_status WHERE workflow_id LIKE 'bulk-flaky-%'"
                + " AND status = 'ERROR'")).isEqualTo(3);

        Response cancel = operator.post("/api/v1/workflows/bulk/cancel",
                "{\"filter\": {\"id_prefix\": \"bulk-flaky-\"}}");
        assertThat(cancel.body().path("affected").asLong()).as("ended workflows are not cancelled").isZero();

        fixture.fixed.set(true);
        try {
            Response resume = operator.post("/api/v1/workflows/bulk/resume", filter + "}");
            assertThat(resume.status()).isEqualTo(200);
            assertThat(resume.body().path("affected").asLong()).isEqualTo(3);
            assertThat(resume.body().path("sample")).hasSize(3);
            for (int i = 0; i < 3; i++) {
                fixture.awaitStatus("bulk-flaky-" + i, WorkflowStatus.SUCCESS);
            }
        } finally {
            fixture.fixed.set(false);
        }
        assertThat(operator.post("/api/v1/workflows/bulk/resume", filter + "}").body().path("affected").asLong())
                .isZero();
        JsonNode audit = operator.get("/api/v1/audit").body();
        boolean logged = false;
        for (JsonNode entry : audit) {
            logged |= entry.path("action").asText().equals("workflows.bulk-resume")
                    && entry.path("outcome").asText().equals("3 resumed")
                    && entry.path("details").path("workflow_ids").size() == 3
                    && entry.path("details").path("filter").toString()
                            .equals("{\"statuses\":[\"ERROR\"],\"id_prefix\":\"bulk-flaky-\"}");
        }
        assertThat(logged).as("bulk resume in the audit log: " + audit).isTrue();
    }

    @Test
    void setVersionMovesAWorkflowAndIsAudited() {
        db.execute("INSERT INTO tandem.workflow_status (workflow_id, name, status, app_version)"
                + " VALUES ('versioned', 'flaky', 'CANCELLED', '0.1')");
        Response r = operator.post("/api/v1/workflows/versioned/set-version", "{\"app_version\": \"0.2\"}");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.body().path("outcome").asText()).isEqualTo("moved from version 0.1 to 0.2");
        assertThat(operator.get("/api/v1/workflows/versioned").body().path("app_version").asText()).isEqualTo("0.2");
        assertThat(operator.post("/api/v1/workflows/versioned/set-version", "{\"app_version\": null}").body()
                .path("outcome").asText()).isEqualTo("moved from version 0.2 to (any)");
        assertThat(operator.post("/api/v1/workflows/versioned/set-version", "{}").status()).isEqualTo(400);
        assertThat(viewer.post("/api/v1/workflows/versioned/set-version", "{\"app_version\": \"1\"}").status())
                .isEqualTo(403);
        assertThat(db.queryLong("SELECT count(*) FROM tandem.audit_log WHERE action = 'workflow.set-version'"))
                .isEqualTo(2);
    }

    @Test
    void aBulkActionNeedsAFilter() {
        Response r = operator.post("/api/v1/workflows/bulk/cancel", "{\"filter\": {}}");
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.body().path("error").asText()).contains("needs a filter");
        assertThat(operator.post("/api/v1/workflows/bulk/cancel", "{\"filter\": {\"colour\": \"red\"}}").status())
                .isEqualTo(400);
        assertThat(operator.post("/api/v1/workflows/bulk/explode", "{\"filter\": {\"name\": \"x\"}}").status())
                .isEqualTo(404);
    }

    @Test
    void schedulesArePausedResumedAndTriggered() {
        fixture.tandem.schedules().create("nightly", fixture.tick, "0 2 * * *", dev.tandem.ScheduleOptions.defaults());
        assertThat(operator.post("/api/v1/schedules/nightly/pause", null).status()).isEqualTo(200);
        assertThat(viewer.get("/api/v1/schedules").body().get(0).path("paused").asBoolean()).isTrue();
        assertThat(operator.post("/api/v1/schedules/nightly/resume", null).status()).isEqualTo(200);
        Response trigger = operator.post("/api/v1/schedules/nightly/trigger", null);
        assertThat(trigger.status()).isEqualTo(200);
        assertThat(trigger.body().path("outcome").asText()).contains("nightly@manual-");
        assertThat(operator.post("/api/v1/schedules/nope/pause", null).status()).isEqualTo(404);
        assertThat(operator.post("/api/v1/schedules/nightly/backfill", "{\"from\": \"x\", \"to\": \"y\"}").status())
                .isEqualTo(400);
        Response backfill = operator.post("/api/v1/schedules/nightly/backfill",
                "{\"from\": \"2026-01-01T00:00:00Z\", \"to\": \"2026-01-03T00:00:00Z\"}");
        assertThat(backfill.status()).isEqualTo(200);
        assertThat(backfill.body().path("outcome").asText()).startsWith("2 tick(s) enqueued");
        assertThat(db.queryLong("SELECT count(*) FROM tandem.audit_log WHERE action LIKE 'schedule.%'")).isEqualTo(4);
    }
}
