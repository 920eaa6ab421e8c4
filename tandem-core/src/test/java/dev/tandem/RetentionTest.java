package dev.tandem;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.tandem.testing.Engines;
import dev.tandem.testing.TestDatabase;
import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Deleting ended workflows with everything recorded for them: only ended ones older than the age, in batches that
 * skip rows in use, from Java, SQL and the builder's background retention.
 */
class RetentionTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    @RegisterExtension
    final Engines engines = new Engines();

    static final List<String> CHILD_TABLES =
            List.of("steps", "messages", "events", "event_history", "streams");
    static Tandem tandem;

    @BeforeAll
    static void setUp() {
        tandem = Tandem.builder()
                .dataSource(db.dataSource())
                .unknownWorkflowTimeout(Duration.ofDays(3650)) // old waiting rows must stay waiting
                .build();
        tandem.start();
    }

    @AfterAll
    static void tearDown() {
        tandem.close();
    }

    /**
     * A workflow row written directly, created {@code createdAgo} and last changed {@code updatedAgo} before now, with
     * one row in each table that belongs to a workflow.
     */
    static void insertWorkflow(String id, String status, String createdAgo, String updatedAgo) {
        db.execute("INSERT INTO tandem.workflow_status (workflow_id, name, status, created_at, updated_at) VALUES ('"
                + id + "', 'not-registered', '" + status + "', now() - interval '" + createdAgo + "',"
                + " now() - interval '" + updatedAgo + "')");
        db.execute("INSERT INTO tandem.steps (workflow_id, position, name, kind, output, started_at) VALUES ('"
                + id + "', 1, 's', 'STEP', '1', now())");
        db.execute("INSERT INTO tandem.messages (workflow_id, message) VALUES ('" + id + "', '\"hi\"')");
        db.execute("INSERT INTO tandem.events (workflow_id, key, value) VALUES ('" + id + "', 'k', '1')");
        db.execute("INSERT INTO tandem.event_history (workflow_id, position, key, value) VALUES ('" + id
                + "', 1, 'k', '1')");
        db.execute("INSERT INTO tandem.streams (workflow_id, key, position, value) VALUES ('" + id + "', 'k', 1, '1')");
    }

    /** How many rows {@code id} has in tandem.workflow_status and every table that belongs to a workflow. */
    static long rowsOf(String id) {
        long rows = db.queryLong("SELECT count(*) FROM tandem.workflow_status WHERE workflow_id = '" + id + "'");
        for (String table : CHILD_TABLES) {
            rows += db.queryLong("SELECT count(*) FROM tandem." + table + " WHERE workflow_id = '" + id + "'");
        }
        return rows;
    }

    @Test
    void onlyWorkflowsThatEndedBeforeTheAgeAreDeletedWithEverythingRecordedForThem() {
        for (String status : List.of("SUCCESS", "ERROR", "CANCELLED", "RETRIES_EXCEEDED")) {
            insertWorkflow("old-" + status, status, "2 days", "2 days");
        }
        for (String status : List.of("ENQUEUED", "DELAYED", "RUNNING")) {
            insertWorkflow("old-" + status, status, "2 days", "2 days");
        }
        insertWorkflow("ended-recently", "SUCCESS", "2 days", "1 hour");
        insertWorkflow("new", "SUCCESS", "1 minute", "1 minute");

        assertThat(tandem.deleteWorkflows(Duration.ofDays(1))).isEqualTo(4);

        for (String status : List.of("SUCCESS", "ERROR", "CANCELLED", "RETRIES_EXCEEDED")) {
            assertThat(rowsOf("old-" + status)).as(status + " and its rows deleted").isZero();
        }
        for (String kept : List.of("old-ENQUEUED", "old-DELAYED", "old-RUNNING", "ended-recently", "new")) {
            assertThat(rowsOf(kept)).as(kept + " kept with its rows").isEqualTo(1 + CHILD_TABLES.size());
        }
        assertThat(tandem.deleteWorkflows(Duration.ofDays(1))).as("nothing left to delete").isZero();
        assertThat(tandem.deleteWorkflows(Duration.ZERO)).as("zero: every ended workflow").isEqualTo(2);
        assertThat(rowsOf("old-RUNNING")).isEqualTo(1 + CHILD_TABLES.size());
    }

    static void insertOldWorkflows(String prefix, int count) {
        db.execute("INSERT INTO tandem.workflow_status (workflow_id, name, status, created_at, updated_at)"
                + " SELECT '" + prefix + "' || i, 'not-registered', 'SUCCESS', now() - interval '300 days',"
                + " now() - interval '300 days' FROM generate_series(1, " + count + ") i");
        db.execute("INSERT INTO tandem.steps (workflow_id, position, name, kind, output, started_at)"
                + " SELECT '" + prefix + "' || i, 1, 's', 'STEP', '1', now() FROM generate_series(1, " + count + ") i");
    }

    @Test
    void largeDeletesGoInBatches() {
        // Older than anything the other tests leave behind, so that only these match.
        // SQL: one batch per call; a caller calls again until it returns less than the batch size.
        insertOldWorkflows("sql-batch-", 2500);
        for (long deleted : new long[] {1000, 1000, 500, 0}) {
            assertThat(db.queryLong("SELECT tandem.delete_workflows(interval '200 days', 1000)")).isEqualTo(deleted);
        }
        // Java: batches of 1,000 until none is left.
        insertOldWorkflows("java-batch-", 2500);
        assertThat(tandem.deleteWorkflows(Duration.ofDays(200))).isEqualTo(2500);
        assertThat(db.queryLong("SELECT count(*) FROM tandem.workflow_status WHERE workflow_id LIKE '%batch-%'"))
                .isZero();
        assertThat(db.queryLong("SELECT count(*) FROM tandem.steps WHERE workflow_id LIKE '%batch-%'")).isZero();
    }

    @Test
    void aWorkflowRowInUseIsSkippedNotWaitedFor() throws Exception {
        insertWorkflow("in-use", "SUCCESS", "2 days", "2 days");
        insertWorkflow("idle", "SUCCESS", "2 days", "2 days");
        try (Connection other = db.dataSource().getConnection()) {
            other.setAutoCommit(false);
            try (var st = other.createStatement()) {
                st.execute("SELECT 1 FROM tandem.workflow_status WHERE workflow_id = 'in-use' FOR UPDATE");
            }
            long started = System.nanoTime();
            assertThat(tandem.deleteWorkflows(Duration.ofDays(1))).isEqualTo(1);
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(5));
            assertThat(rowsOf("in-use")).isEqualTo(1 + CHILD_TABLES.size());
            assertThat(rowsOf("idle")).isZero();
            other.commit();
        }
        assertThat(tandem.deleteWorkflows(Duration.ofDays(1))).as("deleted once it is free").isEqualTo(1);
        assertThat(rowsOf("in-use")).isZero();
    }

    @Test
    void theBuildersRetentionDeletesInTheBackground() {
        insertWorkflow("background-old", "ERROR", "10 days", "8 days");
        insertWorkflow("background-young", "ERROR", "10 days", "6 days");
        insertWorkflow("background-waiting", "ENQUEUED", "10 days", "10 days");

        engines.add(Tandem.builder()
                .dataSource(db.dataSource())
                .heartbeatInterval(Duration.ofMillis(100))
                .executorTimeout(Duration.ofSeconds(5))
                .unknownWorkflowTimeout(Duration.ofDays(3650))
                .retention(Duration.ofDays(7))
                .build()).start();

        await("the retention that runs at start deletes it").atMost(Duration.ofSeconds(10))
                .pollInterval(Duration.ofMillis(50)).until(() -> rowsOf("background-old") == 0);
        assertThat(rowsOf("background-young")).isEqualTo(1 + CHILD_TABLES.size());
        assertThat(rowsOf("background-waiting")).isEqualTo(1 + CHILD_TABLES.size());
    }

    @Test
    void badAgesAreRefused() {
        assertThatThrownBy(() -> tandem.deleteWorkflows(Duration.ofSeconds(-1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("olderThan must be zero or positive (was PT-1S)");
        assertThatThrownBy(() -> tandem.deleteWorkflows(null)).isInstanceOf(IllegalArgumentException.class);
        for (Duration bad : new Duration[] {Duration.ZERO, Duration.ofDays(-1)}) {
            assertThatThrownBy(() -> Tandem.builder().dataSource(db.dataSource()).retention(bad).build())
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("retention must be positive (was " + bad + ")");
        }
        assertThatThrownBy(() -> db.queryLong("SELECT tandem.delete_workflows(interval '-1 day')"))
                .hasStackTraceContaining("tandem.delete_workflows: older_than must be zero or positive (was -1 days)");
        assertThatThrownBy(() -> db.queryLong("SELECT tandem.delete_workflows(interval '1 day', 0)"))
                .hasStackTraceContaining("tandem.delete_workflows: batch_size must be between 1 and 100000 (was 0)");
    }
}
