package dev.tandem.internal.db;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One connection that LISTENs on the channels the durable primitives NOTIFY (messages, events, stream values,
 * cancellations; the payload is the workflow id), read by one daemon thread that hands each notification to a
 * listener. A notification is only a hint to look now, and two things stand in for the ones that never arrive:
 *
 * <ul>
 *   <li>The connection is kept provably alive ({@link ListeningConnection}: a round trip every 3 s, each bounded by
 *       a 5 s network timeout), so a silently dead one is noticed within about 8 s. After the connection breaks, and
 *       after every new LISTEN, the listener is told that anything may have happened ({@link Listener#lost()}).
 *   <li>Every {@link #LOOK_INTERVAL} the listener looks in the database for what its waiters wait for
 *       ({@link Listener#look}), in one statement for all of them, on the listening connection (or, while there is
 *       none, on a pooled one): a lost notification delays a wake-up by at most that interval.
 * </ul>
 *
 * The look runs on the notification thread, between two reads: one indexed statement, bounded by the network
 * timeout, during which notifications queue up in the driver. A look that fails is logged at debug level and made
 * again at the next interval.
 */
public final class Notifications implements AutoCloseable {
    public static final String MESSAGE = "tandem_message";
    public static final String EVENT = "tandem_event";
    public static final String STREAM = "tandem_stream";
    public static final String CANCEL = "tandem_cancel";
    /** How often waiters look in the database whatever the notifications say. */
    public static final Duration LOOK_INTERVAL = Duration.ofSeconds(5);

    private static final Logger log = LoggerFactory.getLogger(Notifications.class);
    private static final String LISTEN = "LISTEN " + MESSAGE + "; LISTEN " + EVENT + "; LISTEN " + STREAM + "; LISTEN "
            + CANCEL;
    private static final int READ_MILLIS = 500;

    public interface Listener {
        void notified(String channel, String workflowId);

        /** Notifications may have been missed. */
        void lost();

        /**
         * The periodic look, independent of notifications: wakes the waiters that {@code lookup} (one statement for
         * any number of workflows) says have something to see. Runs on the notification thread; keep it short.
         */
        default void look(WakeupStore.Lookup lookup) throws SQLException {}
    }

    private final DataSource dataSource;
    private final Listener listener;
    private final WakeupStore store = new WakeupStore();
    private final long lookIntervalNanos;
    private final Duration keepalive;
    private final Duration networkTimeout;
    private final Thread thread;
    private volatile boolean closed;
    private @Nullable ListeningConnection conn;
    private long nextLook;

    public Notifications(DataSource dataSource, Listener listener) {
        this(dataSource, listener, LOOK_INTERVAL, ListeningConnection.KEEPALIVE_INTERVAL,
                ListeningConnection.NETWORK_TIMEOUT);
    }

    Notifications(DataSource dataSource, Listener listener, Duration lookInterval, Duration keepalive,
            Duration networkTimeout) {
        this.dataSource = dataSource;
        this.listener = listener;
        this.lookIntervalNanos = lookInterval.toNanos();
        this.keepalive = keepalive;
        this.networkTimeout = networkTimeout;
        this.thread = new Thread(this::loop, "tandem-notifications");
        this.thread.setDaemon(true);
    }

    public void start() {
        thread.start();
    }

    private void loop() {
        long backoff = 50;
        nextLook = System.nanoTime() + lookIntervalNanos;
        while (!closed) {
            try {
                ListeningConnection c = connection();
                for (PGNotification n : c.poll(READ_MILLIS)) {
                    listener.notified(n.getName(), n.getParameter());
                }
                if (lookDue()) {
                    look(c.connection());
                    c.roundTripped();
                }
                backoff = 50;
            } catch (SQLException | RuntimeException e) {
                if (closed) {
                    break;
                }
                boolean wasListening = conn != null;
                log.debug("notification connection failed; reconnecting", e);
                closeConnection();
                if (wasListening) {
                    listener.lost(); // until the next LISTEN, nothing is heard: waiters look once now
                }
                if (lookDue()) {
                    lookWithoutListening(); // LISTEN may fail for long (a standby); the look goes on
                }
                try {
                    Thread.sleep(backoff);
                } catch (InterruptedException ie) {
                    break;
                }
                backoff = Math.min(backoff * 2, 2000);
            }
        }
        closeConnection();
    }

    private ListeningConnection connection() throws SQLException {
        ListeningConnection c = conn;
        if (c == null) {
            c = ListeningConnection.open(dataSource, LISTEN, keepalive, networkTimeout);
            conn = c;
            listener.lost(); // anything sent before LISTEN took effect was not seen
        }
        return c;
    }

    private boolean lookDue() {
        return System.nanoTime() - nextLook >= 0;
    }

    /** Looks on {@code c}; a connection error goes to the caller (the connection is dead), any other is logged. */
    private void look(Connection c) throws SQLException {
        nextLook = System.nanoTime() + lookIntervalNanos;
        try {
            listener.look((ids, executorId) -> store.due(c, ids, executorId));
        } catch (SQLException e) {
            if (SqlErrors.isConnectionError(e)) {
                throw e;
            }
            log.debug("looking for missed wake-ups failed; looking again in {} ms", lookIntervalNanos / 1_000_000, e);
        } catch (RuntimeException e) {
            log.warn("looking for missed wake-ups failed; looking again in {} ms", lookIntervalNanos / 1_000_000, e);
        }
    }

    /** The look on a pooled connection, while there is no listening one; failures wait for the next interval. */
    private void lookWithoutListening() {
        nextLook = System.nanoTime() + lookIntervalNanos;
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(true);
            c.setNetworkTimeout(Runnable::run, (int) networkTimeout.toMillis());
            look(c);
        } catch (SQLException | RuntimeException e) {
            log.debug("looking for missed wake-ups failed (database unavailable?); looking again in {} ms",
                    lookIntervalNanos / 1_000_000, e);
        }
    }

    private void closeConnection() {
        ListeningConnection c = conn;
        conn = null;
        if (c != null) {
            c.close();
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            thread.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
