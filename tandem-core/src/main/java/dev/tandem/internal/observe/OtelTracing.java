package dev.tandem.internal.observe;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapSetter;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Tracing with the application's {@code OpenTelemetry} (never an exporter of Tandem's own). Loaded only when the
 * application passed one to the builder. Trace contexts are stored in W3C form whatever propagators the application
 * uses, so that any executor, and SQL callers, read them the same way.
 */
final class OtelTracing implements Tracing {
    static final String INSTRUMENTATION = "dev.tandem";

    static final AttributeKey<String> WORKFLOW_ID = AttributeKey.stringKey("tandem.workflow.id");
    static final AttributeKey<String> WORKFLOW_NAME = AttributeKey.stringKey("tandem.workflow.name");
    static final AttributeKey<String> WORKFLOW_STATUS = AttributeKey.stringKey("tandem.workflow.status");
    static final AttributeKey<Boolean> RECOVERED = AttributeKey.booleanKey("tandem.workflow.recovered");
    static final AttributeKey<String> QUEUE = AttributeKey.stringKey("tandem.queue");
    static final AttributeKey<Long> ATTEMPT = AttributeKey.longKey("tandem.attempt");
    static final AttributeKey<Long> STEP_POSITION = AttributeKey.longKey("tandem.step.position");
    static final AttributeKey<String> STEP_KIND = AttributeKey.stringKey("tandem.step.kind");
    static final AttributeKey<String> STEP_NAME = AttributeKey.stringKey("tandem.step.name");
    static final AttributeKey<String> EXECUTOR_ID = AttributeKey.stringKey("tandem.executor.id");
    private static final AttributeKey<String> EXCEPTION_TYPE = AttributeKey.stringKey("exception.type");
    private static final AttributeKey<String> EXCEPTION_MESSAGE = AttributeKey.stringKey("exception.message");
    private static final AttributeKey<String> EXCEPTION_STACKTRACE = AttributeKey.stringKey("exception.stacktrace");

    private static final TextMapGetter<TraceContext> GETTER = new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(TraceContext carrier) {
            return List.of("traceparent", "tracestate");
        }

        @Override
        public @Nullable String get(@Nullable TraceContext carrier, String key) {
            if (carrier == null) {
                return null;
            }
            return key.equals("traceparent") ? carrier.traceparent()
                    : key.equals("tracestate") ? carrier.tracestate() : null;
        }
    };

    private static final TextMapSetter<String[]> SETTER = (carrier, key, value) -> {
        if (carrier != null) {
            carrier[key.equals("traceparent") ? 0 : 1] = value;
        }
    };

    private final Tracer tracer;
    private final String executorId;

    private OtelTracing(Tracer tracer, String executorId) {
        this.tracer = tracer;
        this.executorId = executorId;
    }

    static Tracing create(Object openTelemetry, String executorId) {
        if (!(openTelemetry instanceof OpenTelemetry otel)) {
            throw new IllegalArgumentException("openTelemetry must be an io.opentelemetry.api.OpenTelemetry (was "
                    + openTelemetry.getClass().getName() + ")");
        }
        return new OtelTracing(otel.getTracer(INSTRUMENTATION), executorId);
    }

    @Override
    public Span producer(String operation, String workflowName, @Nullable String workflowId, @Nullable String queue) {
        SpanBuilder b = tracer.spanBuilder("tandem." + operation + " " + workflowName)
                .setSpanKind(SpanKind.PRODUCER)
                .setAttribute(WORKFLOW_NAME, workflowName)
                .setAttribute(EXECUTOR_ID, executorId);
        if (workflowId != null) {
            b.setAttribute(WORKFLOW_ID, workflowId);
        }
        if (queue != null) {
            b.setAttribute(QUEUE, queue);
        }
        return new OtelSpan(b.startSpan());
    }

    @Override
    public Span execution(String workflowName, String workflowId, @Nullable String queue, int attempt,
            boolean recovered, @Nullable TraceContext parent) {
        Context parentContext = parent == null ? Context.current()
                : W3CTraceContextPropagator.getInstance().extract(Context.root(), parent, GETTER);
        SpanBuilder b = tracer.spanBuilder("tandem.run " + workflowName)
                .setParent(parentContext)
                .setSpanKind(SpanKind.CONSUMER)
                .setAttribute(WORKFLOW_ID, workflowId)
                .setAttribute(WORKFLOW_NAME, workflowName)
                .setAttribute(ATTEMPT, (long) attempt)
                .setAttribute(RECOVERED, recovered)
                .setAttribute(EXECUTOR_ID, executorId);
        if (queue != null) {
            b.setAttribute(QUEUE, queue);
        }
        return new OtelSpan(b.startSpan());
    }

    @Override
    public Span step(String spanName, String workflowName, String workflowId, int position, String kind,
            String stepName) {
        return new OtelSpan(tracer.spanBuilder(spanName)
                .setSpanKind(SpanKind.INTERNAL)
                .setAttribute(WORKFLOW_ID, workflowId)
                .setAttribute(WORKFLOW_NAME, workflowName)
                .setAttribute(STEP_POSITION, (long) position)
                .setAttribute(STEP_KIND, kind)
                .setAttribute(STEP_NAME, stepName)
                .setAttribute(EXECUTOR_ID, executorId)
                .startSpan());
    }

    @Override
    public void executionEnded(String status, @Nullable String errorType, @Nullable String errorMessage,
            @Nullable String errorStack) {
        io.opentelemetry.api.trace.Span span = io.opentelemetry.api.trace.Span.current();
        span.setAttribute(WORKFLOW_STATUS, status);
        if (!status.equals("SUCCESS")) {
            // What was recorded, not a Throwable: the same type, message and stack a replay or an operator sees.
            span.addEvent("exception", Attributes.of(EXCEPTION_TYPE, String.valueOf(errorType), EXCEPTION_MESSAGE,
                    String.valueOf(errorMessage), EXCEPTION_STACKTRACE, String.valueOf(errorStack)));
            span.setStatus(StatusCode.ERROR, status + ": " + errorMessage);
        }
    }

    @Override
    public @Nullable TraceContext current() {
        return contextOf(Context.current());
    }

    private static @Nullable TraceContext contextOf(Context context) {
        if (!io.opentelemetry.api.trace.Span.fromContext(context).getSpanContext().isValid()) {
            return null;
        }
        String[] carrier = new String[2];
        W3CTraceContextPropagator.getInstance().inject(context, carrier, SETTER);
        return carrier[0] == null ? null : new TraceContext(carrier[0], carrier[1]);
    }

    private static final class OtelSpan implements Span {
        private final io.opentelemetry.api.trace.Span span;
        private @Nullable Scope scope;

        OtelSpan(io.opentelemetry.api.trace.Span span) {
            this.span = span;
        }

        @Override
        public void enter() {
            scope = span.makeCurrent();
        }

        @Override
        public void workflowId(String workflowId) {
            span.setAttribute(WORKFLOW_ID, workflowId);
        }

        @Override
        public void failed(Throwable error) {
            span.recordException(error);
            span.setStatus(StatusCode.ERROR, String.valueOf(error.getMessage()));
        }

        @Override
        public @Nullable TraceContext context() {
            return contextOf(Context.current().with(span));
        }

        @Override
        public void end() {
            Scope s = scope;
            if (s != null) {
                scope = null;
                s.close();
            }
            span.end();
        }
    }
}
