package dev.tandem.cli;

import dev.tandem.admin.model.AuditEntry;
import java.util.List;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code tandem audit}: who did what, to what, when and from where (table {@code tandem.audit_log}). */
@Command(name = "audit", description = "The audit log, newest first: every action taken through the CLI or the admin"
        + " API, with who took it",
        footer = {"", "Examples:", "  tandem audit", "  tandem audit --limit 200 --json",
            "  tandem audit --before 1234          # the page before entry 1234"})
final class AuditCommand extends BaseCommand.WithDatabase {
    @Mixin
    OutputOptions output;

    @Option(names = {"-l", "--limit"}, defaultValue = "50", paramLabel = "N",
            description = "At most this many entries (1 to 1000; default ${DEFAULT-VALUE})")
    int limit;

    @Option(names = "--before", paramLabel = "ID", description = "Only entries older than this id (to page back)")
    @Nullable Long before;

    @Override
    public Integer call() {
        Session s = session();
        List<AuditEntry> entries = ops().audit(before, limit);
        if (output.json) {
            OutputOptions.printJson(s, entries);
            return ExitCode.OK;
        }
        Table table = new Table(s.style()).number("ID").column("WHEN", 10).column("ACTOR", 20).column("SOURCE", 6)
                .column("ACTION", 24).column("TARGET", 36).column("OUTCOME", 60);
        for (AuditEntry e : entries) {
            table.row(e.id(), Text.age(e.at(), s.now()), e.actor(), e.source(), e.action(), e.target(), e.outcome());
        }
        ClusterCommands.printOr(s, table, before == null ? "the audit log is empty" : "no older entries");
        if (entries.size() == limit) {
            s.out().println(s.style().dim("(for older entries, add --before " + entries.get(entries.size() - 1).id()
                    + ")"));
            s.out().flush();
        }
        return ExitCode.OK;
    }
}
