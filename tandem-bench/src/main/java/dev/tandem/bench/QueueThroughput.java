package dev.tandem.bench;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;

/**
 * The <b>tandem throughput</b> and <b>dbos throughput</b> phases of {@link QueueBench} (what they
 * measure is described there): the same batch drained by each system. Also the wait for a Tandem
 * drain, which the pgbench phase uses too.
 */
final class QueueThroughput {
  static final Duration DRAIN_TIMEOUT = Duration.ofSeconds(120);
  /** Threads of the DBOS client while it enqueues (not measured). */
  private static final int DBOS_ENQUEUE_THREADS = 8;

  /** One drained batch. */
  record Drain(long workflows, double perSecond, double seconds) {}

  private final Options options;
  private final String url;

  QueueThroughput(Options options) {
    this.options = options;
    this.url = options.databaseUrl();
  }

  // ---- Tandem -----------------------------------------------------------------------------------

  Drain tandem(Connection c) throws Exception {
    int n = options.workflows();
    TandemPayments.reset(c);
    try (TandemQueue worker = new TandemQueue(url, QueueBench.POOL_SIZE, options.concurrency())) {
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
  static void awaitTandem(Connection c, String name, long n, Duration timeout)
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

  // ---- DBOS -------------------------------------------------------------------------------------

  Drain dbos(Connection c) throws Exception {
    int n = options.workflows();
    int w = options.warmup();
    DbosPayments.dropState(c);
    // Warm-up worker (it also creates DBOS's tables, which the client needs): it drains while the
    // client enqueues.
    try (DbosQueue worker = new DbosQueue(url, QueueBench.POOL_SIZE, options.concurrency());
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
    try (DbosQueue worker = new DbosQueue(url, QueueBench.POOL_SIZE, options.concurrency())) {
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
}
