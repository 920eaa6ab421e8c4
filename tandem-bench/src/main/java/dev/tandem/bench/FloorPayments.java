package dev.tandem.bench;

import com.zaxxer.hikari.HikariDataSource;
import dev.tandem.Tandem;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.UUID;

/**
 * The durable floor: the least SQL that gives the payments workflow Tandem's guarantees, written by hand with plain
 * JDBC on Tandem's own tables and indexes, with no engine at all. It is what any engine keeping workflow state in
 * the application's database must at least pay, so {@code floor/baseline} is the cost of the guarantees on this
 * schema and {@code tandem/floor} the cost of the engine.
 *
 * <p>Per workflow, as {@code Workflow.run} with an id does: one read (a run of an id that exists runs nothing again);
 * one transaction holding the start row, the application's {@code charge} and the checkpoints of {@code quote} and
 * {@code charge}, committed once; one statement recording {@code receipt}'s checkpoint with the final status and
 * output, committed once (the result is durable before the caller sees it). No ownership fence, no group commit, no
 * JSON library: one process, ids never reused, so nothing here guards against a second executor or a crash.
 */
final class FloorPayments implements AutoCloseable {
  static final String EXISTS = "SELECT 1 FROM tandem.workflow_status WHERE workflow_id = ?";
  static final String START =
      "INSERT INTO tandem.workflow_status (workflow_id, name, status, input, executor_id, owner_epoch)"
          + " VALUES (?, 'payments', 'RUNNING', ?::jsonb, 'floor', 1)";
  static final String CHECKPOINTS =
      "INSERT INTO tandem.steps (workflow_id, position, name, kind, output, output_type, started_at)"
          + " VALUES (?, 1, 'quote', 'STEP', ?::jsonb, 'java.lang.Integer', now()),"
          + " (?, 2, 'charge', 'TRANSACTION', 'null', NULL, now())";
  static final String FINISH =
      "WITH receipt AS (INSERT INTO tandem.steps (workflow_id, position, name, kind, output, output_type,"
          + " started_at) VALUES (?, 3, 'receipt', 'STEP', ?::jsonb, 'java.lang.String', now()))"
          + " UPDATE tandem.workflow_status SET status = 'SUCCESS', output = ?::jsonb,"
          + " output_type = 'java.lang.String', updated_at = now() WHERE workflow_id = ?";

  private final HikariDataSource pool;
  private final String idPrefix = "floor-" + UUID.randomUUID().toString().substring(0, 8) + "-";

  FloorPayments(String jdbcUrl, int concurrency) {
    // Tandem's tables and indexes, as its migrations create them (the engine itself does not run).
    try (Tandem schema = Tandem.builder().databaseUrl(jdbcUrl).build()) {
      schema.start();
    }
    this.pool = Pools.fixed(jdbcUrl, "floor", concurrency, true);
  }

  /** Empties the tables the floor writes, so that each phase starts from the same state. */
  static void reset(Connection c) throws SQLException {
    TandemPayments.reset(c);
  }

  void runOne(int i) throws SQLException {
    String id = idPrefix + i;
    try (Connection c = pool.getConnection()) {
      try (PreparedStatement ps = c.prepareStatement(EXISTS)) {
        ps.setString(1, id);
        try (ResultSet rs = ps.executeQuery()) {
          if (rs.next()) {
            throw new IllegalStateException("workflow id " + id + " exists");
          }
        }
      }
      int cents = PaymentsWorkload.quote(i);
      Sql.inTransaction(c, conn -> {
        try (PreparedStatement ps = conn.prepareStatement(START)) {
          ps.setString(1, id);
          ps.setString(2, Integer.toString(i));
          ps.executeUpdate();
        }
        PaymentsSchema.charge(conn, i, cents);
        try (PreparedStatement ps = conn.prepareStatement(CHECKPOINTS)) {
          ps.setString(1, id);
          ps.setString(2, Integer.toString(cents));
          ps.setString(3, id);
          ps.executeUpdate();
        }
      });
      String receipt = PaymentsWorkload.receiptJson(i, cents);
      try (PreparedStatement ps = c.prepareStatement(FINISH)) {
        ps.setString(1, id);
        ps.setString(2, receipt);
        ps.setString(3, receipt);
        ps.setString(4, id);
        ps.executeUpdate();
      }
    }
  }

  @Override
  public void close() {
    pool.close();
  }
}
