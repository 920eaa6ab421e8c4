package dev.tandem;

import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * Limits of a named queue, declared with {@code Tandem.builder().queue(name, options)} and stored in
 * {@code tandem.queues} at start. Every limit but {@code workerConcurrency} holds across all executors.
 *
 * @param concurrency how many of its workflows may run at once; null for no limit
 * @param workerConcurrency how many may run at once on one executor; null for no limit
 * @param rateLimit at most this many starts per {@code ratePeriod}; null for no limit
 * @param ratePeriod the window of {@code rateLimit}; set exactly when {@code rateLimit} is
 * @param partitionConcurrency how many may run at once per partition key (fairness between tenants); workflows
 *     without a key count as one partition; null for no limit
 */
public record QueueOptions(
        @Nullable Integer concurrency,
        @Nullable Integer workerConcurrency,
        @Nullable Integer rateLimit,
        @Nullable Duration ratePeriod,
        @Nullable Integer partitionConcurrency) {

    public QueueOptions {
        requireAtLeastOne("concurrency", concurrency);
        requireAtLeastOne("workerConcurrency", workerConcurrency);
        requireAtLeastOne("rateLimit", rateLimit);
        requireAtLeastOne("partitionConcurrency", partitionConcurrency);
        if ((rateLimit == null) != (ratePeriod == null)) {
            throw new IllegalArgumentException("rateLimit and ratePeriod go together (were " + rateLimit + " and "
                    + ratePeriod + ")");
        }
        if (ratePeriod != null && (ratePeriod.isZero() || ratePeriod.isNegative() || ratePeriod.toMillis() == 0)) {
            throw new IllegalArgumentException("ratePeriod must be at least 1 ms (was " + ratePeriod + ")");
        }
    }

    private static void requireAtLeastOne(String name, @Nullable Integer value) {
        if (value != null && value < 1) {
            throw new IllegalArgumentException(name + " must be at least 1 (was " + value + ")");
        }
    }

    public static QueueOptions unlimited() {
        return new QueueOptions(null, null, null, null, null);
    }

    public QueueOptions concurrency(int concurrency) {
        return new QueueOptions(concurrency, workerConcurrency, rateLimit, ratePeriod, partitionConcurrency);
    }

    public QueueOptions workerConcurrency(int workerConcurrency) {
        return new QueueOptions(concurrency, workerConcurrency, rateLimit, ratePeriod, partitionConcurrency);
    }

    /** At most {@code starts} workflows start per {@code period}, across all executors. */
    public QueueOptions rateLimit(int starts, Duration period) {
        return new QueueOptions(concurrency, workerConcurrency, starts, period, partitionConcurrency);
    }

    public QueueOptions partitionConcurrency(int partitionConcurrency) {
        return new QueueOptions(concurrency, workerConcurrency, rateLimit, ratePeriod, partitionConcurrency);
    }
}
