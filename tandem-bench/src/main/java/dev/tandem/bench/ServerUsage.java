package dev.tandem.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the server spent on a measured run, per workflow (or transaction): the numbers that do not
 * depend on how loaded the machine is, and so explain a throughput gap better than the throughput.
 *
 * <ul>
 *   <li><b>CPU</b> of the server processes serving this database (client backends), from {@code
 *       /proc/<pid>/schedstat} (nanoseconds on CPU) read just before and just after the measured
 *       runs; only when the server runs on this machine.
 *   <li><b>Statements</b>: {@code pg_stat_statements} calls in this database (top level), when
 *       that library is preloaded; the monitoring connection's own are subtracted.
 *   <li><b>Rows written</b> per table from {@code pg_stat_user_tables} (inserted, updated, of
 *       which HOT, deleted), read while no other client is connected, so every backend has
 *       flushed its counts.
 *   <li><b>WAL</b>: {@code pg_stat_wal} (the whole cluster: exact only while nothing else writes),
 *       and, when this process can read the server's {@code pg_wal} (same machine, as root or
 *       postgres), the records of this database decoded by {@code pg_waldump}: bytes (and how much
 *       of it full-page images), row locks, and <b>index entries written</b> per index, which no
 *       statistics view counts.
 * </ul>
 */
final class ServerUsage {
  private static final Pattern RECORD =
      Pattern.compile(
          "^rmgr: (\\S+)\\s+len \\(rec/tot\\):\\s*(\\d+)/\\s*(\\d+), tx:\\s*(\\d+), lsn: \\S+,"
              + " prev \\S+, desc: (\\S+)(.*)$");
  private static final Pattern REL = Pattern.compile("rel (\\d+)/(\\d+)/(\\d+)");
  private static final Pattern TUPLES = Pattern.compile("MULTI_INSERT(?:\\+INIT)? (\\d+) tuples");

  private final DbStats stats;
  private final long databaseOid;
  private final boolean statements;
  private final String walDir;
  private final String waldump;
  private Map<Long, Long> cpuAtStart = Map.of();
  private long cpuNanos = -1;
  private long jvmCpuAtStart;
  private long jvmCpuNanos = -1;

  /** The counters at one moment (read on the monitoring connection while nothing else runs). */
  record Mark(
      Map<String, long[]> tables,
      long walRecords,
      long walFpi,
      long walBytes,
      String lsn,
      long statementCalls,
      long ownStatements) {}

  ServerUsage(DbStats stats) throws SQLException {
    this.stats = stats;
    long oid = 0;
    String preload = "";
    String dataDir = null;
    try (ResultSet rs =
        stats.query(
            "SELECT d.oid, current_setting('shared_preload_libraries'),"
                + " current_setting('data_directory', true)"
                + " FROM pg_database d WHERE d.datname = current_database()")) {
      rs.next();
      oid = rs.getLong(1);
      preload = rs.getString(2);
      dataDir = rs.getString(3);
    } catch (SQLException e) {
      // not allowed to read data_directory: no pg_waldump figures
    }
    this.databaseOid = oid;
    boolean canCount = false;
    if (preload != null && preload.contains("pg_stat_statements")) {
      try {
        stats.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
        stats.query("SELECT count(*) FROM pg_stat_statements").close();
        canCount = true;
      } catch (SQLException e) {
        canCount = false;
      }
    }
    this.statements = canCount;
    Path wal = dataDir == null ? null : Path.of(dataDir, "pg_wal");
    this.walDir = wal != null && Files.isReadable(wal) ? wal.toString() : null;
    Path dump = Path.of(LocalPostgres.BIN, "pg_waldump");
    this.waldump = Files.isExecutable(dump) ? dump.toString() : null;
  }

