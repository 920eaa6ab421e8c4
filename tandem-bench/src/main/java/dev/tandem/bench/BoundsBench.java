package dev.tandem.bench;

import dev.tandem.Tandem;
import dev.tandem.internal.db.Queries;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code tandem-bench bounds}: what the payments workflow costs the server as a durable engine's needs are added one
 * at a time, measured with pgbench (PostgreSQL's own load generator, written in C: next to nothing of the client's
 * CPU is in the figures) on hand-written SQL, no engine. From the application's transaction alone ({@code bare}) to
 * Tandem's own tables ({@code floor}); {@code minimal} is the least any schema can write for Tandem's guarantees. The
 * variants run in turn, round after round, so that the machine's mood touches all of them alike; each is reported
 * as a median with its range and as a ratio to {@code bare} in the same round. The scripts are in {@code bounds.sql}.
 */
final class BoundsBench {
  static final List<String> VARIANTS =
      List.of("bare", "ideal", "owner_index", "minimal", "step_rows", "floor");

  private static final Map<String, String> WHAT = Map.of(
      "bare", "the application's transaction alone",
      "ideal", "+ workflow row, one checkpoint per commit, HOT finish, primary keys only",
      "owner_index", "+ owner indexed while RUNNING (recovery without a scan)",
      "minimal", "+ run's existence read: the least for Tandem's guarantees",
      "step_rows", "+ a row per step (history, replay, fork)",
      "floor", "Tandem's tables: all their columns, constraints, indexes");

  static final String USAGE = String.join("\n",
      "usage: java -jar tandem-bench.jar bounds --database-url URL [--rounds R] [--seconds S] [--clients C]",
      "",
      "  The payments workflow as hand-written SQL run by pgbench (which must be on PATH), from the",
      "  application's transaction alone to Tandem's own tables, each variant adding one thing a",
      "  durable engine needs; reports transactions per second, medians of R rounds, and each",
      "  variant's ratio to the bare transaction.",
      "",
      "  --database-url URL  JDBC URL of an expendable database (creates schema bench_bounds, tables",
      "                      bench_accounts and bench_payments, schema tandem; truncates them)",
      "  --rounds R          rounds, each running every variant once [3]",
      "  --seconds S         how long each variant runs in a round [10]",
      "  --clients C         pgbench connections [16]",
      "",
      "The last line is: bounds: bare=<tx/s> ideal=<wf/s> owner_index=.. minimal=.. step_rows=.. floor=..");

  private final Queries sql = Queries.load(BoundsBench.class, "/dev/tandem/bench/bounds.sql");
  private final String url;
  private final int rounds;
  private final int seconds;
  private final int clients;

  private BoundsBench(String url, int rounds, int seconds, int clients) {
    this.url = url;
    this.rounds = rounds;
    this.seconds = seconds;
    this.clients = clients;
  }

  static int main(String[] args) throws Exception {
    String url = null;
    int rounds = 3;
    int seconds = 10;
    int clients = 16;
    try {
      for (int k = 1; k < args.length; k++) {
        switch (args[k]) {
          case "--database-url" -> url = value(args, ++k);
          case "--rounds" -> rounds = number(args, ++k);
          case "--seconds" -> seconds = number(args, ++k);
          case "--clients" -> clients = number(args, ++k);
          case "-h", "--help" -> {
            System.out.println(USAGE);
            return 0;
          }
          default -> throw new IllegalArgumentException("unknown option " + args[k]);
        }
      }
      if (url == null || !url.startsWith("jdbc:postgresql:")) {
        throw new IllegalArgumentException("--database-url jdbc:postgresql:... is required");
      }
      if (rounds < 1 || seconds < 1 || clients < 1) {
        throw new IllegalArgumentException("--rounds, --seconds and --clients must be at least 1");
      }
    } catch (IllegalArgumentException e) {
      System.err.println("tandem-bench bounds: " + e.getMessage());
      System.err.println(USAGE);
      return 2;
    }
    Path pgbench = Pgbench.find();
    if (pgbench == null) {
      System.err.println("tandem-bench bounds: pgbench is not on PATH (Debian: apt-get install postgresql-client)");
      return 2;
    }
    return new BoundsBench(url, rounds, seconds, clients).run(pgbench);
  }

