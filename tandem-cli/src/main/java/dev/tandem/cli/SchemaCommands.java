package dev.tandem.cli;

import dev.tandem.admin.model.BulkResult;
import dev.tandem.admin.model.Health;
import dev.tandem.admin.OperationException;
import dev.tandem.internal.db.Migrator;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** The schema and the data's lifetime: {@code tandem migrate}, {@code tandem schema print}, {@code tandem retention}. */
final class SchemaCommands {
    private SchemaCommands() {}

    @Command(name = "migrate", description = "Apply the schema tandem migrations this version ships that the database"
            + " lacks (in one transaction, under an advisory lock; a no-op when it is up to date)",
            footer = {"", "Examples:", "  tandem migrate --database-url 'jdbc:postgresql://db:5432/app?user=owner'",
                "", "Needs a role that may create schema tandem. Exit code 4 if the database's schema is newer"
                + " than this tandem."})
    static final class Migrate extends BaseCommand.WithDatabase {
        @Override
        public Integer call() {
            Session s = session();
            Integer before = version();
            if (before != null && before > Migrator.LATEST_VERSION) {
                throw new CliException(ExitCode.CONFLICT, "schema tandem is at version " + before + ", newer than"
                        + " this tandem knows (" + Migrator.LATEST_VERSION + "); use a newer tandem CLI");
            }
            Migrator.migrate(database.dataSource(s));
            Integer after = version();
            int from = before == null ? 0 : before;
            if (after != null && after == from) {
                s.out().println("schema tandem is at version " + after + ", the latest: nothing to do");
            } else {
                // Versions need not be consecutive (each feature numbers its own file): count the files applied.
                int applied = (int) Migrator.VERSIONS.stream().filter(v -> v > from).count();
                s.out().println("applied " + Text.count(applied, "migration") + " (V" + (from + 1)
                        + " to V" + Migrator.LATEST_VERSION + "); schema tandem is at version " + after);
            }
            s.out().flush();
            return ExitCode.OK;
        }

        /** The schema's version, null when schema tandem does not exist yet. */
        private @Nullable Integer version() {
            Health health = ops().health(null, Duration.ofMinutes(1));
            if (!health.databaseReachable()) {
                throw new OperationException(OperationException.Kind.UNAVAILABLE, health.problem());
            }
            return health.schemaVersion();
        }
    }

    @Command(name = "schema", description = "The schema tandem as SQL, for your own migration tool",
            subcommands = {Print.class},
            footer = {"", "Examples:", "  tandem schema print > tandem-schema.sql",
                "  tandem schema print --output-dir src/main/resources/db/migration/tandem"})
    static final class Schema {}

    @Command(name = "print", description = "Print every migration of schema tandem, in order, as SQL (or write them"
            + " as files V1__....sql, which Flyway takes as they are)",
            footer = {"", "Examples:", "  tandem schema print > tandem-schema.sql",
                "  tandem schema print --output-dir src/main/resources/db/migration/tandem",
                "  tandem schema print | psql -v ON_ERROR_STOP=1 -d app",
                "", "Each file records its version in tandem.schema_version, so engines can run with migrate off."})
    static final class Print extends BaseCommand {
        @Option(names = "--output-dir", paramLabel = "DIR", description = "Write one file per migration into DIR"
                + " (created if missing) instead of printing")
        @Nullable Path outputDir;

        @Override
        public Integer call() throws IOException {
            Session s = session();
            List<Migrations.Migration> migrations = Migrations.all();
            if (outputDir != null) {
                Files.createDirectories(outputDir);
                for (Migrations.Migration m : migrations) {
                    Files.writeString(outputDir.resolve(m.file()), m.sql(), StandardCharsets.UTF_8);
                }
                s.out().println("wrote " + Text.count(migrations.size(), "migration") + " to " + outputDir);
                s.out().flush();
                return ExitCode.OK;
            }
            s.out().println("-- Schema tandem: migrations V1 to V" + Migrator.LATEST_VERSION + ", in order. Apply each"
                    + " once; each records its version in tandem.schema_version.");
            for (Migrations.Migration m : migrations) {
                s.out().println();
                s.out().println("-- ==== " + m.file() + " ====");
                s.out().print(m.sql());
                if (!m.sql().endsWith("\n")) {
                    s.out().println();
                }
            }
            s.out().flush();
            return ExitCode.OK;
        }
    }

    @Command(name = "retention", description = "Delete the workflows that ended longer ago than --older-than, with"
            + " their steps, messages, events and streams (a child whose parent still runs is kept)",
            footer = {"", "Examples:", "  tandem retention --older-than 30d --dry-run", "  tandem retention --older-than 30d",
                "", "Deletes in batches, each its own transaction, written to the audit log."})
    static final class Retention extends BaseCommand.WithDatabase {
        @Option(names = "--older-than", required = true, paramLabel = "DURATION", converter = Args.DurationConverter.class,
                description = "Delete workflows created and last updated longer ago than this (90s, 12h, 30d, 2w)")
        Duration olderThan;

        @Option(names = "--batch-size", defaultValue = "1000", paramLabel = "N",
                description = "Workflows per transaction (default ${DEFAULT-VALUE})")
        int batchSize;

        @Option(names = "--dry-run", description = "Count what would be deleted; delete nothing")
        boolean dryRun;

        @Mixin
        ActorOptions actor;

        @Mixin
        OutputOptions output;

        @Override
        public Integer call() {
            Session s = session();
            BulkResult result = ops().deleteWorkflows(olderThan, batchSize, dryRun, actor.actor());
            if (output.json) {
                OutputOptions.printJson(s, result);
            } else if (dryRun) {
                s.out().println("dry run: would delete " + Text.count(result.matched(), "workflow")
                        + (result.sample().isEmpty() ? "" : " (oldest: " + String.join(", ", result.sample())
                        + (result.sample().size() < result.matched() ? ", …" : "") + ")"));
                s.out().println(s.style().dim("nothing was deleted; run again without --dry-run to do it"));
            } else {
                s.out().println("deleted " + Text.count(result.affected(), "workflow") + " that ended more than "
                        + olderThanText() + " ago");
            }
            s.out().flush();
            return ExitCode.OK;
        }

        private String olderThanText() {
            return spec.findOption("--older-than").stringValues().get(0);
        }
    }
}
