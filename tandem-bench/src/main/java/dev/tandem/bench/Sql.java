package dev.tandem.bench;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/** Small statements the benchmarks run on their monitoring connection (autocommit), and transactions. */
final class Sql {
  private Sql() {}

  /** What runs inside {@link #inTransaction}. */
  @FunctionalInterface
  interface Body {
    void run(Connection c) throws SQLException;
  }

  /**
   * Runs {@code body} in one transaction on {@code c} and commits it, or rolls it back if the body throws; the
   * connection's autocommit mode is as before afterwards (unchanged, it costs no round trip).
   */
  static void inTransaction(Connection c, Body body) throws SQLException {
    boolean autoCommit = c.getAutoCommit();
    c.setAutoCommit(false);
    try {
      body.run(c);
      c.commit();
    } catch (SQLException | RuntimeException e) {
      c.rollback();
      throw e;
    } finally {
      c.setAutoCommit(autoCommit);
    }
  }

  static void execute(Connection c, String sql) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }

  /** The first column of the first row of {@code sql}, a count. */
  static long count(Connection c, String sql) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  /**
   * What a run's header says about where it runs: {@code PostgreSQL <version>, database <name>,
   * synchronous_commit=<on|off> fsync=<on|off>; JVM <version>, <n> cores}.
   */
  static String environment(Connection c) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT current_setting('server_version'), current_database(),"
                    + " current_setting('synchronous_commit'), current_setting('fsync')")) {
      rs.next();
      return String.format(
          "PostgreSQL %s, database %s, synchronous_commit=%s fsync=%s; JVM %s, %d cores",
          rs.getString(1),
          rs.getString(2),
          rs.getString(3),
          rs.getString(4),
          System.getProperty("java.version"),
          Runtime.getRuntime().availableProcessors());
    }
  }
}
