package dev.tandem.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tandem.admin.WorkflowFilter;
import dev.tandem.admin.model.ActionResult;
import dev.tandem.admin.model.BulkResult;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * The actions of {@code tandem workflows}: each goes through tandem-admin's {@code Operations}, so it is
 * idempotent and written to {@code tandem.audit_log} with the actor (the OS user, or {@code --actor}) and source cli.
 */
final class WorkflowActions {
    private WorkflowActions() {}

    /** An action on one workflow: the id, who acts, and JSON or a line of text for the result. */
    abstract static class OnOne extends BaseCommand.WithDatabase {
        @Parameters(index = "0", paramLabel = "ID", description = "The workflow id")
        String workflowId;

        @Mixin
        ActorOptions actor;

        @Mixin
        OutputOptions output;

        abstract ActionResult act();

        @Override
        public Integer call() {
            ActionResult result = act();
            Session s = session();
            if (output.json) {
                OutputOptions.printJson(s, result);
            } else {
                String status = result.status() == null ? "" : "  " + s.style().status(result.status(), result.status());
                s.out().println(result.workflowId() + ": " + result.outcome()
                        + (result.changed() ? "" : s.style().dim(" (no change)")) + status);
                s.out().flush();
            }
            return ExitCode.OK;
        }
    }

    @Command(name = "cancel", description = "Cancel a workflow that has not ended (a no-op on one that has); a running"
            + " execution stops at its next step boundary",
            footer = {"", "Examples:", "  tandem workflows cancel order-42", "  tandem workflows cancel order-42 --with-children"})
    static final class Cancel extends OnOne {
        @Option(names = "--with-children", description = "Also cancel every child workflow it started, recursively")
        boolean withChildren;

        @Override
        ActionResult act() {
            return ops().cancel(workflowId, withChildren, actor.actor());
        }
    }

    @Command(name = "resume", description = "Queue a CANCELLED, ERROR or RETRIES_EXCEEDED workflow to run again from"
            + " its last checkpoint",
            footer = {"", "Examples:", "  tandem workflows resume order-42",
                "", "Exit code 4 if it succeeded (fork or restart it instead)."})
    static final class Resume extends OnOne {
        @Override
        ActionResult act() {
            return ops().resume(workflowId, actor.actor());
        }
    }

    @Command(name = "restart", description = "Run the workflow again from the beginning, with the same input, as a new"
            + " workflow (a fork from step 1)",
            footer = {"", "Examples:", "  tandem workflows restart order-42",
                "  tandem workflows restart order-42 --new-id order-42-retry   # safe to repeat"})
    static final class Restart extends OnOne {
        @Option(names = "--new-id", paramLabel = "ID", description = "The new workflow's id (a repeat with the same id"
                + " returns the first restart)")
        @Nullable String newId;

        @Override
        ActionResult act() {
            return ops().restart(workflowId, newId, actor.actor());
        }
    }

    @Command(name = "fork", description = "Start a new workflow that replays this one's checkpoints before step N and"
            + " runs from there (fix the bug, deploy, fork from the failed step)",
            footer = {"", "Examples:", "  tandem workflows fork order-42 --from-step 3",
                "  tandem workflows fork order-42 --from-step 3 --new-id order-42-fix --queue replays"})
    static final class Fork extends OnOne {
        @Option(names = "--from-step", required = true, paramLabel = "N",
                description = "The first step to run again (1 is the first step; see 'workflows show')")
        int fromStep;

        @Option(names = "--new-id", paramLabel = "ID", description = "The fork's id (a repeat with the same id returns"
                + " the first fork)")
        @Nullable String newId;

        @Option(names = {"-q", "--queue"}, paramLabel = "QUEUE", description = "Run the fork in this queue")
        @Nullable String queue;

        @Override
        ActionResult act() {
            return ops().fork(workflowId, fromStep, newId, queue, actor.actor());
        }
    }

    @Command(name = "send", description = "Send a message to a workflow (it receives it with ctx.recv)",
            footer = {"", "Examples:",
                "  tandem workflows send approval-42 --topic decision --message '{\"approved\":true}'",
                "  tandem workflows send approval-42 --topic decision --message true --idempotency-key ticket-77"})
    static final class Send extends OnOne {
        @Option(names = {"-t", "--topic"}, paramLabel = "TOPIC", description = "The topic it is received on (default:"
                + " none)")
        @Nullable String topic;

