package dev.tandem.spring.annotated;

import dev.tandem.WorkflowContext;
import dev.tandem.spring.AnnotatedWorkflows;
import dev.tandem.spring.Step;
import dev.tandem.spring.TransactionalStep;
import dev.tandem.spring.Workflow;
import dev.tandem.spring.WorkflowDefinition;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Lazy;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * A JDBC application in the annotation style: a workflow bean whose steps are on another bean ({@link OrderSteps}),
 * and one step on the workflow's own bean, called through a {@code @Lazy} reference to its proxy.
 */
@SpringBootConfiguration
@EnableAutoConfiguration(excludeName = {
        "org.springframework.boot.autoconfigure.orm.jpa.HibernateJpaAutoConfiguration",
        "org.springframework.boot.hibernate.autoconfigure.HibernateJpaAutoConfiguration"})
public class AnnotatedApp {
    public static final String SCHEMA = "CREATE TABLE IF NOT EXISTS orders (id bigint PRIMARY KEY, status text);"
            + "CREATE TABLE IF NOT EXISTS payments (order_id bigint, amount_cents int);"
            + "CREATE TABLE IF NOT EXISTS calls (step text, order_id bigint)";

    /** Lets a test hold a workflow inside its "ship" step. */
    public static volatile CountDownLatch shipEntered = new CountDownLatch(1);
    public static volatile long shipMillis = 0;
    public static final AtomicInteger flakyAttempts = new AtomicInteger();

    /** Created before the workflow's bean (declared first): it asks for the workflow in its constructor. */
    @Bean
    OrderStarter orderStarter(AnnotatedWorkflows workflows) {
        return new OrderStarter(workflows);
    }

    public static class OrderStarter {
        public final dev.tandem.Workflow<Long, String> processOrder;

        public OrderStarter(AnnotatedWorkflows workflows) {
            this.processOrder = workflows.get("annotated_order", Long.class, String.class);
        }
    }

    @Bean
    OrderSteps orderSteps(JdbcTemplate jdbc) {
        return new OrderSteps(jdbc);
    }

    @Bean
    OrderWorkflow orderWorkflow(OrderSteps steps, JdbcTemplate jdbc) {
        return new OrderWorkflow(steps, jdbc);
    }

    /** A functional workflow whose steps are annotated methods: they are checkpoints too. */
    @Bean
    WorkflowDefinition<Long, Integer> quoteTwice(OrderSteps steps) {
        return WorkflowDefinition.of("quote_twice", Long.class, (ctx, orderId) -> {
            int first = steps.quote(orderId);
            return first + ctx.step("double", () -> 2) * steps.quote(orderId);
        });
    }

    public static class OrderSteps {
        private final JdbcTemplate jdbc;

        public OrderSteps(JdbcTemplate jdbc) {
            this.jdbc = jdbc;
        }

        /** A plain step: its call is recorded in table calls (autocommit, outside any transaction). */
        @Step
        public int quote(long orderId) {
            jdbc.update("INSERT INTO calls (step, order_id) VALUES ('quote', ?)", orderId);
            return 1250;
        }

        /** The payment and the status commit with the step's checkpoint. */
        @TransactionalStep
        public String charge(long orderId, int cents) {
            jdbc.update("INSERT INTO payments (order_id, amount_cents) VALUES (?, ?)", orderId, cents);
            jdbc.update("UPDATE orders SET status = 'PAID' WHERE id = ?", orderId);
            return "paid " + cents;
        }

        @TransactionalStep("ship-it")
        public void ship(long orderId) throws InterruptedException {
            jdbc.update("UPDATE orders SET status = 'SHIPPED' WHERE id = ?", orderId);
            shipEntered.countDown();
            if (shipMillis > 0) {
                Thread.sleep(shipMillis);
            }
        }

        /** Fails twice, then succeeds: retried by the step's options. */
        @Step(maxAttempts = 3, initialBackoffMillis = 10, maxBackoffMillis = 10, retryOn = IllegalStateException.class)
        public String flaky() {
            if (flakyAttempts.incrementAndGet() < 3) {
                throw new IllegalStateException("not yet");
            }
            return "third time";
        }

        /** Whether a Spring transaction is active while the method runs. */
        @TransactionalStep
        public boolean transactionActive() {
            return TransactionSynchronizationManager.isActualTransactionActive();
        }

        @Step
        public String idempotencyKey() {
            return AnnotatedWorkflows.currentContext().map(WorkflowContext::idempotencyKey).orElse("none");
        }
    }

    public static class OrderWorkflow {
        private final OrderSteps steps;
        private final JdbcTemplate jdbc;
        /** This bean's proxy: its own step is called through it, not through this. */
        @Autowired
        @Lazy
        private OrderWorkflow self;

        public OrderWorkflow(OrderSteps steps, JdbcTemplate jdbc) {
            this.steps = steps;
            this.jdbc = jdbc;
        }

        @Workflow("annotated_order")
        public String process(Long orderId) throws InterruptedException {
            int cents = steps.quote(orderId);
            String paid = steps.charge(orderId, cents);
            steps.ship(orderId);
            return paid + ", " + self.audit(orderId);
        }

        @Step
        public String audit(long orderId) {
            jdbc.update("INSERT INTO calls (step, order_id) VALUES ('audit', ?)", orderId);
            return "audited";
        }

        /** The default name (the method's) and the context as first parameter. */
        @Workflow
        public String details(WorkflowContext ctx, String input) {
            return ctx.workflowId() + " " + input + " " + steps.flaky() + " " + steps.transactionActive() + " "
                    + steps.idempotencyKey() + " " + self.nested();
        }

        /** A step method called inside a step is part of it: no checkpoint of its own, the same transaction. */
        @TransactionalStep
        public String nested() {
            return steps.transactionActive() + "/" + steps.idempotencyKey();
        }
    }
}
