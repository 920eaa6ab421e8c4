package dev.tandem.internal.db;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/**
 * A pooled connection that LISTENs, kept provably alive. A listener only reads, so a connection that died silently (a
 * NAT or load balancer dropped it after an idle timeout, the server's host vanished) would look the same as a quiet
 * one, forever. So every {@link #KEEPALIVE_INTERVAL} without a round trip it makes one ({@code isValid}, an empty
 * query), and every statement on it, that one included, has a network timeout of {@link #NETWORK_TIMEOUT}: a dead
 * connection fails within their sum, and the owner opens a new one. Used by one thread at a time.
 */
final class ListeningConnection implements AutoCloseable {
    static final Duration KEEPALIVE_INTERVAL = Duration.ofSeconds(3);
    static final Duration NETWORK_TIMEOUT = Duration.ofSeconds(5);
    private static final PGNotification[] NONE = new PGNotification[0];

    private final Connection conn;
    private final PGConnection pg;
    private final long keepaliveNanos;
    private final int networkTimeoutSeconds;
    private long lastRoundTrip = System.nanoTime();

    private ListeningConnection(Connection conn, PGConnection pg, Duration keepalive, Duration networkTimeout) {
        this.conn = conn;
        this.pg = pg;
        this.keepaliveNanos = keepalive.toNanos();
        this.networkTimeoutSeconds = (int) Math.max(1, networkTimeout.toSeconds());
    }

    /**
     * Borrows a connection and runs {@code listen} on it (e.g. {@code LISTEN a; LISTEN b}). On any failure the
     * connection goes back to the pool: LISTEN fails over and over on a standby, and each retry would keep one more.
     */
    static ListeningConnection open(DataSource dataSource, String listen, Duration keepalive, Duration networkTimeout)
            throws SQLException {
        Connection c = dataSource.getConnection();
        try {
            c.setAutoCommit(true);
            c.setNetworkTimeout(Runnable::run, (int) networkTimeout.toMillis()); // the pool resets it on return
            try (Statement st = c.createStatement()) {
                st.execute(listen);
            }
            return new ListeningConnection(c, c.unwrap(PGConnection.class), keepalive, networkTimeout);
        } catch (SQLException | RuntimeException e) {
            closeQuietly(c);
            throw e;
        }
    }

    static ListeningConnection open(DataSource dataSource, String listen) throws SQLException {
        return open(dataSource, listen, KEEPALIVE_INTERVAL, NETWORK_TIMEOUT);
    }

    /**
     * Waits up to {@code timeoutMillis} for notifications; none is an empty array. First makes a round trip if none
     * was made for the keepalive interval.
     *
     * @throws SQLException if the connection is broken or does not answer in time; close it and open another
     */
    PGNotification[] poll(int timeoutMillis) throws SQLException {
        return poll(timeoutMillis, null);
    }

    /**
     * As {@link #poll(int)}; {@code onArrival}, if not null, is called the moment bytes arrive while it waits (on
     * engine connections: see {@link ArrivalSocketFactory}), before PgJDBC returns them, which takes a millisecond
     * more. The keepalive's answer does not call it.
     */
    PGNotification[] poll(int timeoutMillis, @Nullable Runnable onArrival) throws SQLException {
        if (System.nanoTime() - lastRoundTrip >= keepaliveNanos) {
            if (!conn.isValid(networkTimeoutSeconds)) {
                throw new SQLException("the listening connection did not answer a keepalive within "
                        + networkTimeoutSeconds + " s; it is dead or unreachable", "08006");
            }
            roundTripped();
        }
        // Never PgJDBC's own 1 ms look for a pending message, which the engine's sockets answer at once.
        int timeout = Math.max(ArrivalSocketFactory.PEEK_TIMEOUT_MILLIS + 1, timeoutMillis);
        PGNotification[] received = onArrival == null
                ? pg.getNotifications(timeout)
                : ArrivalSocketFactory.watching(onArrival, () -> pg.getNotifications(timeout));
        return received == null ? NONE : received;
    }

    /** The connection, for other statements (each bounded by the network timeout); call {@link #roundTripped()}. */
    Connection connection() {
        return conn;
    }

    /** A statement just completed on it: no keepalive needed for another interval. */
    void roundTripped() {
        lastRoundTrip = System.nanoTime();
    }

    /** Stops listening (the pool may hand the connection to someone else next) and gives it back. */
    @Override
    public void close() {
        closeQuietly(conn);
    }

    private static void closeQuietly(Connection c) {
        try {
            if (!c.isClosed()) {
                try (Statement st = c.createStatement()) {
                    st.execute("UNLISTEN *");
                }
            }
        } catch (SQLException | RuntimeException ignored) {
            // broken: the pool discards it
        }
        try {
            c.close();
        } catch (SQLException | RuntimeException ignored) {
            // already broken
        }
    }
}
