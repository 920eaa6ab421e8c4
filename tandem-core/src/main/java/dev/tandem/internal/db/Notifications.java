package dev.tandem.internal.db;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One connection that LISTENs on the channels the durable primitives NOTIFY (messages, events, stream values,
 * cancellations; the payload is the workflow id), read by one daemon thread that hands each notification to a
 * listener. A notification is only a hint to look now: after the connection breaks, the listener is told that
 * anything may have happened ({@link Listener#lost()}), and waiters look again.
 */
public final class Notifications implements AutoCloseable {
    public static final String MESSAGE = "tandem_message";
    public static final String EVENT = "tandem_event";
    public static final String STREAM = "tandem_stream";
    public static final String CANCEL = "tandem_cancel";

    private static final Logger log = LoggerFactory.getLogger(Notifications.class);

    public interface Listener {
        void notified(String channel, String workflowId);

        /** Notifications may have been missed. */
        void lost();
    }

    private final DataSource dataSource;
    private final Listener listener;
    private final Thread thread;
    private volatile boolean closed;
    private @Nullable Connection conn;

    public Notifications(DataSource dataSource, Listener listener) {
        this.dataSource = dataSource;
        this.listener = listener;
        this.thread = new Thread(this::loop, "tandem-notifications");
        this.thread.setDaemon(true);
    }

    public void start() {
        thread.start();
    }

    private void loop() {
        long backoff = 50;
        while (!closed) {
            try {
                Connection c = connection();
                PGNotification[] received = c.unwrap(PGConnection.class).getNotifications(500);
                if (received != null) {
                    for (PGNotification n : received) {
                        listener.notified(n.getName(), n.getParameter());
                    }
                }
                backoff = 50;
            } catch (SQLException | RuntimeException e) {
                if (closed) {
                    return;
                }
                log.debug("notification connection failed; reconnecting", e);
                closeConnection();
                listener.lost();
                try {
                    Thread.sleep(backoff);
                } catch (InterruptedException ie) {
                    return;
                }
                backoff = Math.min(backoff * 2, 2000);
            }
        }
        closeConnection();
    }

    private Connection connection() throws SQLException {
        Connection c = conn;
        if (c == null) {
            c = dataSource.getConnection();
            try {
                c.setAutoCommit(true);
                try (Statement st = c.createStatement()) {
                    st.execute("LISTEN " + MESSAGE + "; LISTEN " + EVENT + "; LISTEN " + STREAM + "; LISTEN "
                            + CANCEL);
                }
            } catch (SQLException | RuntimeException e) {
                // Give it back: LISTEN fails over and over on a standby, and each retry would keep one more.
                closeQuietly(c);
                throw e;
            }
            conn = c;
            listener.lost(); // anything sent before LISTEN took effect was not seen
        }
        return c;
    }

    private void closeConnection() {
        Connection c = conn;
        conn = null;
        if (c != null) {
            closeQuietly(c);
        }
    }

    /** Stops listening (the pool may hand the connection to someone else next) and closes it. */
    static void closeQuietly(Connection c) {
        try (Statement st = c.createStatement()) {
            st.execute("UNLISTEN *");
        } catch (SQLException | RuntimeException ignored) {
            // broken: the pool discards it
        }
        try {
            c.close();
        } catch (SQLException | RuntimeException ignored) {
            // already broken
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
