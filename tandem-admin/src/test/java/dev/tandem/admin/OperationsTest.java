package dev.tandem.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tandem.WorkflowStatus;
import dev.tandem.admin.model.StuckWorkflow;
import dev.tandem.testing.TestDatabase;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The query layer itself (what the API and the CLI share): the stuck view's reasons, health, bad input. */
class OperationsTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    static AdminFixture fixture;
    static Operations ops;

    @BeforeAll
    static void setUp() {
        fixture = new AdminFixture(db.dataSource());
        fixture.populate();
        ops = Operations.over(db.dataSource());
    }

    @AfterAll
    static void tearDown() {
        fixture.close();
    }

    @Test
    void stuckListsEachReason() {
        // waiting for a name no executor registered
        db.execute("INSERT INTO tandem.workflow_status (workflow_id, name, status, queue_name)"
                + " VALUES ('orphan-name', 'removed_in_last_deploy', 'ENQUEUED', 'default')");
        // running on an executor whose heartbeat stopped long ago
        db.execute("INSERT INTO tandem.executors (executor_id, incarnation, heartbeat_at)"
                + " VALUES ('gone', gen_random_uuid(), now() - interval '10 minutes')");
        db.execute("INSERT INTO tandem.workflow_status (workflow_id, name, status, executor_id)"
                + " VALUES ('on-dead', 'charge', 'RUNNING', 'gone')");
        // past its deadline
        db.execute("INSERT INTO tandem.workflow_status (workflow_id, name, status, queue_name, deadline_at)"
                + " VALUES ('late', 'charge', 'DELAYED', 'default', now() - interval '1 minute')");
        // rate limited: a queue of 1 start per hour that started one
        db.execute("INSERT INTO tandem.queues (name, rate_limit, rate_period) VALUES ('hourly', 1, '1 hour')");
        db.execute("INSERT INTO tandem.workflow_status (workflow_id, name, status, queue_name, started_at)"
                + " VALUES ('hourly-1', 'charge', 'SUCCESS', 'hourly', now())");
        db.execute("INSERT INTO tandem.workflow_status (workflow_id, name, status, queue_name)"
                + " VALUES ('hourly-2', 'charge', 'ENQUEUED', 'hourly')");
        // running on a live executor (another process: this engine's reconciliation must not take it) without a
        // checkpoint for 10 minutes, a message waiting for it
        db.execute("INSERT INTO tandem.executors (executor_id, incarnation, heartbeat_at)"
                + " VALUES ('elsewhere', gen_random_uuid(), now())");
        db.execute("INSERT INTO tandem.workflow_status (workflow_id, name, status, executor_id, created_at, started_at)"
                + " VALUES ('idle', 'waiter', 'RUNNING', 'elsewhere', now() - interval '10 minutes',"
                + " now() - interval '10 minutes')");
        db.execute("INSERT INTO tandem.messages (workflow_id, topic, message) VALUES ('idle', 'other', '1')");

        Map<String, String> reasons = ops.stuck(100).stream()
                .collect(Collectors.toMap(StuckWorkflow::workflowId, StuckWorkflow::reason, (a, b) -> a + "," + b));
        assertThat(reasons).containsEntry("orphan-name", "UNKNOWN_WORKFLOW").containsEntry("on-dead", "DEAD_EXECUTOR")
                .containsEntry("late", "PAST_DEADLINE").containsEntry("hourly-2", "RATE_LIMITED")
                .containsEntry("idle", "NO_PROGRESS");
        assertThat(reasons).doesNotContainKeys("waiter-1", "waiter-2", "order-ada", "flaky-1");
        StuckWorkflow idle = ops.stuck(100).stream().filter(s -> s.workflowId().equals("idle")).findFirst()
                .orElseThrow();
        assertThat(idle.detail()).contains("1 message(s) not yet received");

        List<String> dead = ops.executors().stream().filter(e -> e.state().equals("dead")).map(e -> e.executorId())
                .toList();
        assertThat(dead).containsExactly("gone");
    }

    @Test
    void anExecutorThatStoppedInOrderIsStoppedNotDead() {
        // an orderly stop marks the heartbeat -infinity; a workflow it left RUNNING is listed with that reason
        db.execute("INSERT INTO tandem.executors (executor_id, incarnation, heartbeat_at)"
                + " VALUES ('stopped-one', gen_random_uuid(), '-infinity')");
        db.execute("INSERT INTO tandem.workflow_status (workflow_id, name, status, executor_id)"
                + " VALUES ('left-running', 'charge', 'RUNNING', 'stopped-one')");
        var stopped = ops.executors().stream().filter(e -> e.executorId().equals("stopped-one")).findFirst()
                .orElseThrow();
        assertThat(stopped.state()).isEqualTo("stopped");
        assertThat(stopped.heartbeatAt()).isNull();
        assertThat(stopped.alive()).isFalse();
        assertThat(ops.stuck(100)).anySatisfy(s -> {
            assertThat(s.workflowId()).isEqualTo("left-running");
            assertThat(s.reason()).isEqualTo("DEAD_EXECUTOR");
            assertThat(s.detail()).isEqualTo("its executor 'stopped-one' stopped");
        });
    }

    @Test
    void aWorkflowWhoseVersionNoLiveExecutorRunsIsStrandedUntilMoved() {
        // the fixture's executor runs "charge" at its own (derived) version; this one was first run by version 0.1
        db.execute("INSERT INTO tandem.workflow_status (workflow_id, name, status, queue_name, app_version)"
                + " VALUES ('from-0.1', 'charge', 'ENQUEUED', 'serial-other', '0.1')");
        StuckWorkflow stranded = ops.stuck(100).stream().filter(s -> s.workflowId().equals("from-0.1")).findFirst()
                .orElseThrow();
        assertThat(stranded.reason()).isEqualTo("STRANDED");
        assertThat(stranded.detail()).startsWith("no live executor runs version 0.1 of workflow 'charge' (live: ");
        assertThat(ops.workflow("from-0.1").orElseThrow().workflow().appVersion()).isEqualTo("0.1");

        Actor ada = new Actor("ada", "test");
        var moved = ops.setVersion("from-0.1", fixture.tandem.appVersion(), ada);
        assertThat(moved.changed()).isTrue();
        assertThat(moved.outcome()).isEqualTo("moved from version 0.1 to " + fixture.tandem.appVersion());
        assertThat(ops.stuck(100)).noneMatch(s -> s.workflowId().equals("from-0.1"));
        assertThat(ops.setVersion("from-0.1", fixture.tandem.appVersion(), ada).changed()).isFalse();
        assertThatThrownBy(() -> ops.setVersion("from-0.1", " ", ada)).isInstanceOf(IllegalArgumentException.class);
        db.execute("DELETE FROM tandem.workflow_status WHERE workflow_id = 'from-0.1'");
    }

    @Test
    void healthWithoutAnEngineChecksTheSchema() {
        assertThat(ops.health(null, java.time.Duration.ofSeconds(30)).status()).isEqualTo("UP");
        assertThat(ops.health("no-such-executor", java.time.Duration.ofSeconds(30)).problem())
                .contains("not registered");
    }

    @Test
    void badInputIsRefusedBeforeTheDatabase() {
        Actor ada = new Actor("ada", "test");
        assertThatThrownBy(() -> ops.listWorkflows(WorkflowFilter.all(), null, 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("limit");
        assertThatThrownBy(() -> ops.fork("order-ada", 0, null, null, ada))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("fromStep");
        assertThatThrownBy(() -> ops.bulkCancel(WorkflowFilter.all(), true, ada))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("needs a filter");
        assertThatThrownBy(() -> new Actor(" ", "cli")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ops.cancel("no-such", false, ada)).isInstanceOf(OperationException.class)
                .satisfies(e -> assertThat(((OperationException) e).kind()).isEqualTo(OperationException.Kind.NOT_FOUND));
        assertThatThrownBy(() -> WorkflowFilter.all().statuses(WorkflowStatus.ERROR)
                .inputContains(Operations.jsonMapper().getNodeFactory().textNode("x")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("JSON object or array");
        assertThat(db.queryLong("SELECT count(*) FROM tandem.audit_log")).isZero();
    }

    @Test
    void anActionOnARowAnApplicationTransactionHoldsFailsClearlyAndWritesNothing() throws Exception {
        try (var conn = db.dataSource().getConnection()) {
            conn.setAutoCommit(false);
            conn.createStatement().execute("SELECT 1 FROM tandem.workflow_status WHERE workflow_id = 'waiter-2'"
                    + " FOR UPDATE");
            long started = System.nanoTime();
            assertThatThrownBy(() -> ops.cancel("waiter-2", false, new Actor("ada", "test")))
                    .isInstanceOf(OperationException.class).hasMessageContaining("locked by another transaction")
                    .satisfies(e -> assertThat(((OperationException) e).kind())
                            .isEqualTo(OperationException.Kind.UNAVAILABLE));
            assertThat((System.nanoTime() - started) / 1_000_000).isBetween(4_000L, 15_000L);
            conn.rollback();
        }
        assertThat(fixture.tandem.handle("waiter-2").status()).isEqualTo(WorkflowStatus.ENQUEUED);
        assertThat(db.queryLong("SELECT count(*) FROM tandem.audit_log WHERE target = 'waiter-2'")).isZero();
    }
}
