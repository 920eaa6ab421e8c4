package dev.tandem.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tandem.Tandem;
import dev.tandem.admin.Operations;
import dev.tandem.testing.TestDatabase;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The shaded {@code tandem.jar} as users run it, a child process ({@code java -jar}), and the {@code tandem} launcher
 * script: run by failsafe in {@code mvn verify}, after {@code package} built the jar.
 */
class TandemJarIT {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    static Tandem tandem;
    /** Set by failsafe; a surefire run that picks this class up (-Dtest='dev.tandem.cli.**') skips it. */
    static final String JAR_PROPERTY = System.getProperty("tandem.jar");
    static Path JAR;

    record Result(int code, String out, String err) {}

    @BeforeAll
    static void setUp() {
        Assumptions.assumeTrue(JAR_PROPERTY != null, "runs under failsafe in mvn verify, after package");
        JAR = Path.of(JAR_PROPERTY);
        assertThat(JAR).as("the shaded jar, built by 'package'").exists();
        tandem = Demo.start(db.dataSource());
    }

    @AfterAll
    static void tearDown() {
        if (tandem != null) {
            tandem.close();
        }
    }

    static Result run(List<String> command, boolean withEnv) throws Exception {
        File out = File.createTempFile("tandem-out", ".txt");
        File err = File.createTempFile("tandem-err", ".txt");
        ProcessBuilder pb = new ProcessBuilder(command).redirectOutput(out).redirectError(err);
        pb.environment().remove("TANDEM_DATABASE_URL");
        if (withEnv) {
            pb.environment().put("TANDEM_DATABASE_URL", db.url());
        }
        Process p = pb.start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("%s ends", command).isTrue();
        Result r = new Result(p.exitValue(), Files.readString(out.toPath(), StandardCharsets.UTF_8),
                Files.readString(err.toPath(), StandardCharsets.UTF_8));
        out.delete();
        err.delete();
        return r;
    }

    static Result jar(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-jar", JAR.toString()));
        command.addAll(List.of(args));
        return run(command, true);
    }

    @Test
    void theJarKeepsTheContracts() throws Exception {
        Result list = jar("workflows", "list", "--status", "SUCCESS", "--json");
        assertThat(list.code()).as(list.toString()).isZero();
        JsonNode array = Operations.jsonMapper().readTree(list.out());
        assertThat(array.isArray()).isTrue();
        assertThat(array.findValuesAsText("workflow_id")).contains("pay-1", "order-1");
        assertThat(array.findValuesAsText("status")).containsOnly("SUCCESS");
        assertThat(list.err()).as("no log noise").isEmpty();

        Result show = jar("workflows", "show", "order-1", "--json");
        assertThat(Operations.jsonMapper().readTree(show.out()).path("steps").isArray()).isTrue();

        Result missing = jar("workflows", "show", "no-such-id");
        assertThat(missing.code()).isEqualTo(1);
        assertThat(missing.err().lines()).hasSize(1);

        Result bad = jar("workflows", "list", "--status", "NOPE");
        assertThat(bad.code()).isEqualTo(2);
        assertThat(bad.err()).contains("NOPE").doesNotContain("\tat ");

        Result schema = jar("schema", "print");
        assertThat(schema.code()).isZero();
        assertThat(schema.out()).contains("V1__tandem_core.sql", "V7__audit_log.sql", "CREATE SCHEMA");

        Result table = jar("workflows", "show", "pay-1");
        assertThat(table.out()).as("UTF-8 bars, no color off a terminal").contains("█").doesNotContain("\u001b[");

        Result down = run(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar",
                JAR.toString(), "queues", "--database-url", "jdbc:postgresql://127.0.0.1:1/x?user=postgres"), false);
        assertThat(down.code()).isEqualTo(3);
    }

    @Test
    void theLauncherScriptFindsTheJar() throws Exception {
        Path script = JAR.toAbsolutePath().getParent().getParent().resolve("tandem");
        Result r = run(List.of("bash", script.toString(), "workflows", "list", "--name", "pay", "--json"), true);
        assertThat(r.code()).as(r.toString()).isZero();
        assertThat(Operations.jsonMapper().readTree(r.out()).findValuesAsText("name")).containsOnly("pay");
        Result version = run(List.of("bash", script.toString(), "--version"), false);
        assertThat(version.out()).startsWith("tandem 0.");
    }
}
