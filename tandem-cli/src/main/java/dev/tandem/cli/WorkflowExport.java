package dev.tandem.cli;

import dev.tandem.WorkflowHistories;
import dev.tandem.WorkflowQuery;
import dev.tandem.WorkflowStatus;
import java.nio.file.Path;
import java.time.Instant;
import java.util.EnumSet;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code tandem workflows export}: the recorded histories of workflows to a file, for the pre-deploy replay check
 * ({@code WorkflowReplayer}, docs/versioning.md). The export itself is core's ({@link WorkflowHistories}), on the
 * command's data source.
 */
@Command(name = "export", description = "Write the recorded histories (checkpoints) of workflows to a file, for the"
        + " pre-deploy replay check of new code (docs/versioning.md); by default those in flight",
        footer = {"", "Examples:",
            "  tandem workflows export --file histories.json                    # enqueued, delayed and running",
            "  tandem workflows export --file recent.json --status success --name pay --since 1d",
            "", "Then, in the new build's tests: WorkflowReplayer.assertReplays(Path.of(\"histories.json\"), registrar)"})
final class WorkflowExport extends BaseCommand.WithDatabase {
    @Mixin
    FilterOptions filter;

    @Option(names = {"-f", "--file"}, required = true, paramLabel = "PATH", description = "The file to write"
            + " (replaced if it exists)")
    Path file;

    @Override
    public Integer call() {
        Session s = session();
        if (filter.executor != null || filter.inputContains != null || filter.outputContains != null) {
            throw CliException.badInput("export filters by --status, --name, --queue, --parent, --id-prefix,"
                    + " --since and --until only");
        }
        Instant now = s.now();
        WorkflowQuery query = WorkflowQuery.all()
                .statuses(filter.statuses.isEmpty() ? WorkflowHistories.inFlight().statuses()
                        : EnumSet.copyOf(filter.statuses))
                .name(filter.name).queue(filter.queue).parentWorkflowId(filter.parent).idPrefix(filter.idPrefix)
                .createdAfter(filter.since == null ? null : filter.since.resolve(now))
                .createdBefore(filter.until == null ? null : filter.until.resolve(now));
        int count = WorkflowHistories.export(database.dataSource(s), file, query);
        s.out().println("exported " + count + " workflow " + (count == 1 ? "history" : "histories") + " ("
                + String.join(", ", query.statuses().stream().map(WorkflowStatus::name).toList()) + ") to " + file);
        s.out().flush();
        return ExitCode.OK;
    }
}
