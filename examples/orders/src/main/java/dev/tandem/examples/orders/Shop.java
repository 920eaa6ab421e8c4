package dev.tandem.examples.orders;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;

/**
 * The application's own tables and SQL: accounts, orders and payments, in the same database as Tandem's. They live in
 * schema {@code crash_demo}, so that the demo never empties tables of yours, nor those of {@code serve} mode.
 */
final class Shop {
    static final List<String> CUSTOMERS =
            List.of("alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy");
    static final long INITIAL_BALANCE_CENTS = 10_000_000;

    private final DataSource dataSource;

    Shop(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    /**
     * Creates the demo's tables if missing, empties them and adds {@code orders} new orders. Also deletes earlier runs
     * of the demo's workflow from Tandem's tables, so a rerun starts them afresh instead of finding them finished.
     */
    static void reset(String url, int orders) throws SQLException {
        try (Connection conn = DriverManager.getConnection(url); Statement st = conn.createStatement()) {
            conn.setAutoCommit(false);
            st.execute("CREATE SCHEMA IF NOT EXISTS crash_demo");
            st.execute("CREATE TABLE IF NOT EXISTS crash_demo.accounts ("
                    + "id text PRIMARY KEY, balance_cents bigint NOT NULL)");
            st.execute("CREATE TABLE IF NOT EXISTS crash_demo.orders (id bigint PRIMARY KEY,"
                    + " customer text NOT NULL, amount_cents int NOT NULL, status text NOT NULL)");
            // Deliberately no unique key on order_id: exactly-once payments must come from Tandem, not a constraint.
            st.execute("CREATE TABLE IF NOT EXISTS crash_demo.payments ("
                    + "order_id bigint NOT NULL, amount_cents int NOT NULL)");
            st.execute("CREATE TABLE IF NOT EXISTS crash_demo.warehouse_notifications ("
                    + "order_id bigint NOT NULL, idempotency_key text NOT NULL,"
                    + " sent_at timestamptz NOT NULL DEFAULT clock_timestamp())");
            st.execute("TRUNCATE crash_demo.accounts, crash_demo.orders, crash_demo.payments,"
                    + " crash_demo.warehouse_notifications");
            st.execute("DO $$ BEGIN IF to_regclass('tandem.workflow_status') IS NOT NULL THEN"
                    + " DELETE FROM tandem.steps WHERE workflow_id IN (SELECT workflow_id FROM tandem.workflow_status"
                    + " WHERE name = '" + OrderWorkflow.NAME + "');"
                    + " DELETE FROM tandem.workflow_status WHERE name = '" + OrderWorkflow.NAME + "';"
                    + " END IF; END $$");
            try (PreparedStatement ps = conn.prepareStatement(
                    "INSERT INTO crash_demo.accounts (id, balance_cents) SELECT unnest(?::text[]), ?")) {
                ps.setArray(1, conn.createArrayOf("text", CUSTOMERS.toArray()));
                ps.setLong(2, INITIAL_BALANCE_CENTS);
                ps.executeUpdate();
            }
            // Customers take turns; amounts between $5.00 and $99.99, varied but the same on every run.
            try (PreparedStatement ps = conn.prepareStatement(
                    "INSERT INTO crash_demo.orders (id, customer, amount_cents, status)"
                            + " SELECT g, (?::text[])[1 + (g - 1) % ?], 500 + (g * 7919) % 9500, 'NEW'"
                            + " FROM generate_series(1, ?) g")) {
                ps.setArray(1, conn.createArrayOf("text", CUSTOMERS.toArray()));
                ps.setInt(2, CUSTOMERS.size());
                ps.setInt(3, orders);
                ps.executeUpdate();
            }
            conn.commit();
        } catch (SQLException e) {
            throw new SQLException("could not set up the demo's tables (" + e.getMessage() + "); if the database"
                    + " already has a schema crash_demo with tables accounts, orders, payments or"
                    + " warehouse_notifications that are not the demo's, point --database-url at a scratch database",
                    e.getSQLState(), e);
        }
    }

    /** The ids of every order, in order. */
    List<Long> orderIds() throws SQLException {
        List<Long> ids = new ArrayList<>();
        try (Connection conn = dataSource.getConnection();
                Statement st = conn.createStatement();
                ResultSet rs = st.executeQuery("SELECT id FROM crash_demo.orders ORDER BY id")) {
            while (rs.next()) {
                ids.add(rs.getLong(1));
            }
        }
        return ids;
    }

    /** Loads the order and its price (a pricing service, in a real shop: hence the latency). */
    Order quote(long orderId) throws SQLException, InterruptedException {
        Latency.pause(2, 10);
        try (Connection conn = dataSource.getConnection();
                PreparedStatement ps = conn.prepareStatement(
                        "SELECT customer, amount_cents FROM crash_demo.orders WHERE id = ?")) {
            ps.setLong(1, orderId);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw new IllegalArgumentException("no order " + orderId);
                }
                return new Order(orderId, rs.getString(1), rs.getInt(2));
            }
        }
    }

    /** Records the payment, debits the customer and marks the order paid, on the caller's transaction. */
    static void charge(Connection conn, Order order) throws SQLException {
        try (PreparedStatement pay = conn.prepareStatement(
                        "INSERT INTO crash_demo.payments (order_id, amount_cents) VALUES (?, ?)");
                PreparedStatement debit = conn.prepareStatement(
                        "UPDATE crash_demo.accounts SET balance_cents = balance_cents - ? WHERE id = ?");
                PreparedStatement paid = conn.prepareStatement(
                        "UPDATE crash_demo.orders SET status = 'PAID' WHERE id = ?")) {
            pay.setLong(1, order.id());
            pay.setInt(2, order.amountCents());
            pay.executeUpdate();
            debit.setInt(1, order.amountCents());
            debit.setString(2, order.customer());
            if (debit.executeUpdate() != 1) {
                throw new IllegalStateException("no account for customer " + order.customer());
            }
            paid.setLong(1, order.id());
            paid.executeUpdate();
        }
    }

    /** Marks a paid order shipped, on the caller's transaction. */
    static void markShipped(Connection conn, long orderId) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement(
                "UPDATE crash_demo.orders SET status = 'SHIPPED' WHERE id = ? AND status = 'PAID'")) {
            ps.setLong(1, orderId);
            if (ps.executeUpdate() != 1) {
                throw new IllegalStateException("order " + orderId + " is not PAID, cannot ship it");
            }
        }
    }
}
