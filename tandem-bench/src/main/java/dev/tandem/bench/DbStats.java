package dev.tandem.bench;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * A monitoring connection that counts the transactions committed in the benchmark database.
 *
 * <p>{@code pg_stat_database.xact_commit} only moves when a backend flushes its pending
 * statistics, which an active backend does at most once a second and an idle one only after up
 * to ten seconds; a backend always flushes when it exits. So a {@link #snapshot} first waits
 * until every other client connection to the database has closed (the system under test has been
 * shut down, so its counts are all in), then forces this connection's own pending counts out with
 * {@code pg_stat_force_next_flush()} (PostgreSQL 15+), then reads the counter. This connection's
 * own transactions between two snapshots (one per statement, all in autocommit mode) are counted
 * here and subtracted, so a {@link Delta} holds exactly the commits of everyone else.
 *
 * <p>It also reads the next transaction id to be assigned, whose difference counts the
 * transactions that wrote anything (read-only transactions get no xid). That counter is
 * cluster-wide, so it is exact only while nothing else writes to the server.
 */
final class DbStats implements AutoCloseable {
  private static final long SETTLE_TIMEOUT_MILLIS = 20_000;

  private final Connection connection;
  private long ownStatements;
  private boolean canForceFlush = true;

  DbStats(String jdbcUrl) throws SQLException {
    this.connection = DriverManager.getConnection(jdbcUrl);
    this.connection.setAutoCommit(true);
  }

  /** The monitoring connection, for setup work done outside a measured interval. */
  Connection connection() {
    return connection;
  }

  /** Counters at one moment; {@code settled} is false if other connections were still open. */
  record Snapshot(long xactCommit, long nextXid, long ownStatementsBefore, boolean settled) {}

  /** What happened between two snapshots. */
  record Delta(long commits, long xids, boolean exact) {
    String perRun(int runs, String unit) {
      return String.format(
          "%scommits/%s=%.3f xids/%s=%.3f",
          exact ? "" : "~", unit, commits / (double) runs, unit, xids / (double) runs);
    }
  }

  Snapshot snapshot() throws SQLException {
    boolean settled = waitForOtherBackendsToExit();
    if (canForceFlush) {
      try {
        execute("SELECT pg_stat_force_next_flush()");
      } catch (SQLException e) {
        // Before PostgreSQL 15: no way to force our own flush; wait out the flush interval.
        canForceFlush = false;
      }
    }
    if (!canForceFlush) {
      sleep(1_100);
    }
    long before = ownStatements;
    try (ResultSet rs =
        query(
            "SELECT xact_commit, pg_snapshot_xmax(pg_current_snapshot())::text::bigint"
                + " FROM pg_stat_database WHERE datname = current_database()")) {
      rs.next();
      return new Snapshot(rs.getLong(1), rs.getLong(2), before, settled && canForceFlush);
    }
  }

  static Delta between(Snapshot a, Snapshot b) {
    long own = b.ownStatementsBefore() - a.ownStatementsBefore();
    return new Delta(
        b.xactCommit() - a.xactCommit() - own,
        b.nextXid() - a.nextXid(),
        a.settled() && b.settled());
  }

  /** Writes a checkpoint, so that each measured phase starts from the same WAL state. */
  void checkpoint() throws SQLException {
    execute("CHECKPOINT");
  }

  private boolean waitForOtherBackendsToExit() throws SQLException {
    long deadline = System.currentTimeMillis() + SETTLE_TIMEOUT_MILLIS;
    while (true) {
      long others;
      try (ResultSet rs =
          query(
              "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                  + " AND pid <> pg_backend_pid() AND backend_type = 'client backend'")) {
        rs.next();
        others = rs.getLong(1);
      }
      if (others == 0) {
        return true;
      }
      if (System.currentTimeMillis() > deadline) {
        System.out.println(
            "  warning: " + others + " other connection(s) still open; commit counts approximate");
        return false;
      }
      sleep(50);
    }
  }

  /** Runs a statement on the monitoring connection, counted as its own. */
  void execute(String sql) throws SQLException {
    ownStatements++;
    try (Statement s = connection.createStatement()) {
      s.execute(sql);
    }
  }

  /** A query on the monitoring connection, counted as its own; close the result set. */
  ResultSet query(String sql) throws SQLException {
    ownStatements++;
    Statement s = connection.createStatement();
    s.closeOnCompletion();
    return s.executeQuery(sql);
  }

  /** How many statements the monitoring connection has run so far. */
  long ownStatements() {
    return ownStatements;
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  @Override
  public void close() throws SQLException {
    connection.close();
  }
}
