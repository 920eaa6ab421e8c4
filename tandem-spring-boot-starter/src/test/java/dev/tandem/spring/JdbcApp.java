package dev.tandem.spring;

import dev.tandem.Tandem;
import dev.tandem.Workflow;
import dev.tandem.EnqueueOptions;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.transaction.annotation.Transactional;

/**
 * A JDBC application (DataSourceTransactionManager; JPA excluded, under its Boot 3 and Boot 4 names) with the test
 * workflows and a {@code @Transactional} service.
 */
@SpringBootConfiguration
@EnableAutoConfiguration(excludeName = {
        "org.springframework.boot.autoconfigure.orm.jpa.HibernateJpaAutoConfiguration",
        "org.springframework.boot.hibernate.autoconfigure.HibernateJpaAutoConfiguration"})
public class JdbcApp {
    static final String SCHEMA = "CREATE TABLE IF NOT EXISTS orders (id text PRIMARY KEY, status text);"
            + "CREATE TABLE IF NOT EXISTS payments (order_id text, source text, amount_cents int)";

    /** Lets a test hold a workflow in the middle of its transactional step. */
    static volatile CountDownLatch stepEntered = new CountDownLatch(1);
    static volatile long stepMillis = 0;

    @Bean
    WorkflowDefinition<String, String> greet() {
        return WorkflowDefinition.of("greet", String.class, (ctx, name) -> ctx.step("hello", () -> "hello " + name));
    }

    /** One transactional step that writes through JdbcTemplate and JdbcClient, and returns the step's output. */
    @Bean
    WorkflowDefinition<String, String> pay(JdbcTemplate jdbc, JdbcClient client) {
        return WorkflowDefinition.of("pay", String.class, (ctx, orderId) -> {
            String paid = ctx.transaction("pay", conn -> {
                jdbc.update("INSERT INTO payments (order_id, source, amount_cents) VALUES (?, 'jdbcTemplate', 100)",
                        orderId);
                client.sql("INSERT INTO payments (order_id, source, amount_cents) VALUES (?, 'jdbcClient', 1)")
                        .param(orderId).update();
                stepEntered.countDown();
                if (stepMillis > 0) {
                    Thread.sleep(stepMillis);
                }
                // A value PostgreSQL cannot store makes the checkpoint insert fail after the application's SQL.
                return orderId.startsWith("poison") ? "\u0000" : "paid";
            });
            jdbc.update("UPDATE orders SET status = 'PAID' WHERE id = ?", orderId);
            return paid;
        });
    }

    /** Waits for a message on topic "go". */
    @Bean
    WorkflowDefinition<String, String> receiver() {
        return WorkflowDefinition.of("receiver", String.class,
                (ctx, in) -> String.valueOf(ctx.recv("go", String.class, Duration.ofSeconds(30))));
    }

    @Bean
    Orders orders(JdbcTemplate jdbc, @Qualifier("pay") Workflow<String, String> pay, Tandem tandem) {
        return new Orders(jdbc, pay, tandem);
    }

    /** The application's service: its methods are Spring transactions. */
    public static class Orders {
        private final JdbcTemplate jdbc;
        private final Workflow<String, String> pay;
        private final Tandem tandem;

        public Orders(JdbcTemplate jdbc, Workflow<String, String> pay, Tandem tandem) {
            this.jdbc = jdbc;
            this.pay = pay;
            this.tandem = tandem;
        }

        @Transactional
        public void place(String id, boolean fail) {
            jdbc.update("INSERT INTO orders (id, status) VALUES (?, 'NEW')", id);
            pay.enqueue(id, EnqueueOptions.withId("order-" + id));
            if (fail) {
                throw new IllegalStateException("failed after the enqueue");
            }
        }

        @Transactional
        public void send(String workflowId, String message, boolean fail) {
            tandem.send(workflowId, "go", message, null);
            if (fail) {
                throw new IllegalStateException("failed after the send");
            }
        }
    }

    static void awaitStep() throws InterruptedException {
        if (!stepEntered.await(20, TimeUnit.SECONDS)) {
            throw new AssertionError("the step did not start");
        }
    }
}
