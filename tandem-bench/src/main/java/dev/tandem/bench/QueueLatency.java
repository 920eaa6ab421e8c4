package dev.tandem.bench;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The <b>latency</b> phase of {@link QueueBench} (what it measures is described there): one
 * workflow at a time, enqueued from SQL. Also the database's enqueue-to-start latency, which the
 * pgbench phase reads too.
 */
final class QueueLatency {
  private static final int LATENCY_WARMUP_RUNS = 2000;
  private static final Duration WAIT = Duration.ofSeconds(30);

  private static final String ENQUEUE_ONE =
      "SELECT tandem.enqueue_workflow(?, to_jsonb(?::int), 'default', ?)";

  /** Enqueue-to-start latencies, in nanoseconds, sorted. */
  record Latency(
      Load.Latencies javaStart, Load.Latencies dbStart, Load.Latencies enqueue,
      Load.Latencies afterReply, Load.Latencies finish) {}

  private final Options options;
  private final String url;

  QueueLatency(Options options) {
    this.options = options;
    this.url = options.databaseUrl();
  }

  Latency run(Connection c) throws Exception {
    TandemPayments.reset(c);
    int runs = options.latencyRuns();
    try (TandemQueue worker = new TandemQueue(url, QueueBench.POOL_SIZE, options.concurrency());
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
              Load.Latencies.of(measured[2]),
              Load.Latencies.of(measured[3]));
      System.out.printf(
          "  %d warm-up runs, then %d runs one at a time, each: enqueue (SQL, autocommit),"
              + " wait for its end%n",
          LATENCY_WARMUP_RUNS, runs);
      System.out.println("  enqueue->body start (java nanoTime): " + latency.javaStart());
      System.out.println(
          "  enqueue->start (db started_at - created_at): " + perWorkflow(latency.dbStart()));
      System.out.println("  enqueue statement round trip: " + latency.enqueue());
      System.out.println(
          "  enqueue's reply->body start (0 if the body started first): " + latency.afterReply());
      System.out.println("  enqueue->finished (handle.result): " + latency.finish());
      return latency;
    }
  }

  /**
   * Returns {start latencies, enqueue statement times, from the enqueue's reply to the body's start,
   * finish latencies} in nanoseconds. The third splits the first into what the database's commit
   * costs the enqueuer and what the worker adds after it.
   */
  private static long[][] timeOneByOne(
      TandemQueue worker, PreparedStatement enqueue, String idPrefix, int runs) throws Exception {
    long[] start = new long[runs];
    long[] statement = new long[runs];
    long[] afterReply = new long[runs];
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
      afterReply[k] = Math.max(0, bodyStart - t1);
      finish[k] = t2 - t0;
    }
    return new long[][] {start, statement, afterReply, finish};
  }

  private static Load.Latencies dbStartLatency(Connection c, String idPattern) throws SQLException {
    long[] nanos = dbStartNanos(c, "workflow_id LIKE ?", idPattern);
    if (nanos.length == 0) {
      throw new IllegalStateException("no started workflow matches " + idPattern);
    }
    return Load.Latencies.of(nanos);
  }

  static Load.Latencies dbStartLatencyOfName(Connection c, String name)
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
  static String perWorkflow(Load.Latencies l) {
    return String.format("%s max=%.2f ms (%d workflows)", l.p50p99(2), l.maxMillis(), l.count());
  }
}
