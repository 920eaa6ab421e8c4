package dev.tandem.examples.orders;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import javax.sql.DataSource;

/**
 * Stands in for the warehouse's API, an external system. Each notification is written on a connection of its own in
 * autocommit mode, outside any transaction of Tandem's, so (like an HTTP call) it cannot be rolled back together with a
 * checkpoint: what it records is what the warehouse received, duplicates included.
 */
final class Warehouse {
    private final DataSource dataSource;

    Warehouse(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    /** Tells the warehouse to ship the order; returns the idempotency key it was sent with. */
    String notifyShipment(long orderId, String idempotencyKey) throws SQLException, InterruptedException {
        try (Connection conn = dataSource.getConnection();
                PreparedStatement ps = conn.prepareStatement(
                        "INSERT INTO crash_demo.warehouse_notifications (order_id, idempotency_key) VALUES (?, ?)")) {
            ps.setLong(1, orderId);
            ps.setString(2, idempotencyKey);
            ps.executeUpdate();
        }
        // Waiting for the warehouse's answer. A crash now, after it received the notification but before the step's
        // checkpoint is written, makes the recovered workflow send it again: at least once, not exactly once.
        Latency.pause(5, 25);
        return idempotencyKey;
    }
}
