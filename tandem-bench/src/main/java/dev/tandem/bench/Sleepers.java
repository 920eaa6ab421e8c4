package dev.tandem.bench;

import dev.tandem.StartOptions;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * The sleepers phase of {@link PrimitivesBench}: {@code N} Tandem workflows that each sleep
 * {@code S} seconds and end, started from {@value #STARTER_THREADS} threads. Once {@code
 * tandem.steps} holds {@code N} {@code SLEEP} checkpoints (every one of them is waiting), measured:
 * heap used after {@link System#gc} minus the same before they started, live threads ({@link
 * ThreadMXBean}; on Java 21+ also the virtual threads, from a thread dump), and this database's
 * client connections in {@code pg_stat_activity} other than the monitoring ones (application name
 * {@value #MONITOR_APP}). Then, as they wake: lateness of the body (its clock after {@code sleep}
 * returned minus the recorded wake-up time) and of the durable end ({@code updated_at} of the
 * {@code SUCCESS} row minus the wake-up time); also how long after {@code sleep()} was called its
 * checkpoint's insert ran (the engine computes the wait before writing that checkpoint, so a slow
 * write makes the wake-up late by as much), and the median lateness in each tenth of the wake-up
 * order (a backlog would make it grow).
 */
final class Sleepers {
  /** Application name of the monitoring connections, left out of the connection counts. */
  static final String MONITOR_APP = "tandem-bench-monitor";

  private static final int STARTER_THREADS = 64;

  /** What the sleepers phase measured. */
  record Result(
      int n,
      double startSeconds,
      double allSleepingSeconds,
      double heapMb,
      int threads,
      int threadsBaseline,
      long virtualThreads,
      int connections,
      int connectionsNotIdle,
      int connectionsMax,
      Load.Latencies bodyLateness,
      Load.Latencies successLateness,
      double dueSpanSeconds) {}

  private final int n;
  private final Duration sleep;
  private final String url;
  private final String prefix;

  /** {@code n} workflows sleeping {@code sleep}, with ids {@code prim-sleep-<runId>-<i>}. */
  Sleepers(int n, Duration sleep, String url, String runId) {
    this.n = n;
    this.sleep = sleep;
    this.url = url;
    this.prefix = "prim-sleep-" + runId + "-";
  }

  /** Starts the sleepers on {@code prims}, measures them while all sleep, then as they wake. */
  Result run(Connection c, TandemPrimitives prims) throws Exception {
    prims.prepareSleepers(n);
    MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();

    int connectionsBefore = connections(c)[0];
    long heapBefore = heapAfterGc(memory);
    int threadsBefore = threads.getThreadCount();
    threads.resetPeakThreadCount();
    System.out.printf(
        "  before: heap used %.1f MB (after GC), %d live threads, %d connections to this database%n",
        heapBefore / 1048576.0, threadsBefore, connectionsBefore);

    ConnectionSampler sampler = new ConnectionSampler(url);
    long t0 = System.nanoTime();
    double startSeconds;
    int connectionsMax;
    try (sampler) {
      Load.concurrently(
          "starter",
          n,
          STARTER_THREADS,
          0,
          i -> prims.sleeper().start(i, StartOptions.withId(prefix + i)));
      startSeconds = (System.nanoTime() - t0) / 1e9;
      System.out.printf(
          "  started %,d from %d threads in %.2f s (%.0f/s; each start returns once its row is"
              + " committed)%n",
          n, STARTER_THREADS, startSeconds, n / startSeconds);

      // Every sleeper has written its SLEEP checkpoint (the wake-up time) before it waits.
      long deadline = t0 + sleep.toNanos();
      while (true) {
        long sleeping =
            Sql.count(
                c,
                "SELECT count(*) FROM tandem.steps WHERE kind = 'SLEEP' AND workflow_id LIKE '"
                    + prefix + "%'");
        if (sleeping >= n) {
          break;
        }
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException(
              "only " + sleeping + " of " + n + " sleeping after " + sleep.toSeconds()
                  + " s, when the first are due; use a larger --sleep-seconds");
        }
        Thread.sleep(50);
      }
    } finally {
      connectionsMax = Math.max(connectionsBefore, sampler.max());
    }
    long allSleeping = System.nanoTime();
    double allSleepingSeconds = (allSleeping - t0) / 1e9;
    System.out.printf(
        "  all %,d sleeping (SLEEP checkpoints in tandem.steps) %.2f s after the first start%n",
        n, allSleepingSeconds);

