package dev.tandem.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tandem.StartOptions;
import dev.tandem.Workflow;
import dev.tandem.WorkflowHandle;
import dev.tandem.spring.annotated.AnnotatedApp;
import dev.tandem.testing.TestDatabase;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The annotation style: a {@code @Workflow} method whose {@code @Step} and {@code @TransactionalStep} calls are
 * checkpoints, recovered without running completed steps again; a transactional step's SQL commits with its checkpoint.
 */
class AnnotatedWorkflowTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    static ConfigurableApplicationContext app;
    static AnnotatedWorkflows workflows;

    @BeforeAll
    static void start() {
        db.execute(AnnotatedApp.SCHEMA);
        AnnotatedApp.shipEntered = new CountDownLatch(1);
        AnnotatedApp.shipMillis = 0;
        AnnotatedApp.flakyAttempts.set(0);
        app = Apps.run(AnnotatedApp.class, db.url(), "tandem.executor-id=annotated");
        workflows = app.getBean(AnnotatedWorkflows.class);
    }

    @AfterAll
    static void stop() {
        if (app != null) {
            app.close();
        }
    }

    static String checkpoints(String workflowId) {
        return db.queryString("SELECT string_agg(position || ':' || name || ':' || kind, ' ' ORDER BY position)"
                + " FROM tandem.steps WHERE workflow_id = '" + workflowId + "' AND error IS NULL");
    }

    @Test
    void eachStepCallIsACheckpointAndTheTransactionalStepCommitsWithItsSql() {
        db.execute("INSERT INTO orders (id, status) VALUES (1, 'NEW')");
        // Asked for in a constructor, before the workflow's bean existed: resolved at its first use.
        Workflow<Long, String> order = app.getBean(AnnotatedApp.OrderStarter.class).processOrder;
        assertThat(order).isNotInstanceOf(WorkflowDefinition.class); // the workflow's bean did not exist yet
        assertThat(order.run(1L, StartOptions.withId("order-1"))).isEqualTo("paid 1250, audited");
        assertThat(checkpoints("order-1"))
                .isEqualTo("1:quote:STEP 2:charge:TRANSACTION 3:ship-it:TRANSACTION 4:audit:STEP");
        assertThat(db.queryString("SELECT status FROM orders WHERE id = 1")).isEqualTo("SHIPPED");
        assertThat(db.queryLong("SELECT count(*) FROM payments WHERE order_id = 1")).isEqualTo(1);
        // The payment and the charge step's checkpoint were written by one transaction: one commit.
        assertThat(db.queryLong("SELECT count(DISTINCT x) FROM ("
                + " SELECT xmin::text AS x FROM payments WHERE order_id = 1"
                + " UNION ALL SELECT xmin::text FROM tandem.steps WHERE workflow_id = 'order-1' AND name = 'charge'"
                + ") t")).isEqualTo(1);
        // The plain step's checkpoint is not written in its (autocommitted) insert's transaction.
        assertThat(db.queryLong("SELECT count(DISTINCT x) FROM ("
                + " SELECT xmin::text AS x FROM calls WHERE order_id = 1 AND step = 'quote'"
                + " UNION ALL SELECT xmin::text FROM tandem.steps WHERE workflow_id = 'order-1' AND name = 'quote'"
                + ") t")).isEqualTo(2);
    }

    @Test
    void aRecoveredWorkflowDoesNotRunItsCompletedStepsAgain() throws Exception {
        db.execute("INSERT INTO orders (id, status) VALUES (2, 'NEW')");
        AnnotatedApp.shipEntered = new CountDownLatch(1);
        AnnotatedApp.shipMillis = 30_000;
        ConfigurableApplicationContext first = Apps.run(AnnotatedApp.class, db.url(),
                "tandem.executor-id=annotated-recovery", "tandem.shutdown-timeout=200ms");
        first.getBean(AnnotatedWorkflows.class).get("annotated_order", Long.class, String.class)
                .start(2L, StartOptions.withId("order-2"));
        assertThat(AnnotatedApp.shipEntered.await(20, TimeUnit.SECONDS)).as("the ship step started").isTrue();
        first.close(); // interrupts the ship step after 200 ms: its transaction rolls back
        assertThat(db.queryString("SELECT status FROM tandem.workflows WHERE workflow_id = 'order-2'"))
                .isEqualTo("RUNNING");
        assertThat(checkpoints("order-2")).isEqualTo("1:quote:STEP 2:charge:TRANSACTION");
        assertThat(db.queryString("SELECT status FROM orders WHERE id = 2")).isEqualTo("PAID");

        AnnotatedApp.shipMillis = 0;
        ConfigurableApplicationContext again = Apps.run(AnnotatedApp.class, db.url(),
                "tandem.executor-id=annotated-recovery");
        try {
            WorkflowHandle<String> handle = again.getBean(dev.tandem.Tandem.class).handle("order-2");
            assertThat(handle.result(Duration.ofSeconds(30))).isEqualTo("paid 1250, audited");
        } finally {
            again.close();
        }
        assertThat(db.queryLong("SELECT count(*) FROM calls WHERE order_id = 2 AND step = 'quote'")).isEqualTo(1);
        assertThat(db.queryLong("SELECT count(*) FROM payments WHERE order_id = 2")).isEqualTo(1);
        assertThat(db.queryString("SELECT status FROM orders WHERE id = 2")).isEqualTo("SHIPPED");
        assertThat(checkpoints("order-2"))
                .isEqualTo("1:quote:STEP 2:charge:TRANSACTION 3:ship-it:TRANSACTION 4:audit:STEP");
    }

    @Test
    void stepOptionsApplyAndAStepSeesItsContext() {
        Workflow<String, String> details = workflows.get("details", String.class, String.class);
        // flaky: retried twice; transactionActive: a transactional step runs in a Spring transaction; the key of
        // the step running (position 3); steps called inside step 4 are part of it.
        assertThat(details.run("x", StartOptions.withId("details-1")))
                .isEqualTo("details-1 x third time true details-1:3 true/details-1:4");
        assertThat(AnnotatedApp.flakyAttempts.get()).isEqualTo(3);
        assertThat(checkpoints("details-1")).isEqualTo(
                "1:flaky:STEP 2:transactionActive:TRANSACTION 3:idempotencyKey:STEP 4:nested:TRANSACTION");
    }

    @Test
    void aWorkflowDefinitionsCallsOfStepMethodsAreCheckpointsToo() {
        Workflow<Long, Integer> quoteTwice = app.getBean("quoteTwice", WorkflowDefinition.class);
        assertThat(quoteTwice.run(7L, StartOptions.withId("quote-twice-7"))).isEqualTo(3750);
        assertThat(checkpoints("quote-twice-7")).isEqualTo("1:quote:STEP 2:double:STEP 3:quote:STEP");
        assertThat(db.queryLong("SELECT count(*) FROM calls WHERE order_id = 7")).isEqualTo(2);
    }

    @Test
    void callingAWorkflowMethodDirectlyFails() {
        AnnotatedApp.OrderWorkflow bean = app.getBean(AnnotatedApp.OrderWorkflow.class);
        assertThatThrownBy(() -> bean.process(3L)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("was called directly")
                .hasMessageContaining("workflows.get(\"annotated_order\", ...).start(input)");
        assertThat(db.queryLong("SELECT count(*) FROM calls WHERE order_id = 3")).isZero();
    }

    @Test
    void outsideAWorkflowAStepIsAPlainCallAndATransactionalStepHasATransaction() {
        AnnotatedApp.OrderSteps steps = app.getBean(AnnotatedApp.OrderSteps.class);
        long before = db.queryLong("SELECT count(*) FROM tandem.steps");
        assertThat(steps.quote(9)).isEqualTo(1250);
        assertThat(steps.transactionActive()).isTrue();
        assertThat(steps.idempotencyKey()).isEqualTo("none");
        assertThat(db.queryLong("SELECT count(*) FROM calls WHERE order_id = 9")).isEqualTo(1);
        assertThat(db.queryLong("SELECT count(*) FROM tandem.steps")).isEqualTo(before);
    }

    @Test
    void theTypedLookupChecksTheMethodsTypes() {
        assertThat(workflows.names()).contains("annotated_order", "details");
        assertThatThrownBy(() -> workflows.get("annotated_order", String.class, String.class))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("takes java.lang.Long and returns java.lang.String");
        assertThat(workflows.get("annotated_order", Long.class, Object.class)).isNotNull();
        assertThatThrownBy(() -> workflows.get("nope")).hasMessageContaining("no @Workflow method is named 'nope'");
    }
}
