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
        /**
         * The database was unreachable, or refused for a reason that may pass (a lock or statement timeout, too many
         * connections): replay from the checkpoints once it answers again, after a backoff; counts as an attempt.
         */
        TRANSIENT_FAILURE,
        /** PostgreSQL refused a value of a write (a data error): end the workflow ERROR, replaying cannot help. */
        UNSTORABLE,
        /** The engine is shutting down. */
        STOP,
        /** Waiting without a thread: the execution is replayed from its checkpoints at its next signal. */
        PARK,
        /** A replay of an exported history (RecordedHistory) reached its end: the code beyond it is not run. */
        END_OF_HISTORY
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
