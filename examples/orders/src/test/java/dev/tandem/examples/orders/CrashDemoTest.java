package dev.tandem.examples.orders;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.testing.TestDatabase;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The crash demo's full run: a worker JVM (started from the test class path) is killed with SIGKILL partway through,
 * a second one finishes the batch, and every order is still charged exactly once; traced, an interrupted order's
 * spans from both workers are in one trace.
 */
class CrashDemoTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    @Test
    void killedWorkerStillChargesEveryOrderExactlyOnce() throws Exception {
        int orders = DemoOptions.DEFAULT_ORDERS;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        PrintStream original = System.out;
        System.setOut(new PrintStream(new Tee(original, captured), true, StandardCharsets.UTF_8));
        int status;
        try {
            status = Demo.run(new DemoOptions(db.url(), orders, true, false, true));
        } finally {
            System.out.flush();
            System.setOut(original);
        }
        String output = captured.toString(StandardCharsets.UTF_8);

        assertThat(status).as(output).isZero();
        assertThat(output).contains("crash: killed worker #1")
                .contains("restart: worker #2")
                .contains("all " + orders + " workflows SUCCESS")
                .contains("exactly once: yes");
        // --trace: one interrupted order's spans, from the killed worker and the one that recovered it, in one trace
        assertThat(output).containsPattern("trace [0-9a-f]{32} \\(workflow crash-demo-order-\\d+; \\d+ spans from 2"
                + " processes\\)")
                .contains("tandem.start crash_demo_order", "tandem.run crash_demo_order", "tandem.step quote");

        // And the tables, read again after the demo has finished.
        try (Connection conn = DriverManager.getConnection(db.url())) {
            Summary summary = Summary.read(conn, orders);
            assertThat(summary.problems()).isEmpty();
            assertThat(summary.payments()).isEqualTo(orders);
            assertThat(summary.shippedOrders()).isEqualTo(orders);
            assertThat(summary.notifiedOrders()).isEqualTo(orders);
        }
        assertThat(db.queryLong("SELECT count(*) FROM crash_demo.payments WHERE order_id NOT IN"
                + " (SELECT id FROM crash_demo.orders)")).isZero();
    }

    /** Writes to two streams: the demo's output still shows in the test log. */
    private static final class Tee extends OutputStream {
        private final OutputStream first;
        private final OutputStream second;

        Tee(OutputStream first, OutputStream second) {
            this.first = first;
            this.second = second;
        }

        @Override
        public synchronized void write(int b) throws java.io.IOException {
            first.write(b);
            second.write(b);
        }

        @Override
        public synchronized void write(byte[] b, int off, int len) throws java.io.IOException {
            first.write(b, off, len);
            second.write(b, off, len);
        }

        @Override
        public synchronized void flush() throws java.io.IOException {
            first.flush();
            second.flush();
        }
    }
}
