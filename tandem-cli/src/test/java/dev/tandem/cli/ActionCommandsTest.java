package dev.tandem.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tandem.Tandem;
import dev.tandem.testing.TestDatabase;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The actions: they change what they say, record the actor in tandem.audit_log, and a dry run changes nothing. */
class ActionCommandsTest {
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

    static String status(String workflowId) {
        return db.queryString("SELECT status FROM tandem.workflow_status WHERE workflow_id = '" + workflowId + "'");
    }

    static long audited(String action, String target) {
        return db.queryLong("SELECT count(*) FROM tandem.audit_log WHERE action = '" + action + "' AND target "
                + (target == null ? "IS NULL" : "= '" + target + "'") + " AND source = 'cli'");
    }

    @Test
    void sendDeliversAMessageOnceAndTheAuditLogNamesTheOsUser() {
        CliRun r = tandem("workflows", "send", "approval-1", "--topic", "decision", "--message", "\"yes\"",
                "--idempotency-key", "ticket-7");
        assertThat(r.code()).as(r.toString()).isZero();
        assertThat(r.out()).startsWith("approval-1: sent on topic 'decision'");
        Demo.awaitStatus(db.dataSource(), "approval-1", "SUCCESS");
        assertThat(db.queryString("SELECT output FROM tandem.workflow_status WHERE workflow_id = 'approval-1'"))
                .contains("decided: yes");
        CliRun again = tandem("workflows", "send", "approval-1", "--topic", "decision", "--message", "\"yes\"",
                "--idempotency-key", "ticket-7");
        assertThat(again.code()).isZero();
        assertThat(again.out()).contains("already sent", "(no change)");
        assertThat(db.queryString("SELECT actor FROM tandem.audit_log WHERE action = 'workflow.send'"))
                .isEqualTo(System.getProperty("user.name"));
    }

    @Test
    void setVersionMovesAStrandedWorkflowAndSaysWhenNothingChanges() {
        db.execute("INSERT INTO tandem.workflow_status (workflow_id, name, status, queue_name, app_version)"
                + " VALUES ('old-code', 'retired', 'CANCELLED', 'default', '0.9')");
        CliRun moved = tandem("workflows", "set-version", "old-code", "--app-version", "1.0");
        assertThat(moved.code()).as(moved.toString()).isZero();
        assertThat(moved.out()).startsWith("old-code: moved from version 0.9 to 1.0");
        assertThat(db.queryString("SELECT app_version FROM tandem.workflow_status WHERE workflow_id = 'old-code'"))
                .isEqualTo("1.0");
        assertThat(tandem("workflows", "set-version", "old-code", "--app-version", "1.0").out())
                .contains("already at version 1.0", "(no change)");
        assertThat(tandem("workflows", "set-version", "old-code", "--any-version").out())
                .contains("moved from version 1.0 to (any)");
        assertThat(audited("workflow.set-version", "old-code")).isEqualTo(2);
        assertThat(tandem("workflows", "set-version", "old-code").code()).isEqualTo(2);
        assertThat(tandem("workflows", "set-version", "no-such", "--any-version").code()).isEqualTo(1);
    }

    @Test
    void cancelAndResumeWithAnActorAndJson() {
        CliRun cancel = tandem("workflows", "cancel", "nap-1", "--actor", "ada", "--json");
        assertThat(cancel.code()).as(cancel.toString()).isZero();
        JsonNode result = cancel.json();
        assertThat(result.path("workflow_id").asText()).isEqualTo("nap-1");
        assertThat(result.path("changed").asBoolean()).isTrue();
        assertThat(status("nap-1")).isEqualTo("CANCELLED");
        assertThat(db.queryString("SELECT actor || '/' || source FROM tandem.audit_log WHERE action = 'workflow.cancel'"
                + " AND target = 'nap-1'")).isEqualTo("ada/cli");

        CliRun repeat = tandem("workflows", "cancel", "nap-1");
        assertThat(repeat.code()).isZero();
        assertThat(repeat.out()).contains("nap-1: already ended (CANCELLED); nothing to cancel", "(no change)");

        CliRun resume = tandem("workflows", "resume", "nap-1");
        assertThat(resume.code()).as(resume.toString()).isZero();
        assertThat(resume.out()).startsWith("nap-1: resumed");
        assertThat(audited("workflow.resume", "nap-1")).isEqualTo(1);
    }

    @Test
    void resumingASucceededWorkflowIsAConflictAndAnUnknownIdIsNotFound() {
        CliRun resume = tandem("workflows", "resume", "pay-2");
        assertThat(resume.code()).isEqualTo(ExitCode.CONFLICT);
        assertThat(resume.err().lines()).hasSize(1);
        assertThat(resume.err()).contains("succeeded");
        CliRun cancel = tandem("workflows", "cancel", "no-such-id");
        assertThat(cancel.code()).isEqualTo(ExitCode.NOT_FOUND);
        assertThat(cancel.err()).contains("no-such-id");
    }

