package dev.tandem.bench;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A pg_auto_failover formation on this machine, in a temporary directory: a monitor, and two
 * PostgreSQL nodes, the second a synchronous standby of the first ({@code pg_autoctl} keeps
 * {@code synchronous_standby_names} set while the standby is healthy). Every {@code pg_autoctl}
 * runs as OS user postgres when we are root. The monitor's health checks are shortened (checked
 * every second, a node unhealthy after 3 s, the standby promoted 5 s after the primary was told
 * to demote when it does not answer) so that the loss of a node is acted on in seconds.
 */
final class AutoFailoverCluster implements AutoCloseable {
  static final String PG_AUTOCTL = "pg_autoctl";
  static final String DB = "bench";

  private final Path dir;
  private final int monitorPort;
  private final int[] ports;
  private final List<Process> keepers = new ArrayList<>();
  private final Process[] nodes = new Process[2];

  private AutoFailoverCluster(Path dir, int monitorPort, int[] ports) {
    this.dir = dir;
    this.monitorPort = monitorPort;
    this.ports = ports;
  }

  /** Whether {@code pg_autoctl} is on the PATH (or in /usr/bin). */
  static boolean available() {
    String path = System.getenv("PATH") + File.pathSeparator + "/usr/bin";
    for (String p : path.split(File.pathSeparator)) {
      if (Files.isExecutable(Path.of(p, PG_AUTOCTL))) {
        return true;
      }
    }
    return false;
  }

  /** Creates and starts the monitor and both nodes; returns once node 1 is primary, 2 secondary. */
  static AutoFailoverCluster start() throws Exception {
    Path dir = LocalPostgres.tempDirectory("failover");
    AutoFailoverCluster c = new AutoFailoverCluster(dir, LocalPostgres.freePort(),
        new int[] {LocalPostgres.freePort(), LocalPostgres.freePort()});
    try {
      c.startMonitor();
      c.startNode(0);
      c.awaitStates(Map.of("node1", "primary|wait_primary|single"), 120);
      c.startNode(1);
      c.awaitHealthy(300);
      return c;
    } catch (Exception e) {
      c.close();
      throw e;
    }
  }

  /** The multi-host URL that follows the primary. */
  String url() {
    return "jdbc:postgresql://127.0.0.1:" + ports[0] + ",127.0.0.1:" + ports[1] + "/" + DB
        + "?user=postgres&targetServerType=primary&connectTimeout=3&loginTimeout=5";
  }

