package dev.tandem.spring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.StartOptions;
import dev.tandem.Tandem;
import dev.tandem.testing.TestDatabase;
import io.micrometer.core.instrument.MeterRegistry;
import java.lang.reflect.Method;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The engine starts after the context is refreshed and stops with it: a workflow in the middle of a transactional step
 * at shutdown either finishes it or is left for recovery with nothing of the step written; never half of it.
 */
class LifecycleTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    @BeforeAll
    static void schema() {
        db.execute(JdbcApp.SCHEMA);
    }

    @BeforeEach
    void reset() {
        JdbcApp.stepEntered = new CountDownLatch(1);
        JdbcApp.stepMillis = 0;
    }

    @Test
    void shutdownWaitsForAStepThatEndsWithinTheShutdownTimeout() throws Exception {
        ConfigurableApplicationContext app = Apps.run(JdbcApp.class, db.url(), "tandem.executor-id=graceful",
                "tandem.shutdown-timeout=10s");
        JdbcApp.stepMillis = 700;
        app.getBean("pay", WorkflowDefinition.class).start("g1", StartOptions.withId("order-g1"));
        JdbcApp.awaitStep();
        app.close(); // the step is sleeping inside its transaction
        assertThat(db.queryString("SELECT status FROM tandem.workflows WHERE workflow_id = 'order-g1'"))
                .isEqualTo("SUCCESS");
        assertThat(db.queryLong("SELECT count(*) FROM payments WHERE order_id = 'g1'")).isEqualTo(2);
    }

    @Test
    void aStepInterruptedAtShutdownLeavesNothingAndIsRecoveredByTheNextStart() throws Exception {
        ConfigurableApplicationContext app = Apps.run(JdbcApp.class, db.url(), "tandem.executor-id=abrupt",
                "tandem.shutdown-timeout=200ms");
        JdbcApp.stepMillis = 30_000;
        app.getBean("pay", WorkflowDefinition.class).start("a1", StartOptions.withId("order-a1"));
        JdbcApp.awaitStep();
        app.close(); // interrupts the step after 200 ms: its transaction rolls back
        assertThat(db.queryLong("SELECT count(*) FROM payments WHERE order_id = 'a1'")).isZero();
        assertThat(db.queryLong("SELECT count(*) FROM tandem.steps WHERE workflow_id = 'order-a1'")).isZero();
        assertThat(db.queryString("SELECT status FROM tandem.workflows WHERE workflow_id = 'order-a1'"))
                .isEqualTo("RUNNING");

        JdbcApp.stepMillis = 0;
        ConfigurableApplicationContext again = Apps.run(JdbcApp.class, db.url(), "tandem.executor-id=abrupt");
        try {
            Tandem tandem = again.getBean(Tandem.class);
            assertThat(tandem.<String>handle("order-a1").result(Duration.ofSeconds(20))).isEqualTo("paid");
            assertThat(db.queryLong("SELECT count(*) FROM payments WHERE order_id = 'a1'")).isEqualTo(2);
        } finally {
            again.close();
        }
    }

    @Test
    void theHealthIndicatorReportsTheRunningEngine() throws Exception {
        ConfigurableApplicationContext app = Apps.run(JdbcApp.class, db.url(), "tandem.executor-id=healthy");
        try {
            // Spring Boot 3 and 4 have different health types: read them reflectively.
            Object indicator = app.getBean("tandemHealthIndicator");
            Object health = indicator.getClass().getMethod("health").invoke(indicator);
            Object status = call(health, "getStatus");
            assertThat(call(status, "getCode")).isEqualTo("UP");
            @SuppressWarnings("unchecked")
            Map<String, Object> details = (Map<String, Object>) call(health, "getDetails");
            assertThat(details).containsEntry("executorId", "healthy").containsEntry("running", true)
                    .containsKeys("heartbeatAge", "schemaVersion");
            assertThat((Integer) details.get("schemaVersion")).isGreaterThanOrEqualTo(8);
            // The actuator's MeterRegistry was given to the engine.
            MeterRegistry registry = app.getBean(MeterRegistry.class);
            Awaitility.await().atMost(Duration.ofSeconds(10))
                    .until(() -> registry.find("tandem.executor.heartbeat.age").meter() != null);
        } finally {
            app.close();
        }
    }

    private static Object call(Object target, String method) throws Exception {
        Method m = target.getClass().getMethod(method);
        m.setAccessible(true);
        return m.invoke(target);
    }
}