    Thread.sleep(500); // let the last ones finish parking or blocking
    long heapAfter = heapAfterGc(memory);
    int threadsNow = threads.getThreadCount();
    int peak = threads.getPeakThreadCount();
    int[] conns = connections(c);
    for (int k = 0; k < 4; k++) { // a few samples: the pool may open or close one meanwhile
      Thread.sleep(100);
      int[] again = connections(c);
      conns[0] = Math.max(conns[0], again[0]);
      conns[1] = Math.max(conns[1], again[1]);
    }
    long woken = 0;
    for (int i = 0; i < n; i++) {
      if (prims.wokeMicros(i) != 0) {
        woken++;
      }
    }
    Map<String, Long> states = statuses(c);
    long virtual = virtualThreads();
    long measured = System.nanoTime();
    double heapMb = (heapAfter - heapBefore) / 1048576.0;
    System.out.printf(
        "  while all sleep: heap used %.1f MB after GC (+%.1f MB, %.2f KB per sleeper), %d live"
            + " threads (+%d; peak %d)%s%n",
        heapAfter / 1048576.0,
        heapMb,
        heapMb * 1024 / n,
        threadsNow,
        threadsNow - threadsBefore,
        peak,
        virtual >= 0 ? ", " + virtual + " virtual threads (thread dump)" : "");
    System.out.printf(
        "  connections to this database (pg_stat_activity, monitor excluded): %d, of which %d not"
            + " idle; at most %d while starting%n",
        conns[0], conns[1], connectionsMax);
    System.out.println("  workflow statuses: " + states + (woken > 0
        ? "; WARNING: " + woken + " had already woken when measured (use a larger --sleep-seconds)"
        : ""));
    System.out.printf("  measuring took %.2f s%n", (measured - allSleeping) / 1e9);

