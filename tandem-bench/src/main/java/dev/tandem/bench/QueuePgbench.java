package dev.tandem.bench;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;

/**
 * The <b>pgbench</b> phase of {@link QueueBench} (what it measures is described there): {@code
 * pgbench} enqueues while a Tandem worker drains, then the exactly-once check.
 */
final class QueuePgbench {
  /** What the pgbench phase found. */
  record PgbenchResult(
      Pgbench.Report report,
      long enqueued,
      long success,
      long runs,
      long distinctRuns,
      long notExactlyOnce,
      long bodyStarts,
      QueueThroughput.Drain drain,
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
  private boolean skipped;

  QueuePgbench(Options options) {
    this.options = options;
    this.url = options.databaseUrl();
  }

  /** Whether the phase was skipped because pgbench is not on the PATH. */
  boolean skipped() {
    return skipped;
  }

  /** Runs the phase; null if skipped. The caller marks the run failed if not exactly once. */
  PgbenchResult run(Connection c) throws Exception {
    Path pgbench = Pgbench.find();
    if (pgbench == null) {
      skipped = true;
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
    int rate = options.pgbenchRate();
    Pgbench.Report report;
    long bodyStarts;
    double drainAfter;
    try (TandemQueue worker = new TandemQueue(url, QueueBench.POOL_SIZE, options.concurrency())) {
      System.out.printf(
          "  %s: %d clients for %d s, %s, each transaction: %s",
          pgbench, clients, seconds, rate > 0 ? "aiming at " + rate + "/s" : "as fast as they can",
          script.lines().skip(1).findFirst().orElse("") + "\n");
      report = Pgbench.run(pgbench, url, script, clients, seconds, rate);
      long ended = System.nanoTime();
      if (report.exitCode() != 0 || report.processed() < 0) {
        throw new IllegalStateException(
            "pgbench exited with status " + report.exitCode() + ":\n" + report.output().strip());
      }
      System.out.printf(
          "  pgbench: %d transactions, %d failed, %.0f tps; enqueue latency %s%n",
          report.processed(), report.failed(), report.tps(),
          QueueLatency.perWorkflow(report.latencies()));
      long enqueued = Sql.count(c, "SELECT count(*) FROM tandem.workflow_status WHERE name = '"
          + TandemQueue.COUNTED_WORKFLOW + "'");
      QueueThroughput.awaitTandem(
          c, TandemQueue.COUNTED_WORKFLOW, enqueued, QueueThroughput.DRAIN_TIMEOUT);
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
    QueueThroughput.Drain drain;
    try (Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT count(*), extract(epoch FROM max(updated_at) - min(started_at))"
                    + " FROM tandem.workflow_status WHERE name = " + name
                    + " AND status = 'SUCCESS'")) {
      rs.next();
      drain =
          new QueueThroughput.Drain(
              rs.getLong(1), rs.getLong(1) / rs.getDouble(2), rs.getDouble(2));
    }
    Load.Latencies dbStart =
        QueueLatency.dbStartLatencyOfName(c, TandemQueue.COUNTED_WORKFLOW);
    PgbenchResult result =
        new PgbenchResult(
            report, enqueued, success, runs, distinctRuns, notExactlyOnce, bodyStarts, drain, dbStart,
            drainAfter);
    System.out.printf(
        "  worker: drained %d at %.0f wf/s (first claim to last SUCCESS %.2f s; done %.2f s after"
            + " pgbench ended)%n",
        drain.workflows(), drain.perSecond(), drain.seconds(), drainAfter);
    System.out.println(
        "  enqueue->start under load (db started_at - created_at): "
            + QueueLatency.perWorkflow(dbStart));
    System.out.printf(
        "  check: pgbench committed %d, enqueued rows %d, SUCCESS %d, execution rows %d"
            + " (%d distinct workflows), workflows not run exactly once %d, bodies started %d%n",
        report.processed(), enqueued, success, runs, distinctRuns, notExactlyOnce, bodyStarts);
    System.out.println(
        "  exactly once: " + (result.exactlyOnce() ? "yes, every enqueued workflow completed once"
            : "NO"));
    return result;
  }
}
