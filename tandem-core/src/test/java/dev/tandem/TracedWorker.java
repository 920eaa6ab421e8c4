package dev.tandem;

import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.time.Duration;
import java.util.Collection;
import java.util.List;

/**
 * A traced worker process for {@link TraceRecoveryTest}: its OpenTelemetry SDK prints every ended span as one line
 * {@code SPAN <trace id> <span id> <parent span id> <name>}. It starts workflow {@code traced-crash-1} inside the
 * context given as a W3C traceparent, and hangs in the workflow's step "hang" (printing HANGING) until killed.
 *
 * <p>Usage: {@code TracedWorker <jdbcUrl> <executorId> <traceparent>}
 */
public final class TracedWorker {
    public static void main(String[] args) throws Exception {
        SpanExporter printing = new SpanExporter() {
            @Override
            public CompletableResultCode export(Collection<SpanData> spans) {
                for (SpanData s : spans) {
                    System.out.println("SPAN " + s.getTraceId() + " " + s.getSpanId() + " " + s.getParentSpanId() + " "
                            + s.getName());
                }
                System.out.flush();
                return CompletableResultCode.ofSuccess();
            }

            @Override
            public CompletableResultCode flush() {
                return CompletableResultCode.ofSuccess();
            }

            @Override
            public CompletableResultCode shutdown() {
                return CompletableResultCode.ofSuccess();
            }
        };
        OpenTelemetrySdk otel = OpenTelemetrySdk.builder()
                .setTracerProvider(SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(printing))
                        .build())
                .build();
        Tandem tandem = Tandem.builder()
                .databaseUrl(args[0])
                .executorId(args[1])
                .heartbeatInterval(Duration.ofMillis(100))
                .executorTimeout(Duration.ofMillis(500))
                .openTelemetry(otel)
                .build();
        Workflow<String, String> workflow = TraceRecoveryTest.register(tandem, () -> {
            System.out.println("HANGING");
            System.out.flush();
            Thread.sleep(Long.MAX_VALUE);
        });
        tandem.start();
        System.out.println("READY");
        Context request = W3CTraceContextPropagator.getInstance().extract(Context.root(), args[2],
                new TextMapGetter<String>() {
                    @Override
                    public Iterable<String> keys(String carrier) {
                        return List.of("traceparent");
                    }

                    @Override
                    public String get(String carrier, String key) {
                        return key.equals("traceparent") ? carrier : null;
                    }
                });
        try (Scope ignored = request.makeCurrent()) {
            workflow.start("ada", StartOptions.withId("traced-crash-1"));
        }
        Thread.sleep(Long.MAX_VALUE);
    }
}
