package dev.tandem.examples.orders;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.testing.TestDatabase;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Serve mode end to end, in this JVM: orders inserted with plain JDBC (as any program would) are charged exactly once
 * and shipped by the trigger-enqueued workflow; a rolled-back insert starts nothing.
 */
class ServeTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    private static final int ORDERS = 25;

    @Test
    void everyCommittedOrderIsChargedOnceAndShippedAndARolledBackOneStartsNoWorkflow() throws Exception {
        Serve.Running serve = Serve.start(db.url());
        Map<Long, Integer> committed = new LinkedHashMap<>();
        long rolledBackId;
        try {
            try (Connection conn = DriverManager.getConnection(db.url())) {
                conn.setAutoCommit(false);
                for (int i = 0; i < ORDERS; i++) {
                    int amount = 500 + 37 * i;
                    committed.put(insertOrder(conn, "customer-" + (i % 4), amount), amount);
                }
                conn.commit();

                rolledBackId = insertOrder(conn, "mallory", 999);
                conn.rollback();
            }

            awaitShipped(ORDERS, 30_000);

            for (Map.Entry<Long, Integer> order : committed.entrySet()) {
                long id = order.getKey();
                assertThat(db.queryString("SELECT status FROM orders WHERE id = " + id)).as("order %d", id)
                        .isEqualTo("SHIPPED");
                assertThat(db.queryLong("SELECT count(*) FROM payments WHERE order_id = " + id))
                        .as("payments of order %d", id).isEqualTo(1);
                assertThat(db.queryLong("SELECT amount_cents FROM payments WHERE order_id = " + id))
                        .as("payment of order %d", id).isEqualTo(order.getValue().longValue());
                assertThat(db.queryString("SELECT status FROM tandem.workflows WHERE workflow_id = 'order-" + id + "'"))
                        .as("workflow of order %d", id).isEqualTo("SUCCESS");
                assertThat(db.queryLong("SELECT count(DISTINCT idempotency_key) FROM warehouse_notifications"
                        + " WHERE order_id = " + id)).as("warehouse keys of order %d", id).isEqualTo(1);
            }
            // Nothing else: no payment, order or workflow beyond those of the committed orders.
            long first = committed.keySet().iterator().next();
            assertThat(db.queryLong("SELECT count(*) FROM payments WHERE order_id >= " + first)).isEqualTo(ORDERS);
            assertThat(db.queryLong("SELECT count(*) FROM orders WHERE id >= " + first)).isEqualTo(ORDERS);
            assertThat(db.queryLong("SELECT count(*) FROM tandem.workflows WHERE name = 'process_order'"
                    + " AND substr(workflow_id, 7)::bigint >= " + first)).isEqualTo(ORDERS);
            assertThat(db.queryLong("SELECT count(*) FROM tandem.workflows WHERE workflow_id = 'order-"
                    + rolledBackId + "'")).as("workflow of the rolled-back order").isZero();
            assertThat(serve.shipped()).isEqualTo(ORDERS);
        } finally {
            assertThat(serve.close()).as("status of a clean stop").isZero();
        }
    }

    @Test
    void anOrderInsertedWhileStoppedIsShippedAfterTheNextStart() throws Exception {
        assertThat(Serve.start(db.url()).close()).isZero(); // creates the tables and trigger, then stops cleanly

        long id;
        try (Connection conn = DriverManager.getConnection(db.url())) {
            id = insertOrder(conn, "grace", 4321);
        }
        Thread.sleep(300);
        assertThat(db.queryString("SELECT status FROM tandem.workflows WHERE workflow_id = 'order-" + id + "'"))
                .as("workflow of an order inserted while no worker runs").isEqualTo("ENQUEUED");
        assertThat(db.queryLong("SELECT count(*) FROM payments WHERE order_id = " + id)).isZero();

        Serve.Running serve = Serve.start(db.url());
        try {
            awaitStatus(id, "SHIPPED", 30_000);
            assertThat(db.queryLong("SELECT count(*) FROM payments WHERE order_id = " + id)).isEqualTo(1);
            assertThat(db.queryLong("SELECT amount_cents FROM payments WHERE order_id = " + id)).isEqualTo(4321);
        } finally {
            assertThat(serve.close()).as("status of a clean stop").isZero();
        }
    }

    private static long insertOrder(Connection conn, String customer, int amountCents) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement(
                "INSERT INTO orders (customer, amount_cents) VALUES (?, ?) RETURNING id")) {
            ps.setString(1, customer);
            ps.setInt(2, amountCents);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    private static void awaitStatus(long id, String status, long timeoutMillis) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMillis;
        while (!status.equals(db.queryString("SELECT coalesce(status, 'NULL') FROM orders WHERE id = " + id))) {
            assertThat(System.currentTimeMillis()).as("order %d %s in time", id, status).isLessThan(deadline);
            Thread.sleep(20);
        }
    }

    private static void awaitShipped(int orders, long timeoutMillis) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMillis;
        long shipped;
        while ((shipped = db.queryLong("SELECT count(*) FROM orders WHERE status = 'SHIPPED'")) < orders) {
            assertThat(System.currentTimeMillis()).as("%d of %d orders shipped in time", shipped, orders)
                    .isLessThan(deadline);
            Thread.sleep(20);
        }
    }
}
