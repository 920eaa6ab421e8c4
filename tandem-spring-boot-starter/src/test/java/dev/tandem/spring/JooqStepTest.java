package dev.tandem.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tandem.StartOptions;
import dev.tandem.Tandem;
import dev.tandem.spring.annotated.JooqApp;
import dev.tandem.testing.TestDatabase;
import java.time.Duration;
import org.jooq.DSLContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * jOOQ on Spring Boot's DSLContext: a transactional step's jOOQ writes commit with its checkpoint, and jOOQ writes in a
 * {@code @Transactional} method that enqueues a workflow commit or roll back with the enqueue.
 */
class JooqStepTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    static ConfigurableApplicationContext app;
    static AnnotatedWorkflows workflows;
    static JooqApp.Orders orders;

    @BeforeAll
    static void start() {
        db.execute(JooqApp.SCHEMA);
        app = Apps.run(JooqApp.class, db.url(), "tandem.executor-id=jooq");
        workflows = app.getBean(AnnotatedWorkflows.class);
        orders = app.getBean(JooqApp.Orders.class);
    }

    @AfterAll
    static void stop() {
        if (app != null) {
            app.close();
        }
    }

    @Test
    void aJooqTransactionalStepCommitsWithItsCheckpoint() {
        assertThat(app.getBean(DSLContext.class)).isNotNull(); // Boot's, on the application's DataSource
        db.execute("INSERT INTO orders (id, status) VALUES ('j1', 'NEW')");
        assertThat(workflows.get("jooq_pay", String.class, String.class).run("j1", StartOptions.withId("jooq-j1")))
                .isEqualTo("paid");
        assertThat(db.queryString("SELECT status FROM orders WHERE id = 'j1'")).isEqualTo("PAID");
        assertThat(db.queryLong("SELECT count(DISTINCT x) FROM ("
                + " SELECT xmin::text AS x FROM payments WHERE order_id = 'j1'"
                + " UNION ALL SELECT xmin::text FROM orders WHERE id = 'j1'"
                + " UNION ALL SELECT xmin::text FROM tandem.steps WHERE workflow_id = 'jooq-j1' AND name = 'pay'"
                + ") t")).isEqualTo(1);
        assertThat(db.queryLong("SELECT count(*) FROM tandem.steps WHERE workflow_id = 'jooq-j1'"
                + " AND kind = 'TRANSACTION' AND output IS NOT NULL")).isEqualTo(1);
    }

    @Test
    void jooqWritesAndTheEnqueueRollBackTogether() {
        assertThatThrownBy(() -> orders.place("rolled-back", true)).hasMessageContaining("failed after the enqueue");
        assertThat(db.queryLong("SELECT count(*) FROM orders WHERE id = 'rolled-back'")).isZero();
        assertThat(db.queryLong("SELECT count(*) FROM tandem.workflows WHERE workflow_id = 'jooq-rolled-back'"))
                .isZero();
    }

    @Test
    void jooqWritesAndTheEnqueueCommitTogether() {
        orders.place("j2", false);
        assertThat(app.getBean(Tandem.class).<String>handle("jooq-j2").result(Duration.ofSeconds(20)))
                .isEqualTo("paid");
        assertThat(db.queryLong("SELECT count(*) FROM payments WHERE order_id = 'j2'")).isEqualTo(1);
    }
}
