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
        Sql.execute(c, "CREATE EXTENSION pg_stat_statements");
        System.out.printf(
            "  own PostgreSQL 15 on port %d (max_connections 1500, pg_stat_statements); each"
                + " executor: heartbeat %d ms, executor timeout %d ms, poll interval 1 s (default),"
                + " one workflow registered, no workload; one shared application pool of %d%n",
            pg.port(), HEARTBEAT.toMillis(), EXECUTOR_TIMEOUT.toMillis(), SHARED_POOL);
        System.out.println("  executors  statements/s  per executor  commits/s  rows read/s"
            + "  tandem scans/s (seq+idx)  server CPU %  connections  statements per enqueue");
        String top = "";
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
          System.out.printf(
              "  %9d  %12.0f  %12.1f  %9.0f  %11.0f  %24.0f  %12.0f  %11d  %21.0f%n",
              size, statements, statements / size, (b.commits() - a.commits()) / s,
              (b.tupReturned() - a.tupReturned() + b.tupFetched() - a.tupFetched()) / s,
              (b.seqScans() - a.seqScans() + b.idxScans() - a.idxScans()) / s,
              100.0 * (b.cpuTicks() - a.cpuTicks()) / 100 / s, connections, perEnqueue);
        }
        System.out.println("  busiest statements at " + SIZES[SIZES.length - 1]
            + " executors (idle window, calls/s, mean ms, rows/call):");
        System.out.print(top);
        System.out.println("  connections by application_name and state: "
            + connectionsByName(c));
      } finally {
        closeAll(engines);
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
            "SELECT calls, mean_exec_time, rows, regexp_replace(query, '\\s+', ' ', 'g')"
                + " FROM pg_stat_statements ORDER BY calls DESC LIMIT 10")) {
      while (rs.next()) {
        String q = rs.getString(4);
        out.append(String.format("    %8.0f/s %6.3f ms %5.1f  %s%n", rs.getLong(1) / seconds,
            rs.getDouble(2), rs.getDouble(3) / Math.max(1, rs.getLong(1)),
            q.length() > 110 ? q.substring(0, 110) + "..." : q));
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
