package dev.tandem.bench;

import dev.tandem.QueueOptions;
import dev.tandem.Tandem;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * {@code java -jar tandem-bench.jar scale --database-url URL}: many executors on one PostgreSQL.
 * For 1, 2 and 4 executor JVMs ({@link ScaleWorker}, started from this jar), one after the other:
 *
 * <ol>
 *   <li><b>drain</b>: {@code N} workflows enqueued by one SQL statement, then the executors are
 *       started; throughput from the first claim to the last {@code SUCCESS} (server clock);
 *   <li><b>start latency</b>: with the executors idle, one workflow enqueued at a time
 *       (autocommit); from its {@code created_at} to the start of its body (its attempt row),
 *       both on the server's clock;
 *   <li><b>global limit</b>: workflows of a queue with concurrency {@value ScaleWorker#LIMIT}; the
 *       most executions whose recorded [start, end] overlap must be at most that;
 *   <li><b>takeover</b> (2 executors or more): each executor holds {@value
 *       ScaleWorker#TAKEOVER_SLOTS} sleeping workflows; one executor is killed with SIGKILL; for
 *       each of its workflows, the time from the kill to the first attempt row written by another
 *       executor. Target: at most executor timeout plus one heartbeat.
 * </ol>
 *
 * <p>Then every workflow must be {@code SUCCESS} with exactly one row of its transactional step.
 * Then {@link ExecutorSim}: many idle executors in one JVM, on a PostgreSQL of its own. The last
 * line is {@code scale: executors=1,2,4 drain_wf_s=<a>,<b>,<c> takeover_p50_ms=<ms>
 * takeover_max_ms=<ms>}.
 */
final class ScaleBench {
  private static final int[] EXECUTORS = {1, 2, 4};
  private static final int LIMITED_WORKFLOWS = 150;
  private static final int LIMITED_SLEEP_MILLIS = 20;
  private static final int TAKEOVER_SLEEP_MILLIS = 4_000;
  private static final long DRAIN_TIMEOUT_MILLIS = 300_000;
  private static final String USAGE =
      "usage: java -jar tandem-bench.jar scale --database-url URL [--workflows N (10000)]"
          + " [--latency-runs M (200)] [--no-sim | --only-sim]";

  /** What one executor count measured. */
  private record Round(
      int executors, double drainPerSecond, Load.Latencies start, long maxOverlap,
      List<Long> takeoverMillis, long notSuccess, long notExactlyOnce) {}

  private final String url;
  private final int workflows;
  private final int latencyRuns;
  private final boolean simulate;

  private ScaleBench(String url, int workflows, int latencyRuns, boolean simulate) {
    this.url = url;
    this.workflows = workflows;
    this.latencyRuns = latencyRuns;
    this.simulate = simulate;
  }

  /**
   * {@code scale --database-url URL [--workflows N] [--latency-runs M] [--no-sim | --only-sim]}:
   * {@code --no-sim} leaves out {@link ExecutorSim}, {@code --only-sim} runs nothing else.
   */
  static int main(String[] args) throws Exception {
    String url = null;
    int workflows = 10_000;
    int latencyRuns = 200;
    boolean simulate = true;
    for (int k = 1; k < args.length; k++) {
      switch (args[k]) {
        case "--database-url" -> url = args[++k];
        case "--workflows" -> workflows = Integer.parseInt(args[++k]);
        case "--latency-runs" -> latencyRuns = Integer.parseInt(args[++k]);
        case "--no-sim" -> simulate = false;
        case "-h", "--help" -> {
          System.out.println(USAGE);
          return 0;
        }
        case "--only-sim" -> {
          return ExecutorSim.run() ? 0 : 1;
        }
        default -> {
          System.err.println("tandem-bench scale: unknown option " + args[k]);
          System.err.println(USAGE);
          return 2;
        }
      }
    }
    if (url == null || !url.startsWith("jdbc:postgresql:")) {
      System.err.println("tandem-bench scale: --database-url jdbc:postgresql:... is required");
      return 2;
    }
    return new ScaleBench(url, workflows, latencyRuns, simulate).run();
  }

  private int run() throws Exception {
    List<Round> rounds = new ArrayList<>();
    boolean ok = true;
    try (Connection c = DriverManager.getConnection(url)) {
      System.out.printf(
          "tandem-bench scale: N=%d latency-runs=%d; executors heartbeat %d ms, executor timeout"
              + " %d ms%n  %s%n",
          workflows, latencyRuns, ScaleWorker.HEARTBEAT.toMillis(),
          ScaleWorker.EXECUTOR_TIMEOUT.toMillis(), Sql.environment(c));
      migrate();
      for (int e : EXECUTORS) {
        Phases.heading(e + " executor" + (e > 1 ? "s" : ""));
        long t0 = System.nanoTime();
        Round r = round(c, e);
        Phases.took(t0);
        rounds.add(r);
        ok &= r.notSuccess() == 0 && r.notExactlyOnce() == 0 && r.maxOverlap() <= ScaleWorker.LIMIT;
      }
    }
    if (simulate) {
      try {
        ok &= ExecutorSim.run();
      } catch (Exception e) {
        // Needs PostgreSQL's binaries in /usr/lib/postgresql/15/bin; the figures above still stand.
        Phases.report("  failed: ", e);
        ok = false;
      }
    }
    List<Long> takeovers =
        rounds.stream().flatMap(r -> r.takeoverMillis().stream()).sorted().toList();
    System.out.println();
    System.out.println("summary:");
    System.out.println("  executors  drain wf/s  start p50 / p99 ms  max overlap (limit "
        + ScaleWorker.LIMIT + ")  takeover ms (each)  not SUCCESS  not exactly once");
    for (Round r : rounds) {
      System.out.printf(
          "  %9d  %10.0f  %8.2f / %6.2f  %22d  %18s  %11d  %16d%n",
          r.executors(), r.drainPerSecond(), r.start().percentileMillis(0.5),
          r.start().percentileMillis(0.99), r.maxOverlap(),
          r.takeoverMillis().isEmpty() ? "-" : r.takeoverMillis().toString(), r.notSuccess(),
          r.notExactlyOnce());
    }
    long limitMillis = ScaleWorker.EXECUTOR_TIMEOUT.plus(ScaleWorker.HEARTBEAT).toMillis();
    long p50 = takeovers.isEmpty() ? -1 : takeovers.get((takeovers.size() - 1) / 2);
    long max = takeovers.isEmpty() ? -1 : takeovers.get(takeovers.size() - 1);
    System.out.printf(
        "  takeover after SIGKILL: %d workflows, p50 %d ms, max %d ms (target <= %d ms: %s)%n",
        takeovers.size(), p50, max, limitMillis,
        max >= 0 && max <= limitMillis ? "met" : "NOT met");
    System.out.println("  checks: " + (ok ? "ok" : "FAILED"));
    System.out.printf(
        "scale: executors=%s drain_wf_s=%s takeover_p50_ms=%d takeover_max_ms=%d%n",
        rounds.stream().map(r -> String.valueOf(r.executors())).collect(Collectors.joining(",")),
        rounds.stream().map(r -> String.valueOf(Math.round(r.drainPerSecond())))
            .collect(Collectors.joining(",")),
        p50, max);
    return ok ? 0 : 1;
  }

  /** Creates schema tandem and the benchmark's queues, so that they can be enqueued into. */
  private void migrate() {
    Tandem tandem =
        Tandem.builder()
            .databaseUrl(url)
            .maxPoolSize(4)
            .queue(ScaleWorker.LIMITED_QUEUE,
                QueueOptions.unlimited().concurrency(ScaleWorker.LIMIT)
                    .workerConcurrency(ScaleWorker.LIMITED_PER_EXECUTOR))
            .queue(ScaleWorker.TAKEOVER_QUEUE,
                QueueOptions.unlimited().workerConcurrency(ScaleWorker.TAKEOVER_SLOTS))
            .build();
    tandem.start();
    tandem.close();
  }

  private Round round(Connection c, int executors) throws Exception {
    TandemPayments.reset(c);
    ScaleWorker.resetTables(c);
    enqueue(c, "d-", "default", workflows, 0);
    System.out.printf("  enqueued %d workflows (one statement); starting %d executor JVMs%n",
        workflows, executors);
    long launched = System.nanoTime();
    List<ChildJvm> workers = new ArrayList<>();
    double drain;
    Load.Latencies start;
    long overlap;
    List<Long> takeover;
    try {
      for (int k = 0; k < executors; k++) {
        workers.add(ChildJvm.launch("executor-" + k, ScaleWorker.class, "384m", url,
            "scale-" + executors + "-" + k));
      }
      for (ChildJvm w : workers) {
        w.awaitReady(60);
      }
      awaitSuccess(c, "d-", workflows);
      double wall = (System.nanoTime() - launched) / 1e9;
      try (ResultSet rs = query(c,
          "SELECT count(*) / extract(epoch FROM max(updated_at) - min(started_at)),"
              + " extract(epoch FROM max(updated_at) - min(started_at))"
              + " FROM tandem.workflow_status WHERE workflow_id LIKE 'd-%'")) {
        rs.next();
        drain = rs.getDouble(1);
        System.out.printf(
            "  drain: %.0f wf/s (first claim to last SUCCESS %.2f s; %.2f s from launching the"
                + " JVMs); per executor: %s%n",
            drain, rs.getDouble(2), wall, perExecutor(c, "d-"));
      }

      start = startLatency(c);
      System.out.printf("  enqueue->start, idle executors: %s max=%.2f ms (%d sequential)%n",
          start.p50p99(2), start.maxMillis(), start.count());

      enqueue(c, "l-", ScaleWorker.LIMITED_QUEUE, LIMITED_WORKFLOWS, LIMITED_SLEEP_MILLIS);
      awaitSuccess(c, "l-", LIMITED_WORKFLOWS);
      overlap = Sql.count(c,
          "SELECT coalesce(max(running), 0) FROM (SELECT sum(d) OVER (ORDER BY t, d"
              + " ROWS UNBOUNDED PRECEDING) AS running FROM ("
              + "SELECT started_at AS t, 1 AS d FROM " + ScaleWorker.RUNS
              + " WHERE workflow_id LIKE 'l-%' UNION ALL SELECT ended_at, -1 FROM "
              + ScaleWorker.RUNS + " WHERE workflow_id LIKE 'l-%') e) s");
      System.out.printf(
          "  global limit: %d workflows of queue %s (concurrency %d, %d per executor): at most %d"
              + " ran at once (%s); per executor: %s%n",
          LIMITED_WORKFLOWS, ScaleWorker.LIMITED_QUEUE, ScaleWorker.LIMIT,
          ScaleWorker.LIMITED_PER_EXECUTOR,
          overlap, overlap <= ScaleWorker.LIMIT ? "holds" : "VIOLATED", perExecutor(c, "l-"));

      takeover = executors > 1 ? takeover(c, workers) : List.of();
    } finally {
      for (ChildJvm w : workers) {
        w.stop();
      }
    }
    long expected = workflows + latencyRuns + LIMITED_WORKFLOWS
        + (executors > 1 ? (long) executors * ScaleWorker.TAKEOVER_SLOTS : 0);
    long success =
        Sql.count(c, "SELECT count(*) FROM tandem.workflow_status WHERE status = 'SUCCESS'");
    long all = Sql.count(c, "SELECT count(*) FROM tandem.workflow_status");
    long notExactlyOnce = Sql.count(c,
        "SELECT count(*) FROM tandem.workflow_status w WHERE (SELECT count(*) FROM "
            + ScaleWorker.RUNS + " r WHERE r.workflow_id = w.workflow_id) <> 1")
        + Sql.count(c, "SELECT count(*) FROM " + ScaleWorker.RUNS + " r WHERE NOT EXISTS"
            + " (SELECT 1 FROM tandem.workflow_status w WHERE w.workflow_id = r.workflow_id)");
    long runs = Sql.count(c, "SELECT count(*) FROM " + ScaleWorker.RUNS);
    long attempts = Sql.count(c, "SELECT count(*) FROM " + ScaleWorker.ATTEMPTS);
    System.out.printf(
        "  check: %d enqueued, %d rows, %d SUCCESS, %d transactional-step rows, %d attempts;"
            + " not exactly once: %d%n",
        expected, all, success, runs, attempts, notExactlyOnce);
    // Missing or unfinished workflows, and rows nobody enqueued.
    long notSuccess = Math.max(expected, all) - success;
    return new Round(executors, drain, start, overlap, takeover, notSuccess, notExactlyOnce);
  }

  /** Enqueues {@code n} workflows {@code prefix1..n} into {@code queue} in one statement. */
  private static void enqueue(Connection c, String prefix, String queue, int n, int sleepMillis)
      throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(
        "SELECT count(tandem.enqueue_workflow('" + ScaleWorker.WORKFLOW + "',"
            + " jsonb_build_object('i', g, 'sleepMillis', ?), ?, ? || g))"
            + " FROM generate_series(1, ?) g")) {
      ps.setInt(1, sleepMillis);
      ps.setString(2, queue);
      ps.setString(3, prefix);
      ps.setInt(4, n);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
      }
    }
  }

  /** Waits until {@code n} workflows with ids starting with {@code prefix} are SUCCESS. */
  private static void awaitSuccess(Connection c, String prefix, long n) throws Exception {
    long deadline = System.currentTimeMillis() + DRAIN_TIMEOUT_MILLIS;
    while (true) {
      try (PreparedStatement ps = c.prepareStatement(
          "SELECT count(*) FILTER (WHERE status = 'SUCCESS'), count(*) FILTER (WHERE status IN"
              + " ('ERROR', 'CANCELLED', 'RETRIES_EXCEEDED')) FROM tandem.workflow_status"
              + " WHERE workflow_id LIKE ? || '%'")) {
        ps.setString(1, prefix);
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          if (rs.getLong(2) > 0) {
            throw new IllegalStateException(rs.getLong(2) + " workflows " + prefix + "* failed");
          }
          if (rs.getLong(1) >= n) {
            return;
          }
          if (System.currentTimeMillis() > deadline) {
            throw new IllegalStateException(
                "only " + rs.getLong(1) + " of " + n + " workflows " + prefix + "* are SUCCESS");
          }
        }
      }
      Thread.sleep(prefix.equals("lat-") ? 1 : 20);
    }
  }

  /** How many workflows {@code prefix*} each executor completed: {@code executor=n, ...}. */
  private static String perExecutor(Connection c, String prefix) throws SQLException {
    List<String> out = new ArrayList<>();
    try (ResultSet rs = query(c, "SELECT executor_id, count(*) FROM " + ScaleWorker.RUNS
        + " WHERE workflow_id LIKE '" + prefix + "%' GROUP BY 1 ORDER BY 1")) {
      while (rs.next()) {
        out.add(rs.getString(1) + "=" + rs.getLong(2));
      }
    }
    return String.join(", ", out);
  }

  /** Enqueues one workflow at a time and waits for it; created_at to body start, per workflow. */
  private Load.Latencies startLatency(Connection c) throws Exception {
    for (int k = 1; k <= latencyRuns; k++) {
      try (PreparedStatement ps = c.prepareStatement(
          "SELECT tandem.enqueue_workflow('" + ScaleWorker.WORKFLOW + "',"
              + " jsonb_build_object('i', ?::int, 'sleepMillis', 0), 'default', ?)")) {
        ps.setInt(1, k);
        ps.setString(2, "lat-" + k);
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
        }
      }
      awaitSuccess(c, "lat-", k);
    }
    List<Long> nanos = new ArrayList<>();
    try (ResultSet rs = query(c,
        "SELECT (extract(epoch FROM min(a.started_at) - w.created_at) * 1e9)::bigint"
            + " FROM tandem.workflow_status w JOIN " + ScaleWorker.ATTEMPTS
            + " a USING (workflow_id) WHERE w.workflow_id LIKE 'lat-%' GROUP BY w.workflow_id,"
            + " w.created_at")) {
      while (rs.next()) {
        nanos.add(rs.getLong(1));
      }
    }
    return Load.Latencies.of(nanos.stream().mapToLong(Long::longValue).toArray());
  }

  /**
   * Fills every executor with sleeping workflows, kills the first one, and returns for each of its
   * workflows the milliseconds from the kill to its first attempt on another executor.
   */
  private static List<Long> takeover(Connection c, List<ChildJvm> workers) throws Exception {
    int n = workers.size() * ScaleWorker.TAKEOVER_SLOTS;
    enqueue(c, "k-", ScaleWorker.TAKEOVER_QUEUE, n, TAKEOVER_SLEEP_MILLIS);
    long deadline = System.currentTimeMillis() + 30_000;
    while (Sql.count(c, "SELECT count(DISTINCT workflow_id) FROM " + ScaleWorker.ATTEMPTS
        + " WHERE workflow_id LIKE 'k-%'") < n) {
      if (System.currentTimeMillis() > deadline) {
        throw new IllegalStateException("takeover workflows did not all start within 30 s");
      }
      Thread.sleep(10);
    }
    Thread.sleep(500); // every body is inside its sleeping step now
    String victim = "scale-" + workers.size() + "-0";
    List<String> ids = new ArrayList<>();
    double killedAt = 0;
    try (PreparedStatement ps = c.prepareStatement(
        "SELECT workflow_id, extract(epoch FROM clock_timestamp()) FROM tandem.workflow_status"
            + " WHERE workflow_id LIKE 'k-%' AND status = 'RUNNING' AND executor_id = ?")) {
      ps.setString(1, victim);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          ids.add(rs.getString(1));
          killedAt = rs.getDouble(2);
        }
      }
    }
    workers.get(0).kill();
    System.out.printf("  takeover: killed %s (pid %d) with SIGKILL while it ran %d workflows%n",
        victim, workers.get(0).pid(), ids.size());
    awaitSuccess(c, "k-", n);
    List<Long> millis = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(
        "SELECT workflow_id, round((extract(epoch FROM min(started_at)) - ?) * 1000)::bigint"
            + " FROM " + ScaleWorker.ATTEMPTS + " WHERE workflow_id = ANY (?) AND executor_id <> ?"
            + " AND extract(epoch FROM started_at) > ? GROUP BY workflow_id ORDER BY 2")) {
      ps.setDouble(1, killedAt);
      ps.setArray(2, c.createArrayOf("text", ids.toArray()));
      ps.setString(3, victim);
      ps.setDouble(4, killedAt);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          millis.add(rs.getLong(2));
        }
      }
    }
    if (millis.size() != ids.size()) {
      throw new IllegalStateException(
          "only " + millis.size() + " of " + ids.size() + " workflows were taken over");
    }
    System.out.printf("  takeover: kill -> started again on another executor, ms: %s; by: %s%n",
        millis, perExecutor(c, "k-"));
    return millis;
  }

  private static ResultSet query(Connection c, String sql) throws SQLException {
    java.sql.Statement s = c.createStatement();
    s.closeOnCompletion();
    return s.executeQuery(sql);
  }
}
