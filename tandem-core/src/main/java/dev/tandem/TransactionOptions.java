package dev.tandem;

/**
 * Options of a {@link WorkflowContext#transaction transactional step}.
 *
 * @param isolation the transaction's isolation level
 * @param maxAttempts how many times the transaction is run when PostgreSQL aborts it with a serialization failure
 *     (SQLSTATE 40001) or a deadlock (40P01); other errors are not retried
 */
public record TransactionOptions(IsolationLevel isolation, int maxAttempts) {

    private static final TransactionOptions DEFAULTS = new TransactionOptions(IsolationLevel.READ_COMMITTED, 10);

    public TransactionOptions {
        if (isolation == null) {
            throw new IllegalArgumentException("isolation must not be null");
        }
        if (maxAttempts < 1) {
            throw new IllegalArgumentException("maxAttempts must be at least 1 (was " + maxAttempts + ")");
        }
    }

    /** READ COMMITTED, up to 10 attempts on serialization failures and deadlocks. */
    public static TransactionOptions defaults() {
        return DEFAULTS;
    }

    public static TransactionOptions isolation(IsolationLevel isolation) {
        return new TransactionOptions(isolation, DEFAULTS.maxAttempts);
    }

    public TransactionOptions withMaxAttempts(int maxAttempts) {
        return new TransactionOptions(isolation, maxAttempts);
    }
}