  /** Reads the counters; call while no other client is connected (after {@code snapshot}). */
  Mark mark() throws SQLException {
    Map<String, long[]> tables = new TreeMap<>();
    try (ResultSet rs =
        stats.query(
            "SELECT schemaname || '.' || relname, n_tup_ins, n_tup_upd, n_tup_hot_upd, n_tup_del"
                + " FROM pg_stat_user_tables WHERE schemaname = 'tandem' OR relname LIKE 'bench\\_%'")) {
      while (rs.next()) {
        tables.put(
            rs.getString(1),
            new long[] {rs.getLong(2), rs.getLong(3), rs.getLong(4), rs.getLong(5)});
      }
    }
    long records;
    long fpi;
    long bytes;
    String lsn;
    try (ResultSet rs =
        stats.query(
            "SELECT wal_records, wal_fpi, wal_bytes::bigint, pg_current_wal_insert_lsn()::text"
                + " FROM pg_stat_wal")) {
      rs.next();
      records = rs.getLong(1);
      fpi = rs.getLong(2);
      bytes = rs.getLong(3);
      lsn = rs.getString(4);
    }
    long calls = -1;
    if (statements) {
      try (ResultSet rs =
          stats.query(
              "SELECT coalesce(sum(calls), 0)::bigint FROM pg_stat_statements WHERE dbid = "
                  + databaseOid)) {
        rs.next();
        calls = rs.getLong(1);
      }
    }
    return new Mark(tables, records, fpi, bytes, lsn, calls, stats.ownStatements());
  }

  /** Notes the CPU time of this database's backends; call just before the measured runs. */
  void cpuStart() {
    cpuAtStart = backendCpu();
    jvmCpuAtStart = jvmCpu();
  }

  /** CPU nanoseconds this JVM (the client: the system under test, and the load) used so far. */
  private static long jvmCpu() {
    if (java.lang.management.ManagementFactory.getOperatingSystemMXBean()
        instanceof com.sun.management.OperatingSystemMXBean os) {
      return os.getProcessCpuTime();
    }
    return -1;
  }

  /** The CPU time the backends used since {@link #cpuStart}; call just after the measured runs. */
  void cpuStop() {
    long jvm = jvmCpu();
    jvmCpuNanos = jvm < 0 || jvmCpuAtStart < 0 ? -1 : jvm - jvmCpuAtStart;
    Map<Long, Long> now = backendCpu();
    if (now.isEmpty()) {
      cpuNanos = -1;
      return;
    }
    long sum = 0;
    for (Map.Entry<Long, Long> e : now.entrySet()) {
      sum += e.getValue() - cpuAtStart.getOrDefault(e.getKey(), 0L); // new ones: all of theirs
    }
    cpuNanos = sum;
  }

  /** CPU nanoseconds so far of each client backend of this database (not the monitor's own). */
  private Map<Long, Long> backendCpu() {
    Map<Long, Long> cpu = new HashMap<>();
    try (ResultSet rs =
        stats.query(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                + " AND pid <> pg_backend_pid() AND backend_type = 'client backend'")) {
      while (rs.next()) {
        long pid = rs.getLong(1);
        long nanos = schedNanos(pid);
        if (nanos >= 0) {
          cpu.put(pid, nanos);
        }
      }
    } catch (SQLException e) {
      return Map.of();
    }
    return cpu;
  }

  private static long schedNanos(long pid) {
    try {
      String s = Files.readString(Path.of("/proc", Long.toString(pid), "schedstat"));
      return Long.parseLong(s.substring(0, s.indexOf(' ')));
    } catch (IOException | RuntimeException e) {
      return -1; // not on this machine, or gone
    }
  }

