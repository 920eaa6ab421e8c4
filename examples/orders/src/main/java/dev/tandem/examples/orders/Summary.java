package dev.tandem.examples.orders;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/** What the tables say after the batch, and whether that proves every order was charged exactly once. */
record Summary(
        int orders,
        long workflowsSucceeded,
        long workflowsRecovered,
        long payments,
        long paidOrders,
        long wrongAmounts,
        long inconsistentAccounts,
        long shippedOrders,
        long notifications,
        long notifiedOrders,
        long notificationKeys) {

    static Summary read(Connection conn, int orders) throws SQLException {
        long[] workflows = longs(conn, "SELECT count(*) FILTER (WHERE status = 'SUCCESS'),"
                + " count(*) FILTER (WHERE attempts > 1) FROM tandem.workflows WHERE name = '"
                + OrderWorkflow.NAME + "'");
        long[] payments = longs(conn, "SELECT count(*), count(DISTINCT order_id) FROM crash_demo.payments");
        long[] wrongAmounts = longs(conn, "SELECT count(*) FROM crash_demo.payments p"
                + " JOIN crash_demo.orders o ON o.id = p.order_id WHERE p.amount_cents <> o.amount_cents");
        // Each account must be down by exactly the payments of its own orders: a double debit shows here.
        long[] inconsistentAccounts = longs(conn, "SELECT count(*) FROM crash_demo.accounts a"
                + " WHERE a.balance_cents <> " + Shop.INITIAL_BALANCE_CENTS
                + " - (SELECT coalesce(sum(p.amount_cents), 0) FROM crash_demo.payments p"
                + " JOIN crash_demo.orders o ON o.id = p.order_id WHERE o.customer = a.id)");
        long[] shipped = longs(conn, "SELECT count(*) FROM crash_demo.orders WHERE status = 'SHIPPED'");
        long[] notifications = longs(conn, "SELECT count(*), count(DISTINCT order_id),"
                + " count(DISTINCT idempotency_key) FROM crash_demo.warehouse_notifications");
        return new Summary(orders, workflows[0], workflows[1], payments[0], payments[1], wrongAmounts[0],
                inconsistentAccounts[0], shipped[0], notifications[0], notifications[1], notifications[2]);
    }

    /** The checks that fail; none if every order was charged, debited and shipped exactly once. */
    List<String> problems() {
        List<String> problems = new ArrayList<>();
        if (workflowsSucceeded != orders) {
            problems.add((orders - workflowsSucceeded) + " workflows did not succeed");
        }
        if (payments != paidOrders) {
            problems.add((payments - paidOrders) + " duplicate payments");
        }
        if (paidOrders != orders) {
            problems.add((orders - paidOrders) + " orders not paid");
        }
        if (wrongAmounts != 0) {
            problems.add(wrongAmounts + " payments of the wrong amount");
        }
        if (inconsistentAccounts != 0) {
            problems.add(inconsistentAccounts + " account balances that do not match their payments");
        }
        if (shippedOrders != orders) {
            problems.add((orders - shippedOrders) + " orders not shipped");
        }
        if (notifiedOrders != orders) {
            problems.add((orders - notifiedOrders) + " orders the warehouse never heard of");
        }
        if (notificationKeys != notifiedOrders) {
            problems.add("a repeated notification carried a new idempotency key");
        }
        return problems;
    }

    boolean exactlyOnce() {
        return problems().isEmpty();
    }

    void print(boolean crashed) {
        System.out.println("orders: " + orders + ", workflows SUCCESS: " + workflowsSucceeded
                + ", recovered after crash: " + workflowsRecovered);
        System.out.println("payments: " + payments + " rows for " + paidOrders + " orders ("
                + (payments - paidOrders) + " duplicates), balances consistent: "
                + (inconsistentAccounts == 0 && wrongAmounts == 0 ? "yes" : "NO"));
        System.out.println("shipped: " + shippedOrders + " of " + orders + " orders");
        long repeated = notifications - notifiedOrders;
        System.out.println("warehouse notifications: " + notifications + " for " + notifiedOrders + " orders"
                + " (at-least-once: " + repeated + " repeated" + (crashed ? " after the crash" : "")
                + (repeated > 0 && notificationKeys == notifiedOrders ? ", with their original idempotency keys" : "")
                + ")");
        List<String> problems = problems();
        System.out.println(problems.isEmpty()
                ? "exactly once: yes, every order was charged, debited and shipped exactly once"
                : "exactly once: NO: " + String.join("; ", problems));
    }

    private static long[] longs(Connection conn, String sql) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement(sql); ResultSet rs = ps.executeQuery()) {
            rs.next();
            long[] values = new long[rs.getMetaData().getColumnCount()];
            for (int i = 0; i < values.length; i++) {
                values[i] = rs.getLong(i + 1);
            }
            return values;
        }
    }
}
