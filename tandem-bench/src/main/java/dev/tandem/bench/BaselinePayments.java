package dev.tandem.bench;

import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.SQLException;

/**
 * The floor: the {@code charge} transaction alone, with the same {@code quote} computation, run
 * with plain JDBC over a HikariCP pool. No durability bookkeeping at all: one commit per run.
 */
final class BaselinePayments implements AutoCloseable {
  private final HikariDataSource pool;

  BaselinePayments(String jdbcUrl, int concurrency) {
    this.pool = Pools.fixed(jdbcUrl, "baseline", concurrency, false);
  }

  /** One payment: one transaction doing the insert and the update, then one commit. */
  void runOne(int i) throws SQLException {
    int cents = PaymentsWorkload.quote(i);
    try (Connection c = pool.getConnection()) {
      Sql.inTransaction(c, conn -> PaymentsSchema.charge(conn, i, cents));
    }
  }

  @Override
  public void close() {
    pool.close();
  }
}
