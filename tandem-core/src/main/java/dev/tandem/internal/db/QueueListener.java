package dev.tandem.internal.db;

import java.sql.SQLException;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A connection that LISTENs on channel {@code tandem_queue}, where {@code tandem.enqueue_workflow} NOTIFYs (delivered
 * at commit), and the thread that waits on it and calls {@code onNotify}. Only a hint to look now: the dequeuer also
 * polls, so a lost notification or a dropped connection delays a workflow by at most one poll interval, never
 * forever. Kept alive like the workflow notifications' ({@link ListeningConnection}), so a silently dead connection
 * is replaced within seconds rather than kept.
 *
 * <p>Its own thread, rather than the dequeuer's, waits: on the engine's sockets it learns of a notification the moment
 * its bytes arrive ({@link ArrivalSocketFactory}) and wakes the dequeuer then, while PgJDBC spends another millisecond
 * before it returns the notification.
 */
public final class QueueListener implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(QueueListener.class);
    /** How long one wait lasts: how soon the thread sees {@link #close()}. */
    private static final int WAIT_MILLIS = 100;

    private final DataSource dataSource;
    private final Runnable onNotify;
    private final Object lock = new Object();
    private @Nullable ListeningConnection conn; // guarded by lock; waited on by the thread only
    private @Nullable Thread thread; // guarded by lock
    private volatile boolean closed;
    /** Whether bytes that arrived during this wait already woke the dequeuer (the listening thread's own). */
    private boolean arrivalSignalled;
    private final Runnable onArrival;

    /** {@code onNotify} runs on the listening thread, possibly inside a socket read: it must be quick. */
    public QueueListener(DataSource dataSource, Runnable onNotify) {
        this.dataSource = dataSource;
        this.onNotify = onNotify;
        this.onArrival = () -> {
            arrivalSignalled = true;
            onNotify.run();
        };
    }

    /**
     * Starts listening now, if not yet: before the dequeuer's first look, so that an enqueue committed after that
     * look cannot notify a channel nobody listens on yet (it would wait for the next poll). The LISTEN runs on the
     * caller's thread and is in place when this returns; the waiting thread starts with the first connection.
     *
     * @throws SQLException if LISTEN failed; the dequeuer calls again on its next round
     */
    public void listen() throws SQLException {
        synchronized (lock) {
            if (closed || conn != null) {
                return;
            }
            conn = ListeningConnection.open(dataSource, "LISTEN tandem_queue");
            lock.notifyAll();
            if (thread == null) {
                Thread t = new Thread(this::waitForNotifications, "tandem-queue-listener");
                t.setDaemon(true);
                thread = t;
                t.start();
            }
        }
    }

    private void waitForNotifications() {
        while (!closed) {
            ListeningConnection c;
            synchronized (lock) {
                while ((c = conn) == null && !closed) {
                    try {
                        lock.wait();
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }
            if (c == null) {
                break;
            }
            try {
                arrivalSignalled = false;
                if (c.poll(WAIT_MILLIS, onArrival).length > 0 && !arrivalSignalled) {
                    onNotify.run(); // a socket that does not watch (not the engine's own): told when PgJDBC returns
                }
            } catch (SQLException | RuntimeException e) {
                synchronized (lock) {
                    if (conn == c) {
                        conn = null;
                    }
                }
                c.close();
                if (!closed) {
                    log.debug("queue listener: the listening connection failed; the dequeuer opens another", e);
                    onNotify.run(); // the dequeuer looks (what was sent meanwhile is not lost) and listens again
                }
            }
        }
        ListeningConnection c;
        synchronized (lock) {
            c = conn;
            conn = null;
        }
        if (c != null) {
            c.close();
        }
    }

    /** Stops the thread, which gives its connection back within one wait. */
    @Override
    public void close() {
        Thread t;
        ListeningConnection unused = null;
        synchronized (lock) {
            closed = true;
            lock.notifyAll();
            t = thread;
            if (t == null) {
                unused = conn; // opened, but no thread ever waited on it
                conn = null;
            }
        }
        if (unused != null) {
            unused.close();
        }
        if (t != null && t != Thread.currentThread()) {
            try {
                t.join(2L * WAIT_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
