package dev.tandem.bench;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;

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
 * <p>Each phase has its own class ({@link QueueLatency}, {@link QueueThroughput}, {@link
 * QueuePgbench}); this one runs them and prints the summary.
 *
 * <p>Tandem's rows are emptied before each Tandem phase. The last line printed is {@code queue:
 * tandem=<wf/s> dbos=<wf/s> latency_p50_ms=<ms>}. Exit status 1 if a phase failed or the
 * exactly-once check did not hold.
 */
final class QueueBench {
  /** Connections of each system's pool (the same for both). */
  static final int POOL_SIZE = 20;

  private final Options options;
  private final Phases phases = new Phases();
  private final QueueLatency latencyPhase;
  private final QueueThroughput throughputPhases;
  private final QueuePgbench pgbenchPhase;

  QueueBench(Options options) {
    this.options = options;
    this.latencyPhase = new QueueLatency(options);
    this.throughputPhases = new QueueThroughput(options);
    this.pgbenchPhase = new QueuePgbench(options);
  }

  int run() throws Exception {
    try (Connection c = DriverManager.getConnection(options.databaseUrl())) {
      c.setAutoCommit(true);
      printHeader(c);

      QueueLatency.Latency latency =
          phase("latency", "latency (Tandem, LISTEN/NOTIFY)", () -> latencyPhase.run(c));
      QueueThroughput.Drain tandem =
          phase("tandem", "throughput: tandem", () -> throughputPhases.tandem(c));
      QueueThroughput.Drain dbos =
          phase("dbos", "throughput: dbos", () -> throughputPhases.dbos(c));
      QueuePgbench.PgbenchResult pgbench =
          phase("pgbench", "pgbench load (Tandem)", () -> pgbenchPhase.run(c));
      if (pgbench != null && !pgbench.exactlyOnce()) {
        phases.fail(); // the phase ended, but found a workflow not run exactly once
      }

      System.out.println();
      System.out.printf(
          "summary (N=%d, worker concurrency=%s, poll interval=%d s):%n",
          options.workflows(), concurrencyLabel(), TandemQueue.POLL_INTERVAL.toSeconds());
      if (latency != null) {
        System.out.printf(
            "  enqueue->start (java): %s (target p50 <= 1.5 ms, p99 <= 5 ms: %s)%n",
            latency.javaStart().p50p99(2),
            latency.javaStart().percentileMillis(0.50) <= 1.5
                    && latency.javaStart().percentileMillis(0.99) <= 5
                ? "met"
                : "NOT met");
        System.out.printf(
            "    of which the enqueue statement: %s; after its reply: %s%n",
            latency.enqueue().p50p99(2), latency.afterReply().p50p99(2));
        System.out.println(
            "  enqueue->start (db started_at - created_at): " + latency.dbStart().p50p99(2));
      } else {
        System.out.println("  latency: " + outcome("latency"));
      }
      System.out.println(
          "  tandem queue: " + (tandem == null ? outcome("tandem") : String.format(
              "%.0f wf/s (target >= 5500, 2.5x graphile-worker's best here: %s)",
              tandem.perSecond(), tandem.perSecond() >= 5500 ? "met" : "NOT met")));
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
            "  pgbench: "
                + (pgbenchPhase.skipped() ? "skipped (pgbench not on PATH)" : outcome("pgbench")));
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
            + " pgbench=%d clients x %d s%s%n",
        options.workflows(),
        options.warmup(),
        options.latencyRuns(),
        options.concurrency() > 0 ? options.concurrency() : "default (no queue limit)",
        options.pgbenchClients(),
        options.pgbenchSeconds(),
        options.pgbenchRate() > 0 ? " at " + options.pgbenchRate() + "/s" : "");
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
