package dev.tandem.admin;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.tandem.admin.model.Health;
import java.io.PrintStream;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/**
 * The standalone admin server: {@code java -jar tandem-admin.jar --database-url URL [--port 8080] [--bind 127.0.0.1]
 * [--no-auth] [--hide-values]}, tokens from {@code TANDEM_ADMIN_OPERATOR_TOKEN} and {@code TANDEM_ADMIN_VIEWER_TOKEN}.
 * It serves any database that has schema {@code tandem}, without the application running; what an action queues
 * (a resumed or forked workflow) is run by the application's executors.
 */
public final class AdminMain {
    static final String USAGE = """
            usage: java -jar tandem-admin.jar --database-url URL [--port 8080] [--bind 127.0.0.1] [--no-auth] \
            [--hide-values]

              --database-url URL  JDBC URL of the database with schema tandem, e.g.
                                  jdbc:postgresql://127.0.0.1:5432/app?user=tandem_admin (or TANDEM_DATABASE_URL)
              --port N            TCP port, default 8080
              --bind ADDRESS      address to listen on, default 127.0.0.1 (0.0.0.0: every interface)
              --no-auth           no authentication (only on a loopback address)
              --hide-values       hide inputs, outputs and messages from viewers

            Tokens come from the environment: TANDEM_ADMIN_OPERATOR_TOKEN (read and act) and
            TANDEM_ADMIN_VIEWER_TOKEN (read only); callers send 'Authorization: Bearer <token>'.
            """;

    private AdminMain() {}

    public static void main(String[] args) throws InterruptedException {
        int code = run(args, System.getenv(), System.out, System.err);
        if (code != 0) {
            System.exit(code);
        }
    }

    /** Starts the server and waits until the JVM stops; returns an exit code (2: bad arguments) if it cannot. */
    static int run(String[] args, Map<String, String> env, PrintStream out, PrintStream err)
            throws InterruptedException {
        String url = env.get("TANDEM_DATABASE_URL");
        int port = 8080;
        String bind = "127.0.0.1";
        boolean noAuth = false;
        boolean hideValues = false;
        try {
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--database-url" -> url = value(args, ++i, "--database-url");
                    case "--port" -> port = parsePort(value(args, ++i, "--port"));
                    case "--bind" -> bind = value(args, ++i, "--bind");
                    case "--no-auth" -> noAuth = true;
                    case "--hide-values" -> hideValues = true;
                    case "--help", "-h" -> {
                        out.print(USAGE);
                        return 0;
                    }
                    default -> throw new IllegalArgumentException("unknown option '" + args[i] + "'");
                }
            }
            if (url == null || url.isBlank()) {
                throw new IllegalArgumentException("--database-url is required (or TANDEM_DATABASE_URL)");
            }
            if (!url.startsWith("jdbc:postgresql:")) {
                throw new IllegalArgumentException("--database-url must be a PostgreSQL JDBC URL starting with"
                        + " jdbc:postgresql: (was " + url + ")");
            }
        } catch (IllegalArgumentException e) {
            err.println("tandem-admin: " + e.getMessage());
            err.print(USAGE);
            return 2;
        }
        String operatorToken = blankToNull(env.get("TANDEM_ADMIN_OPERATOR_TOKEN"));
        String viewerToken = blankToNull(env.get("TANDEM_ADMIN_VIEWER_TOKEN"));
        if (operatorToken == null && viewerToken == null && !noAuth) {
            err.println("tandem-admin: no token is set; set TANDEM_ADMIN_OPERATOR_TOKEN and/or TANDEM_ADMIN_VIEWER_TOKEN,"
                    + " or pass --no-auth (allowed only on a loopback address)");
            return 2;
        }
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(url);
        config.setMaximumPoolSize(4);
        config.setPoolName("tandem-admin");
        config.setInitializationFailTimeout(-1); // start even if the database is down: health says so
        config.setConnectionTimeout(5000);
        HikariDataSource pool = new HikariDataSource(config);
        TandemAdmin admin = TandemAdmin.create(pool).port(port).bind(bind).hideValuesFromViewers(hideValues);
        try {
            if (noAuth) {
                admin.noAuth();
            } else {
                admin.tokens(operatorToken, viewerToken);
            }
            admin.start();
        } catch (IllegalArgumentException | IllegalStateException | java.io.UncheckedIOException e) {
            err.println("tandem-admin: " + e.getMessage());
            pool.close();
            return 2;
        }
        Health health = Operations.over(pool).health(null, java.time.Duration.ofSeconds(30));
        out.println("tandem-admin: serving " + admin.url() + " for " + redact(url)
                + (noAuth ? " (no authentication)" : "") + "; database " + health.status()
                + (health.problem() == null ? "" : ": " + health.problem()));
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            admin.close();
            pool.close();
            stopped.countDown();
        }, "tandem-admin-shutdown"));
        stopped.await();
        return 0;
    }

    private static String value(String[] args, int i, String option) {
        if (i >= args.length || args[i].startsWith("--")) {
            throw new IllegalArgumentException(option + " needs a value");
        }
        return args[i];
    }

    private static int parsePort(String text) {
        try {
            int port = Integer.parseInt(text);
            if (port < 0 || port > 65535) {
                throw new NumberFormatException();
            }
            return port;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--port must be a number from 0 to 65535 (was '" + text + "')");
        }
    }

    private static String blankToNull(String value) {
        return value == null || value.isBlank() ? null : value;
    }

    /** The URL without its password, for the log line. */
    static String redact(String url) {
        return url.replaceAll("(?i)(password=)[^&]*", "$1***");
    }
}
