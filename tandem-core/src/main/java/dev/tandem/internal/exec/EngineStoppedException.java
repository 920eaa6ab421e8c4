package dev.tandem.internal.exec;

import dev.tandem.TandemException;

/** The engine is shutting down; running executions unwind and are recovered later from their checkpoints. */
final class EngineStoppedException extends TandemException {
    EngineStoppedException() {
        super("the Tandem engine is stopping; this execution will be recovered from its last checkpoint");
    }
}
