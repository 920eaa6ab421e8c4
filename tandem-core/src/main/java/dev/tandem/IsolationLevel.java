package dev.tandem;

/** Transaction isolation of a {@link WorkflowContext#transaction transactional step}. */
public enum IsolationLevel {
    /** The connection's default level, which is READ COMMITTED unless the database or role sets another. */
    READ_COMMITTED,
    REPEATABLE_READ,
    SERIALIZABLE
}
