package dev.tandem;

/** Transaction isolation of a {@link WorkflowContext#transaction transactional step}. */
public enum IsolationLevel {
    READ_COMMITTED,
    REPEATABLE_READ,
    SERIALIZABLE
}
