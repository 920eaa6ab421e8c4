package dev.tandem.cli;

import dev.tandem.TandemException;
import dev.tandem.admin.OperationException;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Help;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * The {@code tandem} command line: operators' commands over a Tandem database, through tandem-admin's
 * {@code Operations} (the query layer the admin HTTP API uses too, so {@code --json} prints the API's shapes).
 * Exit codes are in {@link ExitCode}; errors are one line on stderr, with the stack trace only under
 * {@code --verbose}.
 */
@Command(name = "tandem", scope = ScopeType.INHERIT, mixinStandardHelpOptions = true,
        versionProvider = TandemCli.Version.class, sortOptions = false,
        description = "Operate Tandem durable workflows on PostgreSQL: list, inspect and act on workflows, queues,"
            + " executors and schedules; apply or print the schema; delete old workflows.",
        subcommands = {WorkflowsCommand.class, ClusterCommands.Queues.class, ClusterCommands.Executors.class,
            ClusterCommands.Stuck.class, SchedulesCommand.class, AuditCommand.class, SchemaCommands.Migrate.class,
            SchemaCommands.Schema.class, SchemaCommands.Retention.class, AutoComplete.GenerateCompletion.class},
        footer = {"", "The database: --database-url URL on any command, or env TANDEM_DATABASE_URL",
            "  (a JDBC URL such as jdbc:postgresql://127.0.0.1:5432/app?user=ops).",
            "", "Examples:",
            "  tandem workflows list --status error --since 1h",
            "  tandem workflows show order-42",
            "  tandem workflows resume-all --status error --name pay --dry-run",
            "  tandem queues",
            "  source <(tandem generate-completion)        # bash/zsh completion",
            "", "Exit codes: 0 ok, 1 not found, 2 bad input, 3 database unavailable",
            "  (or schema missing), 4 conflict (the state forbids it), 5 unexpected error.",
            "Every command has --help with examples. Details: docs/cli.md"})
public final class TandemCli {
    private static final Set<String> SCHEMA_MISSING = Set.of("42P01", "3F000", "42883");

    private final Session session;

    TandemCli(Session session) {
        this.session = session;
    }

    Session session() {
        return session;
    }

    public static void main(String[] args) {
        if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
            System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        }
        Map<String, String> env = System.getenv();
        PrintWriter out = new PrintWriter(new OutputStreamWriter(new PrintStream(System.out), StandardCharsets.UTF_8));
        PrintWriter err = new PrintWriter(new OutputStreamWriter(new PrintStream(System.err), StandardCharsets.UTF_8));
        int code = execute(new Session(out, err, env, Session.colorWanted(env), Instant::now), args);
        out.flush();
        err.flush();
        System.exit(code);
    }

    /** Runs one command line in this session and returns its exit code (what tests call). */
    static int execute(Session session, String... args) {
        return commandLine(session).execute(args);
    }

    static CommandLine commandLine(Session session) {
        CommandLine cl = new CommandLine(new TandemCli(session));
        cl.setOut(session.out());
        cl.setErr(session.err());
        cl.setColorScheme(Help.defaultColorScheme(session.color() ? Help.Ansi.ON : Help.Ansi.OFF));
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.setUsageHelpAutoWidth(true);
        cl.getSubcommands().get("generate-completion").getCommandSpec().usageMessage().hidden(false);
        cl.setParameterExceptionHandler(TandemCli::badInput);
        cl.setExecutionExceptionHandler((e, failed, parseResult) -> failure(session, e,
                failed.getCommand() instanceof BaseCommand command && command.verbose()));
        return cl;
    }

    private static int badInput(ParameterException e, String[] args) {
        CommandLine cl = e.getCommandLine();
        PrintWriter err = cl.getErr();
        String help = cl.getCommandSpec().qualifiedName() + " --help";
        if (!cl.getSubcommands().isEmpty() && e.getMessage().startsWith("Missing required subcommand")) {
            err.println("tandem: give a command: " + String.join(", ", cl.getSubcommands().keySet())
                    + " (see '" + help + "')");
        } else {
            String message = e.getMessage();
            if (e instanceof UnmatchedArgumentException u && !u.getSuggestions().isEmpty()) {
                message += "; did you mean " + String.join(" or ", u.getSuggestions()) + "?";
            }
            err.println("tandem: " + message + " (see '" + help + "')");
        }
        err.flush();
        return ExitCode.BAD_INPUT;
    }

    /** One line on stderr saying what went wrong (and the stack trace if asked), and the exit code for it. */
    static int failure(Session session, Exception e, boolean verbose) {
        int code;
        String message;
        if (e instanceof CliException c) {
            code = c.exitCode();
            message = c.getMessage();
        } else if (e instanceof IllegalArgumentException) {
            code = ExitCode.BAD_INPUT;
            message = e.getMessage();
        } else if (e instanceof OperationException o) {
            code = switch (o.kind()) {
                case NOT_FOUND -> ExitCode.NOT_FOUND;
                case CONFLICT -> ExitCode.CONFLICT;
                case UNAVAILABLE -> ExitCode.UNAVAILABLE;
            };
            message = schemaMissing(e) ? "schema tandem is missing or older than this tandem in this database ("
                    + o.getMessage() + "); apply it with 'tandem migrate', or check --database-url" : o.getMessage();
        } else if (e instanceof TandemException && connectionFailed(e)) {
            code = ExitCode.UNAVAILABLE;
            message = e.getMessage() + "; check --database-url, and that the database accepts connections";
        } else {
            code = ExitCode.FAILED;
            message = "unexpected error: " + e + (verbose ? "" : " (run again with --verbose for the stack trace)");
        }
        PrintWriter err = session.err();
        err.println("tandem: " + Text.oneLine(String.valueOf(message)));
        if (verbose) {
            e.printStackTrace(err);
        }
        err.flush();
        return code;
    }

    private static boolean schemaMissing(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException sql && SCHEMA_MISSING.contains(sql.getSQLState())) {
                return true;
            }
        }
        return false;
    }

    private static boolean connectionFailed(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException sql && sql.getSQLState() != null && (sql.getSQLState().startsWith("08")
                    || sql.getSQLState().startsWith("28") || sql.getSQLState().equals("3D000"))) {
                return true;
            }
        }
        return false;
    }

    /** The version in the jar's manifest (set by the build). */
    static final class Version implements IVersionProvider {
        @Override
        public String[] getVersion() {
            String version = TandemCli.class.getPackage().getImplementationVersion();
            return new String[] {"tandem " + (version == null ? "(development build)" : version)};
        }
    }
}
