package dev.tandem;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.testing.TestDatabase;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Telemetry off costs nothing and needs nothing: tandem-core runs workflows in a JVM whose class path has neither
 * opentelemetry-api nor micrometer-core, and with both on the class path but not configured it loads none of their
 * classes.
 */
class NoTelemetryTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    @Test
    void workflowsRunWithoutTheOpenTelemetryAndMicrometerJars() throws Exception {
        String classPath = Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .filter(entry -> !entry.contains("opentelemetry") && !entry.contains("micrometer")
                        && !entry.contains("HdrHistogram") && !entry.contains("LatencyUtils"))
                .collect(Collectors.joining(File.pathSeparator));
        assertThat(classPath).isNotEqualTo(System.getProperty("java.class.path"));
        List<String> output = runWorker(classPath, List.of(), "without-jars");
        assertThat(output).contains("absent: io.opentelemetry.api.OpenTelemetry",
                "absent: io.micrometer.core.instrument.MeterRegistry", "RESULT 12 16", "OK");
    }

    @Test
    void withTheJarsPresentButTelemetryOffNoneOfTheirClassesIsLoaded() throws Exception {
        List<String> output = runWorker(System.getProperty("java.class.path"), List.of("-verbose:class"), "with-jars");
        assertThat(output).contains("RESULT 12 16", "OK");
        assertThat(output).as("class loading log").anyMatch(line -> line.contains("dev.tandem.internal.observe.Telemetry "));
        assertThat(output).filteredOn(line -> line.contains("io.opentelemetry.") || line.contains("io.micrometer."))
                .isEmpty();
    }

    /** Runs NoTelemetryWorker in a child JVM; returns its output once it exited 0. */
    private static List<String> runWorker(String classPath, List<String> jvmArgs, String mode) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Xmx256m");
        command.addAll(jvmArgs);
        command.addAll(List.of("-cp", classPath, NoTelemetryWorker.class.getName(), db.url(), mode));
        Path log = Files.createTempFile("tandem-no-telemetry", ".log");
        Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!process.waitFor(90, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("worker did not finish within 90 s; log " + log);
        }
        List<String> output = Files.readAllLines(log);
        assertThat(process.exitValue()).as("exit code; log %s", log).isZero();
        return output;
    }
}
