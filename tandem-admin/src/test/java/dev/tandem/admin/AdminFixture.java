package dev.tandem.admin;

import dev.tandem.EnqueueOptions;
import dev.tandem.QueueOptions;
import dev.tandem.StartOptions;
import dev.tandem.Tandem;
import dev.tandem.Workflow;
import dev.tandem.WorkflowStatus;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.sql.DataSource;
import org.awaitility.Awaitility;

/**
 * Real workflows in every state, made by a real engine, for the admin tests: succeeded (with an order input and
 * steps, an event, a stream), failed with a stack trace (succeeds once {@link #fixed} is set), waiting for a message,
 * a parent with a child, and waiting behind it in a queue of concurrency 1.
 */
final class AdminFixture implements AutoCloseable {
    record Order(String customer, int amount) {}

    static final String OPERATOR = "operator-token-0123456789";
    static final String VIEWER = "viewer-token-0123456789ab";

    final Tandem tandem;
    final AtomicBoolean fixed = new AtomicBoolean();
    final Workflow<Order, String> charge;
    final Workflow<String, String> flaky;
    final Workflow<String, String> waiter;
    final Workflow<String, String> parent;
    final Workflow<java.time.Instant, String> tick;

    AdminFixture(DataSource dataSource) {
        tandem = Tandem.builder().dataSource(dataSource).executorId("admin-test")
                .queue("serial", QueueOptions.unlimited().concurrency(1))
                .build();
        charge = tandem.register("charge", Order.class, (ctx, order) -> {
            int cents = ctx.step("quote", () -> order.amount() * 100);
            ctx.transaction("debit", conn -> cents);
            ctx.setEvent("progress", "charged");
            ctx.writeStream("log", "charged " + cents);
            ctx.closeStream("log");
            return order.customer() + " paid " + cents;
        });
        flaky = tandem.register("flaky", String.class, (ctx, in) -> {
            ctx.step("prepare", () -> in);
            return ctx.step("call", () -> {
                if (!fixed.get()) {
                    throw new IllegalStateException("the service is down for " + in);
                }
                return "ok " + in;
            });
        });
        waiter = tandem.register("waiter", String.class,
                (ctx, in) -> ctx.recv("go", String.class, Duration.ofHours(1)));
        Workflow<String, String> child = tandem.register("child", String.class,
                (ctx, in) -> ctx.recv("go", String.class, Duration.ofHours(1)));
        parent = tandem.register("parent", String.class, (ctx, in) -> ctx.runChild(child, in + "-child"));
        tick = tandem.register("tick", java.time.Instant.class, (ctx, at) -> at.toString());
        tandem.start();
    }

    /** One of each; returns when they have reached their states. */
    void populate() {
        charge.start(new Order("ada", 12), StartOptions.withId("order-ada")).result(Duration.ofSeconds(30));
        charge.start(new Order("bob", 7), StartOptions.withId("order-bob")).result(Duration.ofSeconds(30));
        flaky.start("payments", StartOptions.withId("flaky-1"));
        waiter.enqueue("w", EnqueueOptions.withId("waiter-1").queue("serial"));
        waiter.enqueue("w", EnqueueOptions.withId("waiter-2").queue("serial")); // behind waiter-1
        parent.start("p", StartOptions.withId("parent-1"));
        awaitStatus("flaky-1", WorkflowStatus.ERROR);
        awaitStatus("waiter-1", WorkflowStatus.RUNNING);
        awaitStatus("parent-1", WorkflowStatus.RUNNING);
    }

    void awaitStatus(String id, WorkflowStatus status) {
        Awaitility.await(id + " " + status).atMost(Duration.ofSeconds(30))
                .until(() -> tandem.handle(id).status() == status);
    }

    @Override
    public void close() {
        tandem.close();
    }
}
