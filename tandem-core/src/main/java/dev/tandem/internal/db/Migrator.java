package dev.tandem.internal.db;

import dev.tandem.TandemException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HexFormat;
import java.util.List;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies the shipped migrations ({@code dev/tandem/db/migration/V<n>__*.sql}) in order, in one transaction under a
 * transaction-scoped advisory lock, so engines starting together apply each version once and re-running is a no-op.
 * Each file records its own version in {@code tandem.schema_version}, so the same files can be applied by Flyway or
 * Liquibase instead (then turn automatic migration off).
 */
public final class Migrator {
    private static final Logger log = LoggerFactory.getLogger(Migrator.class);

    /**
     * Every migration, in version order. Adding a file means adding its name here: no classpath scanning. A file's
     * version is the number in its name ({@code V8__...} is version 8), not its place in this list.
     */
    static final List<String> MIGRATIONS = List.of("V1__tandem_core.sql", "V2__queues.sql", "V3__control.sql",
            "V4__primitives.sql", "V5__hardening.sql", "V6__trusted_ids.sql", "V7__audit_log.sql",
            "V8__trace_context.sql", "V9__versions.sql", "V10__patches.sql", "V11__workflow_clock.sql",
            "V12__soak_fixes.sql");

    /** The versions of {@link #MIGRATIONS}, in the same order. */
    public static final List<Integer> VERSIONS = MIGRATIONS.stream().map(Migrator::version).toList();

    public static final int LATEST_VERSION = VERSIONS.get(VERSIONS.size() - 1);

    /** Arbitrary constant; the same in every Tandem version so that old and new engines serialize on it. */
    private static final long LOCK_KEY = 0x74616e64656d01L;

    private Migrator() {}

    public static void migrate(DataSource dataSource) {
        try (Connection conn = dataSource.getConnection()) {
            conn.setAutoCommit(false);
            try (Statement st = conn.createStatement()) {
                st.execute("SELECT pg_advisory_xact_lock(" + LOCK_KEY + ")");
                int current = currentVersion(conn);
                if (current > LATEST_VERSION) {
                    throw new TandemException("the tandem schema is at version " + current
                            + ", newer than this Tandem library knows (" + LATEST_VERSION + "); upgrade the library");
                }
                checkApplied(conn, Math.min(current, LATEST_VERSION));
                for (int i = 0; i < MIGRATIONS.size(); i++) {
                    int v = VERSIONS.get(i);
                    if (v <= current) {
                        continue;
                    }
                    String file = MIGRATIONS.get(i);
                    log.info("applying Tandem migration {}", file);
                    String sql = read(file);
                    st.execute(sql);
                    try (PreparedStatement ps = conn.prepareStatement(
                            "UPDATE tandem.schema_version SET checksum = ? WHERE version = ?")) {
                        ps.setString(1, checksum(sql));
                        ps.setInt(2, v);
                        ps.executeUpdate();
                    }
                }
                conn.commit();
            } catch (SQLException | RuntimeException e) {
                conn.rollback();
                throw e;
            }
        } catch (SQLException e) {
            throw new TandemException("failed to migrate the tandem schema: " + e.getMessage(), e);
        }
    }

    /** For teams that migrate with their own tools: fails unless the schema is exactly what this library needs. */
    public static void verify(DataSource dataSource) {
        int current;
        try (Connection conn = dataSource.getConnection()) {
            current = currentVersion(conn);
            if (current == LATEST_VERSION) {
                checkApplied(conn, current);
            }
        } catch (SQLException e) {
            throw new TandemException("failed to read the tandem schema version: " + e.getMessage(), e);
        }
        if (current != LATEST_VERSION) {
            throw new TandemException("the tandem schema is at version " + current + " but this library needs "
                    + LATEST_VERSION + "; apply the migrations shipped in tandem-core under dev/tandem/db/migration/"
                    + " or let Tandem migrate (Tandem.builder().migrate(true))");
        }
    }

    /**
     * Refuses to run on a schema whose applied migration files differ from the ones this library ships: they would
     * describe a schema that is not the one in the database. Files applied by another tool have no checksum.
     */
    static void checkApplied(Connection conn, int upTo) throws SQLException {
        if (upTo == 0) {
            return;
        }
        try (PreparedStatement ps = conn.prepareStatement(
                "SELECT version, checksum FROM tandem.schema_version WHERE version <= ? AND checksum IS NOT NULL");
                ) {
            ps.setInt(1, upTo);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    int index = VERSIONS.indexOf(rs.getInt(1));
                    if (index < 0) {
                        continue; // a version this library does not ship (see the migrate's version check)
                    }
                    String file = MIGRATIONS.get(index);
                    if (!checksum(read(file)).equals(rs.getString(2))) {
                        throw new TandemException("migration " + file + " differs from the one applied to this"
                                + " database; a released migration must never change. Restore it, or recreate the"
                                + " schema of a development database (DROP SCHEMA tandem CASCADE)");
                    }
                }
            }
        }
    }

    /** The version in a migration file's name: {@code V8__trace_context.sql} is 8. */
    static int version(String file) {
        int end = file.indexOf("__");
        if (!file.startsWith("V") || end < 2) {
            throw new IllegalStateException("migration file name '" + file + "' is not V<version>__<name>.sql");
        }
        return Integer.parseInt(file.substring(1, end));
    }

    static String checksum(String sql) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(sql.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every Java runtime", e);
        }
    }

    static int currentVersion(Connection conn) throws SQLException {
        try (Statement st = conn.createStatement();
                ResultSet rs = st.executeQuery("SELECT to_regclass('tandem.schema_version') IS NOT NULL")) {
            rs.next();
            if (!rs.getBoolean(1)) {
                return 0;
            }
        }
        try (Statement st = conn.createStatement();
                ResultSet rs = st.executeQuery("SELECT coalesce(max(version), 0) FROM tandem.schema_version")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    static String read(String file) {
        String path = "/dev/tandem/db/migration/" + file;
        try (InputStream in = Migrator.class.getResourceAsStream(path)) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + path + " (is tandem-core's jar complete?)");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + path, e);
        }
    }
}