  private void startMonitor() throws Exception {
    LocalPostgres.exec(command("create", "monitor", "--pgdata", dir.resolve("monitor").toString(),
        "--pgport", String.valueOf(monitorPort), "--hostname", "127.0.0.1", "--auth", "trust",
        "--no-ssl"), 120, true);
    keepers.add(background("monitor", "run", "--pgdata", dir.resolve("monitor").toString()));
    long deadline = System.currentTimeMillis() + 60_000;
    while (true) {
      try (Connection m = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + monitorPort
          + "/pg_auto_failover?user=postgres&connectTimeout=2")) {
        // Node loss noticed in about 3 s instead of about 30 s, and the standby promoted 5 s after
        // (not 30 s) if the old primary cannot confirm that it stopped writing: fine for a node
        // that is dead; on a real network, keep the demote timeout above the keepers' network
        // partition timeout (20 s), or a partitioned primary may still take writes meanwhile.
        for (String setting : List.of("health_check_period = 1000",
            "health_check_timeout = 1000", "health_check_max_retries = 1",
            "health_check_retry_delay = 500", "node_considered_unhealthy_timeout = 3000",
            "primary_demote_timeout = 5000")) {
          Sql.execute(m, "ALTER SYSTEM SET pgautofailover." + setting);
        }
        Sql.execute(m, "SELECT pg_reload_conf()");
        return;
      } catch (SQLException e) {
        if (System.currentTimeMillis() > deadline) {
          throw e;
        }
        Thread.sleep(500);
      }
    }
  }

  private void startNode(int k) throws Exception {
    String name = "node" + (k + 1);
    nodes[k] = background(name, "create", "postgres", "--pgdata", dir.resolve(name).toString(),
        "--pgport", String.valueOf(ports[k]), "--hostname", "127.0.0.1", "--listen", "127.0.0.1",
        "--auth", "trust", "--no-ssl", "--dbname", DB, "--name", name, "--monitor",
        "postgres://autoctl_node@127.0.0.1:" + monitorPort + "/pg_auto_failover?sslmode=disable",
        "--run");
    keepers.add(nodes[k]);
  }

  /** Waits until one node is primary and the other secondary (a synchronous standby again). */
  void awaitHealthy(int seconds) throws Exception {
    long deadline = System.currentTimeMillis() + seconds * 1000L;
    while (true) {
      Map<String, String> s = states();
      if (s.values().stream().filter(v -> v.equals("primary/primary")).count() == 1
          && s.values().stream().filter(v -> v.equals("secondary/secondary")).count() == 1
          && synchronousStandbyStreaming()) {
        return;
      }
      if (System.currentTimeMillis() > deadline) {
        throw new IllegalStateException("formation not healthy after " + seconds + " s: " + s);
      }
      // pg_basebackup waits for a spread checkpoint (minutes when idle): ask for it now.
      String primary = primaryName();
      if (primary != null) {
        try (Connection p = DriverManager.getConnection(nodeUrl(primary))) {
          Sql.execute(p, "CHECKPOINT");
        } catch (SQLException e) {
          // not up yet
        }
      }
      Thread.sleep(1000);
    }
  }

  /** Whether the primary streams to a synchronous standby (seen by PostgreSQL, not the monitor). */
  private boolean synchronousStandbyStreaming() {
    String primary = primaryName();
    if (primary == null) {
      return false;
    }
    try (Connection p = DriverManager.getConnection(nodeUrl(primary))) {
      return Sql.count(p, "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'"
          + " AND sync_state IN ('sync', 'quorum')") > 0;
    } catch (SQLException e) {
      return false;
    }
  }

  /** The last lines of the monitor's log about node health and goal states, for a diagnosis. */
  String monitorEvents() {
    try {
      List<String> lines = Files.readAllLines(dir.resolve("monitor.log")).stream()
          .filter(l -> l.contains("goal state") || l.contains("healthy")).toList();
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 12), lines.size()));
    } catch (Exception e) {
      return "(no monitor log: " + e + ")";
    }
  }

  private void awaitStates(Map<String, String> wanted, int seconds) throws Exception {
    long deadline = System.currentTimeMillis() + seconds * 1000L;
    while (true) {
      Map<String, String> s = states();
      boolean all = true;
      for (Map.Entry<String, String> w : wanted.entrySet()) {
        String v = s.get(w.getKey());
        all &= v != null && v.split("/")[0].matches(w.getValue());
      }
      if (all) {
        return;
      }
      if (System.currentTimeMillis() > deadline) {
        throw new IllegalStateException("states not reached after " + seconds + " s: " + s);
      }
      Thread.sleep(500);
    }
  }

  /** Node name to {@code reportedstate/goalstate}, from the monitor. */
  Map<String, String> states() {
    Map<String, String> out = new LinkedHashMap<>();
    try (Connection m = monitor();
        Statement s = m.createStatement();
        ResultSet rs = s.executeQuery("SELECT nodename, reportedstate, goalstate"
            + " FROM pgautofailover.node ORDER BY nodeid")) {
      while (rs.next()) {
        out.put(rs.getString(1), rs.getString(2) + "/" + rs.getString(3));
      }
    } catch (SQLException e) {
      out.put("monitor", "unreachable: " + e.getMessage());
    }
    return out;
  }

  /** The node the monitor reports as primary (or wait_primary), or null. */
  String primaryName() {
    for (Map.Entry<String, String> e : states().entrySet()) {
      if (e.getValue().startsWith("primary/") || e.getValue().startsWith("wait_primary/")) {
        return e.getKey();
      }
    }
    return null;
  }

  /** {@code pg_autoctl perform failover}, without waiting for the old primary to rejoin. */
  void performFailover() throws Exception {
    LocalPostgres.exec(command("perform", "failover", "--pgdata", dir.resolve("node1").toString(),
        "--wait", "0"), 60, true);
  }

  /**
   * SIGKILL of the primary node: its postgres (postmaster and backends) and its pg_autoctl keeper,
   * so nothing restarts it, as when its machine dies. Returns the node's name.
   */
  String killPrimary() throws Exception {
    String primary = primaryName();
    if (primary == null) {
      throw new IllegalStateException("no primary to kill: " + states());
    }
    Process keeper = nodes[Integer.parseInt(primary.substring(4)) - 1];
    long postmaster = Long.parseLong(
        Files.readAllLines(dir.resolve(primary).resolve("postmaster.pid")).get(0).trim());
    LocalPostgres.exec(List.of("kill", "-9", String.valueOf(postmaster)), 10, false);
    keeper.descendants().forEach(ProcessHandle::destroyForcibly);
    keeper.destroyForcibly();
    return primary;
  }

  /** Waits until a node other than {@code old} is primary (or wait_primary) and writable. */
  String awaitNewPrimary(String old, int seconds) throws Exception {
    long deadline = System.currentTimeMillis() + seconds * 1000L;
    while (System.currentTimeMillis() < deadline) {
      String p = primaryName();
      if (p != null && !p.equals(old)) {
        try (Connection c = DriverManager.getConnection(nodeUrl(p))) {
          if (Sql.count(c, "SELECT CASE WHEN pg_is_in_recovery() THEN 0 ELSE 1 END") == 1) {
            return p;
          }
        } catch (SQLException e) {
          // promotion still in progress
        }
      }
      Thread.sleep(100);
    }
    throw new IllegalStateException("no new primary after " + seconds + " s: " + states()
        + "; the monitor's last events:\n" + monitorEvents());
  }

  private String nodeUrl(String name) {
    return "jdbc:postgresql://127.0.0.1:" + ports[Integer.parseInt(name.substring(4)) - 1] + "/"
        + DB + "?user=postgres&connectTimeout=2";
  }

  private Connection monitor() throws SQLException {
    return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + monitorPort
        + "/pg_auto_failover?user=autoctl_node&connectTimeout=2");
  }

  private List<String> command(String... args) {
    List<String> cmd = new ArrayList<>(List.of("env",
        "PATH=" + LocalPostgres.BIN + File.pathSeparator + "/usr/bin" + File.pathSeparator + "/bin",
        "XDG_CONFIG_HOME=" + dir.resolve("config"), "XDG_DATA_HOME=" + dir.resolve("share"),
        PG_AUTOCTL));
    cmd.addAll(List.of(args));
    return LocalPostgres.asPostgres(cmd);
  }

  private Process background(String log, String... args) throws Exception {
    return new ProcessBuilder(command(args)).redirectErrorStream(true)
        .redirectOutput(dir.resolve(log + ".log").toFile()).start();
  }

  /** Where the logs are. */
  Path directory() {
    return dir;
  }

  @Override
  public void close() throws Exception {
    for (Process p : keepers) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
    }
    Thread.sleep(500);
    // Postmasters orphaned by their keeper's death: stop what is left of each data directory.
    for (String d : List.of("monitor", "node1", "node2")) {
      Path pid = dir.resolve(d).resolve("postmaster.pid");
      if (Files.exists(pid)) {
        LocalPostgres.exec(List.of("kill", "-9",
            Files.readAllLines(pid).get(0).trim()), 10, false);
      }
    }
    if (System.getenv("TANDEM_BENCH_KEEP") == null) {
      LocalPostgres.deleteTree(dir);
    }
  }
}
