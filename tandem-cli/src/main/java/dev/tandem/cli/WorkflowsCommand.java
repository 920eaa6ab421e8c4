package dev.tandem.cli;

import dev.tandem.admin.model.StatusCounts;
import dev.tandem.admin.model.WorkflowDetail;
import dev.tandem.admin.model.WorkflowPage;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code tandem workflows ...}: list, count and show workflows, and act on them (see {@link WorkflowActions}). */
@Command(name = "workflows", description = "List, inspect, cancel, resume, fork and message workflows",
        subcommands = {WorkflowsCommand.ListCommand.class, WorkflowsCommand.CountCommand.class,
            WorkflowsCommand.ShowCommand.class, WorkflowActions.Cancel.class, WorkflowActions.Resume.class,
            WorkflowActions.Restart.class, WorkflowActions.Fork.class, WorkflowActions.Send.class,
            WorkflowActions.SetVersion.class,
            WorkflowActions.CancelAll.class, WorkflowActions.ResumeAll.class, WorkflowExport.class},
        footer = {"", "Examples:", "  tandem workflows list --status error --since 1h", "  tandem workflows show order-42",
            "  tandem workflows resume order-42", "  tandem workflows resume-all --status error --name pay --dry-run",
            "  tandem workflows export --file histories.json",
            "", "Run 'tandem workflows COMMAND --help' for each command's options."})
final class WorkflowsCommand {

    @Command(name = "list", description = "List the workflows that match, newest first",
            footer = {"", "Examples:",
                "  tandem workflows list --status error --since 1h",
                "  tandem workflows list --status enqueued,delayed --queue emails --limit 200",
                "  tandem workflows list --name pay --input-contains '{\"customer\":\"ada\"}' --json",
                "  tandem workflows list --parent order-42          # its children",
                "", "With --json, the next page's cursor (if any) is printed on stderr."})
    static final class ListCommand extends BaseCommand.WithDatabase {
        @Mixin
        FilterOptions filter;

        @Mixin
        OutputOptions output;

        @Option(names = {"-l", "--limit"}, defaultValue = "50", paramLabel = "N",
                description = "At most this many (1 to 1000; default ${DEFAULT-VALUE})")
        int limit;

        @Option(names = "--cursor", paramLabel = "CURSOR", description = "Start after this page (printed at the end"
                + " of the previous one)")
        @Nullable String cursor;

        @Override
        public Integer call() {
            Session s = session();
            WorkflowPage page = ops().listWorkflows(filter.filter(s.now()), cursor, limit);
            if (output.json) {
                OutputOptions.printJson(s, page.workflows());
                if (page.next() != null) {
                    s.err().println("more: --cursor " + page.next());
                    s.err().flush();
                }
                return ExitCode.OK;
            }
            if (page.workflows().isEmpty()) {
                s.out().println(cursor == null ? "no workflows match" : "no more workflows");
            } else {
                WorkflowView.list(s, page.workflows()).print(s.out());
                if (page.next() != null) {
                    s.out().println(s.style().dim("(" + page.workflows().size() + " shown; for more, add --cursor "
                            + page.next() + ")"));
                }
            }
            s.out().flush();
            return ExitCode.OK;
        }
    }

    @Command(name = "count", description = "How many workflows match, per status",
            footer = {"", "Examples:", "  tandem workflows count --name pay --since 1d", "  tandem workflows count --json"})
    static final class CountCommand extends BaseCommand.WithDatabase {
        @Mixin
        FilterOptions filter;

        @Mixin
        OutputOptions output;

        @Override
        public Integer call() {
            Session s = session();
            if (!filter.statuses.isEmpty()) {
                throw CliException.badInput("count shows every status; leave out --status");
            }
            StatusCounts counts = ops().countWorkflows(filter.filter(s.now()));
            if (output.json) {
                OutputOptions.printJson(s, counts);
                return ExitCode.OK;
            }
            Table table = new Table(s.style()).column("STATUS", 16, s.style()::status).number("WORKFLOWS");
            for (Map.Entry<String, Long> e : counts.byStatus().entrySet()) {
                table.row(e.getKey(), e.getValue());
            }
            table.row("total", counts.total());
            table.print(s.out());
            return ExitCode.OK;
        }
    }

    @Command(name = "show", description = "Everything about one workflow: status, input, output, error with its stack,"
            + " its steps as a timeline, children, events, streams and messages",
            footer = {"", "Examples:", "  tandem workflows show order-42", "  tandem workflows show order-42 --json | jq '.steps[] | .name'",
                "", "Exit code 1 if no workflow has this id."})
    static final class ShowCommand extends BaseCommand.WithDatabase {
        @Parameters(index = "0", paramLabel = "ID", description = "The workflow id")
        String workflowId;

        @Mixin
        OutputOptions output;

        @Override
        public Integer call() {
            Session s = session();
            WorkflowDetail detail = ops().workflow(workflowId).orElseThrow(() -> new CliException(ExitCode.NOT_FOUND,
                    "no workflow has id '" + workflowId + "'; list some with 'tandem workflows list'"));
            if (output.json) {
                OutputOptions.printJson(s, detail);
            } else {
                WorkflowView.detail(s, detail);
            }
            return ExitCode.OK;
        }
    }
}