  /** Prints the report for {@code runs} runs measured between {@code a} and {@code b}. */
  void print(Mark a, Mark b, int runs, String unit) {
    double n = runs;
    StringBuilder line = new StringBuilder("  server per " + unit + ":");
    line.append(
        cpuNanos < 0
            ? " cpu n/a (server not on this machine)"
            : String.format(" cpu %.3f ms (this database's backends)", cpuNanos / 1e6 / n));
    if (jvmCpuNanos >= 0) {
      line.append(String.format(", client JVM cpu %.3f ms", jvmCpuNanos / 1e6 / n));
    }
    if (statements) {
      long own = b.ownStatements() - a.ownStatements();
      line.append(
          String.format(
              ", statements %.2f", (b.statementCalls() - a.statementCalls() - own) / n));
    } else {
      line.append(", statements n/a (pg_stat_statements not preloaded)");
    }
    line.append(
        String.format(
            ", pg_stat_wal %.0f B in %.2f records (%.3f FPI; whole cluster)",
            (b.walBytes() - a.walBytes()) / n,
            (b.walRecords() - a.walRecords()) / n,
            (b.walFpi() - a.walFpi()) / n));
    System.out.println(line);

    StringBuilder rows = new StringBuilder("  rows per " + unit + ":");
    double total = 0;
    for (Map.Entry<String, long[]> e : b.tables().entrySet()) {
      long[] before = a.tables().getOrDefault(e.getKey(), new long[4]);
      long[] after = e.getValue();
      long ins = after[0] - before[0];
      long upd = after[1] - before[1];
      long hot = after[2] - before[2];
      long del = after[3] - before[3];
      if (ins + upd + del == 0) {
        continue;
      }
      total += ins + upd + del;
      rows.append(String.format(" %s", e.getKey()));
      if (ins > 0) {
        rows.append(String.format(" ins %.2f", ins / n));
      }
      if (upd > 0) {
        rows.append(String.format(" upd %.2f (hot %.2f)", upd / n, hot / n));
      }
      if (del > 0) {
        rows.append(String.format(" del %.2f", del / n));
      }
      rows.append(';');
    }
    rows.append(String.format(" total %.2f", total / n));
    System.out.println(rows);

    if (walDir == null || waldump == null || a.lsn().equals(b.lsn())) {
      System.out.println(
          "  wal/index entries per " + unit + ": n/a (needs the server's pg_wal readable here"
              + " and pg_waldump)");
      return;
    }
    try {
      walReport(a.lsn(), b.lsn(), n, unit);
    } catch (Exception e) {
      System.out.println("  wal/index entries per " + unit + ": n/a (pg_waldump: " + e + ")");
    }
  }

