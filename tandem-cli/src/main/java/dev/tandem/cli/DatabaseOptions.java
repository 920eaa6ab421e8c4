package dev.tandem.cli;

import dev.tandem.admin.Operations;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;
import org.postgresql.ds.PGSimpleDataSource;
import picocli.CommandLine.Option;

/**
 * The options every command that reads the database takes: where it is, and how much to say when it fails. A plain
 * (unpooled) DataSource: a command opens one or two connections and exits.
 */
final class DatabaseOptions {
    static final String ENV = "TANDEM_DATABASE_URL";

    @Option(names = "--database-url", paramLabel = "URL", description = "JDBC URL of the database with schema tandem,"
            + " e.g. jdbc:postgresql://127.0.0.1:5432/app?user=ops (default: env TANDEM_DATABASE_URL)")
    @Nullable String databaseUrl;

    @Option(names = {"-v", "--verbose"}, description = "On failure, also print the stack trace")
    boolean verbose;

    private @Nullable DataSource dataSource;

    DataSource dataSource(Session session) {
        if (dataSource == null) {
            String url = databaseUrl != null ? databaseUrl : session.env(ENV);
            if (url == null || url.isBlank()) {
                throw CliException.badInput("no database given: pass --database-url URL or set " + ENV
                        + " (e.g. jdbc:postgresql://127.0.0.1:5432/app?user=ops)");
            }
            if (!url.startsWith("jdbc:postgresql:")) {
                throw CliException.badInput("database URL '" + url + "' is not a PostgreSQL JDBC URL: write"
                        + " jdbc:postgresql://HOST:PORT/DATABASE?user=USER");
            }
            PGSimpleDataSource ds = new PGSimpleDataSource();
            try {
                ds.setURL(url);
            } catch (IllegalArgumentException e) {
                throw CliException.badInput("database URL '" + url + "' is not valid (" + e.getMessage() + "): write"
                        + " jdbc:postgresql://HOST:PORT/DATABASE?user=USER");
            }
            if (!url.contains("connectTimeout=")) {
                ds.setConnectTimeout(10);
            }
            if (!url.contains("ApplicationName=")) {
                ds.setApplicationName("tandem-cli");
            }
            dataSource = ds;
        }
        return dataSource;
    }

    Operations operations(Session session) {
        return Operations.over(dataSource(session));
    }
}
