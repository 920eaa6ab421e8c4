package dev.tandem.bench;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.tandem.Tandem;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Many idle executors in one JVM: {@code Tandem} engines with heartbeat {@link #HEARTBEAT} (and
 * executor timeout {@link #EXECUTOR_TIMEOUT}), each registering one workflow, all sharing one small
 * application pool ({@value #SHARED_POOL} connections; each engine opens its own engine
 * connections, as it does with a HikariCP pool that has a JDBC URL). They run against a PostgreSQL
 * of their own ({@link LocalPostgres}, with {@code pg_stat_statements} preloaded and room for the
 * connections: two idle executors per server slot is not enough on a default server of 100). For
 * 10, 50, 100 and 200 executors (added to those already running), after a settling pause, it
 * measures over {@link #WINDOW}: statements/s ({@code pg_stat_statements} calls), commits/s
 * ({@code pg_stat_database}, flushed by active backends about once a second), rows read (tup_*),
 * scans of tandem tables, the server's CPU (its processes' utime+stime), and connections; then the
 * statements that {@value #ENQUEUES} single enqueues cause beyond that.
 */
final class ExecutorSim {
  static final Duration HEARTBEAT = Duration.ofMillis(500);
  static final Duration EXECUTOR_TIMEOUT = Duration.ofSeconds(2);
  private static final int[] SIZES = {10, 50, 100, 200};
  private static final int SHARED_POOL = 8;
  private static final Duration SETTLE = Duration.ofSeconds(6);
  private static final Duration WINDOW = Duration.ofSeconds(10);
  private static final int ENQUEUES = 20;
  private static final int BUSY_ROWS = 2_000;
  private static final String DB = "sim";

  /** Cumulative counters at one moment. */
  private record Counters(
      long nanos, long calls, long commits, long rolledBack, long tupReturned, long tupFetched,
      long tupWritten, long seqScans, long idxScans, long cpuTicks) {}

  private ExecutorSim() {}

  static boolean run() throws Exception {
    Phases.heading("200 executors (simulated in one JVM, idle)");
    List<Tandem> engines = new ArrayList<>();
    try (LocalPostgres pg = LocalPostgres.start("sim", List.of(
        "max_connections = 1500", "shared_buffers = '256MB'",
        "shared_preload_libraries = 'pg_stat_statements'", "pg_stat_statements.max = 1000",
        "pg_stat_statements.track = 'all'"))) {
      try (Connection admin = DriverManager.getConnection(pg.url("postgres"))) {
        Sql.execute(admin, "CREATE DATABASE " + DB);
      }
      String url = pg.url(DB);
      HikariConfig config = new HikariConfig();
      config.setJdbcUrl(url);
      config.setMaximumPoolSize(SHARED_POOL);
      config.setMinimumIdle(2);
      config.setPoolName("sim-shared");
      try (HikariDataSource shared = new HikariDataSource(config);
          Connection c = DriverManager.getConnection(url)) {
        try {
        Sql.execute(c, "CREATE EXTENSION pg_stat_statements");
        System.out.printf(
            "  own PostgreSQL 15 on port %d (max_connections 1500, pg_stat_statements); each"
                + " executor: heartbeat %d ms, executor timeout %d ms, poll interval 1 s (default),"
                + " one workflow registered, no workload; one shared application pool of %d%n",
            pg.port(), HEARTBEAT.toMillis(), EXECUTOR_TIMEOUT.toMillis(), SHARED_POOL);
        System.out.println("  executors  statements/s  per executor  commits/s  rows read/s"
            + "  tandem scans/s  server CPU %  connections  statements per enqueue"
            + "  | with " + BUSY_ROWS + " RUNNING: server CPU %  rows read/s");
        String top = "";
        String busyTop = "";
        for (int size : SIZES) {
          startEngines(engines, shared, size);
          Thread.sleep(SETTLE.toMillis());
          Sql.execute(c, "SELECT pg_stat_statements_reset()");
          Counters a = counters(c, pg);
          Thread.sleep(WINDOW.toMillis());
          Counters b = counters(c, pg);
          double s = (b.nanos() - a.nanos()) / 1e9;
          double statements = (b.calls() - a.calls()) / s;
          if (size == SIZES[SIZES.length - 1]) {
            top = topStatements(c, s);
          }
          long connections = Sql.count(c,
              "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()");
          double perEnqueue = perEnqueue(c, pg, statements);
          double[] busy = busy(c, pg);
          if (size == SIZES[SIZES.length - 1]) {
            busyTop = topStatements(c, busy[2]);
          }
          System.out.printf(
              "  %9d  %12.0f  %12.1f  %9.0f  %11.0f  %14.0f  %12.0f  %11d  %21.0f"
                  + "  | %31.0f  %11.0f%n",
              size, statements, statements / size, (b.commits() - a.commits()) / s,
              (b.tupReturned() - a.tupReturned() + b.tupFetched() - a.tupFetched()) / s,
              (b.seqScans() - a.seqScans() + b.idxScans() - a.idxScans()) / s,
              100.0 * (b.cpuTicks() - a.cpuTicks()) / 100 / s, connections, perEnqueue, busy[0],
              busy[1]);
        }
        System.out.println("  busiest statements (by total time) at " + SIZES[SIZES.length - 1]
            + " idle executors:");
        System.out.print(top);
        System.out.println("  connections by application_name and state: "
            + connectionsByName(c));
        System.out.printf("  busiest statements at %d executors with %d RUNNING workflows of a live"
            + " executor:%n", SIZES[SIZES.length - 1], BUSY_ROWS);
        System.out.print(busyTop);
        } finally {
          closeAll(engines); // before the shared pool they use
        }
      }
    }
    return true;
  }

  private static void startEngines(List<Tandem> engines, HikariDataSource shared, int size)
      throws Exception {
    ExecutorService starter = Executors.newFixedThreadPool(8);
    try {
      List<Future<Tandem>> started = new ArrayList<>();
      for (int k = engines.size(); k < size; k++) {
        String id = "sim-" + k;
        started.add(starter.submit(() -> {
          Tandem t = Tandem.builder()
              .dataSource(shared)
              .executorId(id)
              .heartbeatInterval(HEARTBEAT)
              .executorTimeout(EXECUTOR_TIMEOUT)
              .shutdownTimeout(Duration.ofSeconds(1))
              .build();
          t.register("sim_idle", Integer.class, (ctx, i) -> i);
          t.start();
          return t;
        }));
      }
      for (Future<Tandem> f : started) {
        engines.add(f.get());
      }
    } finally {
      starter.shutdown();
    }
  }

  private static void closeAll(List<Tandem> engines) throws Exception {
    ExecutorService closer = Executors.newFixedThreadPool(16);
    List<Future<?>> closing = new ArrayList<>();
    for (Tandem t : engines) {
      closing.add(closer.submit(t::close));
    }
    for (Future<?> f : closing) {
      f.get();
    }
    closer.shutdown();
  }

  /** Statements per enqueue beyond the idle rate: enqueues one workflow every 100 ms. */
  private static double perEnqueue(Connection c, LocalPostgres pg, double idlePerSecond)
      throws Exception {
    Sql.execute(c, "SELECT pg_stat_statements_reset()");
    Counters a = counters(c, pg);
    for (int k = 0; k < ENQUEUES; k++) {
      Sql.execute(c, "SELECT tandem.enqueue_workflow('sim_idle', '1')");
      Thread.sleep(100);
    }
    Thread.sleep(200);
    Counters b = counters(c, pg);
    double s = (b.nanos() - a.nanos()) / 1e9;
    return ((b.calls() - a.calls()) - idlePerSecond * s) / ENQUEUES;
  }

  /**
   * The same idle executors while {@value #BUSY_ROWS} workflows are RUNNING on another executor
   * that is alive (its heartbeat kept fresh here), as if the cluster had work in flight: every
   * executor's orphan scan looks at them. Returns {server CPU %, rows read/s, seconds}.
   */
  private static double[] busy(Connection c, LocalPostgres pg) throws Exception {
    Sql.execute(c, "INSERT INTO tandem.executors (executor_id, incarnation)"
        + " VALUES ('sim-busy', gen_random_uuid())");
    Sql.execute(c, "INSERT INTO tandem.workflow_status (workflow_id, name, status, executor_id,"
        + " owner_epoch, started_at) SELECT 'busy-' || g, 'sim_idle', 'RUNNING', 'sim-busy', 1,"
        + " now() FROM generate_series(1, " + BUSY_ROWS + ") g");
    Sql.execute(c, "ANALYZE tandem.workflow_status");
    try {
      long end = System.nanoTime() + SETTLE.toNanos() / 2;
      while (System.nanoTime() < end) {
        keepBusyAlive(c);
      }
      Sql.execute(c, "SELECT pg_stat_statements_reset()");
      Counters a = counters(c, pg);
      end = System.nanoTime() + WINDOW.toNanos();
      while (System.nanoTime() < end) {
        keepBusyAlive(c);
      }
      Counters b = counters(c, pg);
      double s = (b.nanos() - a.nanos()) / 1e9;
      return new double[] {
        100.0 * (b.cpuTicks() - a.cpuTicks()) / 100 / s,
        (b.tupReturned() - a.tupReturned() + b.tupFetched() - a.tupFetched()) / s, s};
    } finally {
      Sql.execute(c, "DELETE FROM tandem.workflow_status WHERE workflow_id LIKE 'busy-%'");
      Sql.execute(c, "DELETE FROM tandem.executors WHERE executor_id = 'sim-busy'");
    }
  }

  private static void keepBusyAlive(Connection c) throws Exception {
    Sql.execute(
        c, "UPDATE tandem.executors SET heartbeat_at = now() WHERE executor_id = 'sim-busy'");
    Thread.sleep(200);
  }

  private static Counters counters(Connection c, LocalPostgres pg) throws Exception {
    Sql.execute(c, "SELECT pg_stat_force_next_flush()");
    long calls = Sql.count(c, "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements");
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(
            "SELECT d.xact_commit, d.xact_rollback, d.tup_returned, d.tup_fetched,"
                + " d.tup_inserted + d.tup_updated + d.tup_deleted,"
                + " (SELECT coalesce(sum(seq_scan), 0) FROM pg_stat_user_tables"
                + "   WHERE schemaname = 'tandem'),"
                + " (SELECT coalesce(sum(idx_scan), 0) FROM pg_stat_user_tables"
                + "   WHERE schemaname = 'tandem')"
                + " FROM pg_stat_database d WHERE d.datname = current_database()")) {
      rs.next();
      return new Counters(System.nanoTime(), calls, rs.getLong(1), rs.getLong(2), rs.getLong(3),
          rs.getLong(4), rs.getLong(5), rs.getLong(6), rs.getLong(7), cpuTicks(pg.postmasterPid()));
    }
  }

  /** utime + stime (clock ticks, 100 a second) of the postmaster and all its children. */
  private static long cpuTicks(long postmaster) throws Exception {
    long total = 0;
    try (var procs = Files.list(Path.of("/proc"))) {
      for (Path p : procs.filter(p -> p.getFileName().toString().matches("\\d+")).toList()) {
        String stat;
        try {
          stat = Files.readString(p.resolve("stat"));
        } catch (Exception e) {
          continue; // exited meanwhile
        }
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        long pid = Long.parseLong(p.getFileName().toString());
        if (pid == postmaster || Long.parseLong(f[1]) == postmaster) {
          total += Long.parseLong(f[11]) + Long.parseLong(f[12]);
        }
      }
    }
    return total;
  }

  private static String topStatements(Connection c, double seconds) throws SQLException {
    StringBuilder out = new StringBuilder();
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(
            "SELECT calls, mean_exec_time, shared_blks_hit + shared_blks_read,"
                + " 100 * total_exec_time / sum(total_exec_time) OVER (),"
                + " regexp_replace(query, '\\s+', ' ', 'g')"
                + " FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 8")) {
      out.append("    calls/s  mean ms  blocks/call  % of time  statement\n");
      while (rs.next()) {
        String q = rs.getString(5);
        out.append(String.format("    %7.0f  %7.3f  %11.1f  %9.0f  %s%n", rs.getLong(1) / seconds,
            rs.getDouble(2), rs.getDouble(3) / Math.max(1, rs.getLong(1)), rs.getDouble(4),
            q.length() > 100 ? q.substring(0, 100) + "..." : q));
      }
    }
    return out.toString();
  }

  private static String connectionsByName(Connection c) throws SQLException {
    List<String> out = new ArrayList<>();
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(
            "SELECT coalesce(nullif(application_name, ''), '?') || ' ' || coalesce(state, '?'),"
                + " count(*) FROM pg_stat_activity WHERE datname = current_database()"
                + " GROUP BY 1 ORDER BY 2 DESC")) {
      while (rs.next()) {
        out.add(rs.getString(1) + "=" + rs.getLong(2));
      }
    }
    return String.join(", ", out);
  }
}
