package dev.tandem.bench;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * The application tables of the payments workload and the one SQL transaction body ({@link
 * #charge}) that all three systems run.
 */
public final class PaymentsSchema {
  /** Number of rows in {@code bench_accounts}. */
  public static final int ACCOUNTS = 100;

  static final String INSERT_PAYMENT =
      "INSERT INTO bench_payments (account_id, amount_cents, ref) VALUES (?, ?, ?)";
  static final String UPDATE_BALANCE =
      "UPDATE bench_accounts SET balance = balance + ? WHERE id = ?";

  private PaymentsSchema() {}

  /** Creates the application tables if they are missing. Runs in autocommit mode. */
  public static void create(Connection c) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.execute(
          "CREATE TABLE IF NOT EXISTS bench_accounts (id int PRIMARY KEY, balance bigint NOT NULL)");
      s.execute(
          "CREATE TABLE IF NOT EXISTS bench_payments (id bigserial PRIMARY KEY,"
              + " account_id int NOT NULL, amount_cents int NOT NULL, ref text NOT NULL)");
    }
  }

  /** Empties both tables and recreates the accounts with zero balances. Runs in autocommit mode. */
  public static void reset(Connection c) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.execute("TRUNCATE bench_payments, bench_accounts RESTART IDENTITY");
      s.execute(
          "INSERT INTO bench_accounts (id, balance) SELECT g, 0 FROM generate_series(0, "
              + (ACCOUNTS - 1)
              + ") g");
      s.execute("ANALYZE bench_accounts, bench_payments");
    }
  }

  /**
   * The body of the transactional step {@code charge} for payment {@code i}: inserts the payment
   * and adds it to the account's balance. Does not commit; the caller owns the transaction.
   */
  public static void charge(Connection c, int i, int cents) throws SQLException {
    int account = PaymentsWorkload.account(i);
    try (PreparedStatement ins = c.prepareStatement(INSERT_PAYMENT)) {
      ins.setInt(1, account);
      ins.setInt(2, cents);
      ins.setString(3, PaymentsWorkload.ref(i));
      ins.executeUpdate();
    }
    try (PreparedStatement upd = c.prepareStatement(UPDATE_BALANCE)) {
      upd.setLong(1, cents);
      upd.setInt(2, account);
      if (upd.executeUpdate() != 1) {
        throw new SQLException("account " + account + " is missing from bench_accounts");
      }
    }
  }

  /** What the application tables hold. */
  public record Totals(long payments, long distinctRefs, long paymentCents, long balanceCents) {
    /** True when {@code expected} payments were each charged exactly once. */
    public boolean consistent(long expected) {
      return payments == expected && distinctRefs == expected && paymentCents == balanceCents;
    }

    @Override
    public String toString() {
      return payments + " payments (" + distinctRefs + " distinct), " + paymentCents
          + " cents charged, " + balanceCents + " cents in balances";
    }
  }

  /** Reads the totals of the application tables. */
  public static Totals totals(Connection c) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT (SELECT count(*) FROM bench_payments),"
                    + " (SELECT count(DISTINCT ref) FROM bench_payments),"
                    + " (SELECT coalesce(sum(amount_cents), 0) FROM bench_payments),"
                    + " (SELECT coalesce(sum(balance), 0) FROM bench_accounts)")) {
      rs.next();
      return new Totals(rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getLong(4));
    }
  }
}
