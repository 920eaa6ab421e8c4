package dev.tandem.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tandem.EnqueueOptions;
import dev.tandem.StartOptions;
import dev.tandem.Tandem;
import dev.tandem.WorkflowFailedException;
import dev.tandem.WorkflowHandle;
import dev.tandem.WorkflowStatus;
import dev.tandem.testing.TestDatabase;
import java.time.Duration;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/** enqueue and send join the Spring transaction; a transactional step runs in one on DataSourceTransactionManager. */
class TransactionJoiningTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    static ConfigurableApplicationContext app;
    static Tandem tandem;
    static JdbcApp.Orders orders;
    static WorkflowDefinition<String, String> pay;
    static WorkflowDefinition<String, String> greet;
    static WorkflowDefinition<String, String> receiver;
    static TransactionTemplate tx;

    @BeforeAll
    @SuppressWarnings("unchecked")
    static void start() {
        db.execute(JdbcApp.SCHEMA);
        JdbcApp.stepEntered = new java.util.concurrent.CountDownLatch(1);
        JdbcApp.stepMillis = 0;
        app = Apps.run(JdbcApp.class, db.url(), "tandem.executor-id=joining");
        tandem = app.getBean(Tandem.class);
        orders = app.getBean(JdbcApp.Orders.class);
        pay = app.getBean("pay", WorkflowDefinition.class);
        greet = app.getBean("greet", WorkflowDefinition.class);
        receiver = app.getBean("receiver", WorkflowDefinition.class);
        tx = new TransactionTemplate(app.getBean(PlatformTransactionManager.class));
    }

    @AfterAll
    static void stop() {
        if (app != null) {
            app.close();
        }
    }

    @Test
    void theTransactionManagerIsJdbcs() {
        assertThat(app.getBean(PlatformTransactionManager.class)).isInstanceOf(DataSourceTransactionManager.class);
    }

    @Test
    void aTransactionalMethodThatThrowsAfterTheEnqueueLeavesNoWorkflow() {
        assertThatThrownBy(() -> orders.place("rolled-back", true)).hasMessageContaining("failed after the enqueue");
        assertThat(db.queryLong("SELECT count(*) FROM orders WHERE id = 'rolled-back'")).isZero();
        assertThat(db.queryLong("SELECT count(*) FROM tandem.workflows WHERE workflow_id = 'order-rolled-back'"))
                .isZero();
    }

    @Test
    void aTransactionalMethodThatCommitsRunsTheWorkflowWhoseStepCommitsWithItsCheckpoint() {
        orders.place("42", false);
        assertThat(tandem.<String>handle("order-42").result(Duration.ofSeconds(20))).isEqualTo("paid");
        assertThat(db.queryString("SELECT status FROM orders WHERE id = '42'")).isEqualTo("PAID");
        // JdbcTemplate's row, JdbcClient's row and the checkpoint were written by one transaction: one commit.
        assertThat(db.queryLong("SELECT count(*) FROM payments WHERE order_id = '42'")).isEqualTo(2);
        assertThat(db.queryLong("SELECT count(DISTINCT x) FROM ("
                + " SELECT xmin::text AS x FROM payments WHERE order_id = '42'"
                + " UNION ALL SELECT xmin::text FROM tandem.steps WHERE workflow_id = 'order-42' AND kind = 'TRANSACTION'"
                + ") t")).isEqualTo(1);
        assertThat(db.queryLong("SELECT count(*) FROM tandem.steps WHERE workflow_id = 'order-42'"
                + " AND kind = 'TRANSACTION' AND output IS NOT NULL")).isEqualTo(1);
    }

    @Test
    void aCheckpointThatFailsAfterTheApplicationsSqlRollsThatSqlBack() {
        WorkflowHandle<String> h = pay.start("poison-1", StartOptions.withId("order-poison-1"));
        assertThatThrownBy(() -> h.result(Duration.ofSeconds(20))).isInstanceOf(WorkflowFailedException.class);
        assertThat(db.queryLong("SELECT count(*) FROM payments WHERE order_id = 'poison-1'")).isZero();
        assertThat(db.queryLong("SELECT count(*) FROM tandem.steps WHERE workflow_id = 'order-poison-1'"
                + " AND output IS NOT NULL")).isZero();
    }

    @Test
    void enqueueOutsideATransactionCommitsAtOnce() {
        WorkflowHandle<String> h = greet.enqueue("ada", EnqueueOptions.withId("greet-outside"));
        assertThat(db.queryLong("SELECT count(*) FROM tandem.workflows WHERE workflow_id = 'greet-outside'"))
                .isEqualTo(1);
        assertThat(h.result(Duration.ofSeconds(20))).isEqualTo("hello ada");
    }

    @Test
    void enqueueInsideATransactionIsInvisibleUntilItCommits() {
        tx.executeWithoutResult(status -> {
            greet.enqueue("bob", EnqueueOptions.withId("greet-inside"));
            assertThat(db.queryLong("SELECT count(*) FROM tandem.workflows WHERE workflow_id = 'greet-inside'"))
                    .isZero(); // another connection does not see it yet
        });
        assertThat(tandem.<String>handle("greet-inside").result(Duration.ofSeconds(20))).isEqualTo("hello bob");
    }

    @Test
    void startDoesNotJoinTheTransaction() {
        // start commits before it returns (the execution runs at once), whatever the caller's transaction does.
        assertThatThrownBy(() -> tx.executeWithoutResult(status -> {
            greet.start("carl", StartOptions.withId("greet-start"));
            throw new IllegalStateException("rollback");
        })).hasMessage("rollback");
        assertThat(tandem.<String>handle("greet-start").result(Duration.ofSeconds(20))).isEqualTo("hello carl");
    }

    @Test
    void sendInsideATransactionThatRollsBackSendsNothing() {
        WorkflowHandle<String> h = receiver.start("r", StartOptions.withId("receiver-1"));
        assertThatThrownBy(() -> orders.send("receiver-1", "first", true)).hasMessageContaining("after the send");
        assertThat(db.queryLong("SELECT count(*) FROM tandem.messages WHERE workflow_id = 'receiver-1'")).isZero();
        orders.send("receiver-1", "second", false);
        assertThat(h.result(Duration.ofSeconds(20))).isEqualTo("second");
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> h.status() == WorkflowStatus.SUCCESS);
    }
}
