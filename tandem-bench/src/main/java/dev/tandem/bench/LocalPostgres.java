package dev.tandem.bench;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * PostgreSQL servers and tools of this machine ({@value #BIN}) run by a benchmark in a temporary
 * directory. PostgreSQL refuses to run as root: as root, every command runs as OS user {@code
 * postgres} ({@code runuser}), and the directory is given to that user.
 */
final class LocalPostgres implements AutoCloseable {
  static final String BIN = "/usr/lib/postgresql/15/bin";
  private static final boolean ROOT = "root".equals(System.getProperty("user.name"));

  private final Path dataDir;
  private final int port;

  private LocalPostgres(Path dataDir, int port) {
    this.dataDir = dataDir;
    this.port = port;
  }

  /**
   * initdb in a new temporary directory, then starts the server on a free port of 127.0.0.1 with
   * {@code settings} appended to postgresql.conf (trust authentication, user postgres).
   */
  static LocalPostgres start(String name, List<String> settings) throws Exception {
    Path dir = tempDirectory(name);
    Path data = dir.resolve("data");
    run(List.of(BIN + "/initdb", "-D", data.toString(), "-U", "postgres", "-A", "trust",
        "--no-sync", "-E", "UTF8"), 120);
    int port = freePort();
    List<String> conf = new ArrayList<>(List.of(
        "port = " + port, "listen_addresses = '127.0.0.1'",
        "unix_socket_directories = '" + dir + "'"));
    conf.addAll(settings);
    Files.writeString(data.resolve("postgresql.conf"), "\n" + String.join("\n", conf) + "\n",
        StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.APPEND);
    run(List.of(BIN + "/pg_ctl", "-D", data.toString(), "-l", dir.resolve("log").toString(), "-w",
        "-t", "60", "start"), 90);
    return new LocalPostgres(data, port);
  }

  int port() {
    return port;
  }

  /** A JDBC URL of database {@code db} on this server. */
  String url(String db) {
    return "jdbc:postgresql://127.0.0.1:" + port + "/" + db + "?user=postgres";
  }

  /** The server's postmaster pid. */
  long postmasterPid() throws IOException {
    return Long.parseLong(Files.readAllLines(dataDir.resolve("postmaster.pid")).get(0).trim());
  }

  @Override
  public void close() throws Exception {
    run(List.of(BIN + "/pg_ctl", "-D", dataDir.toString(), "-m", "immediate", "-w", "stop"), 60);
    deleteTree(dataDir.getParent());
  }

  /** A new temporary directory, owned by postgres when we are root. */
  static Path tempDirectory(String name) throws Exception {
    Path dir = Files.createTempDirectory("tandem-" + name + "-");
    if (ROOT) {
      exec(List.of("chown", "postgres:postgres", dir.toString()), 10, true);
    }
    return dir;
  }

  /** Runs a command (as postgres when we are root) and fails if it does not exit with 0. */
  static String run(List<String> command, int timeoutSeconds) throws Exception {
    return exec(asPostgres(command), timeoutSeconds, true);
  }

  /** The command, prefixed to run as OS user postgres when we are root. */
  static List<String> asPostgres(List<String> command) {
    if (!ROOT) {
      return command;
    }
    List<String> out = new ArrayList<>(List.of("runuser", "-u", "postgres", "--"));
    out.addAll(command);
    return out;
  }

  static String exec(List<String> command, int timeoutSeconds, boolean check) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    p.getOutputStream().close();
    byte[] out = p.getInputStream().readAllBytes();
    if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IllegalStateException(String.join(" ", command) + ": timed out");
    }
    String text = new String(out, StandardCharsets.UTF_8);
    if (check && p.exitValue() != 0) {
      throw new IllegalStateException(
          String.join(" ", command) + ": exit status " + p.exitValue() + ":\n" + text.strip());
    }
    return text;
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  static void deleteTree(Path dir) throws Exception {
    exec(List.of("rm", "-rf", dir.toString()), 60, false);
  }
}
