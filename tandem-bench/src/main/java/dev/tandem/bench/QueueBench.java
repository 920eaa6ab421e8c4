package dev.tandem.bench;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * {@code java -jar tandem-bench.jar queue --database-url URL [--workflows N] [--concurrency C]}:
 * workflows enqueued from SQL ({@code tandem.enqueue_workflow}) and run by one worker, in four
 * phases on one database, one after the other:
 *
 * <ol>
 *   <li><b>latency</b>: a Tandem worker whose poll interval is {@link TandemQueue#POLL_INTERVAL}
 *       (so only LISTEN/NOTIFY can start a workflow sooner), and a JDBC client in the same JVM that
 *       enqueues one workflow at a time in autocommit mode and waits for it to finish. Measured:
 *       from just before the client's enqueue statement to the start of the workflow body, with
 *       {@link System#nanoTime}; and in the database, {@code started_at - created_at}.
 *   <li><b>tandem throughput</b>: {@code N} one-step workflows enqueued by one SQL statement
 *       (committed before anything runs), drained by one worker: workflows per second from the
 *       first claim ({@code min(started_at)}) to the last {@code SUCCESS} ({@code
 *       max(updated_at)}). A warm-up batch of {@code W} runs first on the same worker.
 *   <li><b>dbos throughput</b>: the same on a DBOS Transact queue ({@link DbosQueue}): {@code N}
 *       workflows enqueued with {@code DBOSClient} while no worker runs, then a fresh worker
 *       launched to drain them; first claim ({@code started_at_epoch_ms}) to last {@code
 *       completed_at}. A warm-up worker drains {@code W} first.
 *   <li><b>pgbench</b>: {@code pgbench} enqueues from {@code K} connections for {@code S} seconds
 *       while a Tandem worker drains; each workflow runs one transactional step that inserts a row
 *       into {@value TandemQueue#RUNS_TABLE}. Afterwards every enqueued workflow must have ended
 *       {@code SUCCESS} with exactly one row there.
 * </ol>
 *
 * <p>Tandem's rows are emptied before each Tandem phase. The last line printed is {@code queue:
 * tandem=<wf/s> dbos=<wf/s> latency_p50_ms=<ms>}. Exit status 1 if a phase failed or the
 * exactly-once check did not hold.
 */
final class QueueBench {
  /** Connections of each system's pool (the same for both). */
  private static final int POOL_SIZE = 20;

  private static final int LATENCY_WARMUP_RUNS = 100;
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final Duration DRAIN_TIMEOUT = Duration.ofSeconds(120);
  /** Threads of the DBOS client while it enqueues (not measured). */
  private static final int DBOS_ENQUEUE_THREADS = 8;

  private static final String ENQUEUE_ONE =
      "SELECT tandem.enqueue_workflow(?, to_jsonb(?::int), 'default', ?)";

  /** Enqueue-to-start latencies, in nanoseconds, sorted. */
  private record Latency(
      Load.Latencies javaStart, Load.Latencies dbStart, Load.Latencies enqueue,
      Load.Latencies finish) {}

  /** One drained batch. */
  private record Drain(long workflows, double perSecond, double seconds) {}

  /** What the pgbench phase found. */
  private record PgbenchResult(
      Pgbench.Report report,
      long enqueued,
      long success,
      long runs,
      long distinctRuns,
      long notExactlyOnce,
      long bodyStarts,
      Drain drain,
      Load.Latencies dbStart,
      double drainAfterSeconds) {
    boolean exactlyOnce() {
      return report.failed() == 0
          && report.processed() == enqueued
          && success == enqueued
          && runs == enqueued
          && distinctRuns == enqueued
          && notExactlyOnce == 0;
    }
  }

  private final Options options;
  private final String url;
  private final Phases phases = new Phases();
  private boolean skippedPgbench;

  QueueBench(Options options) {
    this.options = options;
    this.url = options.databaseUrl();
  }

  int run() throws Exception {
    try (Connection c = DriverManager.getConnection(url)) {
      c.setAutoCommit(true);
      printHeader(c);

      Latency latency = phase("latency", "latency (Tandem, LISTEN/NOTIFY)", () -> latency(c));
      Drain tandem = phase("tandem", "throughput: tandem", () -> tandemThroughput(c));
      Drain dbos = phase("dbos", "throughput: dbos", () -> dbosThroughput(c));
      PgbenchResult pgbench = phase("pgbench", "pgbench load (Tandem)", () -> pgbench(c));

      System.out.println();
      System.out.printf(
          "summary (N=%d, worker concurrency=%s, poll interval=%d s):%n",
          options.workflows(), concurrencyLabel(), TandemQueue.POLL_INTERVAL.toSeconds());
      if (latency != null) {
        System.out.printf(
            "  enqueue->start (java): %s (target p50 <= 5 ms: %s)%n",
            latency.javaStart().p50p99(2),
            latency.javaStart().percentileMillis(0.50) <= 5 ? "met" : "NOT met");
        System.out.println(
            "  enqueue->start (db started_at - created_at): " + latency.dbStart().p50p99(2));
      } else {
        System.out.println("  latency: " + outcome("latency"));
      }
      System.out.println(
          "  tandem queue: " + (tandem == null ? outcome("tandem") : String.format(
              "%.0f wf/s (target >= 2000: %s)",
              tandem.perSecond(), tandem.perSecond() >= 2000 ? "met" : "NOT met")));
      System.out.println(
          "  dbos queue:   "
              + (dbos == null ? outcome("dbos") : String.format("%.0f wf/s", dbos.perSecond())));
      if (tandem != null && dbos != null && dbos.perSecond() > 0) {
        double ratio = tandem.perSecond() / dbos.perSecond();
        System.out.printf(
            "  tandem/dbos:  %.1fx (target >= 10x: %s)%n", ratio, ratio >= 10 ? "met" : "NOT met");
      }
      if (pgbench != null) {
        System.out.printf(
            "  pgbench: %d enqueued at %.0f/s, drained at %.0f wf/s; exactly once: %s%n",
            pgbench.enqueued(),
            pgbench.report().tps(),
            pgbench.drain().perSecond(),
            pgbench.exactlyOnce() ? "yes" : "NO");
      } else {
        System.out.println(
            "  pgbench: " + (skippedPgbench ? "skipped (pgbench not on PATH)" : outcome("pgbench")));
      }
      System.out.printf(
          "queue: tandem=%d dbos=%d latency_p50_ms=%s%n",
          tandem == null ? 0 : Math.round(tandem.perSecond()),
          dbos == null ? 0 : Math.round(dbos.perSecond()),
          latency == null ? "n/a" : String.format("%.2f", latency.javaStart().percentileMillis(0.50)));
    }
    return phases.failed() ? 1 : 0;
  }

  /**
   * Runs a phase unless {@code --phases} leaves it out; on failure prints why, marks the run
   * failed, and returns null.
   */
  private <T> T phase(String key, String name, Phases.Body<T> body) {
    return options.phases().contains(key) ? phases.run(name, body) : null;
  }

  // ---- 1. latency -------------------------------------------------------------------------------

  private Latency latency(Connection c) throws Exception {
    TandemPayments.reset(c);
    int runs = options.latencyRuns();
    try (TandemQueue worker = new TandemQueue(url, POOL_SIZE, options.concurrency());
        Connection client = DriverManager.getConnection(url);
        PreparedStatement enqueue = client.prepareStatement(ENQUEUE_ONE)) {
      client.setAutoCommit(true);
      timeOneByOne(worker, enqueue, "lat-warm-", LATENCY_WARMUP_RUNS);
      long[][] measured = timeOneByOne(worker, enqueue, "lat-m-", runs);
      Latency latency =
          new Latency(
              Load.Latencies.of(measured[0]),
              dbStartLatency(c, "lat-m-%"),
              Load.Latencies.of(measured[1]),
              Load.Latencies.of(measured[2]));
      System.out.printf(
          "  %d warm-up runs, then %d runs one at a time, each: enqueue (SQL, autocommit),"
              + " wait for its end%n",
          LATENCY_WARMUP_RUNS, runs);
      System.out.println("  enqueue->body start (java nanoTime): " + latency.javaStart());
      System.out.println(
          "  enqueue->start (db started_at - created_at): " + perWorkflow(latency.dbStart()));
      System.out.println("  enqueue statement round trip: " + latency.enqueue());
      System.out.println("  enqueue->finished (handle.result): " + latency.finish());
      return latency;
    }
  }

  /** Returns {start latencies, enqueue statement times, finish latencies} in nanoseconds. */
  private static long[][] timeOneByOne(
      TandemQueue worker, PreparedStatement enqueue, String idPrefix, int runs) throws Exception {
    long[] start = new long[runs];
    long[] statement = new long[runs];
    long[] finish = new long[runs];
    for (int k = 0; k < runs; k++) {
      String id = idPrefix + k;
      CompletableFuture<Long> started = worker.expectStart(id);
      enqueue.setString(1, TandemQueue.WORKFLOW);
      enqueue.setInt(2, k);
      enqueue.setString(3, id);
      long t0 = System.nanoTime();
      try (ResultSet rs = enqueue.executeQuery()) {
        rs.next();
      }
      long t1 = System.nanoTime();
      long bodyStart = TandemQueue.await(started, WAIT);
      worker.awaitFinished(id, WAIT);
      long t2 = System.nanoTime();
      start[k] = bodyStart - t0;
      statement[k] = t1 - t0;
      finish[k] = t2 - t0;
    }
    return new long[][] {start, statement, finish};
  }

  private static Load.Latencies dbStartLatency(Connection c, String idPattern) throws SQLException {
    long[] nanos = dbStartNanos(c, "workflow_id LIKE ?", idPattern);
    if (nanos.length == 0) {
      throw new IllegalStateException("no started workflow matches " + idPattern);
    }
    return Load.Latencies.of(nanos);
  }

  private static Load.Latencies dbStartLatencyOfName(Connection c, String name)
      throws SQLException {
    return Load.Latencies.of(dbStartNanos(c, "name = ?", name));
  }

  /** {@code started_at - created_at} in ns, per started workflow matching {@code condition}. */
  private static long[] dbStartNanos(Connection c, String condition, String value)
      throws SQLException {
    List<Long> nanos = new ArrayList<>();
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT (extract(epoch FROM started_at - created_at) * 1e9)::bigint"
                + " FROM tandem.workflow_status WHERE " + condition
                + " AND started_at IS NOT NULL")) {
      ps.setString(1, value);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          nanos.add(rs.getLong(1));
        }
      }
    }
    return nanos.stream().mapToLong(Long::longValue).toArray();
  }

  /** Percentiles of one value per workflow. */
  private static String perWorkflow(Load.Latencies l) {
    return String.format("%s max=%.2f ms (%d workflows)", l.p50p99(2), l.maxMillis(), l.count());
  }

  // ---- 2. Tandem throughput ---------------------------------------------------------------------

  private Drain tandemThroughput(Connection c) throws Exception {
    int n = options.workflows();
    TandemPayments.reset(c);
    try (TandemQueue worker = new TandemQueue(url, POOL_SIZE, options.concurrency())) {
      if (options.warmup() > 0) {
        Drain warm = tandemBatch(c, options.warmup());
        System.out.printf(
            "  warm-up: %d workflows, %.0f wf/s (%.2f s)%n",
            warm.workflows(), warm.perSecond(), warm.seconds());
        // The worker is idle: every workflow has ended.
        truncateTandemWorkflows(c);
      }
      Sql.execute(c, "CHECKPOINT");
      Drain drain = tandemBatch(c, n);
      System.out.printf(
          "  measured: %d workflows enqueued by one statement, drained by one worker:"
              + " %.0f wf/s (first claim to last SUCCESS: %.3f s)%n",
          n, drain.perSecond(), drain.seconds());
      return drain;
    }
  }

  /** Enqueues {@code n} workflows in one statement, waits for them, and reads the timestamps. */
  private static Drain tandemBatch(Connection c, int n) throws Exception {
    long t0 = System.nanoTime();
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT count(tandem.enqueue_workflow('" + TandemQueue.WORKFLOW + "', to_jsonb(g)))"
                + " FROM generate_series(1, ?) g")) {
      ps.setInt(1, n);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
      }
    }
    long enqueued = System.nanoTime();
    awaitTandem(c, TandemQueue.WORKFLOW, n, DRAIN_TIMEOUT);
    long done = System.nanoTime();
    try (Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT count(*), extract(epoch FROM max(updated_at) - min(started_at)),"
                    + " count(*) FILTER (WHERE attempts <> 1)"
                    + " FROM tandem.workflow_status WHERE name = '" + TandemQueue.WORKFLOW
                    + "' AND status = 'SUCCESS'")) {
      rs.next();
      long count = rs.getLong(1);
      double seconds = rs.getDouble(2);
      long retried = rs.getLong(3);
      System.out.printf(
          "    batch of %d: enqueue statement %.3f s, java wall from its start to all SUCCESS seen"
              + " %.3f s%s%n",
          n,
          (enqueued - t0) / 1e9,
          (done - t0) / 1e9,
          retried > 0 ? ", " + retried + " workflows with attempts > 1" : "");
      return new Drain(count, count / seconds, seconds);
    }
  }

  /** Waits until {@code n} workflows named {@code name} are SUCCESS; fails on any other end. */
  private static void awaitTandem(Connection c, String name, long n, Duration timeout)
      throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      long success;
      long bad;
      long total;
      try (PreparedStatement ps =
          c.prepareStatement(
              "SELECT count(*) FILTER (WHERE status = 'SUCCESS'),"
                  + " count(*) FILTER (WHERE status IN ('ERROR', 'CANCELLED', 'RETRIES_EXCEEDED')),"
                  + " count(*) FROM tandem.workflow_status WHERE name = ?")) {
        ps.setString(1, name);
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          success = rs.getLong(1);
          bad = rs.getLong(2);
          total = rs.getLong(3);
        }
      }
      if (bad > 0) {
        throw new IllegalStateException(
            bad + " workflows " + name + " ended in failure; first error: " + firstError(c, name));
      }
      if (success >= n) {
        return;
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "after " + timeout.toSeconds() + " s, " + success + " of " + n + " workflows " + name
                + " are SUCCESS (" + total + " rows)");
      }
      Thread.sleep(20);
    }
  }

  private static String firstError(Connection c, String name) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT workflow_id || ' ' || status || ': ' || coalesce(error->>'message', '')"
                + " FROM tandem.workflow_status WHERE name = ?"
                + " AND status IN ('ERROR', 'CANCELLED', 'RETRIES_EXCEEDED') LIMIT 1")) {
      ps.setString(1, name);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? rs.getString(1) : "?";
      }
    }
  }

  private static void truncateTandemWorkflows(Connection c) throws SQLException {
    Sql.execute(c, "TRUNCATE tandem.workflow_status, tandem.steps");
  }

  // ---- 3. DBOS throughput -----------------------------------------------------------------------

  private Drain dbosThroughput(Connection c) throws Exception {
    int n = options.workflows();
    int w = options.warmup();
    DbosPayments.dropState(c);
    // Warm-up worker (it also creates DBOS's tables, which the client needs): it drains while the
    // client enqueues.
    try (DbosQueue worker = new DbosQueue(url, POOL_SIZE, options.concurrency());
        DbosQueue.Client client = new DbosQueue.Client(url, DBOS_ENQUEUE_THREADS)) {
      if (w > 0) {
        long t0 = System.nanoTime();
        Load.concurrently("dbos-enqueue", w, DBOS_ENQUEUE_THREADS, 0, i -> client.enqueue("dw-" + i, i));
        awaitDbos(c, "dw-%", w, DRAIN_TIMEOUT);
        System.out.printf(
            "  warm-up: %d workflows enqueued and drained (%.2f s)%n", w, (System.nanoTime() - t0) / 1e9);
      }
    }
    // Measured: everything enqueued and committed while no worker runs, then a fresh worker.
    try (DbosQueue.Client client = new DbosQueue.Client(url, DBOS_ENQUEUE_THREADS)) {
      long t0 = System.nanoTime();
      long nanos =
          Load.concurrently("dbos-enqueue", n, DBOS_ENQUEUE_THREADS, 0, i -> client.enqueue("dq-" + i, i));
      System.out.printf(
          "  enqueued %d with DBOSClient.enqueueWorkflow from %d threads, no worker running: %.0f/s"
              + " (%.2f s)%n",
          n, DBOS_ENQUEUE_THREADS, Load.perSecond(n, nanos), (System.nanoTime() - t0) / 1e9);
    }
    Sql.execute(c, "CHECKPOINT");
    long t0 = System.nanoTime();
    try (DbosQueue worker = new DbosQueue(url, POOL_SIZE, options.concurrency())) {
      awaitDbos(c, "dq-%", n, DRAIN_TIMEOUT);
    }
    long wall = System.nanoTime() - t0;
    try (Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT count(*), max(completed_at) - min(started_at_epoch_ms),"
                    + " count(*) FILTER (WHERE recovery_attempts > 1)"
                    + " FROM " + DbosPayments.SCHEMA + ".workflow_status"
                    + " WHERE workflow_uuid LIKE 'dq-%' AND status = 'SUCCESS'")) {
      rs.next();
      long count = rs.getLong(1);
      double seconds = rs.getLong(2) / 1e3;
      Drain drain = new Drain(count, count / seconds, seconds);
      System.out.printf(
          "  measured: fresh worker drained %d: %.0f wf/s (first claim to last SUCCESS: %.3f s;"
              + " %.2f s with launch and shutdown)%n",
          count, drain.perSecond(), seconds, wall / 1e9);
      return drain;
    }
  }

  /** Waits until {@code n} DBOS workflows with ids like {@code pattern} are SUCCESS. */
  private static void awaitDbos(Connection c, String pattern, long n, Duration timeout)
      throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      long success;
      long bad;
      try (PreparedStatement ps =
          c.prepareStatement(
              "SELECT count(*) FILTER (WHERE status = 'SUCCESS'),"
                  + " count(*) FILTER (WHERE status IN ('ERROR', 'CANCELLED',"
                  + " 'MAX_RECOVERY_ATTEMPTS_EXCEEDED'))"
                  + " FROM " + DbosPayments.SCHEMA + ".workflow_status WHERE workflow_uuid LIKE ?")) {
        ps.setString(1, pattern);
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          success = rs.getLong(1);
          bad = rs.getLong(2);
        }
      }
      if (bad > 0) {
        throw new IllegalStateException(bad + " DBOS workflows " + pattern + " ended in failure");
      }
      if (success >= n) {
        return;
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "after " + timeout.toSeconds() + " s, " + success + " of " + n + " DBOS workflows "
                + pattern + " are SUCCESS");
      }
      Thread.sleep(20);
    }
  }

  // ---- 4. pgbench -------------------------------------------------------------------------------

  private PgbenchResult pgbench(Connection c) throws Exception {
    Path pgbench = Pgbench.find();
    if (pgbench == null) {
      skippedPgbench = true;
      System.out.println("  skipped: pgbench is not on PATH (install postgresql-client to run it)");
      return null;
    }
    TandemPayments.reset(c);
    TandemQueue.resetRuns(c);
    // The function generates each workflow's id (gen_random_uuid), so ids never collide.
    String script =
        "\\set n random(1, 1000000000)\n"
            + "SELECT tandem.enqueue_workflow('" + TandemQueue.COUNTED_WORKFLOW + "', to_jsonb(:n::int));\n";
    int clients = options.pgbenchClients();
    int seconds = options.pgbenchSeconds();
    Pgbench.Report report;
    long bodyStarts;
    double drainAfter;
    try (TandemQueue worker = new TandemQueue(url, POOL_SIZE, options.concurrency())) {
      System.out.printf(
          "  %s: %d clients for %d s, each transaction: %s",
          pgbench, clients, seconds, script.lines().skip(1).findFirst().orElse("") + "\n");
      report = Pgbench.run(pgbench, url, script, clients, seconds);
      long ended = System.nanoTime();
      if (report.exitCode() != 0 || report.processed() < 0) {
        throw new IllegalStateException(
            "pgbench exited with status " + report.exitCode() + ":\n" + report.output().strip());
      }
      System.out.printf(
          "  pgbench: %d transactions, %d failed, %.0f tps; enqueue latency %s%n",
          report.processed(), report.failed(), report.tps(), perWorkflow(report.latencies()));
      long enqueued = Sql.count(c, "SELECT count(*) FROM tandem.workflow_status WHERE name = '"
          + TandemQueue.COUNTED_WORKFLOW + "'");
      awaitTandem(c, TandemQueue.COUNTED_WORKFLOW, enqueued, DRAIN_TIMEOUT);
      drainAfter = (System.nanoTime() - ended) / 1e9;
      // Leave a moment for anything that would (wrongly) run a second time.
      Thread.sleep(500);
      bodyStarts = worker.bodyStarts();
    }
    String name = "'" + TandemQueue.COUNTED_WORKFLOW + "'";
    long enqueued =
        Sql.count(c, "SELECT count(*) FROM tandem.workflow_status WHERE name = " + name);
    long success =
        Sql.count(
            c,
            "SELECT count(*) FROM tandem.workflow_status WHERE name = " + name
                + " AND status = 'SUCCESS'");
    long runs = Sql.count(c, "SELECT count(*) FROM " + TandemQueue.RUNS_TABLE);
    long distinctRuns =
        Sql.count(c, "SELECT count(DISTINCT workflow_id) FROM " + TandemQueue.RUNS_TABLE);
    // Workflows without exactly one execution row, plus rows of no enqueued workflow.
    long notExactlyOnce =
        Sql.count(
            c,
            "SELECT count(*) FROM tandem.workflow_status w WHERE w.name = " + name
                + " AND (SELECT count(*) FROM " + TandemQueue.RUNS_TABLE
                + " r WHERE r.workflow_id = w.workflow_id) <> 1")
            + Sql.count(
                c,
                "SELECT count(*) FROM " + TandemQueue.RUNS_TABLE + " r WHERE NOT EXISTS"
                    + " (SELECT 1 FROM tandem.workflow_status w WHERE w.workflow_id = r.workflow_id"
                    + " AND w.name = " + name + ")");
    Drain drain;
    try (Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT count(*), extract(epoch FROM max(updated_at) - min(started_at))"
                    + " FROM tandem.workflow_status WHERE name = " + name
                    + " AND status = 'SUCCESS'")) {
      rs.next();
      drain = new Drain(rs.getLong(1), rs.getLong(1) / rs.getDouble(2), rs.getDouble(2));
    }
    Load.Latencies dbStart = dbStartLatencyOfName(c, TandemQueue.COUNTED_WORKFLOW);
    PgbenchResult result =
        new PgbenchResult(
            report, enqueued, success, runs, distinctRuns, notExactlyOnce, bodyStarts, drain, dbStart,
            drainAfter);
    System.out.printf(
        "  worker: drained %d at %.0f wf/s (first claim to last SUCCESS %.2f s; done %.2f s after"
            + " pgbench ended)%n",
        drain.workflows(), drain.perSecond(), drain.seconds(), drainAfter);
    System.out.println(
        "  enqueue->start under load (db started_at - created_at): " + perWorkflow(dbStart));
    System.out.printf(
        "  check: pgbench committed %d, enqueued rows %d, SUCCESS %d, execution rows %d"
            + " (%d distinct workflows), workflows not run exactly once %d, bodies started %d%n",
        report.processed(), enqueued, success, runs, distinctRuns, notExactlyOnce, bodyStarts);
    System.out.println(
        "  exactly once: " + (result.exactlyOnce() ? "yes, every enqueued workflow completed once"
            : "NO"));
    if (!result.exactlyOnce()) {
      phases.fail();
    }
    return result;
  }

  // ---- helpers ----------------------------------------------------------------------------------

  private String outcome(String phase) {
    return options.phases().contains(phase) ? "failed" : "not run (--phases)";
  }

  private String concurrencyLabel() {
    return options.concurrency() > 0 ? String.valueOf(options.concurrency()) : "default";
  }

  private void printHeader(Connection c) throws SQLException {
    String environment = Sql.environment(c);
    System.out.printf(
        "tandem-bench queue: N=%d warm-up=%d latency-runs=%d worker concurrency=%s"
            + " pgbench=%d clients x %d s%n",
        options.workflows(),
        options.warmup(),
        options.latencyRuns(),
        options.concurrency() > 0 ? options.concurrency() : "default (no queue limit)",
        options.pgbenchClients(),
        options.pgbenchSeconds());
    System.out.println("  " + environment);
    System.out.printf(
        "  tandem: pool %d, poll interval %d s (NOTIFY wakes the worker); dbos: DBOS Transact %s,"
            + " pool %d, queue polled every %d ms (its default), tables in schema %s%n",
        POOL_SIZE,
        TandemQueue.POLL_INTERVAL.toSeconds(),
        dev.dbos.transact.DBOS.version(),
        POOL_SIZE,
        dev.dbos.transact.workflow.Queue.DEFAULT_POLLING_INTERVAL.toMillis(),
        DbosPayments.SCHEMA);
  }
}
