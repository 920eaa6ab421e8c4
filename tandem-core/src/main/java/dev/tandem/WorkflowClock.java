package dev.tandem;

import java.time.Instant;

/**
 * The time workflows see: when a durable sleep or a receive's timeout ends, when a delayed workflow is due, a
 * deadline, a cron tick, a rate-limit window, retention's age. An engine reads it here in Java and through
 * {@code tandem.now()} in SQL; the two must agree. Engines use {@link #system()} unless told otherwise
 * ({@link TandemBuilder#clock}); the test kit ({@code dev.tandem.test.TestClock} in {@code tandem-test}) moves both
 * forward so that a test of a month-long workflow runs in milliseconds.
 *
 * <p>What executors live by is not this clock: heartbeats, executor timeouts and the engine's own retries run on
 * the system's monotonic clock, so skipping a month never makes a live executor look dead.
 */
public interface WorkflowClock {

    /** The system clock: {@code Instant.now()} here and {@code now()} in the database. */
    static WorkflowClock system() {
        return SystemClock.INSTANCE;
    }

    /** The current time. */
    Instant now();

    /**
     * Registers {@code action}, to run after every jump forward of this clock (the engine then wakes the waits that
     * became due); returns what unregisters it. A clock that only follows the system clock never jumps.
     */
    default Subscription onJump(Runnable action) {
        return () -> { };
    }

    /** A registration made by {@link #onJump}; closing it unregisters the action. */
    interface Subscription extends AutoCloseable {
        @Override
        void close();
    }
}

/** {@link WorkflowClock#system()}. */
final class SystemClock implements WorkflowClock {
    static final SystemClock INSTANCE = new SystemClock();

    private SystemClock() { }

    @Override
    public Instant now() {
        return Instant.now();
    }

    @Override
    public String toString() {
        return "WorkflowClock.system()";
    }
}