  private static String value(String[] args, int k) {
    if (k >= args.length) {
      throw new IllegalArgumentException(args[k - 1] + " needs a value");
    }
    return args[k];
  }

  private static int number(String[] args, int k) {
    String v = value(args, k);
    try {
      return Integer.parseInt(v.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(args[k - 1] + " must be a whole number, got '" + v + "'");
    }
  }

  private int run(Path pgbench) throws Exception {
    try (Tandem schema = Tandem.builder().databaseUrl(url).maxPoolSize(4).build()) {
      schema.start(); // creates schema tandem, whose tables "floor" writes
    }
    Map<String, List<Double>> tps = new LinkedHashMap<>();
    try (Connection c = DriverManager.getConnection(url)) {
      c.setAutoCommit(true);
      System.out.printf("tandem-bench bounds: %d rounds x %d variants x %d s, pgbench with %d clients%n",
          rounds, VARIANTS.size(), seconds, clients);
      System.out.println("  " + Sql.environment(c));
      PaymentsSchema.create(c);
      PaymentsSchema.reset(c);
      execute(c, sql.get("tables"));
      boolean checkpoints = true;
      for (int round = 1; round <= rounds; round++) {
        StringBuilder line = new StringBuilder("  round " + round + ":");
        for (String variant : VARIANTS) {
          execute(c, sql.get("truncate"));
          if (checkpoints) {
            checkpoints = checkpoint(c);
          }
          Pgbench.Report report = Pgbench.run(pgbench, url, sql.get(variant) + ";\n", clients, seconds);
          if (report.exitCode() != 0 || report.failed() > 0 || report.tps() <= 0) {
            throw new IllegalStateException("pgbench failed on variant " + variant + " (exit "
                + report.exitCode() + ", " + report.failed() + " failed):\n" + report.output());
          }
          tps.computeIfAbsent(variant, v -> new ArrayList<>()).add(report.tps());
          line.append(String.format(" %s %.0f", variant, report.tps()));
        }
        System.out.println(line);
      }
    }
    printSummary(tps);
    return 0;
  }

  private void printSummary(Map<String, List<Double>> tps) {
    System.out.println();
    System.out.printf("summary (medians of %d rounds; ratios taken within each round, then their median):%n",
        rounds);
    System.out.printf("  %-12s %8s %17s %9s %9s  %s%n", "variant", "per s", "range", "/bare", "/previous", "what");
    List<Double> bare = tps.get("bare");
    List<Double> previous = null;
    StringBuilder last = new StringBuilder("bounds:");
    for (String variant : VARIANTS) {
      List<Double> mine = tps.get(variant);
      System.out.printf("  %-12s %8.0f %17s %9.2f %9s  %s%n", variant, median(mine),
          String.format("%.0f-%.0f", min(mine), max(mine)), medianRatio(mine, bare),
          previous == null ? "" : String.format("%.2f", medianRatio(mine, previous)), WHAT.get(variant));
      last.append(String.format(" %s=%.0f", variant, median(mine)));
      previous = mine;
    }
    System.out.println(last);
  }

  /**
   * Writes out the last variant's dirty pages, so that the next one does not pay for them; false (and a note) when
   * the role may not (CHECKPOINT needs a superuser or pg_checkpoint): the variants then run without.
   */
  private static boolean checkpoint(Connection c) {
    try {
      execute(c, "CHECKPOINT");
      return true;
    } catch (SQLException e) {
      System.out.println("  (no CHECKPOINT between variants: " + e.getMessage().strip() + ")");
      return false;
    }
  }

  private static void execute(Connection c, String statements) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.execute(statements);
    }
  }

  /** The median over rounds of {@code a / b}, each pair from the same round. */
  static double medianRatio(List<Double> a, List<Double> b) {
    List<Double> ratios = new ArrayList<>();
    for (int k = 0; k < a.size(); k++) {
      ratios.add(a.get(k) / b.get(k));
    }
    return median(ratios);
  }

  static double median(List<Double> values) {
    List<Double> sorted = new ArrayList<>(values);
    sorted.sort(null);
    int n = sorted.size();
    return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
  }

  private static double min(List<Double> values) {
    return values.stream().mapToDouble(Double::doubleValue).min().orElse(0);
  }

  private static double max(List<Double> values) {
    return values.stream().mapToDouble(Double::doubleValue).max().orElse(0);
  }
}
