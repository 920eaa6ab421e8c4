package dev.tandem.examples.orders;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.concurrent.TimeUnit;

/**
 * The demo's script: set up the batch, run a worker, kill it partway through, run a new one with the same executor
 * id until every workflow succeeded, stop it, and check the tables.
 */
final class Demo {
    /** The worker is killed once this share of the orders is paid. */
    private static final double CRASH_POINT = 0.4;
    /** Generous: the batch of 200 takes about a second. */
    private static final long WAIT_LIMIT_NANOS = TimeUnit.SECONDS.toNanos(120);

    private Demo() {}

    static int run(DemoOptions options) throws Exception {
        long demoStart = System.nanoTime();
        int orders = options.orders();
        try (DemoDatabase database = DemoDatabase.open(options.databaseUrl())) {
            System.out.println("database: " + database.description());
            Shop.reset(database.url(), orders);
            System.out.println("batch: " + orders + " orders; workflow " + OrderWorkflow.NAME
                    + " = quote -> charge (transaction) -> notify-warehouse (step, at least once) -> ship (transaction)");
            try (Connection conn = DriverManager.getConnection(database.url())) {
                long batchStart = System.nanoTime();
                java.nio.file.Path traceFile = options.trace()
                        ? java.nio.file.Files.createTempFile("tandem-demo-trace", ".tsv") : null;
                WorkerProcess worker = WorkerProcess.launch("worker #1", database.url(), traceFile);
                if (options.crash()) {
                    long crashAt = Math.max(1, Math.round(orders * CRASH_POINT));
                    if (!awaitPayments(conn, worker, crashAt)) {
                        return exitedEarly(worker);
                    }
                    worker.kill();
                    Progress atCrash = Progress.read(conn);
                    System.out.println("crash: killed " + worker.name() + " (pid " + worker.pid() + ") with SIGKILL: "
                            + countPayments(conn) + " of " + orders + " orders paid, " + atCrash.succeeded()
                            + " workflows finished, " + atCrash.running() + " in flight, "
                            + (orders - atCrash.total()) + " not started");
                    worker = WorkerProcess.launch("worker #2", database.url(), traceFile);
                    System.out.println("restart: " + worker.name() + " (pid " + worker.pid() + ") uses the same"
                            + " executorId, so it resumes the " + atCrash.running() + " in-flight workflows at start");
                }
                if (!awaitAllSucceeded(conn, worker, orders)) {
                    worker.kill();
                    return 1;
                }
                System.out.printf("all %d workflows SUCCESS after %.1f s; stopping %s%n", orders,
                        seconds(batchStart), worker.name());
                worker.stop();

                Summary summary = Summary.read(conn, orders);
                System.out.println();
                summary.print(options.crash());
                System.out.printf("total time: %.1f s%n", seconds(demoStart));
                if (traceFile != null) {
                    DemoTrace.print(traceFile, interruptedOrder(conn));
                    java.nio.file.Files.deleteIfExists(traceFile);
                }
                return summary.exactlyOnce() ? 0 : 1;
            }
        }
    }

    /** A workflow the crash interrupted (recovered by the next worker), else the first one. */
    private static String interruptedOrder(Connection conn) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement("SELECT workflow_id FROM tandem.workflow_status"
                + " WHERE name = ? ORDER BY attempts DESC, created_at LIMIT 1")) {
            ps.setString(1, OrderWorkflow.NAME);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getString(1);
            }
        }
    }

    /** Waits until {@code target} orders are paid; false if the worker exited before that. */
    private static boolean awaitPayments(Connection conn, WorkerProcess worker, long target)
            throws SQLException, InterruptedException {
        long deadline = System.nanoTime() + WAIT_LIMIT_NANOS;
        while (countPayments(conn) < target) {
            if (!worker.isAlive() || System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(2); // the crash should land right at the target, not a few orders later
        }
        return true;
    }

    /** Waits until every order's workflow is SUCCESS; false (and says why) if that cannot happen any more. */
    private static boolean awaitAllSucceeded(Connection conn, WorkerProcess worker, int orders)
            throws SQLException, InterruptedException {
        long deadline = System.nanoTime() + WAIT_LIMIT_NANOS;
        while (true) {
            Progress progress = Progress.read(conn);
            if (progress.succeeded() == orders) {
                return true;
            }
            if (progress.failed() > 0) {
                System.out.println("error: " + progress.failed() + " workflows ended in ERROR, CANCELLED or"
                        + " RETRIES_EXCEEDED; see tandem.workflows");
                return false;
            }
            if (!worker.isAlive()) {
                exitedEarly(worker);
                return false;
            }
            if (System.nanoTime() > deadline) {
                System.out.println("error: only " + progress.succeeded() + " of " + orders
                        + " workflows succeeded in time");
                return false;
            }
            Thread.sleep(50);
        }
    }

    private static int exitedEarly(WorkerProcess worker) {
        if (worker.isAlive()) {
            System.out.println("error: " + worker.name() + " made no progress in time");
        } else {
            System.out.println("error: " + worker.name() + " exited early, with status " + worker.exitValue());
        }
        return 1;
    }

    private static long countPayments(Connection conn) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement("SELECT count(*) FROM crash_demo.payments");
                ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static double seconds(long sinceNanos) {
        return (System.nanoTime() - sinceNanos) / 1e9;
    }

    /** How the batch's workflows stand, from Tandem's {@code tandem.workflows} view. */
    private record Progress(long total, long succeeded, long running, long failed) {
        static Progress read(Connection conn) throws SQLException {
            try (PreparedStatement ps = conn.prepareStatement(
                    "SELECT to_regclass('tandem.workflows') IS NOT NULL");
                    ResultSet rs = ps.executeQuery()) {
                rs.next();
                if (!rs.getBoolean(1)) {
                    return new Progress(0, 0, 0, 0); // the first worker has not created Tandem's schema yet
                }
            }
            try (PreparedStatement ps = conn.prepareStatement("SELECT count(*),"
                    + " count(*) FILTER (WHERE status = 'SUCCESS'),"
                    + " count(*) FILTER (WHERE status = 'RUNNING'),"
                    + " count(*) FILTER (WHERE status IN ('ERROR', 'CANCELLED', 'RETRIES_EXCEEDED'))"
                    + " FROM tandem.workflows WHERE name = ?")) {
                ps.setString(1, OrderWorkflow.NAME);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return new Progress(rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getLong(4));
                }
            }
        }
    }
}
