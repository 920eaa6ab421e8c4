package dev.tandem;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.tandem.internal.db.Migrator;
import dev.tandem.testing.TestPostgres;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Schema migration: concurrent engines apply each version once, re-running is a no-op, {@code migrate(false)} checks
 * and explains, and the shipped SQL works on its own (as Flyway or Liquibase would apply it). Each test gets a fresh,
 * empty database of its own.
 */
class MigrationTest {
    static final Duration WAIT = Duration.ofSeconds(10);
    static final String MIGRATIONS = "/dev/tandem/db/migration/";

    final List<HikariDataSource> pools = new ArrayList<>();
    final List<String> databases = new ArrayList<>();
    final List<Tandem> engines = new ArrayList<>();

    @AfterEach
    void cleanUp() {
        engines.forEach(Tandem::close);
        pools.forEach(HikariDataSource::close);
        databases.forEach(url -> TestPostgres.shared().dropDatabase(url));
    }

    /** A new empty database and a pool on it. */
    HikariDataSource freshDatabase() {
        String url = TestPostgres.shared().createDatabase("tandem_migration");
        databases.add(url);
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(url);
        config.setMaximumPoolSize(10);
        config.setPoolName("migration-test");
        HikariDataSource pool = new HikariDataSource(config);
        pools.add(pool);
        return pool;
    }

    Tandem engine(DataSource ds, boolean migrate) {
        Tandem t = Tandem.builder().dataSource(ds).migrate(migrate).shutdownTimeout(Duration.ofSeconds(2)).build();
        engines.add(t);
        return t;
    }

    static Workflow<String, String> echo(Tandem t) {
        return t.register("echo", String.class, (ctx, in) -> ctx.step("upper", in::toUpperCase));
    }

