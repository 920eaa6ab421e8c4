package dev.tandem.bench;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.util.Collection;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Telemetry as an application would have it on, for {@code --telemetry}: an OpenTelemetry SDK that samples every
 * span and hands them to a batch span processor, whose exporter counts and drops them (the cost of the network is
 * the exporter's, not Tandem's), and a SimpleMeterRegistry.
 */
final class BenchTelemetry implements AutoCloseable {
  private final AtomicLong exported = new AtomicLong();
  private final OpenTelemetrySdk sdk;
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  BenchTelemetry() {
    SpanExporter counting = new SpanExporter() {
      @Override
      public CompletableResultCode export(Collection<SpanData> spans) {
        exported.addAndGet(spans.size());
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
    sdk = OpenTelemetrySdk.builder()
        .setTracerProvider(SdkTracerProvider.builder()
            .addSpanProcessor(BatchSpanProcessor.builder(counting).build())
            .build())
        .build();
  }

  OpenTelemetry openTelemetry() {
    return sdk;
  }

  SimpleMeterRegistry registry() {
    return registry;
  }

  @Override
  public void close() {
    sdk.close();
    System.out.println("  telemetry: " + exported.get() + " spans exported, "
        + (long) registry.get("tandem.workflows.finished").counter().count() + " workflows counted");
  }
}
