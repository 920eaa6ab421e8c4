package dev.tandem.bench;

import dev.tandem.QueueOptions;
import dev.tandem.Tandem;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One Tandem worker for the queue benchmark: an engine that runs the workflows enqueued from SQL
 * into queue {@code default}. Its poll interval is {@link #POLL_INTERVAL}, long on purpose, so
 * that only the NOTIFY sent by {@code tandem.enqueue_workflow} can explain a short wait.
 *
 * <ul>
 *   <li>{@value #WORKFLOW}: one trivial step. Its body reports when it started to a waiter that
 *       the latency client registered for its id, if any.
 *   <li>{@value #COUNTED_WORKFLOW}: one transactional step that inserts a row into {@value
 *       #RUNS_TABLE}, so that the table counts the executions that committed.
 * </ul>
 */
final class TandemQueue implements AutoCloseable {
  static final String WORKFLOW = "queue_bench";
  static final String COUNTED_WORKFLOW = "queue_bench_counted";
  static final String RUNS_TABLE = "bench_queue_runs";
  static final Duration POLL_INTERVAL = Duration.ofSeconds(5);

  private final Tandem tandem;
  private final Map<String, CompletableFuture<Long>> startWaiters = new ConcurrentHashMap<>();
  private final AtomicLong bodyStarts = new AtomicLong();

  /**
   * Starts the worker.
   *
   * @param workerConcurrency how many workflows of queue {@code default} it runs at once; 0 for
   *     no limit of queue {@code default} (the engine's own cap then applies)
   */
  TandemQueue(String jdbcUrl, int poolSize, int workerConcurrency) {
    QueueOptions queue = QueueOptions.unlimited();
    if (workerConcurrency > 0) {
      queue = queue.workerConcurrency(workerConcurrency);
    }
    // Declared even without a limit: a limit stored by an earlier run would otherwise stay.
    tandem =
        Tandem.builder()
            .databaseUrl(jdbcUrl)
            .maxPoolSize(poolSize)
            .pollInterval(POLL_INTERVAL)
            .queue("default", queue)
            .build();
    tandem.register(
        WORKFLOW,
        Integer.class,
        (ctx, i) -> {
          long now = System.nanoTime();
          bodyStarts.incrementAndGet();
          CompletableFuture<Long> waiter = startWaiters.get(ctx.workflowId());
          if (waiter != null) {
            waiter.complete(now);
          }
          return ctx.step("add-one", () -> i + 1);
        });
    tandem.register(
        COUNTED_WORKFLOW,
        Integer.class,
        (ctx, i) -> {
          bodyStarts.incrementAndGet();
          return ctx.transaction(
              "count",
              conn -> {
                try (PreparedStatement ps =
                    conn.prepareStatement(
                        "INSERT INTO " + RUNS_TABLE + " (workflow_id, input) VALUES (?, ?)")) {
                  ps.setString(1, ctx.workflowId());
                  ps.setInt(2, i);
                  ps.executeUpdate();
                }
                return i;
              });
        });
    tandem.start();
  }

  /** Creates (if missing) and empties the table that counts executions. Autocommit. */
  static void resetRuns(Connection c) throws SQLException {
    try (Statement s = c.createStatement()) {
      // No unique key on workflow_id: a duplicate execution must show up as a second row.
      s.execute(
          "CREATE TABLE IF NOT EXISTS " + RUNS_TABLE + " (id bigserial PRIMARY KEY,"
              + " workflow_id text NOT NULL, input int NOT NULL,"
              + " committed_at timestamptz NOT NULL DEFAULT clock_timestamp())");
      s.execute("TRUNCATE " + RUNS_TABLE + " RESTART IDENTITY");
    }
  }

  /** Registers interest in when workflow {@code id}'s body starts; call before enqueueing it. */
  CompletableFuture<Long> expectStart(String id) {
    CompletableFuture<Long> waiter = new CompletableFuture<>();
    startWaiters.put(id, waiter);
    return waiter;
  }

  /** Waits for workflow {@code id} to finish (in-memory when it runs here) and forgets it. */
  void awaitFinished(String id, Duration timeout) {
    try {
      tandem.handle(id).result(timeout);
    } finally {
      startWaiters.remove(id);
    }
  }

  /** How many times a workflow body started in this worker (recoveries and replays included). */
  long bodyStarts() {
    return bodyStarts.get();
  }

  static long await(CompletableFuture<Long> f, Duration timeout) throws Exception {
    return f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  @Override
  public void close() {
    tandem.close();
  }
}