    // Wait for every one to wake and end.
    awaitSuccess(c, sleep.plus(Duration.ofSeconds(120)));
    long done = System.nanoTime();
    // Wake-up times as recorded (epoch ms in the SLEEP checkpoint), and when SUCCESS was written.
    long[] body = new long[n];
    long[] success = new long[n];
    long[] written = new long[n];
    long sleepMicros = sleep.toNanos() / 1000;
    long[] dues = new long[n];
    long firstDue = Long.MAX_VALUE;
    long lastDue = Long.MIN_VALUE;
    try (Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT w.workflow_id, (st.output::text)::bigint,"
                    + " (extract(epoch FROM w.updated_at) * 1e6)::bigint,"
                    + " (extract(epoch FROM st.finished_at) * 1e6)::bigint"
                    + " FROM tandem.workflow_status w JOIN tandem.steps st"
                    + " ON st.workflow_id = w.workflow_id AND st.kind = 'SLEEP'"
                    + " WHERE w.workflow_id LIKE '" + prefix + "%'")) {
      int rows = 0;
      while (rs.next()) {
        int i = Integer.parseInt(rs.getString(1).substring(prefix.length()));
        long dueMicros = rs.getLong(2) * 1000;
        dues[i] = dueMicros;
        firstDue = Math.min(firstDue, dueMicros);
        lastDue = Math.max(lastDue, dueMicros);
        body[i] = (prims.wokeMicros(i) - dueMicros) * 1000;
        success[i] = (rs.getLong(3) - dueMicros) * 1000;
        // When the SLEEP checkpoint's insert ran (now() of the group commit that wrote it), from
        // when sleep() was called (its wake-up time minus the duration).
        written[i] = (rs.getLong(4) - (dueMicros - sleepMicros)) * 1000;
        rows++;
      }
      if (rows != n) {
        throw new IllegalStateException(rows + " sleepers with a SLEEP checkpoint, expected " + n);
      }
    }
    Load.Latencies bodyLateness = Load.Latencies.of(body);
    Load.Latencies successLateness = Load.Latencies.of(success);
    double dueSpan = (lastDue - firstDue) / 1e6;
    System.out.printf(
        "  all ended SUCCESS %.1f s after the first start; wake-up times span %.2f s%n",
        (done - t0) / 1e9, dueSpan);
    System.out.println("  lateness, body resumed after sleep:   " + lateness(bodyLateness));
    System.out.println("  lateness, SUCCESS row (updated_at):   " + lateness(successLateness));
    System.out.println(
        "  sleep() called -> its SLEEP checkpoint's insert (steps.finished_at): "
            + lateness(Load.Latencies.of(written)));
    System.out.println(
        "  body lateness p50 by tenth of the wake-up order (ms): " + byTenth(dues, body));
    return new Result(
        n,
        startSeconds,
        allSleepingSeconds,
        heapMb,
        threadsNow,
        threadsBefore,
        virtual,
        conns[0],
        conns[1],
        connectionsMax,
        bodyLateness,
        successLateness,
        dueSpan);
  }

  /** The median of {@code values} in each tenth of the order of {@code keys}, in ms. */
  private static String byTenth(long[] keys, long[] values) {
    Integer[] order = new Integer[keys.length];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    Arrays.sort(order, (a, b) -> Long.compare(keys[a], keys[b]));
    StringBuilder out = new StringBuilder();
    for (int t = 0; t < 10; t++) {
      int from = order.length * t / 10;
      int to = order.length * (t + 1) / 10;
      if (to <= from) {
        continue;
      }
      long[] part = new long[to - from];
      for (int k = from; k < to; k++) {
        part[k - from] = values[order[k]];
      }
      out.append(out.length() == 0 ? "" : " ")
          .append(String.format("%.0f", Load.Latencies.of(part).percentileMillis(0.5)));
    }
    return out.toString();
  }

  private static long heapAfterGc(MemoryMXBean memory) throws InterruptedException {
    for (int k = 0; k < 3; k++) {
      System.gc();
      Thread.sleep(100);
    }
    return memory.getHeapMemoryUsage().getUsed();
  }

  /** {total, not idle} client connections to this database, the monitoring ones excluded. */
  private static int[] connections(Connection c) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT count(*), count(*) FILTER (WHERE state <> 'idle') FROM pg_stat_activity"
                    + " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    + " AND backend_type = 'client backend'"
                    + " AND application_name IS DISTINCT FROM '" + MONITOR_APP + "'")) {
      rs.next();
      return new int[] {rs.getInt(1), rs.getInt(2)};
    }
  }

  /** Samples the connection count every 20 ms on a monitoring connection of its own. */
  private static final class ConnectionSampler implements AutoCloseable {
    private final Connection conn;
    private final Thread thread;
    private volatile boolean stop;
    private volatile int max;

    ConnectionSampler(String url) throws SQLException {
      conn = DriverManager.getConnection(url);
      conn.setAutoCommit(true);
      Sql.execute(conn, "SET application_name = '" + MONITOR_APP + "'");
      thread =
          new Thread(
              () -> {
                while (!stop) {
                  try {
                    max = Math.max(max, connections(conn)[0]);
                    Thread.sleep(20);
                  } catch (SQLException | InterruptedException e) {
                    return;
                  }
                }
              },
              "connection-sampler");
      thread.setDaemon(true);
      thread.start();
    }

    int max() {
      return max;
    }

    @Override
    public void close() throws SQLException {
      stop = true;
      try {
        thread.join(1000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      conn.close();
    }
  }

  private Map<String, Long> statuses(Connection c) throws SQLException {
    Map<String, Long> out = new HashMap<>();
    try (Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT status, count(*) FROM tandem.workflow_status WHERE workflow_id LIKE '"
                    + prefix + "%' GROUP BY status ORDER BY status")) {
      while (rs.next()) {
        out.put(rs.getString(1), rs.getLong(2));
      }
    }
    return out;
  }

  /**
   * Virtual threads alive now, counted in a JSON thread dump (Java 21+; -1 before). The dump is
   * taken after the heap and thread counts, as it allocates.
   */
  private static long virtualThreads() {
    if (Runtime.version().feature() < 21) {
      return -1;
    }
    Path file = null;
    try {
      Class<?> bean = Class.forName("com.sun.management.HotSpotDiagnosticMXBean");
      Class<?> format = Class.forName("com.sun.management.HotSpotDiagnosticMXBean$ThreadDumpFormat");
      @SuppressWarnings({"unchecked", "rawtypes"})
      Object json = Enum.valueOf((Class) format, "JSON");
      Object mx = ManagementFactory.getPlatformMXBean((Class) bean);
      file = Files.createTempFile("tandem-bench-threads", ".json");
      Files.delete(file); // dumpThreads refuses an existing file
      bean.getMethod("dumpThreads", String.class, format).invoke(mx, file.toString(), json);
      long count = 0;
      try (var lines = Files.lines(file)) {
        count = lines.filter(l -> l.contains("\"virtual\": true")).count();
      }
      return count;
    } catch (ReflectiveOperationException | IOException | RuntimeException e) {
      System.out.println("  (could not count virtual threads: " + e + ")");
      return -1;
    } finally {
      if (file != null) {
        try {
          Files.deleteIfExists(file);
        } catch (IOException ignored) {
          // a temporary file
        }
      }
    }
  }

  private void awaitSuccess(Connection c, Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      long success;
      long bad;
      try (Statement s = c.createStatement();
          ResultSet rs =
              s.executeQuery(
                  "SELECT count(*) FILTER (WHERE status = 'SUCCESS'),"
                      + " count(*) FILTER (WHERE status IN ('ERROR', 'CANCELLED', 'RETRIES_EXCEEDED'))"
                      + " FROM tandem.workflow_status WHERE workflow_id LIKE '" + prefix + "%'")) {
        rs.next();
        success = rs.getLong(1);
        bad = rs.getLong(2);
      }
      if (bad > 0) {
        throw new IllegalStateException(bad + " sleepers ended in failure");
      }
      if (success >= n) {
        return;
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "after " + timeout.toSeconds() + " s, " + success + " of " + n + " sleepers are SUCCESS");
      }
      Thread.sleep(100);
    }
  }

  /** p50, p99, max and min in ms, with one decimal. */
  private static String lateness(Load.Latencies l) {
    return String.format("%s max=%.1f ms min=%.1f ms", l.p50p99(1), l.maxMillis(), l.minMillis());
  }
}
