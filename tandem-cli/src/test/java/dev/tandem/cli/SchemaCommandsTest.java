package dev.tandem.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.StartOptions;
import dev.tandem.Tandem;
import dev.tandem.Workflow;
import dev.tandem.internal.db.Migrator;
import dev.tandem.testing.TestPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** migrate, schema print, retention, and what a missing database or schema looks like. */
class SchemaCommandsTest {
    static final List<String> databases = new ArrayList<>();

    static String freshDatabase() {
        String url = TestPostgres.shared().createDatabase("tandem_cli_schema");
        databases.add(url);
        return url;
    }

    @AfterAll
    static void dropDatabases() {
        databases.forEach(TestPostgres.shared()::dropDatabase);
    }

    static String query(String url, String sql) throws Exception {
        try (Connection c = DriverManager.getConnection(url); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    @Test
    void migrateAppliesTheSchemaOnceAndAMissingSchemaSaysToMigrate() throws Exception {
        String url = freshDatabase();
        CliRun before = CliRun.run(url, "workflows", "list");
        assertThat(before.code()).as(before.toString()).isEqualTo(ExitCode.UNAVAILABLE);
        assertThat(before.err().lines()).hasSize(1);
        assertThat(before.err()).contains("schema tandem is missing", "tandem migrate");

        CliRun migrate = CliRun.run(null, "migrate", "--database-url", url);
        assertThat(migrate.code()).as(migrate.toString()).isZero();
        assertThat(migrate.out()).isEqualTo("applied " + Migrator.VERSIONS.size() + " migrations (V1 to V"
                + Migrator.LATEST_VERSION + "); schema tandem is at version " + Migrator.LATEST_VERSION + "\n");
        assertThat(CliRun.run(url, "migrate").out()).contains("nothing to do");
        assertThat(CliRun.run(url, "workflows", "list").out()).isEqualTo("no workflows match\n");
    }

    @Test
    void schemaPrintIsEveryMigrationInOrderAndBuildsTheSameSchema() throws Exception {
        CliRun print = CliRun.run(null, "schema", "print");
        assertThat(print.code()).as(print.toString()).isZero();
        int last = -1;
        for (Migrations.Migration m : Migrations.all()) {
            int at = print.out().indexOf("-- ==== " + m.file() + " ====");
            assertThat(at).as(m.file()).isGreaterThan(last);
            last = at;
        }
        assertThat(Migrations.all()).hasSize(Migrator.VERSIONS.size());
        assertThat(print.out()).contains("CREATE SCHEMA", "V7__audit_log.sql");

        // Applied by another tool (here: one JDBC statement), the printed SQL is a schema the engine accepts.
        String url = freshDatabase();
        try (Connection c = DriverManager.getConnection(url); Statement st = c.createStatement()) {
            st.execute(print.out());
        }
        assertThat(query(url, "SELECT max(version) FROM tandem.schema_version"))
                .isEqualTo(String.valueOf(Migrator.LATEST_VERSION));
        org.postgresql.ds.PGSimpleDataSource ds = new org.postgresql.ds.PGSimpleDataSource();
        ds.setURL(url);
        Migrator.verify(ds);
        assertThat(CliRun.run(url, "migrate").out()).contains("nothing to do");
    }

    @Test
    void schemaPrintWritesFlywayFiles(@TempDir Path dir) throws Exception {
        CliRun r = CliRun.run(null, "schema", "print", "--output-dir", dir.resolve("tandem").toString());
        assertThat(r.code()).as(r.toString()).isZero();
        try (var files = Files.list(dir.resolve("tandem"))) {
            assertThat(files.map(p -> p.getFileName().toString()).sorted().toList())
                    .hasSize(Migrator.VERSIONS.size()).contains("V1__tandem_core.sql", "V7__audit_log.sql");
        }
    }

    @Test
    void retentionDryRunCountsWhatTheRealRunDeletes() throws Exception {
        String url = freshDatabase();
        org.postgresql.ds.PGSimpleDataSource ds = new org.postgresql.ds.PGSimpleDataSource();
        ds.setURL(url);
        try (Tandem tandem = Tandem.builder().dataSource(ds).pollInterval(Duration.ofMillis(200)).build()) {
            Workflow<String, String> echo = tandem.register("echo", String.class, (ctx, in) -> ctx.step("s", () -> in));
            Workflow<String, String> wait = tandem.register("wait", String.class,
                    (ctx, in) -> ctx.recv(String.class, Duration.ofHours(1)));
            tandem.start();
            for (int i = 0; i < 5; i++) {
                echo.run("x" + i, StartOptions.withId("echo-" + i));
            }
            wait.start("w", StartOptions.withId("wait-1"));
            Demo.awaitStatus(ds, "wait-1", "RUNNING");
            Thread.sleep(20); // older than 10 ms, for sure

            assertThat(CliRun.run(url, "retention", "--older-than", "1d", "--dry-run").out())
                    .startsWith("dry run: would delete 0 workflows");
            CliRun dry = CliRun.run(url, "retention", "--older-than", "10ms", "--dry-run", "--json");
            assertThat(dry.code()).as(dry.toString()).isZero();
            assertThat(dry.json().path("matched").asLong()).isEqualTo(5);
            assertThat(query(url, "SELECT count(*) FROM tandem.workflow_status")).isEqualTo("6");

            CliRun real = CliRun.run(url, "retention", "--older-than", "10ms", "--batch-size", "2");
            assertThat(real.code()).as(real.toString()).isZero();
            assertThat(real.out()).isEqualTo("deleted 5 workflows that ended more than 10ms ago\n");
            assertThat(query(url, "SELECT string_agg(workflow_id, ',') FROM tandem.workflow_status"))
                    .isEqualTo("wait-1");
            assertThat(query(url, "SELECT count(*) FROM tandem.steps WHERE workflow_id LIKE 'echo-%'")).isEqualTo("0");
            assertThat(query(url, "SELECT sum(split_part(outcome, ' ', 1)::int) FROM tandem.audit_log"
                    + " WHERE action = 'workflows.delete' AND source = 'cli'")).isEqualTo("5");
        }
        CliRun bad = CliRun.run(url, "retention", "--older-than", "thirty days");
        assertThat(bad.code()).isEqualTo(ExitCode.BAD_INPUT);
        assertThat(bad.err()).contains("'thirty days' is not a duration", "30d");
    }

    @Test
    void anUnreachableDatabaseExitsThreeAndAMissingUrlTwo() {
        CliRun down = CliRun.run("jdbc:postgresql://127.0.0.1:1/nowhere?user=postgres&connectTimeout=2", "queues");
        assertThat(down.code()).as(down.toString()).isEqualTo(ExitCode.UNAVAILABLE);
        assertThat(down.err().lines()).hasSize(1);
        assertThat(down.err()).contains("could not be reached");
        CliRun verbose = CliRun.run("jdbc:postgresql://127.0.0.1:1/nowhere?user=postgres", "queues", "--verbose");
        assertThat(verbose.err()).contains("OperationException", "\tat ");
        CliRun migrate = CliRun.run("jdbc:postgresql://127.0.0.1:1/nowhere?user=postgres", "migrate");
        assertThat(migrate.code()).as(migrate.toString()).isEqualTo(ExitCode.UNAVAILABLE);

        CliRun none = CliRun.run(null, "workflows", "list");
        assertThat(none.code()).isEqualTo(ExitCode.BAD_INPUT);
        assertThat(none.err()).contains("--database-url", "TANDEM_DATABASE_URL");
        CliRun mysql = CliRun.run("jdbc:mysql://localhost/x", "workflows", "list");
        assertThat(mysql.code()).isEqualTo(ExitCode.BAD_INPUT);
        assertThat(mysql.err()).contains("not a PostgreSQL JDBC URL");
    }
}
