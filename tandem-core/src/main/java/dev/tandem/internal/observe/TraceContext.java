package dev.tandem.internal.observe;

import org.jspecify.annotations.Nullable;

/**
 * A W3C Trace Context as stored on a workflow's row: {@code traceparent} ({@code 00-<trace id>-<span id>-<flags>})
 * and the optional vendor-specific {@code tracestate}.
 */
public record TraceContext(String traceparent, @Nullable String tracestate) {}
