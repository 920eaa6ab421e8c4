package dev.tandem.examples.orders;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;

/** The PostgreSQL database the demo uses: the one it was given, or an embedded one it starts and stops itself. */
final class DemoDatabase implements AutoCloseable {
    /** Also how the demo hands the URL to its workers: in the environment, where {@code ps} does not show it. */
    static final String URL_VARIABLE = "TANDEM_DATABASE_URL";

    private final String url;
    private final String description;
    private final EmbeddedPostgres embedded;

    private DemoDatabase(String url, String description, EmbeddedPostgres embedded) {
        this.url = url;
        this.description = description;
        this.embedded = embedded;
    }

    /** The database named by {@code --database-url}, else by the environment, else a new embedded one. */
    static DemoDatabase open(String urlOption) throws IOException, DemoOptions.UsageException {
        return open(urlOption, true);
    }

    /**
     * Like {@link #open(String)}. With {@code stopOnExit} false, an embedded PostgreSQL does not stop itself in a
     * shutdown hook of its own (hooks run concurrently): the caller's hook stops it, after closing what uses it.
     */
    static DemoDatabase open(String urlOption, boolean stopOnExit) throws IOException, DemoOptions.UsageException {
        if (urlOption != null) {
            return new DemoDatabase(urlOption, withoutPassword(urlOption) + " (from --database-url)", null);
        }
        String fromEnvironment = System.getenv(URL_VARIABLE);
        if (fromEnvironment != null && !fromEnvironment.isBlank()) {
            if (!fromEnvironment.startsWith("jdbc:postgresql:")) {
                throw new DemoOptions.UsageException(URL_VARIABLE + " must be a PostgreSQL JDBC URL starting with"
                        + " jdbc:postgresql: (was '" + withoutPassword(fromEnvironment) + "')");
            }
            return new DemoDatabase(fromEnvironment,
                    withoutPassword(fromEnvironment) + " (from " + URL_VARIABLE + ")", null);
        }
        System.out.println("no --database-url or " + URL_VARIABLE + ": starting an embedded PostgreSQL...");
        EmbeddedPostgres postgres = EmbeddedPostgres.builder().setRegisterShutdownHook(stopOnExit).start();
        String url = postgres.getJdbcUrl("postgres", "postgres");
        return new DemoDatabase(url, "embedded PostgreSQL at " + url + " (stopped at the end)", postgres);
    }

    String url() {
        return url;
    }

    String description() {
        return description;
    }

    /** For an embedded PostgreSQL, a psql command that connects to it (user and database postgres); else null. */
    String psqlCommand() {
        return embedded == null ? null : "psql -h localhost -p " + embedded.getPort() + " -U postgres postgres";
    }

    /** The URL fit to print: a password in it is masked. */
    static String withoutPassword(String url) {
        return url.replaceAll("(?i)(password=)[^&]*", "$1***").replaceFirst("(//[^/:@]*:)[^/@]*@", "$1***@");
    }

    @Override
    public void close() throws IOException {
        if (embedded != null) {
            embedded.close();
        }
    }
}
