package dev.tandem.examples.springorders;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.testing.TestDatabase;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The example's JVM is killed with SIGKILL while its workflows run (a JdbcTemplate step, a plain step, a JPA step),
 * started again with the same executor id, and every order still ends SHIPPED, charged exactly once, with no workflow
 * lost or stuck. The application runs in a child JVM ({@link SpringOrders}'s main, on the test class path), with a
 * 100 ms warehouse call and at most 8 workflows at a time, so that a run lasts long enough to be interrupted; its
 * output goes to target/spring-orders-crash.log.
 */
class SpringOrdersCrashTest {
    private static final int ORDERS = 120;

    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final Path log = Path.of("target", "spring-orders-crash.log");

    @Test
    void anApplicationKilledMidRunChargesAndShipsEveryOrderOnce() throws Exception {
        Files.createDirectories(log.getParent());
        Files.deleteIfExists(log);
        long t0 = System.nanoTime();

        ThreadLocalRandom random = ThreadLocalRandom.current();
        int beforeKill = random.nextInt(ORDERS / 4, ORDERS * 3 / 4);
        int shippedAtKill = random.nextInt(1, beforeKill - 16); // the random moment: once this many are shipped
        App first = App.start(db.url(), log);
        try {
            placeAll(first, 0, beforeKill);
            Awaitility.await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(10))
                    .until(() -> db.queryLong("SELECT count(*) FROM orders WHERE status = 'SHIPPED'") >= shippedAtKill);
        } finally {
            first.kill();
        }
        long inFlight = db.queryLong("SELECT count(*) FROM tandem.workflows WHERE name = 'process_order'"
                + " AND status IN ('ENQUEUED', 'RUNNING')");
        System.out.printf("SIGKILL of the application after %d orders, %d of them shipped; %d workflows enqueued or"
                + " running (%.1f s)%n", beforeKill, db.queryLong("SELECT count(*) FROM orders WHERE status ="
                + " 'SHIPPED'"), inFlight, seconds(t0));
        assertThat(inFlight).as("workflows in flight when the application was killed").isPositive();

        App second = App.start(db.url(), log); // the same executor id: it resumes the first one's workflows at once
        try {
            placeAll(second, beforeKill, ORDERS);
            Awaitility.await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).until(() ->
                    db.queryLong("SELECT count(*) FROM tandem.workflows WHERE name = 'process_order'"
                            + " AND status NOT IN ('ENQUEUED', 'RUNNING')") == ORDERS);
        } finally {
            second.kill();
        }

        assertThat(db.queryLong("SELECT count(*) FROM orders")).isEqualTo(ORDERS);
        assertThat(db.queryLong("SELECT count(*) FROM orders WHERE status = 'SHIPPED'")).isEqualTo(ORDERS);
        assertThat(db.queryLong("SELECT count(*) FROM tandem.workflows WHERE name = 'process_order'"
                + " AND status = 'SUCCESS'")).isEqualTo(ORDERS);
        // Exactly one payment per order, of its amount: none missing, none repeated, none without an order.
        assertThat(db.queryLong("SELECT count(*) FROM orders o WHERE (SELECT count(*) FROM payments p"
                + " WHERE p.order_id = o.id AND p.amount_cents = o.amount_cents) <> 1")).isZero();
        assertThat(db.queryLong("SELECT count(*) FROM payments")).isEqualTo(ORDERS);
        // Each workflow recorded its three steps once, in order.
        assertThat(db.queryLong("SELECT count(*) FROM tandem.workflows w WHERE name = 'process_order' AND"
                + " (SELECT string_agg(name, ',' ORDER BY position) FROM tandem.steps s WHERE s.workflow_id ="
                + " w.workflow_id AND s.error IS NULL) IS DISTINCT FROM 'charge,notify-warehouse,ship'")).isZero();
        System.out.printf("all %d orders shipped and paid once; %d workflows recovered after the kill (%.1f s)%n",
                ORDERS, db.queryLong("SELECT count(*) FROM tandem.workflows WHERE attempts > 1"), seconds(t0));
    }

    private static double seconds(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }

    /** POSTs orders {@code from} to {@code to} (exclusive) at once; each must be accepted. */
    private void placeAll(App app, int from, int to) {
        List<CompletableFuture<HttpResponse<String>>> responses = new ArrayList<>();
        for (int i = from; i < to; i++) {
            responses.add(http.sendAsync(HttpRequest.newBuilder(app.uri("/orders"))
                    .header("Content-Type", "application/json").timeout(Duration.ofSeconds(30))
                    .POST(HttpRequest.BodyPublishers.ofString("{\"customer\": \"c" + i + "\", \"amountCents\": "
                            + (100 + i) + "}")).build(), HttpResponse.BodyHandlers.ofString()));
        }
        for (CompletableFuture<HttpResponse<String>> response : responses) {
            assertThat(response.join().statusCode()).as(response.join().body()).isEqualTo(201);
        }
    }

    /** The example in a child JVM on the test class path, with its output appended to the log. */
    private record App(Process process, int port) {
        static App start(String databaseUrl, Path log) throws Exception {
            int port;
            try (ServerSocket socket = new ServerSocket(0)) {
                port = socket.getLocalPort();
            }
            List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx384m", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
                    SpringOrders.class.getName(), "--server.port=" + port, "--spring.datasource.url=" + databaseUrl,
                    "--tandem.executor-id=spring-orders-crash", "--orders.warehouse-latency=100ms",
                    "--tandem.queues.default.worker-concurrency=8", "--spring.main.banner-mode=off",
                    "--logging.level.root=WARN");
            Process process = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
            App app = new App(process, port);
            app.awaitUp();
            return app;
        }

        URI uri(String path) {
            return URI.create("http://127.0.0.1:" + port + path);
        }

        /** Until the health endpoint (Tandem's engine included) answers UP. */
        private void awaitUp() {
            HttpClient client = HttpClient.newHttpClient();
            Awaitility.await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(200))
                    .failFast("the application exited; see target/spring-orders-crash.log",
                            () -> !process.isAlive())
                    .ignoreExceptionsInstanceOf(IOException.class).until(() -> client.send(HttpRequest.newBuilder(
                            uri("/actuator/health")).build(), HttpResponse.BodyHandlers.ofString()).statusCode()
                            == 200);
        }

        /** SIGKILL: no shutdown hook, no goodbye to the database. */
        void kill() throws InterruptedException {
            process.destroyForcibly();
            assertThat(process.waitFor(30, TimeUnit.SECONDS)).as("the application ended").isTrue();
        }
    }
}
