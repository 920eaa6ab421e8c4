package dev.tandem.examples.orders;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.StartOptions;
import dev.tandem.Tandem;
import dev.tandem.Workflow;
import dev.tandem.testing.TestDatabase;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The crash demo's final checks ({@link Summary}) against a small batch run in this JVM without a crash, and then
 * against the same tables tampered with, each case in a transaction that is rolled back: every kind of damage must be
 * reported, and only that.
 */
class SummaryTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    private static final int ORDERS = 6;

    @BeforeAll
    static void runBatch() throws Exception {
        Shop.reset(db.url(), ORDERS);
        try (Tandem tandem = Tandem.builder().dataSource(db.dataSource()).build()) {
            Shop shop = new Shop(db.dataSource());
            Workflow<Long, String> workflow = tandem.register(OrderWorkflow.NAME, Long.class,
                    new OrderWorkflow(shop, new Warehouse(db.dataSource())));
            tandem.start();
            for (long orderId : shop.orderIds()) {
                workflow.run(orderId, StartOptions.withId(OrderWorkflow.workflowId(orderId)));
            }
        }
    }

    @Test
    void aCleanBatchIsExactlyOnce() throws SQLException {
        try (Connection conn = db.dataSource().getConnection()) {
            Summary summary = Summary.read(conn, ORDERS);
            assertThat(summary).isEqualTo(new Summary(ORDERS, ORDERS, 0, ORDERS, ORDERS, 0, 0, ORDERS, ORDERS,
                    ORDERS, ORDERS));
            assertThat(summary.exactlyOnce()).isTrue();
            assertThat(printed(summary)).contains("exactly once: yes");
        }
    }

    @Test
    void aDuplicatePaymentIsReported() throws SQLException {
        // A double charge: a second payment row, and the customer debited a second time.
        Summary summary = readAfter(
                "INSERT INTO crash_demo.payments SELECT order_id, amount_cents FROM crash_demo.payments"
                        + " WHERE order_id = 3",
                "UPDATE crash_demo.accounts a SET balance_cents = balance_cents - o.amount_cents"
                        + " FROM crash_demo.orders o WHERE o.id = 3 AND a.id = o.customer");
        assertThat(summary.payments()).isEqualTo(ORDERS + 1);
        assertThat(summary.problems()).containsExactly("1 duplicate payments");
        assertThat(summary.exactlyOnce()).isFalse();
        assertThat(printed(summary)).contains("(1 duplicates)").contains("exactly once: NO: 1 duplicate payments");
    }

    @Test
    void aDuplicatePaymentRowWithoutDebitIsReportedTwice() throws SQLException {
        Summary summary = readAfter("INSERT INTO crash_demo.payments SELECT order_id, amount_cents"
                + " FROM crash_demo.payments WHERE order_id = 2");
        assertThat(summary.problems()).containsExactly("1 duplicate payments",
                "1 account balances that do not match their payments");
    }

    @Test
    void aMissingPaymentIsReported() throws SQLException {
        Summary summary = readAfter("DELETE FROM crash_demo.payments WHERE order_id = 4");
        assertThat(summary.problems()).containsExactly("1 orders not paid",
                "1 account balances that do not match their payments");
    }

    @Test
    void aPaymentOfTheWrongAmountIsReported() throws SQLException {
        Summary summary = readAfter("UPDATE crash_demo.payments SET amount_cents = amount_cents + 1"
                + " WHERE order_id = 5");
        assertThat(summary.problems()).containsExactly("1 payments of the wrong amount",
                "1 account balances that do not match their payments");
    }

    @Test
    void anUnshippedOrderAndAnUnfinishedWorkflowAreReported() throws SQLException {
        Summary summary = readAfter("UPDATE crash_demo.orders SET status = 'PAID' WHERE id = 1",
                "UPDATE tandem.workflow_status SET status = 'RUNNING' WHERE workflow_id = '"
                        + OrderWorkflow.workflowId(1) + "'");
        assertThat(summary.problems()).containsExactly("1 workflows did not succeed", "1 orders not shipped");
    }

    @Test
    void repeatedNotificationsAreFineWithTheirKeyButNotWithANewOne() throws SQLException {
        String repeat = "INSERT INTO crash_demo.warehouse_notifications (order_id, idempotency_key)"
                + " SELECT order_id, idempotency_key FROM crash_demo.warehouse_notifications WHERE order_id = 2";
        Summary sameKey = readAfter(repeat);
        assertThat(sameKey.notifications()).isEqualTo(ORDERS + 1);
        assertThat(sameKey.problems()).isEmpty();
        assertThat(printed(sameKey)).contains("1 repeated").contains("with their original idempotency keys");

        Summary newKey = readAfter("INSERT INTO crash_demo.warehouse_notifications (order_id, idempotency_key)"
                + " VALUES (2, 'another-key')");
        assertThat(newKey.problems()).containsExactly("a repeated notification carried a new idempotency key");
    }

    @Test
    void anOrderTheWarehouseNeverHeardOfIsReported() throws SQLException {
        Summary summary = readAfter("DELETE FROM crash_demo.warehouse_notifications WHERE order_id = 6");
        assertThat(summary.problems()).containsExactly("1 orders the warehouse never heard of");
    }

    /** The summary of the tables after {@code statements}, which are rolled back afterwards. */
    private static Summary readAfter(String... statements) throws SQLException {
        try (Connection conn = db.dataSource().getConnection()) {
            conn.setAutoCommit(false);
            try (Statement st = conn.createStatement()) {
                for (String sql : statements) {
                    st.execute(sql);
                }
                return Summary.read(conn, ORDERS);
            } finally {
                conn.rollback();
                conn.setAutoCommit(true);
            }
        }
    }

    private static String printed(Summary summary) {
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        PrintStream original = System.out;
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            summary.print(true);
        } finally {
            System.setOut(original);
        }
        String text = captured.toString(StandardCharsets.UTF_8);
        original.print(text);
        return text;
    }
}
