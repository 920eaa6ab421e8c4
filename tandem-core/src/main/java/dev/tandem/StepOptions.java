package dev.tandem;

import java.time.Duration;
import java.util.List;

/**
 * Retry policy of a {@link WorkflowContext#step step}. A step is attempted up to {@code maxAttempts} times; between
 * attempts Tandem waits {@code initialBackoff}, multiplied by {@code backoffMultiplier} after each attempt and capped
 * at {@code maxBackoff}. Only exceptions that are instances of one of {@code retryableTypes} are retried; others fail the
 * step at once. When the step finally fails, its error is checkpointed, so a replay fails it the same way without
 * running it again.
 *
 * <pre>{@code
 * ctx.step("notify", StepOptions.retries(5).retryOn(IOException.class), () -> warehouse.notify(order));
 * }</pre>
 */
public record StepOptions(
        int maxAttempts,
        Duration initialBackoff,
        double backoffMultiplier,
        Duration maxBackoff,
        List<Class<? extends Throwable>> retryableTypes) {

    private static final StepOptions DEFAULTS =
            new StepOptions(1, Duration.ofMillis(100), 2.0, Duration.ofSeconds(10), List.of(Exception.class));

    public StepOptions {
        if (maxAttempts < 1) {
            throw new IllegalArgumentException("maxAttempts must be at least 1 (was " + maxAttempts + ")");
        }
        if (initialBackoff == null || initialBackoff.isNegative()) {
            throw new IllegalArgumentException("initialBackoff must be zero or positive (was " + initialBackoff + ")");
        }
        if (!(backoffMultiplier >= 1.0)) {
            throw new IllegalArgumentException("backoffMultiplier must be at least 1.0 (was " + backoffMultiplier + ")");
        }
        if (maxBackoff == null || maxBackoff.compareTo(initialBackoff) < 0) {
            throw new IllegalArgumentException(
                    "maxBackoff must be at least initialBackoff (" + initialBackoff + ") (was " + maxBackoff + ")");
        }
        if (retryableTypes == null || retryableTypes.isEmpty()) {
            throw new IllegalArgumentException("retryOn must name at least one exception class");
        }
        if (retryableTypes.stream().anyMatch(java.util.Objects::isNull)) {
            throw new IllegalArgumentException("retryOn must not contain null (was " + retryableTypes + ")");
        }
        retryableTypes = List.copyOf(retryableTypes);
    }

    /** One attempt, no retries. */
    public static StepOptions defaults() {
        return DEFAULTS;
    }

    /** Up to {@code maxAttempts} attempts on any {@link Exception}, with the default backoff (100 ms, doubling, 10 s). */
    public static StepOptions retries(int maxAttempts) {
        return DEFAULTS.withMaxAttempts(maxAttempts);
    }

    public StepOptions withMaxAttempts(int maxAttempts) {
        return new StepOptions(maxAttempts, initialBackoff, backoffMultiplier, maxBackoff, retryableTypes);
    }

    public StepOptions withBackoff(Duration initialBackoff, double backoffMultiplier, Duration maxBackoff) {
        return new StepOptions(maxAttempts, initialBackoff, backoffMultiplier, maxBackoff, retryableTypes);
    }

    /** Retries only failures that are instances of one of {@code exceptionTypes}. */
    @SafeVarargs
    public final StepOptions retryOn(Class<? extends Throwable>... exceptionTypes) {
        if (exceptionTypes == null) {
            throw new IllegalArgumentException("retryOn must name at least one exception class");
        }
        return new StepOptions(maxAttempts, initialBackoff, backoffMultiplier, maxBackoff,
                java.util.Arrays.asList(exceptionTypes));
    }

    /** Whether a failure with {@code error} may be retried under this policy. */
    public boolean retries(Throwable error) {
        for (Class<? extends Throwable> type : retryableTypes) {
            if (type.isInstance(error)) {
                return true;
            }
        }
        return false;
    }

    /** The wait before attempt {@code nextAttempt} (2 or more). */
    public Duration backoffBefore(int nextAttempt) {
        double millis = initialBackoff.toMillis() * Math.pow(backoffMultiplier, Math.max(0, nextAttempt - 2));
        return millis >= maxBackoff.toMillis() ? maxBackoff : Duration.ofMillis((long) millis);
    }
}
