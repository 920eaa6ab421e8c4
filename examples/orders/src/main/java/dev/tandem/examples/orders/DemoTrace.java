package dev.tandem.examples.orders;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code --trace}: the workers trace with the OpenTelemetry SDK and append every ended span to a file, one line each
 * (a stand-in for Jaeger or Grafana Tempo); at the end the demo prints the span tree of one order that the crash
 * interrupted: the request in the killed worker, the start, the steps before the kill, and the recovery in the next
 * worker, all in one trace because the trace context is stored with the workflow.
 */
final class DemoTrace {
    static final String FILE_VARIABLE = "TANDEM_DEMO_TRACE_FILE";
    private static final AttributeKey<String> WORKFLOW_ID = AttributeKey.stringKey("tandem.workflow.id");

    private DemoTrace() {}

    /** The worker's OpenTelemetry, writing to the file the demo named; null when the demo runs without --trace. */
    static OpenTelemetrySdk forWorker() {
        String file = System.getenv(FILE_VARIABLE);
        if (file == null || file.isBlank()) {
            return null;
        }
        Path path = Path.of(file);
        long pid = ProcessHandle.current().pid();
        SpanExporter toFile = new SpanExporter() {
            @Override
            public synchronized CompletableResultCode export(Collection<SpanData> spans) {
                StringBuilder lines = new StringBuilder();
                for (SpanData s : spans) {
                    String workflowId = s.getAttributes().get(WORKFLOW_ID);
                    lines.append(String.join("\t", s.getTraceId(), s.getSpanId(), s.getParentSpanId(), s.getName(),
                            Long.toString(s.getStartEpochNanos()), Long.toString(s.getEndEpochNanos()),
                            s.getStatus().getStatusCode().name(), Long.toString(pid),
                            workflowId == null ? "-" : workflowId)).append('\n');
                }
                try {
                    Files.writeString(path, lines, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                            StandardOpenOption.APPEND);
                    return CompletableResultCode.ofSuccess();
                } catch (IOException e) {
                    return CompletableResultCode.ofFailure();
                }
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
        return OpenTelemetrySdk.builder()
                .setTracerProvider(SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(toFile))
                        .build())
                .build();
    }

    private record Span(String traceId, String spanId, String parentId, String name, long start, long end,
            String status, String pid, String workflowId) {}

    /** Prints the trace of workflow {@code workflowId} as a tree, times relative to its first span. */
    static void print(Path file, String workflowId) {
        List<Span> all = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                String[] f = line.split("\t");
                if (f.length == 9) {
                    all.add(new Span(f[0], f[1], f[2], f[3], Long.parseLong(f[4]), Long.parseLong(f[5]), f[6], f[7],
                            f[8]));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        String traceId = all.stream().filter(s -> s.workflowId().equals(workflowId)).map(Span::traceId).findFirst()
                .orElse(null);
        if (traceId == null) {
            System.out.println("trace: no span of workflow " + workflowId + " was exported");
            return;
        }
        List<Span> trace = all.stream().filter(s -> s.traceId().equals(traceId))
                .sorted(Comparator.comparingLong(Span::start)).toList();
        long t0 = trace.get(0).start();
        Set<String> ids = new HashSet<>();
        Map<String, List<Span>> children = new HashMap<>();
        for (Span s : trace) {
            ids.add(s.spanId());
            children.computeIfAbsent(s.parentId(), k -> new ArrayList<>()).add(s);
        }
        System.out.println();
        System.out.println("trace " + traceId + " (workflow " + workflowId + "; " + trace.size()
                + " spans from " + trace.stream().map(Span::pid).distinct().count() + " processes):");
        Set<String> shown = new HashSet<>();
        for (Span root : trace) {
            String parent = root.parentId();
            if (ids.contains(parent) || !shown.add(parent)) {
                continue;
            }
            if (parent.equals("0000000000000000")) {
                children.get(parent).forEach(r -> printTree(r, children, t0, "  "));
            } else { // a span still open when its process was killed is never exported; its children are
                System.out.println("  (span " + parent + ": never exported, its process was killed)");
                children.get(parent).forEach(r -> printTree(r, children, t0, "    "));
            }
        }
    }

    private static void printTree(Span span, Map<String, List<Span>> children, long t0, String indent) {
        System.out.printf("%-58s +%7.1f ms %8.1f ms  pid %s%s%n", indent + span.name(), (span.start() - t0) / 1e6,
                (span.end() - span.start()) / 1e6, span.pid(), span.status().equals("ERROR") ? "  ERROR" : "");
        for (Span child : children.getOrDefault(span.spanId(), List.of())) {
            printTree(child, children, t0, indent + "  ");
        }
    }
}
