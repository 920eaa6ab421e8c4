package dev.tandem.cli;

import static org.awaitility.Awaitility.await;

import dev.tandem.QueueOptions;
import dev.tandem.ScheduleOptions;
import dev.tandem.StartOptions;
import dev.tandem.StepOptions;
import dev.tandem.Tandem;
import dev.tandem.Workflow;
import dev.tandem.WorkflowFailedException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import javax.sql.DataSource;

/**
 * Real workflows in every state the CLI shows, made by a real engine: {@code pay-1}, {@code pay-2} (SUCCESS),
 * {@code order-1} (SUCCESS, children {@code order-1-1} and {@code order-1-2}, input {@code {"customer":"ada",...}}),
 * {@code fail-1} (ERROR, "card declined"), {@code approval-1} (RUNNING, waiting for a message; an event and a stream),
 * {@code nap-1} (RUNNING, in a durable sleep), {@code approval-cancel} (CANCELLED), {@code ghost-1} (ENQUEUED, a name
 * no executor runs), queue {@code emails}, schedule {@code nightly}.
 *
 * <p>{@code main(url)} leaves them in that database with the engine running, to look at the CLI's output.
 */
final class Demo {
    record Order(String customer, int cents) {}

    private Demo() {}

    static Tandem start(DataSource dataSource) {
        Tandem tandem = Tandem.builder().dataSource(dataSource).executorId("demo-worker")
                .pollInterval(Duration.ofMillis(200))
                .queue("emails", QueueOptions.unlimited().concurrency(10).rateLimit(100, Duration.ofMinutes(1)))
                .build();
        Workflow<String, String> pay = tandem.register("pay", String.class, (ctx, in) -> {
            int cents = ctx.step("quote", () -> {
                Thread.sleep(30);
                return 1250;
            });
            ctx.transaction("charge", conn -> {
                try (Statement st = conn.createStatement()) {
                    st.execute("SELECT pg_sleep(0.05)");
                }
                return cents;
            });
            return ctx.step("receipt", () -> "receipt for " + in);
        });
        Workflow<Order, String> order = tandem.register("order", Order.class, (ctx, in) -> {
            String a = ctx.runChild(pay, in.customer() + "-a");
            String b = ctx.runChild(pay, in.customer() + "-b");
            return a + "; " + b;
        });
        Workflow<String, String> flaky = tandem.register("flaky-charge", String.class, (ctx, in) -> {
            ctx.step("quote", () -> 990);
            return ctx.step("charge", StepOptions.retries(2), () -> {
                throw new IllegalStateException("card declined for " + in);
            });
        });
        Workflow<String, String> approval = tandem.register("approval", String.class, (ctx, in) -> {
            ctx.setEvent("state", "waiting for approval");
            ctx.writeStream("progress", "asked the approver");
            String decision = ctx.recv("decision", String.class, Duration.ofHours(1));
            ctx.closeStream("progress");
            return "decided: " + decision;
        });
        Workflow<String, String> nap = tandem.register("nap", String.class, (ctx, in) -> {
            ctx.sleep(Duration.ofHours(1));
            return "rested";
        });
        Workflow<Instant, String> report = tandem.register("nightly-report", Instant.class, (ctx, tick) -> "ok");
        tandem.start();

        pay.run("ada", StartOptions.withId("pay-1"));
        pay.run("grace", StartOptions.withId("pay-2"));
        order.run(new Order("ada", 1250), StartOptions.withId("order-1"));
        try {
            flaky.run("bob", StartOptions.withId("fail-1"));
        } catch (WorkflowFailedException expected) {
            // ERROR is the state wanted
        }
        approval.start("invoice 7", StartOptions.withId("approval-1"));
        nap.start("cat", StartOptions.withId("nap-1"));
        approval.start("invoice 8", StartOptions.withId("approval-cancel"));
        awaitStatus(dataSource, "approval-cancel", "RUNNING");
        tandem.cancel("approval-cancel");
        execute(dataSource, "SELECT tandem.enqueue_workflow('ghost', '[]', workflow_id => 'ghost-1')");
        if (tandem.schedules().get("nightly").isEmpty()) {
            tandem.schedules().create("nightly", report, "0 3 * * *", ScheduleOptions.defaults());
        }
        awaitStatus(dataSource, "approval-1", "RUNNING");
        awaitStatus(dataSource, "nap-1", "RUNNING");
        awaitStatus(dataSource, "approval-cancel", "CANCELLED");
        await().atMost(Duration.ofSeconds(15)).until(() -> "1".equals(query(dataSource,
                "SELECT count(*) FROM tandem.streams WHERE workflow_id = 'approval-1'")));
        return tandem;
    }

    static void awaitStatus(DataSource dataSource, String workflowId, String status) {
        await().atMost(Duration.ofSeconds(15)).until(() -> status.equals(query(dataSource,
                "SELECT status FROM tandem.workflow_status WHERE workflow_id = '" + workflowId + "'")));
    }

    static String query(DataSource dataSource, String sql) throws SQLException {
        try (Connection c = dataSource.getConnection(); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    static void execute(DataSource dataSource, String sql) {
        try (Connection c = dataSource.getConnection(); Statement st = c.createStatement()) {
            st.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException(sql, e);
        }
    }

    private static DataSource configure(com.zaxxer.hikari.HikariDataSource ds, String url) {
        ds.setJdbcUrl(url);
        return ds;
    }

    /** Leaves the demo workflows in the database at {@code args[0]}, and runs the engine until killed. */
    public static void main(String[] args) throws InterruptedException {
        try (com.zaxxer.hikari.HikariDataSource ds = new com.zaxxer.hikari.HikariDataSource();
                Tandem tandem = start(configure(ds, args[0]))) {
            System.out.println("demo workflows ready; engine running (Ctrl-C to stop)");
            Thread.sleep(Long.MAX_VALUE);
        }
    }
}
