package dev.tandem.test;

import dev.tandem.TandemException;
import dev.tandem.WorkflowClock;
import dev.tandem.internal.db.Queries;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;

/**
 * A workflow clock that tests move forward: durable sleeps, receive timeouts, delays, deadlines, cron ticks, rate
 * limits and retention all see its time, in Java and in the test database ({@code tandem.now()}), while executors'
 * heartbeats keep real time. {@link #advance} jumps; {@link #autoSkip} jumps by itself to the next timer whenever
 * every unfinished workflow waits on time, so a month-long workflow runs in milliseconds.
 *
 * <p>It changes {@code tandem.now()} in the database it is given, so give it a test database only: the kit's
 * ({@link TandemTest}) are made for it. Thread-safe.
 */
public final class TestClock implements WorkflowClock {
    private static final Queries SQL = Queries.load(TestClock.class, "/dev/tandem/test/clock.sql");
    /** How often auto-skip looks, and how long nothing may move before it jumps. */
    private static final long AUTO_SKIP_POLL_MILLIS = 5;

    private final DataSource dataSource;
    private final List<Runnable> listeners = new CopyOnWriteArrayList<>();
    private volatile Duration skew = Duration.ZERO;
    private @Nullable Thread autoSkipper;
    private volatile int jumps;

    private TestClock(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    /**
     * Installs a test clock in the database of {@code dataSource}, which must hold schema {@code tandem} (migrated):
     * from now on its {@code tandem.now()} reads this clock. Its time starts at the system's; a clock installed
     * before in the same database continues from where that one was.
     */
    public static TestClock install(DataSource dataSource) {
        if (dataSource == null) {
            throw new IllegalArgumentException("install needs the test database's DataSource, not null");
        }
        TestClock clock = new TestClock(dataSource);
        try (Connection conn = dataSource.getConnection(); Statement st = conn.createStatement()) {
            conn.setAutoCommit(true);
            st.execute(SQL.get("install"));
            try (ResultSet rs = st.executeQuery(SQL.get("skew"))) {
                rs.next();
                clock.skew = Duration.ofMillis(rs.getLong(1));
            }
        } catch (SQLException e) {
            throw new TandemException("could not install the test clock (is schema tandem migrated in this"
                    + " database? start an engine on it first, or run the migrations): " + e.getMessage(), e);
        }
        return clock;
    }

    @Override
    public Instant now() {
        return Instant.now().plus(skew);
    }

    /** How far this clock is ahead of the system clock. */
    public Duration skew() {
        return skew;
    }

    /** How many times the clock has jumped (by {@link #advance} or auto-skip). */
    public int jumps() {
        return jumps;
    }

    /**
     * Moves the time forward by {@code amount}, in the database and here, then wakes what became due: sleeps and
     * receives whose time has come end, delayed workflows start, cron ticks fire, deadlines cancel, retention
     * deletes. Returns at once; what it woke runs on the engine's threads.
     */
    public synchronized void advance(Duration amount) {
        if (amount == null || amount.isNegative()) {
            throw new IllegalArgumentException("advance needs a positive or zero amount (was " + amount
                    + "); a workflow clock never goes back");
        }
        if (amount.isZero()) {
            return;
        }
        Duration next = skew.plus(amount);
        try (Connection conn = dataSource.getConnection();
             PreparedStatement ps = conn.prepareStatement(SQL.get("setSkew"))) {
            conn.setAutoCommit(true);
            ps.setLong(1, next.toMillis());
            ps.executeUpdate();
        } catch (SQLException e) {
            throw new TandemException("could not move the test clock: " + e.getMessage(), e);
        }
        skew = next;
        jumps++;
        for (Runnable listener : listeners) {
            listener.run();
        }
    }

    /** Moves the time forward to {@code time} (nothing happens if it has passed already). */
    public void advanceTo(Instant time) {
        if (time == null) {
            throw new IllegalArgumentException("advanceTo needs a time, not null");
        }
        Duration ahead = Duration.between(now(), time);
        if (!ahead.isNegative()) {
            advance(ahead);
        }
    }

    /**
     * Turns auto-skip on: whenever every unfinished workflow waits on time (a sleep, a receive's timeout, a delay, a
     * deadline, a cron tick, or a child that does) and nothing has moved for a few milliseconds, the clock jumps to
     * the first of those times. Workflows that wait on something else (a message with no timeout near, an event, a
     * step running) hold it. Off again with {@link #stopAutoSkip}, or when the kit closes the engine.
     */
    public synchronized void autoSkip() {
        if (autoSkipper != null) {
            return;
        }
        Thread t = new Thread(this::skipLoop, "tandem-test-clock-auto-skip");
        t.setDaemon(true);
        autoSkipper = t;
        t.start();
    }

    /** Turns auto-skip off (waits for a jump in progress to end). */
    public void stopAutoSkip() {
        Thread t;
        synchronized (this) {
            t = autoSkipper;
            autoSkipper = null;
        }
        if (t != null) {
            t.interrupt();
            try {
                t.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Jumps once to the next timer if everything unfinished waits on time, as auto-skip would; returns how far it
     * moved ({@code Duration.ZERO} if it did not). For tests that step through time themselves.
     */
    public Duration skipToNextTimer() {
        try {
            Look look = look();
            if (!look.idle() || look.untilNextMillis() == null) {
                return Duration.ZERO;
            }
            Duration jump = Duration.ofMillis(Math.max(0, look.untilNextMillis()) + 1);
            advance(jump);
            return jump;
        } catch (SQLException e) {
            throw new TandemException("could not look for the next timer: " + e.getMessage(), e);
        }
    }

    /** The kit emptied the test database (its skew too): this clock starts again from the system's time. */
    void resetAfterTest() {
        stopAutoSkip();
        skew = Duration.ZERO;
    }

    @Override
    public Subscription onJump(Runnable action) {
        listeners.add(action);
        return () -> listeners.remove(action);
    }

    @Override
    public String toString() {
        return "TestClock(" + now() + ", skew " + skew + ")";
    }

    private void skipLoop() {
        Long previous = null;
        while (!Thread.currentThread().isInterrupted()) {
            try {
                Thread.sleep(AUTO_SKIP_POLL_MILLIS);
                Look look = look();
                if (!look.idle() || look.untilNextMillis() == null) {
                    previous = null;
                    continue;
                }
                if (previous == null || previous != look.fingerprint()) {
                    previous = look.fingerprint(); // idle twice in a row with nothing moved in between
                    continue;
                }
                synchronized (this) {
                    if (autoSkipper != Thread.currentThread()) {
                        return;
                    }
                    advance(Duration.ofMillis(Math.max(0, look.untilNextMillis()) + 1));
                }
                previous = null;
            } catch (InterruptedException e) {
                return;
            } catch (SQLException | RuntimeException e) {
                previous = null; // the database is being set up or torn down: look again
            }
        }
    }

    private Look look() throws SQLException {
        try (Connection conn = dataSource.getConnection(); Statement st = conn.createStatement();
             ResultSet rs = st.executeQuery(SQL.get("nextTimer"))) {
            rs.next();
            boolean idle = rs.getBoolean(1);
            long until = rs.getLong(2);
            Long untilNext = rs.wasNull() ? null : until;
            return new Look(idle, untilNext, rs.getLong(3));
        }
    }

    private record Look(boolean idle, @Nullable Long untilNextMillis, long fingerprint) {}
}
