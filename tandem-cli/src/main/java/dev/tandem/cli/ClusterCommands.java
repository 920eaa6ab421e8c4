package dev.tandem.cli;

import dev.tandem.admin.Operations;
import dev.tandem.admin.model.ExecutorRow;
import dev.tandem.admin.model.QueueRow;
import dev.tandem.admin.model.StuckWorkflow;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** What runs where: {@code tandem queues}, {@code tandem executors} and {@code tandem stuck}. */
final class ClusterCommands {
    private ClusterCommands() {}

    @Command(name = "queues", description = "Every queue: its limits, how many workflows wait, are delayed and run,"
            + " how long the oldest has waited, and how many started in the last minute",
            footer = {"", "Examples:", "  tandem queues", "  tandem queues --json | jq '.[] | select(.waiting > 100)'"})
    static final class Queues extends BaseCommand.WithDatabase {
        @Mixin
        OutputOptions output;

        @Override
        public Integer call() {
            Session s = session();
            List<QueueRow> queues = ops().queues();
            if (output.json) {
                OutputOptions.printJson(s, queues);
                return ExitCode.OK;
            }
            Table table = new Table(s.style()).column("QUEUE", 24).number("WAITING").number("DELAYED").number("RUNNING")
                    .number("OLDEST WAIT").number("STARTED/MIN").column("LIMITS", 60);
            for (QueueRow q : queues) {
                table.row(q.name(), q.waiting(), q.delayed(), q.running(), Text.seconds(q.oldestWaitingSeconds()),
                        q.startedLastMinute(), limits(q));
            }
            printOr(s, table, "no queues");
            return ExitCode.OK;
        }

        static String limits(QueueRow q) {
            if (!q.declared()) {
                return "(not declared)";
            }
            List<String> parts = new ArrayList<>();
            if (q.concurrency() != null) {
                parts.add("concurrency " + q.concurrency());
            }
            if (q.workerConcurrency() != null) {
                parts.add("per executor " + q.workerConcurrency());
            }
            if (q.rateLimit() != null) {
                parts.add("rate " + q.rateLimit() + "/" + Text.period(q.ratePeriodSeconds()));
            }
            if (q.partitionConcurrency() != null) {
                parts.add("per partition " + q.partitionConcurrency());
            }
            return parts.isEmpty() ? "none" : String.join(", ", parts);
        }
    }

    @Command(name = "executors", description = "Every registered executor (engine process), live ones first: its"
            + " heartbeat, what it runs now and the workflow names it registered",
            footer = {"", "An executor is dead when its heartbeat is older than "
                + "1 minute; dead ones stay listed until their row is removed.",
                "", "Examples:", "  tandem executors", "  tandem executors --json"})
    static final class Executors extends BaseCommand.WithDatabase {
        @Mixin
        OutputOptions output;

        @Override
        public Integer call() {
            Session s = session();
            List<ExecutorRow> executors = ops().executors();
            if (output.json) {
                OutputOptions.printJson(s, executors);
                return ExitCode.OK;
            }
            Style st = s.style();
            Table table = new Table(st).column("EXECUTOR", 32).column("STATE", 7,
                    (padded, raw) -> raw.equals("alive") ? st.green(padded) : raw.equals("dead") ? st.red(padded) : padded)
                    .column("VERSION", 16).column("HOST", 24).number("PID").column("HEARTBEAT", 10).column("STARTED", 10).number("RUNNING")
                    .column("WORKFLOWS", 50);
            for (ExecutorRow e : executors) {
                table.row(e.executorId(), e.state(), e.appVersion(), e.hostname(), e.pid(),
                        Text.age(e.heartbeatAt(), s.now()), Text.age(e.startedAt(), s.now()), e.running(),
                        String.join(", ", e.workflowNames()));
            }
            printOr(s, table, "no executors registered (no engine has started on this database)");
            return ExitCode.OK;
        }
    }

    @Command(name = "stuck", description = "Workflows that are not moving, and why: UNKNOWN_WORKFLOW (no live executor"
            + " runs its name), DEAD_EXECUTOR, RATE_LIMITED, NO_PROGRESS (no checkpoint for "
            + "5 minutes), PAST_DEADLINE",
            footer = {"", "Examples:", "  tandem stuck", "  tandem stuck --limit 500 --json"})
    static final class Stuck extends BaseCommand.WithDatabase {
        @Mixin
        OutputOptions output;

        @Option(names = {"-l", "--limit"}, defaultValue = "100", paramLabel = "N",
                description = "At most this many, oldest first (1 to " + Operations.MAX_PAGE + "; default ${DEFAULT-VALUE})")
        int limit;

        @Override
        public Integer call() {
            Session s = session();
            List<StuckWorkflow> stuck = ops().stuck(limit);
            if (output.json) {
                OutputOptions.printJson(s, stuck);
                return ExitCode.OK;
            }
            Table table = new Table(s.style()).column("REASON", 16, (padded, raw) -> s.style().yellow(padded))
                    .column("WORKFLOW ID", 36).column("NAME", 24).column("STATUS", 16, s.style()::status)
                    .column("SINCE", 10).column("DETAIL", 90);
            for (StuckWorkflow w : stuck) {
                table.row(w.reason(), w.workflowId(), w.name(), w.status(), Text.age(w.since(), s.now()), w.detail());
            }
            printOr(s, table, "nothing is stuck");
            return ExitCode.OK;
        }
    }

    static void printOr(Session s, Table table, String empty) {
        if (table.isEmpty()) {
            s.out().println(empty);
            s.out().flush();
        } else {
            table.print(s.out());
        }
    }
}