  /** Decodes the WAL between two positions and prints what this database's records wrote. */
  private void walReport(String from, String to, double n, String unit) throws Exception {
    Map<Long, String> names = relationNames();
    Map<String, long[]> perRel = new LinkedHashMap<>(); // records, bytes, fpi bytes
    Map<String, Long> indexEntries = new TreeMap<>();
    Map<String, Long> heapOps = new TreeMap<>();
    Set<Long> xids = new HashSet<>();
    List<long[]> xactRecords = new ArrayList<>(); // xid, bytes
    long bytes = 0;
    long fpiRecords = 0;
    long records = 0;
    Process p =
        new ProcessBuilder(waldump, "-p", walDir, "-s", from, "-e", to)
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start();
    try (BufferedReader r =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      String s;
      while ((s = r.readLine()) != null) {
        Matcher m = RECORD.matcher(s);
        if (!m.matches()) {
          continue;
        }
        String rmgr = m.group(1);
        long tot = Long.parseLong(m.group(3));
        long xid = Long.parseLong(m.group(4));
        String op = m.group(5);
        String rest = m.group(6);
        if (rmgr.equals("Transaction")) {
          xactRecords.add(new long[] {xid, tot});
          continue;
        }
        Matcher rel = REL.matcher(rest);
        if (!rel.find() || Long.parseLong(rel.group(2)) != databaseOid) {
          continue;
        }
        long fileNode = Long.parseLong(rel.group(3));
        String name = names.getOrDefault(fileNode, "relfilenode " + fileNode);
        boolean fpw = rest.contains("FPW");
        records++;
        bytes += tot;
        if (xid != 0) {
          xids.add(xid);
        }
        long fpiBytes = fpw ? tot - Long.parseLong(m.group(2)) : 0;
        if (fpw) {
          fpiRecords++;
        }
        long[] acc = perRel.computeIfAbsent(name, k -> new long[3]);
        acc[0]++;
        acc[1] += tot;
        acc[2] += fpiBytes;
        String base = op.replace("+INIT", "");
        if (rmgr.equals("Btree")) {
          boolean entry =
              base.equals("INSERT_LEAF")
                  || base.equals("INSERT_POST")
                  || ((base.equals("SPLIT_L") || base.equals("SPLIT_R"))
                      && rest.contains("level 0"));
          if (entry) {
            indexEntries.merge(name, 1L, Long::sum);
          }
        } else if (rmgr.equals("Heap") || rmgr.equals("Heap2")) {
          long count = 1;
          if (base.equals("MULTI_INSERT")) {
            Matcher t = TUPLES.matcher(op + rest);
            count = t.find() ? Long.parseLong(t.group(1)) : 1;
            base = "INSERT";
          }
          if (base.equals("INSERT")
              || base.equals("UPDATE")
              || base.equals("HOT_UPDATE")
              || base.equals("DELETE")
              || base.equals("LOCK")) {
            heapOps.merge(name + " " + base.toLowerCase(), count, Long::sum);
          }
        }
      }
    }
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
    }
    long commits = 0;
    for (long[] x : xactRecords) {
      if (xids.contains(x[0])) {
        commits++;
        bytes += x[1];
        records++;
      }
    }
    if (records == 0) { // the range's segments were recycled (a busy server checkpointed meanwhile), or none written
      System.out.println("  wal/index entries per " + unit + ": n/a (pg_waldump found no record of this database"
          + " between " + from + " and " + to + "; its WAL segments may have been recycled)");
      return;
    }
    long fpi = 0;
    for (long[] acc : perRel.values()) {
      fpi += acc[2];
    }
    long entries = 0;
    for (long v : indexEntries.values()) {
      entries += v;
    }
    System.out.printf(
        "  wal per %s (this database, pg_waldump): %.0f B in %.2f records (full-page images %.0f B"
            + " in %.3f records), %.3f write-transaction commits%n",
        unit, bytes / n, records / n, fpi / n, fpiRecords / n, commits / n);
    StringBuilder heap = new StringBuilder("  heap writes per " + unit + ":");
    heapOps.forEach((k, v) -> heap.append(String.format(" %s %.2f;", k, v / n)));
    System.out.println(heap);
    StringBuilder idx =
        new StringBuilder(String.format("  index entries per %s: %.2f:", unit, entries / n));
    indexEntries.forEach((k, v) -> idx.append(String.format(" %s %.2f;", k, v / n)));
    System.out.println(idx);
    StringBuilder byRel = new StringBuilder("  wal bytes per " + unit + " by relation:");
    perRel.entrySet().stream()
        .sorted((x, y) -> Long.compare(y.getValue()[1], x.getValue()[1]))
        .limit(12)
        .forEach(e -> byRel.append(String.format(" %s %.0f;", e.getKey(), e.getValue()[1] / n)));
    System.out.println(byRel);
  }

  /** relfilenode to relation name, for this database's relations (toast named by table). */
  private Map<Long, String> relationNames() throws SQLException {
    Map<Long, String> names = new HashMap<>();
    try (ResultSet rs =
        stats.query(
            "SELECT pg_relation_filenode(c.oid), CASE WHEN n.nspname = 'public' THEN c.relname"
                + " ELSE n.nspname || '.' || c.relname END FROM pg_class c"
                + " JOIN pg_namespace n ON n.oid = c.relnamespace"
                + " WHERE pg_relation_filenode(c.oid) IS NOT NULL")) {
      while (rs.next()) {
        names.put(rs.getLong(1), rs.getString(2));
      }
    }
    return names;
  }
}
