package dev.tandem.internal.exec;

/**
 * Unwinds a workflow's code when its execution must stop without recording an outcome. Extends {@link Error} so that
 * workflow code that catches {@code Exception} does not swallow it by accident.
 */
final class ExecutionControl extends Error {
    enum Kind {
        /** Another executor owns the workflow now, or it is no longer RUNNING: stop, record nothing. */
        ABANDON,
        /** Our own view may be stale (a checkpoint write was not acknowledged): replay from the checkpoints. */
        RESTART,
        /** The database is unreachable: replay from the checkpoints once it answers again. */
        DATABASE_UNAVAILABLE,
        /** The engine is shutting down. */
        STOP,
        /** Waiting without a thread: the execution is replayed from its checkpoints at its next signal. */
        PARK
    }

    final Kind kind;

    ExecutionControl(Kind kind, String message, Throwable cause) {
        super(message, cause, false, false);
        this.kind = kind;
    }

    ExecutionControl(Kind kind, String message) {
        super(message, null, false, false);
        this.kind = kind;
    }
}
