package dev.tandem;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.testing.Engines;
import dev.tandem.testing.TestDatabase;
import dev.tandem.testing.WorkerJvm;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The trace context travels through the database: a workflow started inside a request's span by a worker JVM that is
 * then killed with SIGKILL mid-step, and recovered by another executor (this JVM, another OpenTelemetry SDK), has
 * all its spans, those of the dead worker and those of the recovery, in the request's trace.
 */
class TraceRecoveryTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    @RegisterExtension
    final Engines engines = new Engines();

    /** What "hang" does: block in the worker, return at once in the recovering executor. */
    interface Hang {
        void run() throws Exception;
    }

    /** The workflow, the same in both processes but for the body of step "hang". */
    static Workflow<String, String> register(Tandem tandem, Hang hang) {
        return tandem.register("traced-crash", String.class, (ctx, in) -> {
            String before = ctx.step("before", () -> "b-" + in);
            ctx.step("hang", () -> {
                hang.run();
                return 0;
            });
            return ctx.step("after", () -> before + "-done");
        });
    }

    @Test
    void aRecoveredExecutionContinuesTheTraceTheWorkflowWasStartedIn() throws Exception {
        InMemorySpanExporter spans = InMemorySpanExporter.create();
        OpenTelemetrySdk otel = OpenTelemetrySdk.builder()
                .setTracerProvider(SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(spans)).build())
                .build();
        Span request = otel.getTracer("test").spanBuilder("POST /orders").startSpan();
        String traceId = request.getSpanContext().getTraceId();
        String traceparent = "00-" + traceId + "-" + request.getSpanContext().getSpanId() + "-01";
        request.end();

        Path log = Files.createTempFile("tandem-traced-worker", ".log");
        WorkerJvm worker = WorkerJvm.start(TracedWorker.class, log, "traced worker", db.url(), "traced-worker",
                traceparent);
        worker.awaitReady(60, "log " + log);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!Files.readString(log).contains("HANGING")) {
            assertThat(System.nanoTime()).as("the worker reaches step 'hang' (log %s)", log).isLessThan(deadline);
            Thread.sleep(20);
        }
        assertThat(worker.kill()).isTrue();

        // The dead worker's spans: the start (child of the request) and the step that finished before the kill.
        List<String[]> workerSpans = Files.readAllLines(log).stream()
                .map(line -> line.replaceFirst("^.*?\\] ", ""))
                .filter(line -> line.startsWith("SPAN "))
                .map(line -> line.split(" ", 5))
                .toList();
        assertThat(workerSpans).as("spans the worker exported (log %s)", log)
                .extracting(s -> s[4]).contains("tandem.start traced-crash", "tandem.step before");
        assertThat(workerSpans).extracting(s -> s[1]).containsOnly(traceId);
        String startSpanId = workerSpans.stream().filter(s -> s[4].equals("tandem.start traced-crash"))
                .findFirst().orElseThrow()[2];

        Tandem recovering = engines.add(Tandem.builder()
                .dataSource(db.dataSource())
                .executorId("recovering")
                .heartbeatInterval(Duration.ofMillis(100))
                .executorTimeout(Duration.ofMillis(500))
                .openTelemetry(otel)
                .build());
        register(recovering, () -> {});
        recovering.start();
        assertThat(recovering.<String>handle("traced-crash-1").result(Duration.ofSeconds(20))).isEqualTo("b-ada-done");
        SpanData run = TracingTest.awaitSpan(spans, "tandem.run traced-crash");

        // The recovery's run is a child of the start span the dead worker stored with the row, in the same trace.
        assertThat(run.getTraceId()).isEqualTo(traceId);
        assertThat(run.getParentSpanId()).isEqualTo(startSpanId);
        assertThat(run.getAttributes().get(AttributeKey.longKey("tandem.attempt"))).isEqualTo(2L);
        assertThat(run.getAttributes().get(AttributeKey.booleanKey("tandem.workflow.recovered"))).isTrue();
        assertThat(run.getAttributes().get(AttributeKey.stringKey("tandem.executor.id"))).isEqualTo("recovering");
        // Only what ran again has spans here: "before" was replayed from its checkpoint.
        assertThat(spans.getFinishedSpanItems()).extracting(SpanData::getName)
                .contains("tandem.step hang", "tandem.step after").doesNotContain("tandem.step before");
        assertThat(spans.getFinishedSpanItems()).extracting(SpanData::getTraceId).containsOnly(traceId);
        otel.close();
    }
}
