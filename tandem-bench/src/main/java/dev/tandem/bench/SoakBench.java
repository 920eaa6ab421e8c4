package dev.tandem.bench;

import dev.tandem.Tandem;
import dev.tandem.internal.db.Queries;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * {@code java -jar tandem-bench.jar soak --database-url URL [--rows N]}: does the cost stay flat as
 * {@code tandem.workflow_status} grows? In database {@value #DATABASE} of the server given (dropped
 * and made anew; dropped at the end unless {@code --keep}), at 0, N/5, N/2 and N prefilled
 * workflows ({@link SoakFill}), each point:
 *
 * <ol>
 *   <li>a batch of expired workflows is added for retention to delete, then {@code VACUUM ANALYZE};
 *   <li>a fresh engine with retention on ({@value #RETENTION_DAYS} days) runs the payments
 *       workflow at full speed ({@code --workflows} runs, {@value #CONCURRENCY} in flight: wf/s),
 *       then at a fixed rate ({@code --rate} per second for {@code --rate-seconds}: p50 and p99
 *       from when each run was due);
 *   <li>table and index sizes, dead tuples, autovacuum runs, what retention deleted and what is
 *       left for it, the sequential scans of {@code workflow_status} during the point;
 *   <li>the operators' queries through {@code Operations} ({@link SoakAdmin}), timed; at the
 *       largest size with their plans.
 * </ol>
 *
 * <p>The last line is {@code soak: rows=<n> wf_s_start=<a> wf_s_end=<b> p99_ms_start=<x>
 * p99_ms_end=<y>}, start being the empty table and end the largest.
 */
final class SoakBench {
  static final String DATABASE = "tandem_soak";
  static final int RETENTION_DAYS = 7;
  static final Duration RETENTION = Duration.ofDays(RETENTION_DAYS);
  private static final int CONCURRENCY = 16;
  private static final int RATE_THREADS = 64;
  private static final int FIRST_WARMUP = 3_000;
  private static final int WARMUP = 500;
  private static final String USAGE = String.join("\n",
      "usage: java -jar tandem-bench.jar soak --database-url URL [--rows N (5000000)] [--rate R (200)]",
      "         [--rate-seconds S (15)] [--workflows W (8000)] [--plans] [--own-server] [--keep]",
      "  --database-url URL  a server where database " + DATABASE + " may be dropped and created",
      "  --rows N            prefilled workflows at the last point (points at 0, N/5, N/2, N)",
      "  --rate R            workflows per second of the fixed-rate phase (latency)",
      "  --rate-seconds S    how long the fixed-rate phase lasts",
      "  --workflows W       workflows of the full-speed phase (throughput), " + CONCURRENCY
          + " in flight",
      "  --plans             print the whole plans of the operators' queries at the largest size",
      "  --own-server        run on a PostgreSQL 15 of its own (initdb in a temporary directory,",
      "                      autovacuum at its defaults) instead of --database-url",
      "  --keep              leave database " + DATABASE + " behind for a look (dropped otherwise)",
      "The last line is: soak: rows=<n> wf_s_start=<a> wf_s_end=<b> p99_ms_start=<x> p99_ms_end=<y>");

  /** What one point measured. */
  private record Point(
      long rows, double loadBefore, double loadAfter, double wfPerSecond, Load.Latencies latency,
      SoakStats.Table status, SoakStats.Table steps, long deleted, long expiredLeft, long seqScans,
      long seqRows, Map<String, Double> admin) {}

  private final String url;
  private final long rows;
  private final double rate;
  private final int rateSeconds;
  private final int workflows;
  private final boolean fullPlans;
  private final Queries sql = Queries.load(SoakBench.class, "/dev/tandem/bench/soak.sql");
  private int nextIndex;

  private SoakBench(String url, long rows, double rate, int rateSeconds, int workflows,
      boolean fullPlans) {
    this.url = url;
    this.rows = rows;
    this.rate = rate;
    this.rateSeconds = rateSeconds;
    this.workflows = workflows;
    this.fullPlans = fullPlans;
  }

  static int main(String[] args) throws Exception {
    String url = null;
    long rows = 5_000_000;
    double rate = 200;
    int rateSeconds = 15;
    int workflows = 8_000;
    boolean plans = false;
    boolean ownServer = false;
    boolean keep = false;
    try {
      for (int k = 1; k < args.length; k++) {
        switch (args[k]) {
          case "--database-url" -> url = value(args, ++k);
          case "--rows" -> rows = Long.parseLong(value(args, ++k));
          case "--rate" -> rate = Double.parseDouble(value(args, ++k));
          case "--rate-seconds" -> rateSeconds = Integer.parseInt(value(args, ++k));
          case "--workflows" -> workflows = Integer.parseInt(value(args, ++k));
          case "--plans" -> plans = true;
          case "--own-server" -> ownServer = true;
          case "--keep" -> keep = true;
          case "-h", "--help" -> {
            System.out.println(USAGE);
            return 0;
          }
          default -> throw new IllegalArgumentException("unknown option " + args[k]);
        }
      }
      if (rows < 10_000 || rate <= 0 || rateSeconds < 1 || workflows < 100) {
        throw new IllegalArgumentException("--rows must be at least 10000, --rate above 0,"
            + " --rate-seconds at least 1 and --workflows at least 100");
      }
      if (!ownServer && (url == null || !url.startsWith("jdbc:postgresql:"))) {
        throw new IllegalArgumentException("--database-url jdbc:postgresql:... is required");
      }
    } catch (IllegalArgumentException e) { // NumberFormatException too
      System.err.println("tandem-bench soak: " + e.getMessage());
      System.err.println(USAGE);
      return 2;
    }
    if (!ownServer) {
      int status = new SoakBench(createDatabase(url), rows, rate, rateSeconds, workflows, plans).run();
      if (!keep) { // 13 GB at 5 million rows, on a server others may share
        try (Connection c = DriverManager.getConnection(url)) {
          Sql.execute(c, "DROP DATABASE IF EXISTS " + DATABASE + " WITH (FORCE)");
        }
      }
      return status;
    }
    try (LocalPostgres pg = LocalPostgres.start("soak", List.of("max_connections = 200"))) {
      System.out.println("own PostgreSQL 15 on port " + pg.port() + " (autovacuum at its defaults)");
      return new SoakBench(createDatabase(pg.url("postgres")), rows, rate, rateSeconds, workflows,
          plans).run();
    }
  }

  private static String value(String[] args, int k) {
    if (k >= args.length) {
      throw new IllegalArgumentException(args[k - 1] + " needs a value");
    }
    return args[k];
  }

  /** Drops and creates database {@value #DATABASE} on the server of {@code url}; returns its URL. */
  static String createDatabase(String url) throws SQLException {
    try (Connection c = DriverManager.getConnection(url)) {
      Sql.execute(c, "DROP DATABASE IF EXISTS " + DATABASE + " WITH (FORCE)");
      Sql.execute(c, "CREATE DATABASE " + DATABASE);
    }
    return withDatabase(url, DATABASE);
  }

  /** {@code url} with its database replaced: {@code jdbc:postgresql://host:port/db?x} → {@code .../name?x}. */
  static String withDatabase(String url, String name) {
    String prefix = "jdbc:postgresql:";
    String rest = url.substring(prefix.length());
    int query = rest.indexOf('?');
    String params = query < 0 ? "" : rest.substring(query);
    String target = query < 0 ? rest : rest.substring(0, query);
    if (target.startsWith("//")) {
      int slash = target.indexOf('/', 2);
      String hosts = slash < 0 ? target : target.substring(0, slash);
      return prefix + hosts + "/" + name + params;
    }
    return prefix + name + params;
  }

  private int run() throws Exception {
    List<Point> points = new ArrayList<>();
    Map<String, List<SoakAdmin.Plan>> plans = Map.of();
    List<Map<String, Long>> indexSizes = new ArrayList<>();
    long expired = Math.max(2_000, Math.min(100_000, rows / 50));
    try (Connection c = DriverManager.getConnection(url)) {
      System.out.printf("tandem-bench soak: rows=%d points=0,%d,%d,%d; per point %d expired workflows"
              + " for retention (%d days), %d workflows at full speed (C=%d), %.0f/s for %d s%n",
          rows, rows / 5, rows / 2, rows, expired, RETENTION_DAYS, workflows, CONCURRENCY, rate,
          rateSeconds);
      System.out.println("  " + Sql.environment(c));
      System.out.println("  " + SoakStats.autovacuumSettings(c));
      if (Sql.count(c, "SELECT (current_setting('autovacuum') = 'off')::int") == 1) {
        System.out.println("  warning: autovacuum is off on this server: nothing but the fills' own"
            + " VACUUM reclaims dead tuples (--own-server runs with it on)");
      }
      migrate();
      PaymentsSchema.create(c);
      PaymentsSchema.reset(c);
      SoakFill fill = new SoakFill(c, sql, rows, RETENTION);
      try (SoakAdmin admin = new SoakAdmin(url)) {
        long[] sizes = {0, rows / 5, rows / 2, rows};
        for (int i = 0; i < sizes.length; i++) {
          Phases.heading(String.format("%,d rows", sizes[i]));
          long t0 = System.nanoTime();
          System.out.println("  fill: " + fill.growTo(sizes[i], expired));
          Point p = point(c, admin, fill.kept(), i == 0);
          points.add(p);
          indexSizes.add(SoakStats.indexSizes(c, sql));
          System.out.println("  " + line(p));
          if (i == sizes.length - 1) {
            plans = admin.plans();
          }
          Phases.took(t0);
        }
      }
    }
    report(points, plans, indexSizes);
    Point first = points.get(0);
    Point last = points.get(points.size() - 1);
    System.out.printf("soak: rows=%d wf_s_start=%d wf_s_end=%d p99_ms_start=%.1f p99_ms_end=%.1f%n",
        last.rows(), Math.round(first.wfPerSecond()), Math.round(last.wfPerSecond()),
        first.latency().percentileMillis(0.99), last.latency().percentileMillis(0.99));
    return 0;
  }

  /** Measures one point on the table as it is now. */
  private Point point(Connection c, SoakAdmin admin, long rows, boolean first) throws Exception {
    double loadBefore = SoakStats.load();
    SoakStats.Table statusBefore = SoakStats.table(c, sql, "tandem.workflow_status");
    long[] scansBefore = seqScans(c);
    double perSecond;
    Load.Latencies latency;
    try (TandemPayments tandem = new TandemPayments(url, CONCURRENCY, false,
        b -> b.retention(RETENTION).unknownWorkflowTimeout(Duration.ofDays(30)))) {
      // The first point also warms the JVM up (JIT): as many runs as it measures, so that it does not start slower.
      int warmup = first ? Math.max(FIRST_WARMUP, workflows) : WARMUP;
      Load.concurrently("soak-warmup", warmup, CONCURRENCY, take(warmup), tandem::runOne);
      perSecond = Load.perSecond(workflows,
          Load.concurrently("soak", workflows, CONCURRENCY, take(workflows), tandem::runOne));
      int n = (int) Math.round(rate * rateSeconds);
      latency = Load.atRate("soak-rate", n, rate, RATE_THREADS, take(n), tandem::runOne);
    }
    Thread.sleep(1_100); // backends flush their statistics about once a second
    long[] scansAfter = seqScans(c);
    SoakStats.Table status = SoakStats.table(c, sql, "tandem.workflow_status");
    SoakStats.Table steps = SoakStats.table(c, sql, "tandem.steps");
    long left = SoakStats.expired(c, sql, RETENTION_DAYS + " days");
    Map<String, Double> times = admin.time();
    return new Point(rows, loadBefore, SoakStats.load(), perSecond, latency, status, steps,
        status.deleted() - statusBefore.deleted(), left, scansAfter[0] - scansBefore[0],
        scansAfter[1] - scansBefore[1], times);
  }

  /** Creates schema tandem: an engine started and stopped. */
  private void migrate() {
    Tandem tandem = Tandem.builder().databaseUrl(url).maxPoolSize(4).build();
    tandem.start();
    tandem.close();
  }

  private int take(int n) {
    int first = nextIndex;
    nextIndex += n;
    return first;
  }

  /** Sequential scans of workflow_status so far, and the rows they read. */
  private static long[] seqScans(Connection c) throws SQLException {
    return new long[] {
      Sql.count(c, "SELECT seq_scan FROM pg_stat_user_tables WHERE relid = 'tandem.workflow_status'::regclass"),
      Sql.count(c, "SELECT seq_tup_read FROM pg_stat_user_tables"
          + " WHERE relid = 'tandem.workflow_status'::regclass")
    };
  }

  private static String line(Point p) {
    return String.format(
        "rows=%d load=%.1f/%.1f wf/s=%.0f p50=%.2fms p99=%.2fms | workflow_status %s | steps %s |"
            + " retention deleted=%,d left=%,d | seq scans of workflow_status=%d (%,d rows) |"
            + " admin ms %s",
        p.rows(), p.loadBefore(), p.loadAfter(), p.wfPerSecond(), p.latency().percentileMillis(0.5),
        p.latency().percentileMillis(0.99), p.status().brief(), p.steps().brief(), p.deleted(),
        p.expiredLeft(), p.seqScans(), p.seqRows(),
        p.admin().entrySet().stream().map(e -> e.getKey() + "=" + String.format("%.1f", e.getValue()))
            .collect(Collectors.joining(" ")));
  }

  private void report(List<Point> points, Map<String, List<SoakAdmin.Plan>> plans,
      List<Map<String, Long>> indexSizes) {
    Point last = points.get(points.size() - 1);
    System.out.println();
    System.out.printf("operators' queries at %,d rows (auto_explain, ANALYZE and BUFFERS; median of %d"
        + " runs through Operations first):%n", last.rows(), SoakAdmin.RUNS);
    plans.forEach((label, list) -> {
      System.out.printf("  %-14s %8.1f ms%n", label, last.admin().get(label));
      for (SoakAdmin.Plan p : list) {
        System.out.println("      " + p.summary());
        if (fullPlans) {
          p.text().lines().forEach(l -> System.out.println("        | " + l));
        }
      }
    });
    System.out.println();
    System.out.println("index sizes, MB at each point:");
    for (String index : indexSizes.get(indexSizes.size() - 1).keySet()) {
      System.out.printf("  %-45s %s%n", index, indexSizes.stream()
          .map(m -> String.format("%8.1f", m.getOrDefault(index, 0L) / 1048576.0))
          .collect(Collectors.joining(" ")));
    }
    System.out.println();
    System.out.println("summary:");
    System.out.println("       rows  load   wf/s  p50 ms  p99 ms  workflow_status MB  steps MB"
        + "  dead tuples  retention deleted / left  admin ms (max of the queries)");
    for (Point p : points) {
      System.out.printf("  %9d  %4.1f  %5.0f  %6.2f  %6.2f  %8d+%-9d  %4d+%-4d  %11d  %10d / %-12d  %.1f%n",
          p.rows(), p.loadBefore(), p.wfPerSecond(), p.latency().percentileMillis(0.5),
          p.latency().percentileMillis(0.99), p.status().heapBytes() >> 20,
          p.status().indexBytes() >> 20, p.steps().heapBytes() >> 20, p.steps().indexBytes() >> 20,
          p.status().dead() + p.steps().dead(), p.deleted(), p.expiredLeft(),
          p.admin().values().stream().mapToDouble(Double::doubleValue).max().orElse(0));
    }
  }
}
