package dev.tandem.examples.orders;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.tandem.StartOptions;
import dev.tandem.Tandem;
import dev.tandem.TandemBuilder;
import dev.tandem.Workflow;
import dev.tandem.WorkflowFailedException;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The worker, run by the demo as a child JVM ({@code orders.jar worker --name NAME}, database URL in
 * {@code TANDEM_DATABASE_URL}): a Tandem executor that processes every order of the batch, {@value #IN_FLIGHT} at a
 * time, and runs until its standard input closes.
 */
final class OrderWorker {
    static final String COMMAND = "worker";

    /**
     * Every worker uses this id, so a restarted worker takes over its killed predecessor's executions as soon as it
     * starts, instead of waiting for the predecessor's heartbeat to time out. Never two live workers with one id.
     */
    static final String EXECUTOR_ID = "orders-worker";

    /** Orders processed at once, like a service with this many request threads. */
    static final int IN_FLIGHT = 16;

    /** Enough for the request threads, the executions recovered at start, and Tandem's own needs. */
    private static final int POOL_SIZE = 2 * IN_FLIGHT + 4;

    /** With --trace: each order's "request" is a span, as a web framework's instrumentation would make it. */
    private static io.opentelemetry.api.trace.Tracer tracer;

    /** Set once the worker is told to stop: orders not begun yet are left for the next worker, quietly. */
    private static volatile boolean stopping;

    private OrderWorker() {}

    static int run(String[] args) throws Exception {
        String name = args.length == 2 && args[0].equals("--name") ? args[1] : "worker";
        String url = System.getenv(DemoDatabase.URL_VARIABLE);
        if (url == null || url.isBlank()) {
            System.err.println(name + ": set " + DemoDatabase.URL_VARIABLE + " to the database's JDBC URL");
            return 2;
        }

        HikariConfig poolConfig = new HikariConfig();
        poolConfig.setJdbcUrl(url);
        poolConfig.setMaximumPoolSize(POOL_SIZE);
        poolConfig.setPoolName("orders");
        // One pool for the application and Tandem: transactional steps run on a connection from it.
        try (HikariDataSource pool = new HikariDataSource(poolConfig)) {
            io.opentelemetry.sdk.OpenTelemetrySdk otel = DemoTrace.forWorker();
            tracer = otel == null ? null : otel.getTracer("orders-demo");
            TandemBuilder builder = Tandem.builder();
            if (otel != null) {
                builder.openTelemetry(otel);
            }
            Tandem tandem = builder
                    .dataSource(pool)
                    .executorId(EXECUTOR_ID)
                    // Short intervals keep the demo snappy; the defaults (1 s and 10 s) suit production better.
                    .heartbeatInterval(Duration.ofMillis(200))
                    .executorTimeout(Duration.ofSeconds(2))
                    .shutdownTimeout(Duration.ofSeconds(5))
                    .build();
            Shop shop = new Shop(pool);
            Workflow<Long, String> processOrder =
                    tandem.register(OrderWorkflow.NAME, Long.class, new OrderWorkflow(shop, new Warehouse(pool)));
            // Recovers, from their checkpoints, what a previous worker with this executor id left unfinished.
            tandem.start();
            System.out.println(name + " (pid " + ProcessHandle.current().pid() + ") started as executor '"
                    + tandem.executorId() + "'");

            List<Long> orderIds = shop.orderIds();
            ExecutorService requestThreads = Executors.newFixedThreadPool(IN_FLIGHT, task -> {
                Thread thread = new Thread(task, "order-request");
                thread.setDaemon(true);
                return thread;
            });
            for (long orderId : orderIds) {
                requestThreads.execute(() -> process(name, processOrder, orderId));
            }
            requestThreads.shutdown();

            // Like a service, the worker does not decide when to stop: the demo closes our stdin (or dies) to stop it.
            awaitEndOfInput();
            stopping = true;
            tandem.close(); // what is still running is recovered from its checkpoints by the next worker
        }
        return 0;
    }

    /**
     * Runs one order's workflow on this thread. Every order of the batch goes through here, including those a
     * previous worker finished or started: the workflow id makes the start idempotent, so for those this only waits
     * for the existing execution (finished, or being recovered by this worker) instead of starting another one.
     */
    private static void process(String name, Workflow<Long, String> processOrder, long orderId) {
        if (stopping) {
            return;
        }
        io.opentelemetry.api.trace.Span request = tracer == null ? null
                : tracer.spanBuilder("POST /orders/" + orderId + "/process")
                        .setSpanKind(io.opentelemetry.api.trace.SpanKind.SERVER).startSpan();
        try (io.opentelemetry.context.Scope scope = request == null ? null : request.makeCurrent()) {
            processOrder.run(orderId, StartOptions.withId(OrderWorkflow.workflowId(orderId)));
        } catch (WorkflowFailedException e) {
            System.err.println(name + ": order " + orderId + " failed: " + e.getMessage());
        } catch (RuntimeException e) {
            if (!stopping) {
                System.err.println(name + ": order " + orderId + ": " + e);
            }
        } finally {
            if (request != null) {
                request.end();
            }
        }
    }

    private static void awaitEndOfInput() {
        try {
            while (System.in.read() != -1) {
                // ignore anything sent
            }
        } catch (IOException e) {
            // closed: stop as well
        }
    }
}
