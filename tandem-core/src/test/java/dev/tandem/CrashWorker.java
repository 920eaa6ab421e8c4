package dev.tandem;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A worker process for {@link CrashTest}: starts workflows {@code crash-0 .. crash-(n-1)} (idempotently: on a restart
 * the ones that exist are not started again) and runs them until killed. Each step body logs its run, with the
 * database's clock, to {@code step_runs} on its own autocommit connection, so the test can tell whether a step ran
 * again after its checkpoint committed.
 *
 * <p>Usage: {@code CrashWorker <jdbcUrl> <executorId> <workflows>}
 */
public final class CrashWorker {
    public static void main(String[] args) throws Exception {
        String url = args[0];
        String executorId = args[1];
        int workflows = Integer.parseInt(args[2]);

        Tandem tandem = Tandem.builder()
                .databaseUrl(url)
                .executorId(executorId)
                .heartbeatInterval(Duration.ofMillis(100))
                .executorTimeout(Duration.ofMillis(500))
                .build();
        Workflow<Integer, String> pay = tandem.register("crash-pay", Integer.class, (ctx, n) -> {
            int cents = ctx.step("quote", () -> {
                logRun(url, ctx.workflowId(), "quote");
                pause();
                return 100 + n;
            });
            long paymentId = ctx.transaction("charge", conn -> {
                pause();
                try (PreparedStatement ps = conn.prepareStatement(
                        "INSERT INTO payments (workflow_id, cents) VALUES (?, ?) RETURNING id")) {
                    ps.setString(1, ctx.workflowId());
                    ps.setInt(2, cents);
                    try (var rs = ps.executeQuery()) {
                        rs.next();
                        long id = rs.getLong(1);
                        try (PreparedStatement up = conn.prepareStatement(
                                "UPDATE accounts SET balance = balance - ? WHERE id = ?")) {
                            up.setInt(1, cents);
                            up.setInt(2, n % 10);
                            up.executeUpdate();
                        }
                        return id;
                    }
                }
            });
            return ctx.step("receipt", () -> {
                logRun(url, ctx.workflowId(), "receipt");
                pause();
                return "paid " + cents + " as #" + paymentId;
            });
        });
        tandem.start();
        System.out.println("READY");
        System.out.flush();
        for (int i = 0; i < workflows; i++) {
            pay.start(i, StartOptions.withId("crash-" + i));
            Thread.sleep(2);
        }
        System.out.println("STARTED-ALL");
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }

    private static void logRun(String url, String workflowId, String step) throws SQLException {
        try (Connection c = DriverManager.getConnection(url);
                PreparedStatement ps = c.prepareStatement("INSERT INTO step_runs VALUES (?, ?, clock_timestamp())")) {
            ps.setString(1, workflowId);
            ps.setString(2, step);
            ps.executeUpdate();
        }
    }

    private static void pause() throws InterruptedException {
        Thread.sleep(ThreadLocalRandom.current().nextInt(5, 40));
    }
}
