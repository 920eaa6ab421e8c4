package dev.tandem.bench;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.Locale;

/**
 * Entry point: {@code java -jar tandem-bench.jar payments --database-url URL [--workflows N]
 * [--concurrency C]}.
 *
 * <p>Runs the payments workload on Tandem, on the durable floor (Tandem's guarantees in hand-written JDBC on its
 * tables: {@link FloorPayments}), on the least any schema could write for them ({@link MinimalPayments}), on a
 * bare-JDBC baseline and on DBOS Transact, one system after the other, never two at once. For each system: a warm-up instance runs {@code W}
 * workflows with {@code C} in flight, then times {@code L} workflows run one at a time (latency),
 * and is closed; then the application tables are reset, a checkpoint is taken, and a fresh
 * instance runs {@code N} workflows with {@code C} in flight (throughput) and is closed. Commits
 * per workflow are the database's committed transactions from just before that fresh instance
 * was opened to just after it was closed (start-up and shutdown included), divided by {@code N}.
 * The last line printed is {@code payments: tandem=<wf/s> baseline=<tx/s> dbos=<wf/s>}.
 *
 * <p>{@code java -jar tandem-bench.jar queue ...} runs the queue benchmark instead: see {@link
 * QueueBench}; {@code primitives ...} the durable sleep, messages and events: see {@link
 * PrimitivesBench}; {@code scale}, {@code failover} and {@code soak} parse their own options (see
 * {@link ScaleBench}, {@link FailoverBench}, {@link SoakBench}).
 */
public final class Bench {
  private static final int WARMUP_FIRST_INDEX = 1_000_000;
  private static final int LATENCY_FIRST_INDEX = 2_000_000;
  private static final int LATENCY_WARMUP_RUNS = 100;

  /**
   * One system under test, opened and closed by the benchmark: {@code runOne} runs workflow (or
   * transaction) {@code i} start to finish; {@code name} names the threads that run them at once.
   */
  private record Subject(String name, Load.IndexedTask runOne, Runnable closer)
      implements AutoCloseable {
    /** Runs {@code n} workflows from index {@code first} with {@code c} in flight: runs/s. */
    double throughput(int first, int n, int c) throws Exception {
      return Load.perSecond(n, Load.concurrently(name, n, c, first, runOne));
    }

    @Override
    public void close() {
      closer.run();
    }
  }

  @FunctionalInterface
  private interface Opener {
    Subject open() throws Exception;
  }

  /** What one system scored; {@code error} is set when it failed. */
  private record Result(
      String system, double perSecond, String commits, Load.Latencies latency, String error) {
    static Result failed(String system, Throwable e) {
      return new Result(system, 0, null, null, String.valueOf(e));
    }

    boolean ok() {
      return error == null;
    }
  }

  private final Options options;

  private Bench(Options options) {
    this.options = options;
  }

  public static void main(String[] args) {
    Locale.setDefault(Locale.ROOT);
    if (args.length > 0
        && (args[0].equals("scale") || args[0].equals("failover") || args[0].equals("soak")
            || args[0].equals("bounds"))) {
      System.exit(runOwn(args));
    }
    Options options;
    try {
      options = Options.parse(args);
    } catch (Options.UsageException e) {
      System.err.println("tandem-bench: " + e.getMessage());
      System.err.println(Options.USAGE);
      System.exit(2);
      return;
    }
    if (options == null) {
      System.out.println(Options.USAGE);
      System.exit(0);
      return;
    }
    int status;
    try {
      status =
          switch (options.workload()) {
            case "queue" -> new QueueBench(options).run();
            case "primitives" -> new PrimitivesBench(options).run();
            default -> new Bench(options).run();
          };
    } catch (Exception e) {
      System.err.println("tandem-bench: " + e);
      e.printStackTrace();
      status = 1;
    }
    System.out.flush();
    // DBOS and the pools may leave non-daemon threads behind; they have all been closed by now.
    System.exit(status);
  }

