package dev.tandem.internal.exec;

import dev.tandem.TandemBuilder;
import dev.tandem.AmbientTransaction;
import dev.tandem.TransactionRunner;
import org.jspecify.annotations.Nullable;

/**
 * How the application's transactions reach the engine (set by {@code TandemBuilder}): the ambient transaction that
 * {@code enqueue} and {@code send} join ({@link Starting}, {@link Control}), and the runner of transactional steps'
 * transactions ({@link Steps}). Null: the engine's own way.
 */
public record EngineHooks(@Nullable AmbientTransaction ambientTransaction, @Nullable TransactionRunner transactionRunner) {
    public static final EngineHooks NONE = new EngineHooks(null, null);
}
