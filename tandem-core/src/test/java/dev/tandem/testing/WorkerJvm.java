package dev.tandem.testing;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A worker in a child JVM, for crash tests: started on the same JDK and class path as the test (so a run on Java 17
 * and one on Java 25 each test their own threading), its output appended to a log file, and killed with SIGKILL.
 */
public final class WorkerJvm {
    private static final long T0 = System.nanoTime();

    private final Process process;
    private final CountDownLatch ready = new CountDownLatch(1);

    private WorkerJvm(Process process) {
        this.process = process;
    }

    /**
     * Starts {@code mainClass} with {@code args}; each line it prints goes to {@code log}, stamped with the time since
     * the test class loaded and {@code label}. The worker is ready once it prints {@code READY}.
     */
    public static WorkerJvm start(Class<?> mainClass, Path log, String label, String... args) throws Exception {
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String[] command = new String[5 + args.length];
        command[0] = javaBin;
        command[1] = "-Xmx256m";
        command[2] = "-cp";
        command[3] = System.getProperty("java.class.path");
        command[4] = mainClass.getName();
        System.arraycopy(args, 0, command, 5, args.length);
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.redirectErrorStream(true);
        pb.redirectOutput(ProcessBuilder.Redirect.PIPE);
        WorkerJvm worker = new WorkerJvm(pb.start());
        Thread pump = new Thread(() -> worker.pump(log, label));
        pump.setDaemon(true);
        pump.start();
        return worker;
    }

    private void pump(Path log, String label) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                long at = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - T0);
                Files.writeString(log, String.format("%6d ms [%s, pid %d] %s%n", at, label, process.pid(), line),
                        StandardCharsets.UTF_8, StandardOpenOption.APPEND);
                if (line.equals("READY")) {
                    ready.countDown();
                }
            }
        } catch (Exception ignored) {
            // the process was killed
        }
    }

    /** Waits until the worker printed READY; kills it and fails if it did not within {@code seconds}. */
    public void awaitReady(int seconds, String about) throws InterruptedException {
        if (!ready.await(seconds, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("worker did not print READY within " + seconds + " s (" + about + ")");
        }
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** The worker's process id (to signal it, or to find its sockets). */
    public long pid() {
        return process.pid();
    }

    /** SIGKILL: no shutdown hook, no goodbye to the database. Returns whether it ended within 30 s. */
    public boolean kill() throws InterruptedException {
        process.destroyForcibly();
        return process.waitFor(30, TimeUnit.SECONDS);
    }
}
