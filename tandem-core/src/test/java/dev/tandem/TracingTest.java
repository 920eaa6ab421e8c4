package dev.tandem;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.tandem.testing.TestDatabase;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.context.Scope;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * OpenTelemetry traces of one engine, exported in memory: a start inside a request's span puts every span of the
 * workflow (the start, each run, steps, waits, a child) in the request's trace; a traceparent passed to
 * tandem.enqueue_workflow does the same from SQL and a malformed one is refused; failures are recorded on spans.
 */
class TracingTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    static final Duration WAIT = Duration.ofSeconds(10);
    static final InMemorySpanExporter spans = InMemorySpanExporter.create();
    static OpenTelemetrySdk otel;
    static Tandem tandem;
    static Workflow<String, String> traced;
    static Workflow<String, String> failing;
    static Workflow<Integer, Integer> square;

    @BeforeAll
    static void setUp() {
        otel = OpenTelemetrySdk.builder()
                .setTracerProvider(SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(spans)).build())
                .build();
        tandem = Tandem.builder().dataSource(db.dataSource()).executorId("tracing-test").openTelemetry(otel).build();
        Workflow<String, String> child = tandem.register("traced-child", String.class,
                (ctx, in) -> ctx.step("inner", () -> in + "!"));
        traced = tandem.register("traced", String.class, (ctx, in) -> {
            String quoted = ctx.step("quote", () -> "q-" + in);
            ctx.transaction("charge", conn -> {
                try (Statement st = conn.createStatement()) {
                    st.execute("SELECT 1");
                }
                return 1;
            });
            ctx.sleep(Duration.ofMillis(30));
            ctx.recv(String.class, Duration.ofMillis(30)); // nothing comes: a wait that times out
            return ctx.runChild(child, quoted);
        });
        failing = tandem.register("traced-failing", String.class, (ctx, in) -> {
            ctx.step("fine", () -> 1);
            ctx.step("broken", () -> {
                throw new IllegalStateException("no such account: " + in);
            });
            return "unreachable";
        });
        square = tandem.register("traced-square", Integer.class, (ctx, n) -> ctx.step("square", () -> n * n));
        tandem.start();
    }

    @AfterAll
    static void tearDown() {
        tandem.close();
        otel.close();
    }

    @BeforeEach
    void clear() {
        spans.reset();
    }

    @Test
    void aStartInsideARequestSpanPutsEveryRunStepAndWaitOfTheWorkflowInThatTrace() throws Exception {
        Span request = otel.getTracer("test").spanBuilder("POST /orders").startSpan();
        WorkflowHandle<String> handle;
        try (Scope ignored = request.makeCurrent()) {
            handle = traced.start("ada", StartOptions.withId("traced-1"));
        } finally {
            request.end();
        }
        assertThat(handle.result(WAIT)).isEqualTo("q-ada!");
        SpanData run = awaitSpan("tandem.run traced");
        awaitSpan("tandem.run traced-child");
        String traceId = request.getSpanContext().getTraceId();

        SpanData start = span("tandem.start traced");
        assertThat(start.getKind()).isEqualTo(SpanKind.PRODUCER);
        assertThat(start.getParentSpanId()).isEqualTo(request.getSpanContext().getSpanId());
        assertThat(start.getAttributes().get(AttributeKey.stringKey("tandem.workflow.id"))).isEqualTo("traced-1");
        // The run is a child of the start through the row: the context stored there is the start span's.
        assertThat(run.getKind()).isEqualTo(SpanKind.CONSUMER);
        assertThat(run.getParentSpanId()).isEqualTo(start.getSpanId());
        assertThat(db.queryString("SELECT traceparent FROM tandem.workflow_status WHERE workflow_id = 'traced-1'"))
                .startsWith("00-" + traceId + "-" + start.getSpanId() + "-"); // then the flags
        assertThat(run.getAttributes().get(AttributeKey.stringKey("tandem.workflow.name"))).isEqualTo("traced");
        assertThat(run.getAttributes().get(AttributeKey.longKey("tandem.attempt"))).isEqualTo(1L);
        assertThat(run.getAttributes().get(AttributeKey.stringKey("tandem.executor.id"))).isEqualTo("tracing-test");
        assertThat(run.getAttributes().get(AttributeKey.stringKey("tandem.workflow.status"))).isEqualTo("SUCCESS");

        SpanData quote = span("tandem.step quote");
        assertThat(quote.getParentSpanId()).isEqualTo(run.getSpanId());
        assertThat(quote.getAttributes().get(AttributeKey.longKey("tandem.step.position"))).isEqualTo(1L);
        assertThat(quote.getAttributes().get(AttributeKey.stringKey("tandem.step.kind"))).isEqualTo("STEP");
        SpanData charge = span("tandem.step charge");
        assertThat(charge.getAttributes().get(AttributeKey.stringKey("tandem.step.kind"))).isEqualTo("TRANSACTION");
        assertThat(charge.getParentSpanId()).isEqualTo(run.getSpanId());
        assertThat(span("tandem.wait sleep").getAttributes().get(AttributeKey.stringKey("tandem.step.kind")))
                .isEqualTo("SLEEP");
        assertThat(span("tandem.wait recv").getAttributes().get(AttributeKey.stringKey("tandem.step.kind")))
                .isEqualTo("RECV");
        SpanData startChild = span("tandem.startChild traced-child");
        assertThat(startChild.getAttributes().get(AttributeKey.stringKey("tandem.step.kind"))).isEqualTo("CHILD");
        assertThat(span("tandem.wait child").getParentSpanId()).isEqualTo(run.getSpanId());
        SpanData childRun = span("tandem.run traced-child");
        assertThat(childRun.getParentSpanId()).isEqualTo(startChild.getSpanId());
        assertThat(span("tandem.step inner").getParentSpanId()).isEqualTo(childRun.getSpanId());

        assertThat(spans.getFinishedSpanItems()).extracting(SpanData::getTraceId).containsOnly(traceId);
    }

    @Test
    void aTraceparentPassedToEnqueueWorkflowMakesTheRunItsChild() throws Exception {
        String traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
        String parentId = "00f067aa0ba902b7";
        String id = db.queryString("SELECT tandem.enqueue_workflow('traced-square', '[7]', 'default', 'sql-traced',"
                + " 0, NULL, NULL, NULL, '00-" + traceId + "-" + parentId + "-01', 'vendor=abc')");
        assertThat(tandem.<Integer>handle(id).result(WAIT)).isEqualTo(49);

        SpanData run = awaitSpan("tandem.run traced-square");
        assertThat(run.getTraceId()).isEqualTo(traceId);
        assertThat(run.getParentSpanId()).isEqualTo(parentId);
        assertThat(run.getAttributes().get(AttributeKey.stringKey("tandem.queue"))).isEqualTo("default");
        assertThat(run.getSpanContext().getTraceState().get("vendor")).isEqualTo("abc");
        assertThat(span("tandem.step square").getTraceId()).isEqualTo(traceId);
    }

    @Test
    void aJavaEnqueueInsideASpanIsAProducerSpanThatTheRunContinues() throws Exception {
        Span request = otel.getTracer("test").spanBuilder("POST /squares").startSpan();
        WorkflowHandle<Integer> handle;
        try (Scope ignored = request.makeCurrent(); Connection tx = db.dataSource().getConnection()) {
            tx.setAutoCommit(false);
            handle = square.enqueue(tx, 5, EnqueueOptions.defaults());
            tx.commit();
        } finally {
            request.end();
        }
        assertThat(handle.result(WAIT)).isEqualTo(25);
        SpanData run = awaitSpan("tandem.run traced-square");
        SpanData enqueue = span("tandem.enqueue traced-square");
        assertThat(enqueue.getKind()).isEqualTo(SpanKind.PRODUCER);
        assertThat(enqueue.getParentSpanId()).isEqualTo(request.getSpanContext().getSpanId());
        assertThat(enqueue.getAttributes().get(AttributeKey.stringKey("tandem.workflow.id")))
                .isEqualTo(handle.workflowId());
        assertThat(run.getParentSpanId()).isEqualTo(enqueue.getSpanId());
        assertThat(run.getTraceId()).isEqualTo(request.getSpanContext().getTraceId());
    }

    @Test
    void aMalformedTraceparentIsRefusedWithAClearErrorAndWritesNothing() {
        long before = db.queryLong("SELECT count(*) FROM tandem.workflow_status");
        for (String bad : List.of("'garbage'", "'00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7'",
                "'00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01'",
                "'00-00000000000000000000000000000000-00f067aa0ba902b7-01'",
                "'00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01'",
                "'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'")) {
            assertThatThrownBy(() -> db.execute("SELECT tandem.enqueue_workflow('traced-square', '[1]', 'default',"
                    + " 'bad-trace', 0, NULL, NULL, NULL, " + bad + ")"))
                    .hasRootCauseInstanceOf(SQLException.class)
                    .rootCause().hasMessageContaining("traceparent must be a W3C traceparent like 00-");
        }
        assertThatThrownBy(() -> db.execute("SELECT tandem.enqueue_workflow('traced-square', '[1]', 'default',"
                + " 'bad-trace', 0, NULL, NULL, NULL, NULL, 'vendor=abc')"))
                .rootCause().hasMessageContaining("tracestate needs a traceparent");
        assertThat(db.queryLong("SELECT count(*) FROM tandem.workflow_status")).isEqualTo(before);
    }

    @Test
    void everyArgumentListOfVersion6StillCallsEnqueueWorkflow() {
        // Unregistered name: the rows only wait. Each call would fail as "not unique" if an overload were ambiguous.
        List<String> calls = List.of(
                "tandem.enqueue_workflow('v6-call')",
                "tandem.enqueue_workflow('v6-call', '[1]')",
                "tandem.enqueue_workflow('v6-call', '[1]', 'default')",
                "tandem.enqueue_workflow('v6-call', '[1]', 'default', NULL, 0, NULL, NULL, NULL)",
                "tandem.enqueue_workflow('v6-call', '[1]', 'default', NULL, 5, 'dedup-1', 'p', interval '1 hour')",
                "tandem.enqueue_workflow(workflow_name => 'v6-call', args => '[2]', priority => 3)",
                "tandem.enqueue_workflow('v6-call', delay => interval '1 hour', workflow_id => 'v6-named')",
                "tandem.enqueue_workflow(workflow_name => 'v6-call', args => '[3]', queue_name => 'default',"
                        + " workflow_id => NULL, priority => 0, deduplication_id => NULL, partition_key => NULL,"
                        + " delay => NULL, traceparent => '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')");
        for (String call : calls) {
            assertThat(db.queryString("SELECT " + call)).as(call).isNotBlank();
        }
        assertThat(db.queryLong("SELECT count(*) FROM tandem.workflow_status WHERE name = 'v6-call'"))
                .isEqualTo(calls.size());
        assertThat(db.queryLong("SELECT count(*) FROM tandem.workflow_status WHERE name = 'v6-call'"
                + " AND traceparent IS NOT NULL")).isEqualTo(1);
        // Both signatures run as their owner, and neither is executable by PUBLIC.
        assertThat(db.queryLong("SELECT count(*) FROM pg_proc WHERE proname = 'enqueue_workflow' AND prosecdef"
                + " AND NOT has_function_privilege('public', oid, 'EXECUTE')")).isEqualTo(2);
        // The version-6 signature still exists for GRANTs written against it.
        db.execute("SELECT 'tandem.enqueue_workflow(text, jsonb, text, text, int, text, text, interval)'::regprocedure");
    }

    @Test
    void aFailedStepAndAFailedWorkflowAreRecordedOnTheirSpans() throws Exception {
        WorkflowHandle<String> handle = failing.start("bob");
        assertThatThrownBy(() -> handle.result(WAIT)).isInstanceOf(WorkflowFailedException.class);
        SpanData run = awaitSpan("tandem.run traced-failing");

        SpanData broken = span("tandem.step broken");
        assertThat(broken.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
        assertThat(broken.getEvents()).anySatisfy(e -> {
            assertThat(e.getName()).isEqualTo("exception");
            assertThat(e.getAttributes().get(AttributeKey.stringKey("exception.type")))
                    .isEqualTo(IllegalStateException.class.getName());
            assertThat(e.getAttributes().get(AttributeKey.stringKey("exception.message")))
                    .isEqualTo("no such account: bob");
        });
        assertThat(span("tandem.step fine").getStatus().getStatusCode()).isEqualTo(StatusCode.UNSET);
        assertThat(run.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
        assertThat(run.getAttributes().get(AttributeKey.stringKey("tandem.workflow.status"))).isEqualTo("ERROR");
        assertThat(run.getEvents()).anySatisfy(e -> {
            assertThat(e.getName()).isEqualTo("exception");
            assertThat(e.getAttributes().get(AttributeKey.stringKey("exception.type")))
                    .isEqualTo(IllegalStateException.class.getName());
            assertThat(e.getAttributes().get(AttributeKey.stringKey("exception.stacktrace"))).contains("at ");
        });
    }

    /** Waits until a span of that name has ended (a run ends just after its handle's result is published). */
    static SpanData awaitSpan(String name) {
        return awaitSpan(spans, name);
    }

    static SpanData awaitSpan(InMemorySpanExporter exporter, String name) {
        return await().atMost(WAIT).until(() -> exporter.getFinishedSpanItems().stream()
                .filter(s -> s.getName().equals(name)).findFirst(), Optional::isPresent).orElseThrow();
    }

    static SpanData span(String name) {
        return find(name).orElseThrow(() -> new AssertionError("no span '" + name + "' among "
                + spans.getFinishedSpanItems().stream().map(SpanData::getName).toList()));
    }

    static Optional<SpanData> find(String name) {
        return spans.getFinishedSpanItems().stream().filter(s -> s.getName().equals(name)).findFirst();
    }
}