  /**
   * Commands that parse their own options: {@code scale} ({@link ScaleBench}), {@code failover}
   * ({@link FailoverBench}), {@code soak} ({@link SoakBench}) and {@code bounds} ({@link BoundsBench}).
   */
  private static int runOwn(String[] args) {
    int status;
    try {
      status = switch (args[0]) {
        case "scale" -> ScaleBench.main(args);
        case "soak" -> SoakBench.main(args);
        case "bounds" -> BoundsBench.main(args);
        default -> FailoverBench.main(args);
      };
    } catch (Exception e) {
      System.err.println("tandem-bench: " + e);
      e.printStackTrace();
      status = 1;
    }
    System.out.flush();
    return status;
  }

  private int run() throws Exception {
    int n = options.workflows();
    int c = options.concurrency();
    try (DbStats stats = new DbStats(options.databaseUrl())) {
      printHeader(stats.connection());
      PaymentsSchema.create(stats.connection());

      Result tandem = skipped("tandem");
      Result floor = skipped("floor");
      Result minimal = skipped("minimal");
      Result baseline = skipped("baseline");
      Result dbos = skipped("dbos");

      if (options.systems().contains("tandem")) {
        tandem = phase(stats, "tandem", "wf", () -> TandemPayments.reset(stats.connection()), this::openTandem);
      }
      if (options.systems().contains("floor")) {
        floor = phase(stats, "floor", "wf", () -> FloorPayments.reset(stats.connection()), this::openFloor);
      }
      if (options.systems().contains("minimal")) {
        minimal = phase(stats, "minimal", "wf", () -> MinimalPayments.reset(stats.connection()), this::openMinimal);
      }
      if (options.systems().contains("baseline")) {
        baseline = phase(stats, "baseline", "tx", () -> {}, this::openBaseline);
      }
      if (options.systems().contains("dbos")) {
        dbos =
            phase(
                stats,
                "dbos",
                "wf",
                () -> DbosPayments.dropState(stats.connection()),
                this::openDbos);
      }

      System.out.println();
      System.out.printf("summary (N=%d, C=%d):%n", n, c);
      for (Result r : new Result[] {tandem, floor, minimal, baseline, dbos}) {
        System.out.println("  " + summary(r));
      }
      System.out.printf(
          "ratios: tandem/baseline=%s tandem/dbos=%s floor/baseline=%s minimal/baseline=%s tandem/floor=%s%n",
          ratio(tandem, baseline), ratio(tandem, dbos), ratio(floor, baseline), ratio(minimal, baseline),
          ratio(tandem, floor));
      System.out.printf(
          "payments: tandem=%d baseline=%d dbos=%d%n",
          Math.round(tandem.perSecond()),
          Math.round(baseline.perSecond()),
          Math.round(dbos.perSecond()));
    }
    return 0;
  }

  private static Result skipped(String system) {
    return new Result(system, 0, null, null, "skipped (--systems)");
  }

  /** Setup run on the monitoring connection before a system's warm-up. */
  @FunctionalInterface
  private interface Prepare {
    void run() throws SQLException;
  }

