package dev.tandem.bench;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.tandem.QueueOptions;
import dev.tandem.Tandem;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Locale;
import javax.sql.DataSource;

/**
 * One executor of {@code tandem-bench scale}, run in a child JVM ({@code ScaleWorker URL
 * EXECUTOR_ID}) until its standard input closes. Workflow {@value #WORKFLOW}, input {@link Job}:
 *
 * <ol>
 *   <li>outside any step, so on every attempt: inserts a row into {@value #ATTEMPTS} (when and
 *       where this attempt started, server clock);
 *   <li>step {@code work}: sleeps {@code sleepMillis} (0 for the throughput runs);
 *   <li>transactional step {@code record}: inserts a row into {@value #RUNS} with the attempt's
 *       start and the time of the insert, so the table has one row per workflow if and only if
 *       each transactional step ran exactly once, and holds each execution's start and end.
 * </ol>
 *
 * <p>Short intervals, so that a takeover is quick to measure: heartbeat {@link #HEARTBEAT},
 * executor timeout {@link #EXECUTOR_TIMEOUT}. Queues: {@code default} (no limit), {@value
 * #LIMITED_QUEUE} (at most {@value #LIMIT} running across all executors, {@value
 * #LIMITED_PER_EXECUTOR} per executor: with two or more executors the global limit is what binds,
 * and no executor can take all of it) and {@value #TAKEOVER_QUEUE}
 * ({@value #TAKEOVER_SLOTS} per executor, so that each executor holds the same share).
 */
final class ScaleWorker {
  static final String WORKFLOW = "scale_work";
  static final String ATTEMPTS = "bench_scale_attempts";
  static final String RUNS = "bench_scale_runs";
  static final String LIMITED_QUEUE = "scale_limited";
  static final String TAKEOVER_QUEUE = "scale_takeover";
  static final int LIMIT = 3;
  static final int LIMITED_PER_EXECUTOR = 2;
  static final int TAKEOVER_SLOTS = 4;
  static final Duration HEARTBEAT = Duration.ofMillis(500);
  static final Duration EXECUTOR_TIMEOUT = Duration.ofSeconds(2);
  private static final int POOL_SIZE = 24;

  /** A workflow's input: its number, and how long its step sleeps. */
  record Job(int i, int sleepMillis) {}

  private ScaleWorker() {}

  public static void main(String[] args) throws Exception {
    Locale.setDefault(Locale.ROOT);
    if (args.length != 2) {
      System.err.println("usage: ScaleWorker JDBC_URL EXECUTOR_ID");
      System.exit(2);
    }
    String executorId = args[1];
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(args[0]);
    config.setMaximumPoolSize(POOL_SIZE);
    config.setPoolName("scale-worker");
    try (HikariDataSource pool = new HikariDataSource(config)) {
      Tandem tandem =
          Tandem.builder()
              .dataSource(pool)
              .executorId(executorId)
              .heartbeatInterval(HEARTBEAT)
              .executorTimeout(EXECUTOR_TIMEOUT)
              .shutdownTimeout(Duration.ofSeconds(2))
              .queue("default", QueueOptions.unlimited())
              .queue(LIMITED_QUEUE, QueueOptions.unlimited().concurrency(LIMIT)
                  .workerConcurrency(LIMITED_PER_EXECUTOR))
              .queue(TAKEOVER_QUEUE, QueueOptions.unlimited().workerConcurrency(TAKEOVER_SLOTS))
              .build();
      tandem.register(
          WORKFLOW,
          Job.class,
          (ctx, job) -> {
            long attempt = recordAttempt(pool, ctx.workflowId(), executorId);
            ctx.step(
                "work",
                () -> {
                  if (job.sleepMillis() > 0) {
                    Thread.sleep(job.sleepMillis());
                  }
                  return job.i();
                });
            ctx.transaction(
                "record",
                conn -> {
                  try (PreparedStatement ps =
                      conn.prepareStatement(
                          "INSERT INTO " + RUNS
                              + " (workflow_id, executor_id, started_at, ended_at)"
                              + " SELECT ?, ?, a.started_at, clock_timestamp() FROM " + ATTEMPTS
                              + " a WHERE a.id = ?")) {
                    ps.setString(1, ctx.workflowId());
                    ps.setString(2, executorId);
                    ps.setLong(3, attempt);
                    ps.executeUpdate();
                  }
                  return null;
                });
            return job.i();
          });
      tandem.start();
      System.out.println("ready " + executorId + " pid " + ProcessHandle.current().pid());
      ChildJvm.awaitEndOfInput();
      tandem.close();
    }
    System.exit(0);
  }

  /** Inserts this attempt's row (autocommit, not a step: it is written on every attempt). */
  private static long recordAttempt(DataSource pool, String workflowId, String executorId)
      throws SQLException {
    try (Connection c = pool.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "INSERT INTO " + ATTEMPTS
                    + " (workflow_id, executor_id) VALUES (?, ?) RETURNING id")) {
      ps.setString(1, workflowId);
      ps.setString(2, executorId);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  /** Creates (if missing) and empties the application tables. Autocommit. */
  static void resetTables(Connection c) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.execute(
          "CREATE TABLE IF NOT EXISTS " + ATTEMPTS + " (id bigserial PRIMARY KEY,"
              + " workflow_id text NOT NULL, executor_id text NOT NULL,"
              + " started_at timestamptz NOT NULL DEFAULT clock_timestamp())");
      // No unique key on workflow_id: a transactional step run twice must show as a second row.
      s.execute(
          "CREATE TABLE IF NOT EXISTS " + RUNS + " (id bigserial PRIMARY KEY,"
              + " workflow_id text NOT NULL, executor_id text NOT NULL,"
              + " started_at timestamptz NOT NULL, ended_at timestamptz NOT NULL)");
      s.execute("TRUNCATE " + ATTEMPTS + ", " + RUNS + " RESTART IDENTITY");
    }
  }
}
