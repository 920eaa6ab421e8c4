package dev.tandem.bench;

import dev.tandem.internal.db.Queries;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.Map;

/** What the soak reads about the tables and the machine: sizes, vacuum state, load average. */
final class SoakStats {
  private SoakStats() {}

  /**
   * One table at one moment (from {@code pg_stat_user_tables}, which backends flush about once a
   * second): heap and index bytes, live and dead tuples, rows deleted since the database was made,
   * autovacuum runs and seconds since the last one ({@code -1}: never).
   */
  record Table(
      long heapBytes, long indexBytes, long live, long dead, long deleted, long autovacuums,
      double lastAutovacuumSecondsAgo) {
    /** {@code heap+indexes MB, dead/live, autovacuum count (last N s ago)}. */
    String brief() {
      return String.format(
          "%d+%d MB dead=%,d/%,d av=%d%s", heapBytes >> 20, indexBytes >> 20, dead, live, autovacuums,
          lastAutovacuumSecondsAgo < 0 ? "" : String.format("(%.0fs ago)", lastAutovacuumSecondsAgo));
    }
  }

  static Table table(Connection c, Queries sql, String name) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql.get("tableStats"))) {
      ps.setString(1, name);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        double ago = rs.getDouble(7);
        if (rs.wasNull()) {
          ago = -1;
        }
        return new Table(rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getLong(4), rs.getLong(5),
            rs.getLong(6), ago);
      }
    }
  }

  /** Every index of the two tables and its size in bytes, in a stable order. */
  static Map<String, Long> indexSizes(Connection c, Queries sql) throws SQLException {
    Map<String, Long> sizes = new LinkedHashMap<>();
    try (PreparedStatement ps = c.prepareStatement(sql.get("indexSizes"));
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        sizes.put(rs.getString(1), rs.getLong(2));
      }
    }
    return sizes;
  }

  /** Ended workflows older than {@code retention}: what retention has not deleted yet. */
  static long expired(Connection c, Queries sql, String retention) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql.get("expired"))) {
      ps.setString(1, retention);
      ps.setString(2, retention);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  /** The 1-minute load average of this machine, or -1 where /proc/loadavg cannot be read. */
  static double load() {
    try {
      return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).split(" ")[0]);
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /** The server's autovacuum settings, as one line. */
  static String autovacuumSettings(Connection c) throws SQLException {
    StringBuilder out = new StringBuilder();
    try (PreparedStatement ps = c.prepareStatement(
            "SELECT name, current_setting(name) FROM pg_settings WHERE name IN ('autovacuum',"
                + " 'autovacuum_naptime', 'autovacuum_vacuum_scale_factor',"
                + " 'autovacuum_vacuum_insert_scale_factor', 'autovacuum_vacuum_cost_limit',"
                + " 'autovacuum_vacuum_cost_delay', 'shared_buffers', 'max_connections') ORDER BY 1");
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        out.append(out.length() == 0 ? "" : " ").append(rs.getString(1)).append('=')
            .append(rs.getString(2));
      }
    }
    return out.toString();
  }
}
