package dev.tandem.examples.orders;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A worker running in a child JVM started from this very jar, so that the demo can kill it for real. */
final class WorkerProcess {
    private final String name;
    private final Process process;

    private WorkerProcess(String name, Process process) {
        this.name = name;
        this.process = process;
    }

    static WorkerProcess launch(String name, String databaseUrl) throws IOException {
        return launch(name, databaseUrl, null);
    }

    /** With {@code traceFile}, the worker traces and appends its spans there (see {@link DemoTrace}). */
    static WorkerProcess launch(String name, String databaseUrl, Path traceFile) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        // Logging settings given to the demo (-Dorg.slf4j.simpleLogger...) apply to the workers too.
        for (String property : System.getProperties().stringPropertyNames()) {
            if (property.startsWith("org.slf4j.simpleLogger.")) {
                command.add("-D" + property + "=" + System.getProperty(property));
            }
        }
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), OrdersDemo.class.getName(),
                OrderWorker.COMMAND, "--name", name));
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().put(DemoDatabase.URL_VARIABLE, databaseUrl);
        if (traceFile != null) {
            builder.environment().put(DemoTrace.FILE_VARIABLE, traceFile.toString());
        }
        // Output goes straight to our terminal; stdin stays a pipe, which the worker runs until it closes.
        builder.redirectOutput(ProcessBuilder.Redirect.INHERIT);
        builder.redirectError(ProcessBuilder.Redirect.INHERIT);
        return new WorkerProcess(name, builder.start());
    }

    String name() {
        return name;
    }

    long pid() {
        return process.pid();
    }

    boolean isAlive() {
        return process.isAlive();
    }

    int exitValue() {
        return process.exitValue();
    }

    /** SIGKILL: no shutdown hook runs, no connection is closed politely, nothing in memory survives. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    /** Asks the worker to shut down cleanly (closes its stdin); kills it if it has not exited after a while. */
    void stop() throws InterruptedException {
        try {
            process.getOutputStream().close();
        } catch (IOException e) {
            // it is gone already
        }
        if (!process.waitFor(15, TimeUnit.SECONDS)) {
            kill();
        }
    }
}
