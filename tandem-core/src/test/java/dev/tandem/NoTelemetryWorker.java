package dev.tandem;

import java.time.Duration;

/**
 * A process for {@link NoTelemetryTest}: runs workflows with every kind of call (step, transactional step, sleep, a
 * child, an enqueue) on an engine built without telemetry, then prints OK and exits 0. With {@code without-jars} it
 * first checks that neither OpenTelemetry nor Micrometer is on its class path at all.
 *
 * <p>Usage: {@code NoTelemetryWorker <jdbcUrl> without-jars|with-jars}
 */
public final class NoTelemetryWorker {
    public static void main(String[] args) throws Exception {
        if (args[1].equals("without-jars")) {
            for (String absent : new String[] {"io.opentelemetry.api.OpenTelemetry",
                    "io.micrometer.core.instrument.MeterRegistry"}) {
                try {
                    Class.forName(absent);
                    System.out.println("FAIL: " + absent + " is on the class path");
                    System.exit(2);
                } catch (ClassNotFoundException expected) {
                    System.out.println("absent: " + absent);
                }
            }
        }
        try (Tandem tandem = Tandem.builder().databaseUrl(args[0]).executorId("no-telemetry").build()) {
            Workflow<Integer, Integer> child = tandem.register("nt-child", Integer.class,
                    (ctx, n) -> ctx.step("inc", () -> n + 1));
            Workflow<Integer, Integer> parent = tandem.register("nt-parent", Integer.class, (ctx, n) -> {
                int a = ctx.step("double", () -> n * 2);
                int b = ctx.transaction("add", conn -> a + 1);
                ctx.sleep(Duration.ofMillis(10));
                return ctx.runChild(child, b);
            });
            tandem.start();
            int direct = parent.run(5, StartOptions.defaults());
            int queued = parent.enqueue(7, EnqueueOptions.defaults()).result(Duration.ofSeconds(30));
            System.out.println("RESULT " + direct + " " + queued);
            if (direct != 12 || queued != 16) {
                System.exit(3);
            }
        }
        System.out.println("OK");
        System.exit(0);
    }
}
