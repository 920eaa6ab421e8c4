package dev.tandem.bench;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** Command-line options of the benchmark. */
record Options(
    String workload,
    String databaseUrl,
    int workflows,
    int concurrency,
    int warmup,
    int latencyRuns,
    Set<String> systems,
    int pgbenchClients,
    int pgbenchSeconds,
    int pgbenchRate,
    Set<String> phases,
    int sleepers,
    int sleepSeconds,
    boolean telemetry) {

  static final List<String> ALL_SYSTEMS = List.of("tandem", "floor", "minimal", "baseline", "dbos");

  static final List<String> WORKLOADS = List.of("payments", "queue", "primitives");

  static final List<String> ALL_PHASES = List.of("latency", "tandem", "dbos", "pgbench");

  static final String USAGE =
      String.join(
          "\n",
          "usage: java -jar tandem-bench.jar payments|queue|primitives --database-url URL [options]",
          "",
          "  payments             Tandem vs. bare JDBC vs. DBOS Transact, workflows started in-process",
          "  queue                workflows enqueued from SQL: enqueue-to-start latency (LISTEN/NOTIFY),",
          "                       queue throughput (Tandem vs. DBOS), pgbench as an external enqueuer",
          "  primitives           durable sleep, send/recv and events: N workflows sleeping at once (heap,",
          "                       threads, connections, wake-up lateness), send->recv and getEvent latency",
          "                       (Tandem vs. DBOS)",
          "  (scale, failover, soak and bounds take options of their own: tandem-bench.jar soak --help)",
          "",
          "  --database-url URL   JDBC URL of an expendable PostgreSQL database, e.g.",
          "                       jdbc:postgresql://127.0.0.1:5432/tandem_bench?user=postgres",
          "  --workflows N        workflows (transactions for the baseline) per measured run",
          "                       [payments 20000, queue 5000]",
          "  --concurrency C      payments: runs in flight at once [16];",
          "                       queue: workflows one worker runs at once, on both systems' queues",
          "                       [unlimited: each system's default]; DBOS then claims at most C",
          "                       per poll of its queue (once a second)",
          "  --warmup W           warm-up runs per system before measuring [payments 20000,",
          "                       queue 5000]; payments needs that many for the JIT to settle",
          "  --latency-runs L     sequential runs timed for p50/p99 latency [500]",
          "  --systems LIST       payments: comma-separated subset of tandem,floor,minimal,baseline,dbos",
          "                       [all] (floor: Tandem's guarantees in hand-written JDBC on its tables;",
          "                       minimal: the least any schema could write for them, run's read and",
          "                       recovery's index included);",
          "                       primitives: tandem and/or dbos (the others do not apply)",
          "  --pgbench-clients K  queue: pgbench connections enqueueing at once [8]",
          "  --pgbench-seconds S  queue: how long pgbench enqueues [5]",
          "  --pgbench-rate R     queue: enqueues per second pgbench aims at, all clients together;",
          "                       0 = as fast as it can, which saturates a small machine [0]",
          "  --phases LIST        queue: comma-separated subset of latency,tandem,dbos,pgbench [all]",
          "  --sleepers N         primitives: workflows sleeping at once; 0 skips that phase [10000]",
          "  --sleep-seconds S    primitives: how long each of them sleeps [20]",
          "  --telemetry          payments: Tandem with tracing (OpenTelemetry SDK, batch span processor,",
          "                       an exporter that drops spans) and metrics (SimpleMeterRegistry) on [off]",
          "  -h, --help           show this help",
          "",
          "The program creates, truncates and drops tables in that database (bench_*, schema dbos,",
          "rows of schema tandem; primitives drops and recreates schema tandem).",
          "The last line of payments is: payments: tandem=<wf/s> baseline=<tx/s> dbos=<wf/s>",
          "The last line of queue is: queue: tandem=<wf/s> dbos=<wf/s> latency_p50_ms=<ms>",
          "The last line of primitives is: primitives: sleepers=<n> heap_mb=<MB> threads=<n>",
          "  connections=<n> send_recv_p50_ms=<ms> send_recv_p99_ms=<ms> get_event_p50_ms=<ms>",
          "  get_event_p99_ms=<ms> (DBOS's figures on the line before it, primitives-dbos: ...)");

  /** A bad command line; the message says what is wrong. */
  static final class UsageException extends Exception {
    private static final long serialVersionUID = 1L;

    UsageException(String message) {
      super(message);
    }
  }

  /** Returns null when help was asked for. */
  static Options parse(String[] args) throws UsageException {
    List<String> positional = new ArrayList<>();
    String url = null;
    Integer workflows = null;
    Integer concurrency = null;
    Integer warmup = null;
    int latencyRuns = 500;
    Set<String> systems = new LinkedHashSet<>(ALL_SYSTEMS);
    int pgbenchClients = 8;
    int pgbenchSeconds = 5;
    int pgbenchRate = 0;
    Set<String> phases = new LinkedHashSet<>(ALL_PHASES);
    int sleepers = 10_000;
    int sleepSeconds = 20;
    boolean telemetry = false;
    for (int k = 0; k < args.length; k++) {
      String arg = args[k];
      if (arg.equals("-h") || arg.equals("--help")) {
        return null;
      }
      if (arg.equals("--telemetry")) { // a flag: takes no value
        telemetry = true;
        continue;
      }
      if (!arg.startsWith("--")) {
        positional.add(arg);
        continue;
      }
      String name = arg;
      String value;
      int eq = arg.indexOf('=');
      if (eq >= 0) {
        name = arg.substring(0, eq);
        value = arg.substring(eq + 1);
      } else {
        if (k + 1 >= args.length) {
          throw new UsageException("option " + name + " needs a value");
        }
        value = args[++k];
      }
      switch (name) {
        case "--database-url" -> url = value;
        case "--workflows" -> workflows = positiveInt(name, value, 1);
        case "--concurrency" -> concurrency = positiveInt(name, value, 1);
        case "--warmup" -> warmup = positiveInt(name, value, 0);
        case "--latency-runs" -> latencyRuns = positiveInt(name, value, 1);
        case "--systems" -> systems = systems(value);
        case "--pgbench-clients" -> pgbenchClients = positiveInt(name, value, 1);
        case "--pgbench-seconds" -> pgbenchSeconds = positiveInt(name, value, 1);
        case "--pgbench-rate" -> pgbenchRate = positiveInt(name, value, 0);
        case "--phases" -> phases = subset(name, value, ALL_PHASES);
        case "--sleepers" -> sleepers = positiveInt(name, value, 0);
        case "--sleep-seconds" -> sleepSeconds = positiveInt(name, value, 1);
        default -> throw new UsageException("unknown option " + name);
      }
    }
    if (positional.isEmpty()) {
      throw new UsageException("missing workload (one of: " + String.join(", ", WORKLOADS) + ")");
    }
    if (positional.size() > 1) {
      throw new UsageException("unexpected argument " + positional.get(1));
    }
    String workload = positional.get(0);
    if (!WORKLOADS.contains(workload)) {
      throw new UsageException(
          "unknown workload " + workload + " (one of: " + String.join(", ", WORKLOADS) + ")");
    }
    if (url == null || url.isBlank()) {
      throw new UsageException("missing --database-url");
    }
    if (!url.startsWith("jdbc:postgresql:")) {
      throw new UsageException("--database-url must be a jdbc:postgresql: URL, got " + url);
    }
    // Payments measures steady state: after 5,000 warm-up runs C2 was still compiling through the measured run (more
    // of Tandem's code than of the bare transaction's), which took CPU from both client and server on 2 cores.
    boolean payments = workload.equals("payments");
    if (workflows == null) {
      workflows = payments ? 20_000 : 5000;
    }
    if (warmup == null) {
      warmup = payments ? 20_000 : 5000;
    }
    // For queue, 0 means "no limit of our own": each system's queue keeps its default.
    int c = concurrency != null ? concurrency : workload.equals("queue") ? 0 : 16;
    return new Options(
        workload,
        url,
        workflows,
        c,
        warmup,
        latencyRuns,
        Set.copyOf(systems),
        pgbenchClients,
        pgbenchSeconds,
        pgbenchRate,
        Set.copyOf(phases),
        sleepers,
        sleepSeconds,
        telemetry);
  }

  private static int positiveInt(String name, String value, int min) throws UsageException {
    int n;
    try {
      n = Integer.parseInt(value.trim());
    } catch (NumberFormatException e) {
      throw new UsageException(name + " must be an integer, got '" + value + "'");
    }
    if (n < min) {
      throw new UsageException(name + " must be at least " + min + ", got " + n);
    }
    return n;
  }

  private static Set<String> subset(String name, String value, List<String> all)
      throws UsageException {
    Set<String> out = new LinkedHashSet<>();
    for (String s : value.split(",")) {
      String item = s.trim();
      if (item.isEmpty()) {
        continue;
      }
      if (!all.contains(item)) {
        throw new UsageException(
            "unknown value '" + item + "' in " + name + " (use " + String.join(", ", all) + ")");
      }
      out.add(item);
    }
    if (out.isEmpty()) {
      throw new UsageException(name + " names nothing");
    }
    return out;
  }

  private static Set<String> systems(String value) throws UsageException {
    Set<String> out = new LinkedHashSet<>();
    for (String s : value.split(",")) {
      String name = s.trim();
      if (name.isEmpty()) {
        continue;
      }
      if (!ALL_SYSTEMS.contains(name)) {
        throw new UsageException(
            "unknown system '" + name + "' in --systems (use tandem, floor, minimal, baseline or dbos)");
      }
      out.add(name);
    }
    if (out.isEmpty()) {
      throw new UsageException("--systems names no system");
    }
    return out;
  }
}