    @Test
    void forkAndRestartStartNewWorkflows() {
        CliRun fork = tandem("workflows", "fork", "pay-1", "--from-step", "2", "--new-id", "pay-1-fork");
        assertThat(fork.code()).as(fork.toString()).isZero();
        assertThat(fork.out()).contains("forked from step 2 as 'pay-1-fork'");
        Demo.awaitStatus(db.dataSource(), "pay-1-fork", "SUCCESS");
        assertThat(tandem("workflows", "fork", "pay-1", "--from-step", "2", "--new-id", "pay-1-fork").out())
                .contains("already done");
        CliRun restart = tandem("workflows", "restart", "pay-1", "--json");
        assertThat(restart.code()).isZero();
        String newId = restart.json().path("new_workflow_id").asText();
        Demo.awaitStatus(db.dataSource(), newId, "SUCCESS");
        assertThat(audited("workflow.fork", "pay-1")).isEqualTo(1);
        assertThat(audited("workflow.restart", "pay-1")).isEqualTo(1);
        CliRun missing = tandem("workflows", "fork", "pay-1");
        assertThat(missing.code()).isEqualTo(ExitCode.BAD_INPUT);
        assertThat(missing.err()).contains("--from-step");
    }

    @Test
    void aBulkDryRunChangesNothingAndABulkActionNeedsAFilter() {
        long auditRows = db.queryLong("SELECT count(*) FROM tandem.audit_log");
        CliRun dry = tandem("workflows", "resume-all", "--status", "error", "--dry-run");
        assertThat(dry.code()).as(dry.toString()).isZero();
        assertThat(dry.out()).contains("dry run: would resume 1 workflow: fail-1", "nothing was changed");
        JsonNode json = tandem("workflows", "cancel-all", "--name", "ghost", "--dry-run", "--json").json();
        assertThat(json.path("dry_run").asBoolean()).isTrue();
        assertThat(json.path("matched").asLong()).isEqualTo(1);
        assertThat(json.path("sample").get(0).asText()).isEqualTo("ghost-1");
        assertThat(status("fail-1")).isEqualTo("ERROR");
        assertThat(status("ghost-1")).isEqualTo("ENQUEUED");
        assertThat(db.queryLong("SELECT count(*) FROM tandem.audit_log")).isEqualTo(auditRows);

        CliRun none = tandem("workflows", "cancel-all");
        assertThat(none.code()).isEqualTo(ExitCode.BAD_INPUT);
        assertThat(none.err()).contains("needs a filter");
        assertThat(tandem("workflows", "resume-all", "--dry-run").code()).isEqualTo(ExitCode.BAD_INPUT);

        CliRun cancel = tandem("workflows", "cancel-all", "--name", "ghost");
        assertThat(cancel.code()).isZero();
        assertThat(cancel.out()).isEqualTo("cancelled 1 workflow: ghost-1\n");
        assertThat(status("ghost-1")).isEqualTo("CANCELLED");
        assertThat(audited("workflows.bulk-cancel", null)).isEqualTo(1);
    }

    @Test
    void schedulesArePausedResumedTriggeredAndBackfilled() {
        assertThat(tandem("schedules", "pause", "nightly").out()).isEqualTo("nightly: paused\n");
        assertThat(tandem("schedules", "list").out()).contains("paused");
        assertThat(tandem("schedules", "resume", "nightly").out()).isEqualTo("nightly: resumed\n");
        CliRun trigger = tandem("schedules", "trigger", "nightly");
        assertThat(trigger.out()).startsWith("nightly: triggered as 'nightly");
        CliRun backfill = tandem("schedules", "backfill", "nightly", "--from", "2026-01-01", "--to", "2026-01-04");
        assertThat(backfill.code()).as(backfill.toString()).isZero();
        assertThat(backfill.out()).startsWith("nightly: 3 tick(s) enqueued");
        assertThat(tandem("schedules", "pause", "no-such-schedule").code()).isEqualTo(ExitCode.NOT_FOUND);
        CliRun backwards = tandem("schedules", "backfill", "nightly", "--from", "1h", "--to", "2h");
        assertThat(backwards.code()).isEqualTo(ExitCode.BAD_INPUT);
        assertThat(audited("schedule.pause", "nightly")).isEqualTo(1);
        assertThat(audited("schedule.backfill", "nightly")).isEqualTo(1);

        CliRun audit = tandem("audit");
        assertThat(audit.code()).isZero();
        assertThat(audit.out()).contains("ACTOR", "schedule.backfill", "nightly", "cli");
    }
}
