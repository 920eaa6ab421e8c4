package dev.tandem.bench;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Hands the time a workflow's step read ({@link System#nanoTime}) to the driver waiting for it,
 * by workflow id and message number: the driver calls {@link #expect} before it sends message
 * {@code k}, the step after the workflow received it calls {@link #mark}.
 */
final class Marks {
  private final Map<String, CompletableFuture<Long>> waiting = new ConcurrentHashMap<>();

  /** Registers interest in when workflow {@code id} marks message {@code k}: call before sending. */
  CompletableFuture<Long> expect(String id, int k) {
    CompletableFuture<Long> f = new CompletableFuture<>();
    waiting.put(id + "#" + k, f);
    return f;
  }

  /** Completes the waiter for message {@code k} of workflow {@code id}, if any; returns nanos. */
  long mark(String id, int k, long nanos) {
    CompletableFuture<Long> f = waiting.remove(id + "#" + k);
    if (f != null) {
      f.complete(nanos);
    }
    return nanos;
  }
}
