package dev.tandem.bench;

import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;

/**
 * The least any engine could write for the payments workflow and still keep the guarantees (the start durable with
 * the first durable write, each checkpoint durable before the next effect, the transactional step's writes and its
 * checkpoint in one commit, the result durable before the caller sees it), on tables designed for nothing else: a
 * bound no schema can beat, where {@link FloorPayments} is the bound on Tandem's.
 *
 * <p>Per workflow: one transaction with the application's {@code charge}, the workflow's row and one checkpoint row
 * holding both {@code quote} and {@code charge} (one statement for the two), committed once; then one update that
 * records the result, which is {@code receipt}'s output, so {@code receipt} needs no row of its own. Primary keys
 * only, and room on every page ({@code fillfactor 50}) so that the final update is HOT: no index entry. No read
 * first (so unlike {@code Workflow.run}, a repeated id would run its plain step again), no owner, no timestamps.
 */
final class MinimalPayments implements AutoCloseable {
  static final String START_AND_CHECKPOINT =
      "WITH started AS (INSERT INTO bench_min_workflows (id, status, input) VALUES (?, 'RUNNING', ?::jsonb))"
          + " INSERT INTO bench_min_checkpoints (workflow_id, commit_no, steps) VALUES (?, 1, ?::jsonb)";
  static final String FINISH =
      "UPDATE bench_min_workflows SET status = 'SUCCESS', output = ?::jsonb WHERE id = ?";

  private final HikariDataSource pool;
  private final String idPrefix = "min-" + UUID.randomUUID().toString().substring(0, 8) + "-";

  MinimalPayments(String jdbcUrl, int concurrency) {
    this.pool = Pools.fixed(jdbcUrl, "minimal", concurrency, true);
  }

  /** Creates its two tables if missing and empties them. Runs in autocommit mode. */
  static void reset(Connection c) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.execute("CREATE TABLE IF NOT EXISTS bench_min_workflows (id text PRIMARY KEY, status text NOT NULL,"
          + " input jsonb, output jsonb) WITH (fillfactor = 50)");
      s.execute("CREATE TABLE IF NOT EXISTS bench_min_checkpoints (workflow_id text, commit_no int,"
          + " steps jsonb NOT NULL, PRIMARY KEY (workflow_id, commit_no))");
      s.execute("TRUNCATE bench_min_workflows, bench_min_checkpoints");
    }
  }

  void runOne(int i) throws SQLException {
    String id = idPrefix + i;
    int cents = PaymentsWorkload.quote(i);
    try (Connection c = pool.getConnection()) {
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
