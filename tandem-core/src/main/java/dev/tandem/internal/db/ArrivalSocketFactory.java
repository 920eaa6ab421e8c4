package dev.tandem.internal.db;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import javax.net.SocketFactory;
import org.jspecify.annotations.Nullable;

/**
 * The sockets of the engine's own connections (PgJDBC's {@code socketFactory}), which tell a waiting thread the moment
 * bytes arrive. PgJDBC's {@code getNotifications} returns a notification only after it has looked for a next message
 * with a 1 ms read timeout, so a listener learns of every NOTIFY a millisecond after it arrived; half the time from an
 * enqueue's commit to its workflow's start. A thread that waits inside {@link #watching} is called back as soon as the
 * bytes are read instead, and the queue worker claims while PgJDBC is still waiting out its millisecond.
 *
 * <p>The sockets only watch: what is read, and when, is what a plain socket does. With TLS the watched bytes are the
 * encrypted ones: still the moment something arrived.
 */
public final class ArrivalSocketFactory extends SocketFactory {
    /** The connection property naming this factory. */
    static final String PROPERTY = "socketFactory";

    private static final ThreadLocal<@Nullable Runnable> ON_ARRIVAL = new ThreadLocal<>();

    /** A body that may throw what JDBC throws. */
    @FunctionalInterface
    interface Watched<T> {
        T run() throws java.sql.SQLException;
    }

    /** PgJDBC creates it by name, with no argument. */
    public ArrivalSocketFactory() {}

    /**
     * Runs {@code body}; while it runs, every read by this thread from an engine connection that returns bytes calls
     * {@code onArrival} first (on this thread, inside the read: it must be quick and must not block).
     */
    static <T> T watching(Runnable onArrival, Watched<T> body) throws java.sql.SQLException {
        ON_ARRIVAL.set(onArrival);
        try {
            return body.run();
        } finally {
            ON_ARRIVAL.remove();
        }
    }

    @Override
    public Socket createSocket() {
        return new ArrivalSocket();
    }

    @Override
    public Socket createSocket(String host, int port) throws IOException {
        Socket s = new ArrivalSocket();
        s.connect(new InetSocketAddress(host, port));
        return s;
    }

    @Override
    public Socket createSocket(String host, int port, InetAddress localHost, int localPort) throws IOException {
        Socket s = new ArrivalSocket();
        s.bind(new InetSocketAddress(localHost, localPort));
        s.connect(new InetSocketAddress(host, port));
        return s;
    }

    @Override
    public Socket createSocket(InetAddress host, int port) throws IOException {
        Socket s = new ArrivalSocket();
        s.connect(new InetSocketAddress(host, port));
        return s;
    }

    @Override
    public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort)
            throws IOException {
        Socket s = new ArrivalSocket();
        s.bind(new InetSocketAddress(localAddress, localPort));
        s.connect(new InetSocketAddress(address, port));
        return s;
    }

    private static void arrived() {
        Runnable r = ON_ARRIVAL.get();
        if (r != null) {
            try {
                r.run();
            } catch (RuntimeException ignored) {
                // a hint only: the read itself must go on
            }
        }
    }

    private static final class ArrivalSocket extends Socket {
        @Override
        public InputStream getInputStream() throws IOException {
            return new FilterInputStream(super.getInputStream()) {
                @Override
                public int read() throws IOException {
                    int b = in.read();
                    if (b >= 0) {
                        arrived();
                    }
                    return b;
                }

                @Override
                public int read(byte[] buffer, int off, int len) throws IOException {
                    int n = in.read(buffer, off, len);
                    if (n > 0) {
                        arrived();
                    }
                    return n;
                }
            };
        }
    }
}