  private Result phase(DbStats stats, String system, String unit, Prepare prepare, Opener opener) {
    int n = options.workflows();
    int c = options.concurrency();
    Phases.heading(system);
    long phaseStart = System.nanoTime();
    try {
      prepare.run();
      PaymentsSchema.reset(stats.connection());

      // Warm-up instance: concurrent runs for the JIT, then the single-run latency.
      Load.Latencies latency;
      try (Subject s = opener.open()) {
        if (options.warmup() > 0) {
          long t0 = System.nanoTime();
          double rate = s.throughput(WARMUP_FIRST_INDEX, options.warmup(), c);
          System.out.printf(
              "  warm-up: %d runs, C=%d, %.0f %s/s (%.1f s)%n",
              options.warmup(), c, rate, unit, (System.nanoTime() - t0) / 1e9);
        }
        Load.sequentially(LATENCY_WARMUP_RUNS, LATENCY_FIRST_INDEX, s.runOne());
        latency =
            Load.sequentially(
                options.latencyRuns(), LATENCY_FIRST_INDEX + LATENCY_WARMUP_RUNS, s.runOne());
        System.out.println("  single-run latency: " + latency);
      }

      // Measured instance: fresh tables, fresh instance, commits counted around it.
      PaymentsSchema.reset(stats.connection());
      ServerUsage usage = new ServerUsage(stats);
      stats.checkpoint();
      DbStats.Snapshot before = stats.snapshot();
      ServerUsage.Mark usageBefore = usage.mark();
      long t0 = System.nanoTime();
      double rate;
      try (Subject s = opener.open()) {
        usage.cpuStart();
        rate = s.throughput(0, n, c);
        usage.cpuStop();
      }
      long wall = System.nanoTime() - t0;
      DbStats.Snapshot after = stats.snapshot();
      ServerUsage.Mark usageAfter = usage.mark();
      DbStats.Delta delta = DbStats.between(before, after);
      System.out.printf(
          "  throughput: %d runs, C=%d: %.0f %s/s (%.2f s including start-up and shutdown)%n",
          n, c, rate, unit, wall / 1e9);
      String commits = delta.perRun(n, unit);
      System.out.println("  " + commits + " (start-up and shutdown included)");
      usage.print(usageBefore, usageAfter, n, unit);

      PaymentsSchema.Totals totals = PaymentsSchema.totals(stats.connection());
      System.out.println(
          "  check: " + (totals.consistent(n) ? "ok, " : "MISMATCH, expected " + n + ": ")
              + totals);
      Phases.took(phaseStart);
      return new Result(system, rate, commits, latency, null);
    } catch (Throwable e) {
      Phases.report(system + ": failed: ", e);
      return Result.failed(system, e);
    }
  }

  private Subject openTandem() {
    TandemPayments tandem =
        new TandemPayments(options.databaseUrl(), options.concurrency(), options.telemetry());
    return new Subject("tandem", tandem::runOne, tandem::close);
  }

  private Subject openFloor() {
    FloorPayments floor = new FloorPayments(options.databaseUrl(), options.concurrency());
    return new Subject("floor", floor::runOne, floor::close);
  }

  private Subject openMinimal() {
    MinimalPayments minimal = new MinimalPayments(options.databaseUrl(), options.concurrency());
    return new Subject("minimal", minimal::runOne, minimal::close);
  }

  private Subject openBaseline() {
    BaselinePayments baseline = new BaselinePayments(options.databaseUrl(), options.concurrency());
    return new Subject("baseline", baseline::runOne, baseline::close);
  }

  private Subject openDbos() {
    DbosPayments dbos = new DbosPayments(options.databaseUrl(), options.concurrency());
    return new Subject("dbos", dbos::runOne, dbos::close);
  }

  private void printHeader(Connection c) throws SQLException {
    String environment = Sql.environment(c);
    System.out.printf(
        "tandem-bench %s: N=%d C=%d warm-up=%d latency-runs=%d systems=%s%s%n",
        options.workload(),
        options.workflows(),
        options.concurrency(),
        options.warmup(),
        options.latencyRuns(),
        String.join(",", Options.ALL_SYSTEMS.stream().filter(options.systems()::contains).toList()),
        options.telemetry() ? " telemetry=on (OpenTelemetry SDK + SimpleMeterRegistry)" : "");
    System.out.println("  " + environment);
    System.out.println(
        "  dbos: DBOS Transact " + dev.dbos.transact.DBOS.version() + ", system tables in schema "
            + DbosPayments.SCHEMA + " of this database");
  }

  private static String summary(Result r) {
    String unit = r.system().equals("baseline") ? "tx" : "wf";
    if (!r.ok()) {
      return r.system() + ": " + (r.error().startsWith("skipped") ? "" : "failed: ") + r.error();
    }
    return String.format(
        "%s: %.0f %s/s, %s; single %s p50=%.2f ms p99=%.2f ms",
        r.system(),
        r.perSecond(),
        unit,
        r.commits(),
        unit,
        r.latency().percentileMillis(0.50),
        r.latency().percentileMillis(0.99));
  }

  private static String ratio(Result a, Result b) {
    if (!a.ok() || !b.ok() || b.perSecond() <= 0) {
      return "n/a";
    }
    return String.format("%.2f", a.perSecond() / b.perSecond());
  }
}
