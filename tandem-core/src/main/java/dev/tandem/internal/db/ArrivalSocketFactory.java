package dev.tandem.internal.db;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import javax.net.SocketFactory;
import org.jspecify.annotations.Nullable;

/**
 * The sockets of the engine's own connections (PgJDBC's {@code socketFactory}), which tell the engine the moment
 * notifications arrive. PgJDBC's {@code getNotifications} returns a notification only after it has looked for a next
 * message with a 1 ms read timeout, so a listener learns of every NOTIFY a millisecond after it arrived: half the time
 * from an enqueue's commit to its workflow's start, most of the time from a send to its receive. These sockets:
 * <ul>
 *   <li>answer that look at once when nothing is pending: on a connection in clear, what the socket has received is
 *       exactly what can be read, so waiting a millisecond only adds the wait. Not under TLS or GSS encryption, where
 *       a record may be half received: there PgJDBC's wait stays;
 *   <li>call back a thread that waits inside {@link #watching} as soon as bytes are read, encrypted or not: the queue
 *       worker then claims while PgJDBC is still parsing (or, under TLS, still waiting out its millisecond).
 * </ul>
 * What is read, and when, is otherwise what a plain socket does.
 */
public final class ArrivalSocketFactory extends SocketFactory {
    /** The connection property naming this factory. */
    static final String PROPERTY = "socketFactory";
    /** The read timeout PgJDBC sets to look for a pending message (PGStream.hasMessagePending). */
    static final int PEEK_TIMEOUT_MILLIS = 1;
    /** The first writes of a connection: encryption requests refused, then the startup message. */
    private static final int HANDSHAKE_WRITES = 4;

    private static final ThreadLocal<@Nullable Runnable> ON_ARRIVAL = new ThreadLocal<>();

    /** A body that may throw what JDBC throws. */
    @FunctionalInterface
    interface Watched<T> {
        T run() throws java.sql.SQLException;
    }

    /**
     * Whether PgJDBC, which creates the factory by name from its own class loader, would find this very class: not
     * where the driver sits in a parent class loader (an application server's) and Tandem in a child. There the engine
     * connects on plain sockets rather than fail to connect.
     */
    static boolean visibleToDriver() {
        try {
            return Class.forName(ArrivalSocketFactory.class.getName(), false,
                    org.postgresql.Driver.class.getClassLoader()) == ArrivalSocketFactory.class;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
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
        return connected(new InetSocketAddress(host, port), null);
    }

    @Override
    public Socket createSocket(String host, int port, InetAddress localHost, int localPort) throws IOException {
        return connected(new InetSocketAddress(host, port), new InetSocketAddress(localHost, localPort));
    }

    @Override
    public Socket createSocket(InetAddress host, int port) throws IOException {
        return connected(new InetSocketAddress(host, port), null);
    }

    @Override
    public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort)
            throws IOException {
        return connected(new InetSocketAddress(address, port), new InetSocketAddress(localAddress, localPort));
    }

    /** PgJDBC itself calls {@link #createSocket()} and connects; the other forms, for completeness, come here. */
    private static Socket connected(InetSocketAddress remote, @Nullable InetSocketAddress local) throws IOException {
        Socket s = new ArrivalSocket();
        if (local != null) {
            s.bind(local);
        }
        s.connect(remote);
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

    /** Whether {@code b[off..off+len)} is a startup message in clear: its bytes 4..7 are protocol version 3.0. */
    static boolean isStartupMessage(byte[] b, int off, int len) {
        return len >= 8 && b[off + 4] == 0 && b[off + 5] == 3 && b[off + 6] == 0 && b[off + 7] == 0;
    }

    private static final class ArrivalSocket extends Socket {
        private volatile int readTimeout;
        /** The startup message went out in clear: the connection is not encrypted. */
        private volatile boolean inClear;
        private int writes; // by the connecting thread only, before anything else uses the socket

        @Override
        public void setSoTimeout(int timeout) throws java.net.SocketException {
            super.setSoTimeout(timeout);
            readTimeout = timeout;
        }

        @Override
        public java.io.OutputStream getOutputStream() throws IOException {
            return new java.io.FilterOutputStream(super.getOutputStream()) {
                @Override
                public void write(byte[] b, int off, int len) throws IOException {
                    if (writes < HANDSHAKE_WRITES) {
                        writes++;
                        if (isStartupMessage(b, off, len)) {
                            inClear = true;
                        }
                    }
                    out.write(b, off, len);
                }
            };
        }

        @Override
        public InputStream getInputStream() throws IOException {
            return new FilterInputStream(super.getInputStream()) {
                @Override
                public int read() throws IOException {
                    nothingPendingAtOnce();
                    int b = in.read();
                    if (b >= 0) {
                        arrived();
                    }
                    return b;
                }

                @Override
                public int read(byte[] buffer, int off, int len) throws IOException {
                    nothingPendingAtOnce();
                    int n = in.read(buffer, off, len);
                    if (n > 0) {
                        arrived();
                    }
                    return n;
                }

                /** PgJDBC looking for a pending message, on a connection in clear with nothing received: none. */
                private void nothingPendingAtOnce() throws IOException {
                    if (readTimeout == PEEK_TIMEOUT_MILLIS && inClear && in.available() == 0) {
                        throw new SocketTimeoutException("nothing pending");
                    }
                }
            };
        }
    }
}
