package dev.tandem.bench;

import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;

/**
 * The least any engine could write for the payments workflow and still keep Tandem's guarantees, on tables designed
 * for nothing else: a bound no schema can beat, where {@link FloorPayments} is the bound on Tandem's own tables.
 *
 * <p>The guarantees: the start durable with the first durable write, each checkpoint durable before the next effect,
 * the transactional step's writes and its checkpoint in one commit, the result durable before the caller sees it;
 * {@code Workflow.run}'s promise that an id which exists runs nothing again, not even a plain step (so one read by
 * primary key first); and recovery that finds a dead executor's live workflows without reading finished ones (so an
 * owner column and a partial index on it while {@code RUNNING}: without it, recovery's cost grows with the table).
 *
 * <p>Per workflow: the read; one transaction with the application's {@code charge}, the workflow's row and one
 * checkpoint row holding both {@code quote} and {@code charge} (one statement for the two), committed once; then one
 * update that records the result, which is {@code receipt}'s output, so {@code receipt} needs no row of its own. Room
 * on every page ({@code fillfactor 50}). No per-step history, no timestamps, no ownership epoch, no queue, deadline
 * or operator indexes: what Tandem's schema adds for its other features is what {@link FloorPayments} measures.
 */
final class MinimalPayments implements AutoCloseable {
  static final String EXISTS = "SELECT 1 FROM bench_min_workflows WHERE id = ?";
  static final String START_AND_CHECKPOINT =
      "WITH started AS (INSERT INTO bench_min_workflows (id, status, owner, input)"
          + " VALUES (?, 'RUNNING', 'minimal', ?::jsonb))"
          + " INSERT INTO bench_min_checkpoints (workflow_id, commit_no, steps) VALUES (?, 1, ?::jsonb)";
  static final String FINISH =
      "UPDATE bench_min_workflows SET status = 'SUCCESS', output = ?::jsonb WHERE id = ?";

  private final HikariDataSource pool;
  private final String idPrefix = "min-" + UUID.randomUUID().toString().substring(0, 8) + "-";

  MinimalPayments(String jdbcUrl, int concurrency) {
    this.pool = Pools.fixed(jdbcUrl, "minimal", concurrency, true);
  }

  /** Creates its two tables (the workflows table anew, with its index) and empties them. Runs in autocommit mode. */
  static void reset(Connection c) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.execute("DROP TABLE IF EXISTS bench_min_workflows"); // an earlier version of it had no owner
      s.execute("CREATE TABLE bench_min_workflows (id text PRIMARY KEY, status text NOT NULL, owner text,"
          + " input jsonb, output jsonb) WITH (fillfactor = 50)");
      s.execute("CREATE INDEX bench_min_workflows_running ON bench_min_workflows (owner) WHERE status = 'RUNNING'");
      s.execute("CREATE TABLE IF NOT EXISTS bench_min_checkpoints (workflow_id text, commit_no int,"
          + " steps jsonb NOT NULL, PRIMARY KEY (workflow_id, commit_no))");
      s.execute("TRUNCATE bench_min_workflows, bench_min_checkpoints");
    }
  }

  void runOne(int i) throws SQLException {
    String id = idPrefix + i;
    int cents = PaymentsWorkload.quote(i);
    try (Connection c = pool.getConnection()) {
      try (PreparedStatement ps = c.prepareStatement(EXISTS)) {
        ps.setString(1, id);
        try (ResultSet rs = ps.executeQuery()) {
          if (rs.next()) {
            throw new IllegalStateException("workflow " + id + " exists: ids are never reused here");
          }
        }
      }
      Sql.inTransaction(c, conn -> {
        PaymentsSchema.charge(conn, i, cents);
        try (PreparedStatement ps = conn.prepareStatement(START_AND_CHECKPOINT)) {
          ps.setString(1, id);
          ps.setString(2, Integer.toString(i));
          ps.setString(3, id);
          ps.setString(4, "[{\"step\":\"quote\",\"output\":" + cents + "},{\"step\":\"charge\",\"output\":null}]");
          ps.executeUpdate();
        }
      });
      try (PreparedStatement ps = c.prepareStatement(FINISH)) {
        ps.setString(1, PaymentsWorkload.receiptJson(i, cents));
        ps.setString(2, id);
        ps.executeUpdate();
      }
    }
  }

  @Override
  public void close() {
    pool.close();
  }
}
