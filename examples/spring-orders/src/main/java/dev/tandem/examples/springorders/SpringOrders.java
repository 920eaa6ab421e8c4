package dev.tandem.examples.springorders;

import dev.tandem.EnqueueOptions;
import dev.tandem.Workflow;
import dev.tandem.spring.WorkflowDefinition;
import jakarta.persistence.EntityManager;
import java.time.Duration;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;
import org.springframework.http.HttpStatus;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.server.ResponseStatusException;

/**
 * POST /orders inserts an order and enqueues its workflow in one {@code @Transactional} method: the workflow exists if
 * and only if the order does. The workflow pays the order in a transactional step (JdbcTemplate; the payment, the
 * status and the step's checkpoint commit together, once), notifies the warehouse (a plain step, at least once) and
 * ships it in a transactional step that writes through JPA (the entity's change is flushed with the checkpoint).
 */
@SpringBootApplication
public class SpringOrders {
    private static final Logger log = LoggerFactory.getLogger(SpringOrders.class);

    public static void main(String[] args) {
        SpringApplication app = new SpringApplication(SpringOrders.class);
        app.addListeners(new EmbeddedDatabase()); // only when spring.datasource.url is not set
        app.run(args);
    }

    @Bean
    WorkflowDefinition<Long, String> processOrder(JdbcTemplate jdbc, EntityManager em, // Spring's shared one
            @Value("${orders.warehouse-latency:0ms}") Duration warehouseLatency) {
        return WorkflowDefinition.of("process_order", Long.class, (ctx, orderId) -> {
            ctx.transaction("charge", conn -> { // JdbcTemplate joins the step's transaction
                jdbc.update("INSERT INTO payments (order_id, amount_cents) SELECT id, amount_cents FROM orders"
                        + " WHERE id = ?", orderId);
                return jdbc.update("UPDATE orders SET status = 'PAID' WHERE id = ?", orderId);
            });
            ctx.step("notify-warehouse", () -> {
                Thread.sleep(warehouseLatency.toMillis()); // the warehouse's answer takes this long
                log.info("warehouse: ship order {} (idempotency key {})", orderId, ctx.idempotencyKey());
                return null;
            });
            ctx.transaction("ship", conn -> { // JPA: the change is flushed when the step's transaction commits
                em.find(ShopOrder.class, orderId).ship();
                return null;
            });
            return "SHIPPED";
        });
    }

    public record OrderRequest(String customer, int amountCents) {}

    @Service
    public static class Orders {
        private final JdbcTemplate jdbc;
        private final Workflow<Long, String> processOrder;

        public Orders(JdbcTemplate jdbc, Workflow<Long, String> processOrder) {
            this.jdbc = jdbc;
            this.processOrder = processOrder;
        }

        @Transactional
        public long place(OrderRequest order) {
            Long id = jdbc.queryForObject("INSERT INTO orders (customer, amount_cents, status) VALUES (?, ?, 'NEW')"
                    + " RETURNING id", Long.class, order.customer(), order.amountCents());
            processOrder.enqueue(id, EnqueueOptions.withId("order-" + id)); // joins this transaction
            if ("fail".equals(order.customer())) { // rolls back the order and the enqueue together
                throw new ResponseStatusException(HttpStatus.UNPROCESSABLE_ENTITY, "customer 'fail' always fails");
            }
            return id;
        }
    }

    @RestController
    public static class OrdersController {
        private final Orders orders;
        private final JdbcTemplate jdbc;

        public OrdersController(Orders orders, JdbcTemplate jdbc) {
            this.orders = orders;
            this.jdbc = jdbc;
        }

        @PostMapping("/orders")
        @ResponseStatus(HttpStatus.CREATED)
        public Map<String, Object> place(@RequestBody OrderRequest order) {
            long id = orders.place(order);
            return Map.of("id", id, "workflowId", "order-" + id);
        }

        @GetMapping("/orders/{id}")
        public Map<String, Object> get(@PathVariable long id) {
            return jdbc.queryForMap("SELECT o.id, o.customer, o.amount_cents AS \"amountCents\", o.status,"
                    + " w.status AS \"workflowStatus\" FROM orders o"
                    + " LEFT JOIN tandem.workflows w ON w.workflow_id = 'order-' || o.id WHERE o.id = ?", id);
        }
    }
}
