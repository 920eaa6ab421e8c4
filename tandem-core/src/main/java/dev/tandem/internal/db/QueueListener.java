package dev.tandem.internal.db;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/**
 * A connection that LISTENs on channel {@code tandem_queue}, where {@code tandem.enqueue_workflow} NOTIFYs (delivered
 * at commit). Only a hint to look now: the dequeuer also polls, so a lost notification or a dropped connection
 * delays a workflow by at most one poll interval, never forever.
 */
public final class QueueListener implements AutoCloseable {
    private final DataSource dataSource;
    private @Nullable Connection conn;

    public QueueListener(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    /**
     * Waits up to {@code timeoutMillis} for a notification; true if one (or more) arrived.
     *
     * @throws SQLException if the connection broke; the next call opens a new one
     */
    public boolean await(int timeoutMillis) throws SQLException {
        try {
            Connection c = connection();
            PGNotification[] notifications = c.unwrap(PGConnection.class).getNotifications(Math.max(1, timeoutMillis));
            return notifications != null && notifications.length > 0;
        } catch (SQLException | RuntimeException e) {
            close();
            throw e;
        }
    }

    private Connection connection() throws SQLException {
        if (conn == null) {
            Connection c = dataSource.getConnection();
            try {
                c.setAutoCommit(true);
                try (Statement st = c.createStatement()) {
                    st.execute("LISTEN tandem_queue");
                }
            } catch (SQLException | RuntimeException e) {
                Notifications.closeQuietly(c); // or each retry keeps one more connection from the pool
                throw e;
            }
            conn = c;
        }
        return conn;
    }

    @Override
    public void close() {
        Connection c = conn;
        conn = null;
        if (c != null) {
            Notifications.closeQuietly(c);
        }
    }
}
