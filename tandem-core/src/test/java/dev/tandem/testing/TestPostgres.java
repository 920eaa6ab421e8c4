package dev.tandem.testing;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;

/**
 * The PostgreSQL server tests use: the one named by {@code TANDEM_TEST_DATABASE_URL} (a JDBC URL of a database the
 * user may create databases from), or else an embedded server started once per JVM from Maven Central's binaries.
 * Each test class gets a fresh database of its own on it, so classes never see each other's rows.
 */
public final class TestPostgres {
    private static volatile TestPostgres shared;

    private final String adminUrl;
    private final EmbeddedPostgres embedded;

    private TestPostgres(String adminUrl, EmbeddedPostgres embedded) {
        this.adminUrl = adminUrl;
        this.embedded = embedded;
    }

    public static synchronized TestPostgres shared() {
        if (shared == null) {
            String url = System.getenv("TANDEM_TEST_DATABASE_URL");
            if (url != null && !url.isBlank()) {
                shared = new TestPostgres(url, null);
            } else {
                EmbeddedPostgres pg = startEmbedded();
                Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                    try {
                        pg.close();
                    } catch (IOException ignored) {
                        // the JVM is exiting
                    }
                }));
                shared = new TestPostgres(pg.getJdbcUrl("postgres", "postgres"), pg);
            }
        }
        return shared;
    }

    /** A new embedded server that belongs to the caller (for tests that stop and restart it). */
    public static EmbeddedPostgres startEmbedded() {
        try {
            return EmbeddedPostgres.builder()
                    .setServerConfig("max_connections", "300")
                    .setServerConfig("timezone", "America/Sao_Paulo") // not UTC, to catch time zone bugs
                    .start();
        } catch (IOException e) {
            throw new IllegalStateException("cannot start embedded PostgreSQL: " + e.getMessage(), e);
        }
    }

    public boolean isEmbedded() {
        return embedded != null;
    }

    /** Creates a new empty database and returns its JDBC URL. */
    public String createDatabase(String prefix) {
        String name = (prefix + "_" + UUID.randomUUID().toString().substring(0, 8)).toLowerCase();
        try (Connection c = DriverManager.getConnection(adminUrl); Statement st = c.createStatement()) {
            st.execute("CREATE DATABASE " + name);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot create test database " + name + " via " + adminUrl, e);
        }
        return urlFor(adminUrl, name);
    }

    public void dropDatabase(String url) {
        String name = databaseName(url);
        try (Connection c = DriverManager.getConnection(adminUrl); Statement st = c.createStatement()) {
            st.execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
        } catch (SQLException e) {
            // Leave it: a leftover test database is harmless and named as such.
        }
    }

    /** {@code jdbc:postgresql://host:port/db?params} with {@code db} replaced. */
    static String urlFor(String url, String database) {
        int slash = url.indexOf('/', "jdbc:postgresql://".length());
        int query = url.indexOf('?', slash);
        return url.substring(0, slash + 1) + database + (query >= 0 ? url.substring(query) : "");
    }

    static String databaseName(String url) {
        int slash = url.indexOf('/', "jdbc:postgresql://".length());
        int query = url.indexOf('?', slash);
        return query >= 0 ? url.substring(slash + 1, query) : url.substring(slash + 1);
    }
}
