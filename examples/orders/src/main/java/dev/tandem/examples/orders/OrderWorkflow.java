package dev.tandem.examples.orders;

import dev.tandem.WorkflowContext;
import dev.tandem.WorkflowFunction;

/**
 * Workflow {@code crash_demo_order}: quote, charge, notify the warehouse, ship. Its input is the order id. (Its name
 * and ids differ from those of {@code serve} mode's {@code process_order}, so that the two never meet in one database.)
 *
 * <p>After a crash Tandem runs this function again from the top: every step that completed returns its recorded
 * result instead of running again, and the first one that did not complete runs (again).
 */
final class OrderWorkflow implements WorkflowFunction<Long, String> {
    static final String NAME = "crash_demo_order";

    private final Shop shop;
    private final Warehouse warehouse;

    OrderWorkflow(Shop shop, Warehouse warehouse) {
        this.shop = shop;
        this.warehouse = warehouse;
    }

    /** The workflow id of an order: starting the same order twice finds the first execution instead. */
    static String workflowId(long orderId) {
        return "crash-demo-order-" + orderId;
    }

    @Override
    public String run(WorkflowContext ctx, Long orderId) {
        // In a step, so that a replay uses the price that was charged, not whatever the price is by then.
        Order order = ctx.step("quote", () -> shop.quote(orderId));

        // Payment row, debit and status change commit in one transaction together with this step's checkpoint:
        // after a crash either all of it happened (and is never run again) or none of it did (and it runs again).
        ctx.transaction("charge", conn -> {
            Shop.charge(conn, order);
            return order.amountCents();
        });

        // Outside the database transaction: at least once. The idempotency key is the same on every retry, so a
        // real warehouse API could drop the duplicates.
        ctx.step("notify-warehouse", () -> warehouse.notifyShipment(order.id(), ctx.idempotencyKey()));

        ctx.transaction("ship", conn -> {
            Shop.markShipped(conn, order.id());
            return null;
        });
        return "order " + order.id() + ": charged " + order.amountCents() + " cents to " + order.customer()
                + ", shipped";
    }
}
