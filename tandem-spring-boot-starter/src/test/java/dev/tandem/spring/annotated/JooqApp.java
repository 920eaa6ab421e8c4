package dev.tandem.spring.annotated;

import static org.jooq.impl.DSL.field;
import static org.jooq.impl.DSL.table;

import dev.tandem.EnqueueOptions;
import dev.tandem.spring.AnnotatedWorkflows;
import dev.tandem.spring.TransactionalStep;
import dev.tandem.spring.Workflow;
import org.jooq.DSLContext;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.transaction.annotation.Transactional;

/** jOOQ on Boot's DSLContext (on the application's DataSource, in its Spring transactions), no JPA. */
@SpringBootConfiguration
@EnableAutoConfiguration(excludeName = {
        "org.springframework.boot.autoconfigure.orm.jpa.HibernateJpaAutoConfiguration",
        "org.springframework.boot.hibernate.autoconfigure.HibernateJpaAutoConfiguration"})
public class JooqApp {
    public static final String SCHEMA = "CREATE TABLE IF NOT EXISTS orders (id text PRIMARY KEY, status text);"
            + "CREATE TABLE IF NOT EXISTS payments (order_id text, amount_cents int)";

    @Bean
    PaymentSteps paymentSteps(DSLContext dsl) {
        return new PaymentSteps(dsl);
    }

    @Bean
    PayWorkflow payWorkflow(PaymentSteps steps) {
        return new PayWorkflow(steps);
    }

    @Bean
    Orders jooqOrders(DSLContext dsl, AnnotatedWorkflows workflows) {
        return new Orders(dsl, workflows);
    }

    public static class PaymentSteps {
        private final DSLContext dsl;

        public PaymentSteps(DSLContext dsl) {
            this.dsl = dsl;
        }

        /** The payment and the status, written with jOOQ in the step's transaction, commit with its checkpoint. */
        @TransactionalStep
        public int pay(String orderId) {
            dsl.insertInto(table("payments"), field("order_id"), field("amount_cents")).values(orderId, 700).execute();
            return dsl.update(table("orders")).set(field("status"), "PAID").where(field("id").eq(orderId)).execute();
        }
    }

    public static class PayWorkflow {
        private final PaymentSteps steps;

        public PayWorkflow(PaymentSteps steps) {
            this.steps = steps;
        }

        @Workflow("jooq_pay")
        public String pay(String orderId) {
            return steps.pay(orderId) == 1 ? "paid" : "no order";
        }
    }

    public static class Orders {
        private final DSLContext dsl;
        private final AnnotatedWorkflows workflows;

        public Orders(DSLContext dsl, AnnotatedWorkflows workflows) {
            this.dsl = dsl;
            this.workflows = workflows;
        }

        /** The order (jOOQ) and its workflow's enqueue: one transaction. */
        @Transactional
        public void place(String id, boolean fail) {
            dsl.insertInto(table("orders"), field("id"), field("status")).values(id, "NEW").execute();
            workflows.get("jooq_pay", String.class, String.class).enqueue(id, EnqueueOptions.withId("jooq-" + id));
            if (fail) {
                throw new IllegalStateException("failed after the enqueue");
            }
        }
    }
}