        @Option(names = {"-m", "--message"}, required = true, paramLabel = "JSON", converter = Args.JsonConverter.class,
                description = "The message, as JSON: '{\"approved\":true}', '\"text\"', 42, true")
        JsonNode message;

        @Option(names = "--idempotency-key", paramLabel = "KEY", description = "Send at most once with this key")
        @Nullable String idempotencyKey;

        @Override
        ActionResult act() {
            return ops().send(workflowId, topic, message, idempotencyKey, actor.actor());
        }
    }

    @Command(name = "set-version", description = "Move a workflow to another application version, so that executors"
            + " of that version run it (for STRANDED workflows; the new code replays its recorded checkpoints)",
            footer = {"", "Examples:", "  tandem workflows set-version order-42 --app-version 2026.12.0",
                "  tandem workflows set-version order-42 --any-version"})
    static final class SetVersion extends OnOne {
        @picocli.CommandLine.ArgGroup(exclusive = true, multiplicity = "1")
        Target target;

        static final class Target {
            @Option(names = "--app-version", paramLabel = "VERSION", description = "The version to move it to")
            @Nullable String version;

            @Option(names = "--any-version", description = "Let any executor that runs its name run it")
            boolean any;
        }

        @Override
        ActionResult act() {
            return ops().setVersion(workflowId, target.any ? null : target.version, actor.actor());
        }
    }

    /** A bulk action: the filter (which must set something), --dry-run, who acts. */
    abstract static class Bulk extends BaseCommand.WithDatabase {
        @Mixin
        FilterOptions filter;

        @Option(names = "--dry-run", description = "Only say how many workflows it would affect, and which; change"
                + " nothing")
        boolean dryRun;

        @Mixin
        ActorOptions actor;

        @Mixin
        OutputOptions output;

        abstract BulkResult act(WorkflowFilter filter);

        abstract String verb(boolean past);

        @Override
        public Integer call() {
            Session s = session();
            WorkflowFilter f = filter.filter(s.now());
            if (f.isEmpty()) {
                throw CliException.badInput("a bulk " + verb(false) + " needs a filter (--status, --name, --queue,"
                        + " --since, ...): it would otherwise apply to every workflow");
            }
            BulkResult result = act(f);
            if (output.json) {
                OutputOptions.printJson(s, result);
                return ExitCode.OK;
            }
            String sample = result.sample().isEmpty() ? "" : ": " + String.join(", ", result.sample())
                    + (result.sample().size() < result.matched() ? ", …" : "");
            if (result.dryRun()) {
                s.out().println("dry run: would " + verb(false) + " " + Text.count(result.matched(), "workflow")
                        + sample);
                s.out().println(s.style().dim("nothing was changed; run again without --dry-run to do it"));
            } else {
                s.out().println(verb(true) + " " + Text.count(result.affected(), "workflow") + sample);
            }
            s.out().flush();
            return ExitCode.OK;
        }
    }

    @Command(name = "cancel-all", description = "Cancel every workflow that matches and has not ended",
            footer = {"", "Examples:", "  tandem workflows cancel-all --name nightly-report --status enqueued --dry-run",
                "  tandem workflows cancel-all --queue emails --since 2h",
                "", "A filter is required: without one, exit code 2."})
    static final class CancelAll extends Bulk {
        @Override
        BulkResult act(WorkflowFilter f) {
            return ops().bulkCancel(f, dryRun, actor.actor());
        }

        @Override
        String verb(boolean past) {
            return past ? "cancelled" : "cancel";
        }
    }

    @Command(name = "resume-all", description = "Resume every CANCELLED, ERROR or RETRIES_EXCEEDED workflow that"
            + " matches",
            footer = {"", "Examples:", "  tandem workflows resume-all --status error --name pay --since 1h --dry-run",
                "  tandem workflows resume-all --status error --name pay --since 1h",
                "", "A filter is required: without one, exit code 2."})
    static final class ResumeAll extends Bulk {
        @Override
        BulkResult act(WorkflowFilter f) {
            return ops().bulkResume(f, dryRun, actor.actor());
        }

        @Override
        String verb(boolean past) {
            return past ? "resumed" : "resume";
        }
    }
}
