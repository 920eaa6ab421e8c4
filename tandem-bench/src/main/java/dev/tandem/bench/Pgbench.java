package dev.tandem.bench;

import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Runs {@code pgbench} (PostgreSQL's own load generator, a separate process speaking libpq) with a
 * custom script against the benchmark database. The JDBC URL is translated into libpq environment
 * variables ({@code PGHOST}, {@code PGPORT}, {@code PGDATABASE}, {@code PGUSER}, {@code
 * PGPASSWORD}, {@code PGSSLMODE}).
 */
final class Pgbench {
  /**
   * What pgbench reported; {@code latencies} are its per-transaction latencies (from {@code
   * --log}), sorted.
   */
  record Report(
      int exitCode,
      long processed,
      long failed,
      double tps,
      double latencyMillis,
      Load.Latencies latencies,
      String output) {}

  private Pgbench() {}

  /** The pgbench executable on PATH, or null. */
  static Path find() {
    String path = System.getenv("PATH");
    if (path == null) {
      return null;
    }
    for (String dir : path.split(java.io.File.pathSeparator)) {
      if (dir.isEmpty()) {
        continue;
      }
      Path candidate = Path.of(dir, "pgbench");
      if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
        return candidate;
      }
    }
    return null;
  }

  /**
   * Runs {@code script} with {@code clients} connections for {@code seconds} seconds, prepared
   * statements, no vacuum (there are no pgbench tables), and waits for it to exit.
   */
  static Report run(Path pgbench, String jdbcUrl, String script, int clients, int seconds)
      throws IOException, InterruptedException {
    return run(pgbench, jdbcUrl, script, clients, seconds, 0);
  }

  /**
   * The same, aiming at {@code rate} transactions per second across all clients ({@code
   * --rate}; 0: as fast as it can). Under a rate, latencies include any wait for the schedule.
   */
  static Report run(Path pgbench, String jdbcUrl, String script, int clients, int seconds, int rate)
      throws IOException, InterruptedException {
    Path dir = Files.createTempDirectory("tandem-bench-pgbench");
    Path file = dir.resolve("enqueue.sql");
    try {
      Files.writeString(file, script);
      List<String> command = new ArrayList<>();
      command.add(pgbench.toString());
      command.add("--no-vacuum");
      command.add("--protocol=prepared");
      command.add("--file=" + file);
      command.add("--client=" + clients);
      command.add("--jobs=" + Math.max(1, Math.min(clients, Runtime.getRuntime().availableProcessors())));
      command.add("--time=" + seconds);
      if (rate > 0) {
        command.add("--rate=" + rate);
      }
      command.add("--log");
      command.add("--log-prefix=" + dir.resolve("log"));
      ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
      pb.environment().putAll(libpqEnvironment(jdbcUrl));
      Process process = pb.start();
      byte[] out;
      try {
        out = process.getInputStream().readAllBytes(); // until pgbench closes its output
        if (!process.waitFor(seconds + 60L, TimeUnit.SECONDS)) {
          throw new IOException("pgbench did not exit within " + (seconds + 60) + " s");
        }
      } finally {
        process.destroy();
      }
      String output = new String(out, StandardCharsets.UTF_8);
      Load.Latencies latencies = readLogs(dir);
      return new Report(
          process.exitValue(),
          (long) number(output, "number of transactions actually processed: (\\d+)", -1),
          (long) number(output, "number of failed transactions: (\\d+)", 0),
          number(output, "tps = ([0-9.]+) \\(without initial connection time\\)", 0),
          number(output, "latency average = ([0-9.]+) ms", 0),
          latencies,
          output);
    } finally {
      try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
        for (Path f : files) {
          Files.deleteIfExists(f);
        }
      }
      Files.deleteIfExists(dir);
    }
  }

  /**
   * Reads the per-transaction logs ({@code log.PID}, {@code log.PID.1}, ... one per thread). Each
   * line is {@code client_id transaction_no latency_us script_no epoch_s epoch_us}.
   */
  private static Load.Latencies readLogs(Path dir) throws IOException {
    List<Long> nanos = new ArrayList<>();
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "log.*")) {
      for (Path f : files) {
        for (String line : Files.readAllLines(f)) {
          String[] fields = line.trim().split("\\s+");
          if (fields.length >= 3 && fields[2].matches("\\d+")) {
            nanos.add(Long.parseLong(fields[2]) * 1000);
          }
        }
      }
    }
    long[] sorted = nanos.stream().mapToLong(Long::longValue).sorted().toArray();
    return new Load.Latencies(sorted.length == 0 ? new long[] {0} : sorted);
  }

  private static double number(String output, String regex, double missing) {
    Matcher m = Pattern.compile(regex).matcher(output);
    return m.find() ? Double.parseDouble(m.group(1)) : missing;
  }

  /**
   * libpq environment for a {@code jdbc:postgresql://host[:port]/database?user=..&password=..}
   * URL; other URL parameters than user, password and sslmode are ignored.
   */
  static Map<String, String> libpqEnvironment(String jdbcUrl) {
    String rest = jdbcUrl.substring("jdbc:postgresql:".length());
    Map<String, String> env = new HashMap<>();
    String query = "";
    int q = rest.indexOf('?');
    if (q >= 0) {
      query = rest.substring(q + 1);
      rest = rest.substring(0, q);
    }
    if (rest.startsWith("//")) {
      rest = rest.substring(2);
      int slash = rest.indexOf('/');
      String authority = slash >= 0 ? rest.substring(0, slash) : rest;
      String database = slash >= 0 ? rest.substring(slash + 1) : "";
      if (authority.contains(",")) {
        throw new IllegalArgumentException("pgbench: multi-host URLs are not supported: " + jdbcUrl);
      }
      String host = authority;
      int colon = authority.lastIndexOf(':');
      if (colon >= 0 && !authority.endsWith("]")) {
        host = authority.substring(0, colon);
        env.put("PGPORT", authority.substring(colon + 1));
      }
      if (host.startsWith("[") && host.endsWith("]")) {
        host = host.substring(1, host.length() - 1);
      }
      if (!host.isEmpty()) {
        env.put("PGHOST", host);
      }
      if (!database.isEmpty()) {
        env.put("PGDATABASE", decode(database));
      }
    } else if (!rest.isEmpty()) {
      env.put("PGDATABASE", decode(rest));
    }
    for (String param : query.split("&")) {
      int eq = param.indexOf('=');
      if (eq < 0) {
        continue;
      }
      String value = decode(param.substring(eq + 1));
      switch (param.substring(0, eq)) {
        case "user" -> env.put("PGUSER", value);
        case "password" -> env.put("PGPASSWORD", value);
        case "sslmode" -> env.put("PGSSLMODE", value);
        default -> {}
      }
    }
    return env;
  }

  private static String decode(String s) {
    return URLDecoder.decode(s, StandardCharsets.UTF_8);
  }
}
