package dev.tandem;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.testing.TestDatabase;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Migration V12, what {@code tandem-bench soak} found slowing down at millions of rows: the rewritten retention keeps
 * its rules about children, and the plans that keep it and view {@code tandem.stranded} off whole-table scans.
 */
class SoakFixesTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    static Tandem tandem;

    @BeforeAll
    static void setUp() {
        tandem = Tandem.builder()
                .dataSource(db.dataSource())
                .unknownWorkflowTimeout(Duration.ofDays(3650))
                .build();
        tandem.start();
    }

    @AfterAll
    static void tearDown() {
        tandem.close();
    }

    private static void insert(String id, String status, String parent) {
        db.execute("INSERT INTO tandem.workflow_status (workflow_id, name, status, parent_workflow_id, created_at,"
                + " updated_at) VALUES ('" + id + "', 'not-registered', '" + status + "', "
                + (parent == null ? "NULL" : "'" + parent + "'") + ", now() - interval '2 days',"
                + " now() - interval '2 days')");
    }

    private static long exists(String id) {
        return db.queryLong("SELECT count(*) FROM tandem.workflow_status WHERE workflow_id = '" + id + "'");
    }

    @Test
    void aChildIsDeletedUnlessItsParentHasNotEnded() {
        insert("p-running", "RUNNING", null);
        insert("p-enqueued", "ENQUEUED", null);
        insert("p-ended", "SUCCESS", null);
        insert("c-of-running", "SUCCESS", "p-running");
        insert("c-of-enqueued", "ERROR", "p-enqueued");
        insert("c-of-ended", "SUCCESS", "p-ended");
        insert("c-of-gone", "CANCELLED", "p-never-existed");

        // Batches of 1 and more calls than the five after which PostgreSQL may switch to a generic plan.
        long deleted = 0;
        for (int i = 0; i < 8; i++) {
            deleted += db.queryLong("SELECT tandem.delete_workflows('1 day', 1)");
        }

        assertThat(deleted).isEqualTo(3);
        assertThat(exists("c-of-running")).isEqualTo(1);
        assertThat(exists("c-of-enqueued")).isEqualTo(1);
        assertThat(exists("p-running") + exists("p-enqueued")).isEqualTo(2);
        assertThat(exists("c-of-ended") + exists("c-of-gone") + exists("p-ended")).isZero();
    }

    @Test
    void retentionPlansEachBatchWithItsValuesAndWithoutJit() {
        String config = db.queryString("SELECT array_to_string(proconfig, ',') FROM pg_proc"
                + " WHERE oid = 'tandem.delete_workflows(interval, int)'::regprocedure");
        assertThat(config).contains("plan_cache_mode=force_custom_plan").contains("jit=off");
    }

    @Test
    void theStrandedViewReadsThePartialIndexesOnLiveStatuses() {
        // With sequential scans priced out, the old filter (status IN three values) could only walk a whole index.
        String plan = db.queryString("SELECT string_agg(line, E'\\n') FROM (SELECT 1) one, LATERAL ("
                + " SELECT * FROM tandem_explain_stranded()) p(line)");
        assertThat(plan).contains("BitmapOr").contains("workflow_status_queued_idx")
                .contains("workflow_status_running_idx");
    }

    @BeforeAll
    static void explainFunction() {
        db.execute("CREATE FUNCTION tandem_explain_stranded() RETURNS SETOF text LANGUAGE plpgsql"
                + " SET enable_seqscan = off AS $$ BEGIN"
                + " RETURN QUERY EXPLAIN SELECT * FROM tandem.stranded; END $$");
    }
}
