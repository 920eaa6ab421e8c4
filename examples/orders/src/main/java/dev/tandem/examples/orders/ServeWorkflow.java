package dev.tandem.examples.orders;

import dev.tandem.WorkflowContext;
import dev.tandem.WorkflowFunction;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;

/**
 * Workflow {@code process_order} of {@code serve} mode, enqueued by the trigger on {@code orders} (see
 * {@code serve.sql}) for each new order: charge (transaction), notify the warehouse (step), ship (transaction). Its
 * input is the order id.
 *
 * <p>No idempotency checks of its own: the charge's payment row and status change commit in one transaction with
 * Tandem's checkpoint, so they happen exactly once however often the workflow is recovered.
 */
final class ServeWorkflow implements WorkflowFunction<Long, String> {
    static final String NAME = "process_order";

    private final DataSource dataSource;
    private final AtomicLong shipped = new AtomicLong();

    ServeWorkflow(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    /** What the charge step recorded: who paid how much (null if the order has no amount). */
    record Charge(String customer, Integer amountCents) {}

    @Override
    public String run(WorkflowContext ctx, Long orderId) {
        // Exactly once: the payment row and the status change commit together with this step's checkpoint.
        Charge charge = ctx.transaction("charge", conn -> charge(conn, orderId));

        // At least once, with the same idempotency key on every repeat (a real warehouse API would drop duplicates).
        ctx.step("notify-warehouse", () -> notifyWarehouse(orderId, ctx.idempotencyKey()));

        long millis = ctx.transaction("ship", conn -> ship(conn, orderId, ctx.workflowId()));
        shipped.incrementAndGet();
        String line = "order " + orderId + " SHIPPED: " + charge.customer() + " paid " + charge.amountCents()
                + " cents, " + millis + " ms after its inserting transaction began";
        System.out.println(line);
        return line;
    }

    /** How many orders this process shipped. */
    long shipped() {
        return shipped.get();
    }

    private static Charge charge(Connection conn, long orderId) throws SQLException {
        try (PreparedStatement paid = conn.prepareStatement(
                        "UPDATE orders SET status = 'PAID' WHERE id = ? RETURNING customer, amount_cents");
                PreparedStatement pay = conn.prepareStatement(
                        "INSERT INTO payments (order_id, amount_cents) VALUES (?, ?)")) {
            paid.setLong(1, orderId);
            Charge charge;
            try (ResultSet rs = paid.executeQuery()) {
                if (!rs.next()) {
                    throw new IllegalStateException("order " + orderId + " does not exist (deleted?)");
                }
                charge = new Charge(rs.getString(1), (Integer) rs.getObject(2));
            }
            pay.setLong(1, orderId);
            pay.setObject(2, charge.amountCents(), java.sql.Types.INTEGER);
            pay.executeUpdate();
            return charge;
        }
    }

    /** The warehouse's API, stand-in: a log line, and a row written outside any transaction of Tandem's. */
    private String notifyWarehouse(long orderId, String idempotencyKey) throws SQLException {
        try (Connection conn = dataSource.getConnection();
                PreparedStatement ps = conn.prepareStatement(
                        "INSERT INTO warehouse_notifications (order_id, idempotency_key) VALUES (?, ?)")) {
            ps.setLong(1, orderId);
            ps.setString(2, idempotencyKey);
            ps.executeUpdate();
        }
        System.out.println("warehouse notified for order " + orderId + " (key " + idempotencyKey + ")");
        return idempotencyKey;
    }

    /** Marks the order shipped; returns the milliseconds since the inserting transaction began, for the log. */
    private static long ship(Connection conn, long orderId, String workflowId) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement("UPDATE orders SET status = 'SHIPPED' WHERE id = ?")) {
            ps.setLong(1, orderId);
            ps.executeUpdate();
        }
        // created_at is now() of the inserting transaction, in which the trigger enqueued this workflow: its start.
        try (PreparedStatement ps = conn.prepareStatement("SELECT round(1000 * extract(epoch FROM clock_timestamp()"
                + " - created_at))::bigint FROM tandem.workflows WHERE workflow_id = ?")) {
            ps.setString(1, workflowId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : -1;
            }
        }
    }
}
