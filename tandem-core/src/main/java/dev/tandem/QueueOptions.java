package dev.tandem;

import org.jspecify.annotations.Nullable;

/**
 * Limits of a named queue, declared with {@code Tandem.builder().queue(name, options)} and stored in
 * {@code tandem.queues} at start.
 *
 * @param concurrency how many of its workflows may run at once across all executors; null for no limit
 * @param workerConcurrency how many may run at once on one executor; null for no limit
 */
public record QueueOptions(@Nullable Integer concurrency, @Nullable Integer workerConcurrency) {

    public QueueOptions {
        if (concurrency != null && concurrency < 1) {
            throw new IllegalArgumentException("concurrency must be at least 1 (was " + concurrency + ")");
        }
        if (workerConcurrency != null && workerConcurrency < 1) {
            throw new IllegalArgumentException("workerConcurrency must be at least 1 (was " + workerConcurrency + ")");
        }
    }

    public static QueueOptions unlimited() {
        return new QueueOptions(null, null);
    }

    public QueueOptions concurrency(int concurrency) {
        return new QueueOptions(concurrency, workerConcurrency);
    }

    public QueueOptions workerConcurrency(int workerConcurrency) {
        return new QueueOptions(concurrency, workerConcurrency);
    }
}
