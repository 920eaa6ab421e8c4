/**
 * Telemetry of the engine: OpenTelemetry traces and Micrometer metrics, both optional. The engine calls only
 * {@link dev.tandem.internal.observe.Telemetry}; when the application gave neither an {@code OpenTelemetry} nor a
 * {@code MeterRegistry}, that is {@link dev.tandem.internal.observe.Telemetry#NONE}, whose methods return shared
 * no-op objects. The classes that use OpenTelemetry ({@code OtelTracing}) and Micrometer ({@code MicrometerMetrics})
 * are loaded only when configured, so tandem-core runs with neither jar on the class path.
 */
@NullMarked
package dev.tandem.internal.observe;

import org.jspecify.annotations.NullMarked;
