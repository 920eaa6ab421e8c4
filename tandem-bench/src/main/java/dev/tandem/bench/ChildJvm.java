package dev.tandem.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A class of this jar run in a child JVM, so that a benchmark can kill it for real (SIGKILL). Its
 * standard output is copied to ours with a prefix; the child runs until its standard input closes.
 */
final class ChildJvm {
  private final String name;
  private final Process process;
  private final CompletableFuture<String> ready = new CompletableFuture<>();

  private ChildJvm(String name, Process process) {
    this.name = name;
    this.process = process;
    Thread copier = new Thread(this::copyOutput, name + "-output");
    copier.setDaemon(true);
    copier.start();
  }

  /** Starts {@code mainClass} with {@code args} in a new JVM with the given heap. */
  static ChildJvm launch(String name, Class<?> mainClass, String heap, String... args)
      throws IOException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Xmx" + heap);
    if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
      command.add("-Dorg.slf4j.simpleLogger.defaultLogLevel=warn"); // only what goes wrong
    }
    for (String property : System.getProperties().stringPropertyNames()) {
      if (property.startsWith("org.slf4j.simpleLogger.")) {
        command.add("-D" + property + "=" + System.getProperty(property));
      }
    }
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), mainClass.getName()));
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command);
    builder.redirectErrorStream(true);
    return new ChildJvm(name, builder.start());
  }

  private void copyOutput() {
    try (BufferedReader in =
        new BufferedReader(
            new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = in.readLine()) != null) {
        if (line.startsWith("ready ")) {
          ready.complete(line.substring(6));
        } else {
          System.out.println("    [" + name + "] " + line);
        }
      }
    } catch (IOException e) {
      // the child is gone
    }
    ready.completeExceptionally(new IllegalStateException(name + " exited before it was ready"));
  }

  /** Waits until the child printed {@code ready <text>}; returns the text. */
  String awaitReady(long seconds) throws Exception {
    return ready.get(seconds, TimeUnit.SECONDS);
  }

  String name() {
    return name;
  }

  long pid() {
    return process.pid();
  }

  /** SIGKILL: no shutdown hook runs, no connection is closed politely. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
  }

  /** Closes the child's standard input, its signal to stop; kills it if it does not exit soon. */
  void stop() throws InterruptedException {
    try {
      process.getOutputStream().close();
    } catch (IOException e) {
      // gone already
    }
    if (!process.waitFor(20, TimeUnit.SECONDS)) {
      kill();
    }
  }

  /** Runs until standard input closes (in the child). */
  static void awaitEndOfInput() {
    try {
      while (System.in.read() != -1) {
        // ignore anything sent
      }
    } catch (IOException e) {
      // closed: stop as well
    }
  }
}