    static long queryLong(DataSource ds, String sql) throws SQLException {
        try (Connection c = ds.getConnection(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            assertThat(rs.next()).as("a row from %s", sql).isTrue();
            return rs.getLong(1);
        }
    }

    static List<String> queryStrings(DataSource ds, String sql) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Connection c = ds.getConnection(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }

    static void execute(DataSource ds, String sql) throws SQLException {
        try (Connection c = ds.getConnection(); Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }

    static void assertOneRowPerVersion(DataSource ds) throws SQLException {
        assertThat(queryStrings(ds, "SELECT version FROM tandem.schema_version ORDER BY version"))
                .containsExactlyElementsOf(Migrator.VERSIONS.stream().map(String::valueOf).toList());
    }

    /** Runs {@code tasks} at the same moment, each on its own thread; returns their failures (empty if none). */
    static List<Throwable> together(List<Callable<Object>> tasks) throws Exception {
        CyclicBarrier barrier = new CyclicBarrier(tasks.size());
        ExecutorService pool = Executors.newFixedThreadPool(tasks.size());
        try {
            List<Future<Object>> futures = new ArrayList<>();
            for (Callable<Object> task : tasks) {
                futures.add(pool.submit(() -> {
                    barrier.await(10, TimeUnit.SECONDS);
                    return task.call();
                }));
            }
            List<Throwable> failures = new ArrayList<>();
            for (Future<Object> f : futures) {
                try {
                    f.get(30, TimeUnit.SECONDS);
                } catch (java.util.concurrent.ExecutionException e) {
                    failures.add(e.getCause());
                }
            }
            return failures;
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void theWorkflowClockIsPlainNowInlinedAndEveryPublicFunctionReadsIt() throws Exception {
        HikariDataSource ds = freshDatabase();
        Migrator.migrate(ds);
        try (Connection c = ds.getConnection(); Statement st = c.createStatement()) {
            // Production pays nothing for the seam: the planner inlines tandem.now() into now().
            try (ResultSet rs = st.executeQuery("EXPLAIN (VERBOSE, COSTS OFF) SELECT tandem.now()")) {
                StringBuilder plan = new StringBuilder();
                while (rs.next()) {
                    plan.append(rs.getString(1)).append('\n');
                }
                assertThat(plan.toString()).contains("Output: now()").doesNotContain("tandem.now");
            }
            // The public functions that compare workflow times read tandem.now(); none reads now() directly.
            try (ResultSet rs = st.executeQuery("SELECT p.oid::regprocedure::text, pg_get_functiondef(p.oid)"
                    + " FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
                    + " WHERE n.nspname = 'tandem' AND p.proname IN ('enqueue_workflow', 'cancel_workflow',"
                    + " 'resume_workflow', 'delete_workflows', 'set_workflow_version') AND p.prokind = 'f'")) {
                int checked = 0;
                while (rs.next()) {
                    String body = rs.getString(2).replace("tandem.now()", "");
                    assertThat(body).as(rs.getString(1)).doesNotContain("now()");
                    checked++;
                }
                assertThat(checked).isGreaterThanOrEqualTo(6);
            }
            try (ResultSet rs = st.executeQuery("SELECT pg_get_viewdef('tandem.workflows'::regclass)")) {
                rs.next();
                assertThat(rs.getString(1)).contains("w.not_before > tandem.now()");
            }
        }
    }

    @Test
    void fourThreadsMigratingAtOnceAllSucceedAndApplyEachVersionOnce() throws Exception {
        HikariDataSource ds = freshDatabase();
        List<Callable<Object>> tasks = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            tasks.add(() -> {
                Migrator.migrate(ds);
                return null;
            });
        }

        assertThat(together(tasks)).isEmpty();

        assertOneRowPerVersion(ds);
        assertThat(queryLong(ds, "SELECT count(*) FROM tandem.workflow_status")).isZero();
    }

    @Test
    void twoEnginesStartingAtOnceOnAnEmptyDatabaseBothStartAndMigrateOnce() throws Exception {
        HikariDataSource ds = freshDatabase();
        Tandem a = engine(ds, true);
        Tandem b = engine(ds, true);
        Workflow<String, String> echoA = echo(a);
        Workflow<String, String> echoB = echo(b);

        assertThat(together(List.of(() -> {
            a.start();
            return null;
        }, () -> {
            b.start();
            return null;
        }))).isEmpty();

        assertOneRowPerVersion(ds);
        assertThat(queryLong(ds, "SELECT count(*) FROM tandem.executors")).isEqualTo(2);
        assertThat(echoA.start("a", StartOptions.withId("from-a")).result(WAIT)).isEqualTo("A");
        assertThat(echoB.start("b", StartOptions.withId("from-b")).result(WAIT)).isEqualTo("B");
        assertThat(queryLong(ds, "SELECT count(*) FROM tandem.workflows WHERE status = 'SUCCESS'")).isEqualTo(2);
    }

    @Test
    void startingAgainOnAMigratedDatabaseIsANoOpThatKeepsEverything() throws Exception {
        HikariDataSource ds = freshDatabase();
        Tandem first = engine(ds, true);
        Workflow<String, String> echo1 = echo(first);
        first.start();
        assertThat(echo1.start("kept", StartOptions.withId("kept")).result(WAIT)).isEqualTo("KEPT");
        List<String> appliedAt = queryStrings(ds, "SELECT applied_at::text FROM tandem.schema_version ORDER BY version");
        first.close();

        Tandem second = engine(ds, true);
        echo(second);
        second.start();
        Migrator.migrate(ds);
        Migrator.verify(ds);

        assertOneRowPerVersion(ds);
        assertThat(queryStrings(ds, "SELECT applied_at::text FROM tandem.schema_version ORDER BY version"))
                .isEqualTo(appliedAt);
        assertThat(second.<String>handle("kept").result(WAIT)).isEqualTo("KEPT");
        assertThat(queryLong(ds, "SELECT count(*) FROM tandem.steps WHERE workflow_id = 'kept'")).isEqualTo(1);
    }

    @Test
    void migrateFalseOnAnEmptyDatabaseFailsSayingHowToMigrateAndCreatesNothing() throws Exception {
        HikariDataSource ds = freshDatabase();
        Tandem t = engine(ds, false);
        echo(t);

        assertThatThrownBy(t::start)
                .isInstanceOf(TandemException.class)
                .hasMessageContaining("version 0")
                .hasMessageContaining("needs " + Migrator.LATEST_VERSION)
                .hasMessageContaining("dev/tandem/db/migration/")
                .hasMessageContaining("migrate(true)");

        assertThat(queryLong(ds, "SELECT count(*) FROM pg_namespace WHERE nspname = 'tandem'")).isZero();
        assertThatThrownBy(() -> Migrator.verify(ds))
                .isInstanceOf(TandemException.class)
                .hasMessageContaining("version 0");
    }

    @Test
    void migrateFalseAfterMigrationStartsAndRuns() throws Exception {
        HikariDataSource ds = freshDatabase();
        Migrator.migrate(ds);
        Tandem t = engine(ds, false);
        Workflow<String, String> echo = echo(t);
        t.start();

        assertThat(echo.start("checked", StartOptions.withId("checked")).result(WAIT)).isEqualTo("CHECKED");
        assertOneRowPerVersion(ds);
        assertThat(queryStrings(ds, "SELECT status FROM tandem.workflows WHERE workflow_id = 'checked'"))
                .containsExactly("SUCCESS");
    }

    @Test
    void aFailedMigrationRollsBackEntirelyAndSaysWhy() throws Exception {
        HikariDataSource ds = freshDatabase();
        // Something else already owns a table of that name in schema tandem.
        execute(ds, "CREATE SCHEMA tandem");
        execute(ds, "CREATE TABLE tandem.workflow_status (something_else int)");

        assertThatThrownBy(() -> Migrator.migrate(ds))
                .isInstanceOf(TandemException.class)
                .hasMessageContaining("failed to migrate the tandem schema")
                .hasMessageContaining("workflow_status");

        assertThat(queryLong(ds, "SELECT count(*) FROM pg_tables WHERE schemaname = 'tandem'")).isEqualTo(1);
        assertThat(queryStrings(ds, "SELECT to_regclass('tandem.schema_version')::text")).containsOnlyNulls();
    }

    @Test
    void aSchemaNewerThanTheLibraryIsRefusedBothWays() throws Exception {
        HikariDataSource ds = freshDatabase();
        Migrator.migrate(ds);
        int future = Migrator.LATEST_VERSION + 7;
        execute(ds, "INSERT INTO tandem.schema_version (version) VALUES (" + future + ")");

        assertThatThrownBy(() -> Migrator.migrate(ds))
                .isInstanceOf(TandemException.class)
                .hasMessageContaining("version " + future)
                .hasMessageContaining("upgrade the library");
        Tandem t = engine(ds, false);
        echo(t);
        assertThatThrownBy(t::start)
                .isInstanceOf(TandemException.class)
                .hasMessageContaining("version " + future);
    }

    @Test
    void theWorkflowsViewHasTheDocumentedColumns() throws Exception {
        HikariDataSource ds = freshDatabase();
        Migrator.migrate(ds);

        List<String> columns = queryStrings(ds, "SELECT column_name FROM information_schema.columns"
                + " WHERE table_schema = 'tandem' AND table_name = 'workflows' ORDER BY ordinal_position");

        assertThat(columns).contains("workflow_id", "name", "status", "queue_name", "input", "output", "error",
                "attempts", "executor_id", "created_at", "updated_at");
        assertThat(columns).startsWith("workflow_id", "name", "status");
    }

    @Test
    void theStatusCheckRejectsAnUnknownStatus() throws Exception {
        HikariDataSource ds = freshDatabase();
        Migrator.migrate(ds);

        assertThatThrownBy(() -> execute(ds, "INSERT INTO tandem.workflow_status (workflow_id, name, status)"
                + " VALUES ('bad-status', 'echo', 'DONE')"))
                .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("23514"));
        assertThat(queryLong(ds, "SELECT count(*) FROM tandem.workflow_status")).isZero();

        execute(ds, "INSERT INTO tandem.workflow_status (workflow_id, name, status) VALUES ('ok', 'echo', 'RUNNING')");
        assertThatThrownBy(() -> execute(ds, "UPDATE tandem.workflow_status SET status = 'success'"
                + " WHERE workflow_id = 'ok'"))
                .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("23514"));
        assertThat(queryStrings(ds, "SELECT status FROM tandem.workflow_status")).containsExactly("RUNNING");
        // Every status the API knows is accepted.
        for (WorkflowStatus s : WorkflowStatus.values()) {
            execute(ds, "UPDATE tandem.workflow_status SET status = '" + s + "' WHERE workflow_id = 'ok'");
        }
    }

    /** The shipped files, in version order, read from the classpath as a migration tool would find them. */
    static List<Path> shippedMigrations() throws IOException, URISyntaxException {
        URL dir = MigrationTest.class.getResource(MIGRATIONS);
        assertThat(dir).as("migration directory on the classpath").isNotNull();
        Pattern name = Pattern.compile("V(\\d+)__.+\\.sql");
        try (Stream<Path> files = Files.list(Path.of(dir.toURI()))) {
            return files.filter(p -> name.matcher(p.getFileName().toString()).matches())
                    .sorted(Comparator.comparingInt(p -> {
                        Matcher m = name.matcher(p.getFileName().toString());
                        m.matches();
                        return Integer.parseInt(m.group(1));
                    }))
                    .toList();
        }
    }

    @Test
    void aRoleAllowedToEnqueueBeforeVersion8KeepsThatRightAndMayPassATraceContextAfterIt() throws Exception {
        HikariDataSource ds = freshDatabase();
        try (Connection c = ds.getConnection(); Statement st = c.createStatement()) {
            for (Path file : shippedMigrations()) {
                int version = Integer.parseInt(file.getFileName().toString().replaceAll("^V(\\d+)__.*", "$1"));
                if (version <= 6) {
                    st.execute(Files.readString(file)); // versions 1 to 6: a database from before tracing
                }
            }
        }
        String role = "tandem_v8_enqueuer_" + System.nanoTime();
        execute(ds, "CREATE ROLE " + role);
        try {
            execute(ds, "GRANT USAGE ON SCHEMA tandem TO " + role);
            execute(ds, "GRANT EXECUTE ON FUNCTION tandem.enqueue_workflow(text, jsonb, text, text, int, text, text,"
                    + " interval) TO " + role);
            Migrator.migrate(ds);

            try (Connection c = ds.getConnection(); Statement st = c.createStatement()) {
                st.execute("SET ROLE " + role);
                st.execute("SELECT tandem.enqueue_workflow('echo', '[\"a\"]', workflow_id => 'as-role-v6')");
                st.execute("SELECT tandem.enqueue_workflow('echo', '[\"b\"]', 'default', 'as-role-v8', 0, NULL, NULL,"
                        + " NULL, '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')");
                st.execute("RESET ROLE");
            }
            assertThat(queryStrings(ds, "SELECT coalesce(traceparent, '-') FROM tandem.workflow_status"
                    + " ORDER BY workflow_id"))
                    .containsExactly("-", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
        } finally {
            execute(ds, "DROP OWNED BY " + role);
            execute(ds, "DROP ROLE " + role);
        }
    }

    @Test
    void theShippedMigrationsApplyWithPlainJdbcAndThenTandemStartsWithoutMigrating() throws Exception {
        List<Path> files = shippedMigrations();
        assertThat(files).hasSize(Migrator.VERSIONS.size());
        HikariDataSource ds = freshDatabase();

        // As Flyway does: each file in its own transaction, the whole script in one statement execution.
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            for (Path file : files) {
                String sql;
                try (InputStream in = MigrationTest.class.getResourceAsStream(MIGRATIONS + file.getFileName())) {
                    sql = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                }
                try (Statement st = c.createStatement()) {
                    st.execute(sql);
                }
                c.commit();
            }
        }
        assertOneRowPerVersion(ds);

        Tandem t = engine(ds, false);
        Workflow<String, String> echo = echo(t);
        t.start();
        assertThat(echo.start("flyway", StartOptions.withId("flyway")).result(WAIT)).isEqualTo("FLYWAY");
        assertThat(queryStrings(ds, "SELECT status FROM tandem.workflows WHERE workflow_id = 'flyway'"))
                .containsExactly("SUCCESS");

        // And an engine that does migrate finds nothing to do.
        t.close();
        Tandem again = engine(ds, true);
        echo(again);
        again.start();
        assertOneRowPerVersion(ds);
    }

    @Test
    void aMigrationFileChangedAfterItWasAppliedIsRefused() throws Exception {
        HikariDataSource ds = freshDatabase();
        Migrator.migrate(ds);
        execute(ds, "UPDATE tandem.schema_version SET checksum = 'not-the-file' WHERE version = 2");
        assertThatThrownBy(() -> Migrator.migrate(ds))
                .isInstanceOf(TandemException.class)
                .hasMessageContaining("V2__queues.sql differs from the one applied");
        assertThatThrownBy(() -> Migrator.verify(ds))
                .isInstanceOf(TandemException.class)
                .hasMessageContaining("V2__queues.sql differs");
    }
}
