package dev.tandem.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A TCP proxy on the loopback interface that a test puts between a client and PostgreSQL, to break the network in ways
 * a real one breaks: {@link #freeze()} stops forwarding bytes in both directions while every socket stays open (a
 * half-open connection, as a NAT or load balancer leaves after its idle timeout: the client hears nothing and is
 * told nothing), {@link #cutAll()} closes every connection, and {@link Link#freeze()} does it to one connection.
 * Bytes held while frozen are forwarded at {@link #unfreeze()}.
 *
 * <p>Plain blocking sockets, two daemon threads per connection, at most {@value #MAX_LINKS} connections at once;
 * {@link #close()} stops everything.
 *
 * <pre>{@code
 * try (TcpProxy proxy = new TcpProxy("127.0.0.1", 5432)) {
 *     String url = proxy.jdbcUrl(directUrl);          // same database, through the proxy
 *     ... connect, then proxy.freeze() ...
 * }
 * }</pre>
 */
public final class TcpProxy implements AutoCloseable {
    static final int MAX_LINKS = 64;
    private static final int BUFFER = 16 * 1024;

    private final String targetHost;
    private final int targetPort;
    private final ServerSocket server;
    private final List<Link> links = new CopyOnWriteArrayList<>();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private boolean frozen;
    private volatile boolean closed;

    public TcpProxy(String targetHost, int targetPort) throws IOException {
        this.targetHost = targetHost;
        this.targetPort = targetPort;
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(this::accept, "tcp-proxy-accept-" + server.getLocalPort());
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** A proxy to the host and port of a {@code jdbc:postgresql://host:port/...} URL. */
    public static TcpProxy to(String jdbcUrl) throws IOException {
        String rest = jdbcUrl.substring("jdbc:postgresql://".length());
        String hostPort = rest.substring(0, rest.indexOf('/'));
        int colon = hostPort.lastIndexOf(':');
        return colon < 0 ? new TcpProxy(hostPort, 5432)
                : new TcpProxy(hostPort.substring(0, colon), Integer.parseInt(hostPort.substring(colon + 1)));
    }

    public int port() {
        return server.getLocalPort();
    }

    /** {@code jdbcUrl} with its host and port replaced by this proxy's. */
    public String jdbcUrl(String jdbcUrl) {
        String rest = jdbcUrl.substring("jdbc:postgresql://".length());
        return "jdbc:postgresql://127.0.0.1:" + port() + rest.substring(rest.indexOf('/'));
    }

    /** The connections open now. */
    public List<Link> links() {
        return List.copyOf(links);
    }

    /** Stops forwarding on every connection, current and new, until {@link #unfreeze()}. */
    public void freeze() {
        lock.lock();
        try {
            frozen = true;
        } finally {
            lock.unlock();
        }
    }

    /** Forwards again (each connection's own {@link Link#freeze()} still holds). */
    public void unfreeze() {
        lock.lock();
        try {
            frozen = false;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Closes every current connection (both sides see the connection end). */
    public void cutAll() {
        for (Link link : links) {
            link.cut();
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            server.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        cutAll();
        unfreeze(); // lets held pumps see their sockets closed
    }

    private void accept() {
        while (!closed) {
            Socket client;
            try {
                client = server.accept();
            } catch (IOException e) {
                return; // closed
            }
            if (links.size() >= MAX_LINKS) {
                closeQuietly(client);
                continue;
            }
            Socket upstream = new Socket();
            try {
                upstream.connect(new InetSocketAddress(targetHost, targetPort), 5000);
                client.setTcpNoDelay(true);
                upstream.setTcpNoDelay(true);
            } catch (IOException e) {
                closeQuietly(client);
                closeQuietly(upstream);
                continue;
            }
            Link link = new Link(client, upstream);
            links.add(link);
            link.start();
        }
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException ignored) {
            // nothing to do
        }
    }

    /** One proxied connection. */
    public final class Link {
        private final Socket client;
        private final Socket upstream;
        private boolean linkFrozen; // guarded by the proxy's lock
        private volatile boolean cut;

        private Link(Socket client, Socket upstream) {
            this.client = client;
            this.upstream = upstream;
        }

        /**
         * The local port of the proxy's connection to the server: what the server sees as the client's port
         * ({@code pg_stat_activity.client_port}).
         */
        public int upstreamLocalPort() {
            return upstream.getLocalPort();
        }

        /** Stops forwarding on this connection only, keeping it open. */
        public void freeze() {
            lock.lock();
            try {
                linkFrozen = true;
            } finally {
                lock.unlock();
            }
        }

        public void unfreeze() {
            lock.lock();
            try {
                linkFrozen = false;
                changed.signalAll();
            } finally {
                lock.unlock();
            }
        }

        /** Closes both sides. */
        public void cut() {
            cut = true;
            closeQuietly(client);
            closeQuietly(upstream);
            links.remove(this);
            lock.lock();
            try {
                changed.signalAll();
            } finally {
                lock.unlock();
            }
        }

        public boolean isOpen() {
            return !cut;
        }

        private void start() {
            int port = upstreamLocalPort();
            pump(client, upstream, "tcp-proxy-up-" + port);
            pump(upstream, client, "tcp-proxy-down-" + port);
        }

        private void pump(Socket from, Socket to, String name) {
            Thread t = new Thread(() -> {
                byte[] buffer = new byte[BUFFER];
                try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                    while (awaitForwarding()) {
                        int n = in.read(buffer);
                        // A read that returns while frozen is held here, not forwarded: nothing gets through.
                        if (n < 0 || !awaitForwarding()) {
                            break;
                        }
                        out.write(buffer, 0, n);
                        out.flush();
                    }
                } catch (IOException e) {
                    // one side went away
                } finally {
                    cut();
                }
            }, name);
            t.setDaemon(true);
            t.start();
        }

        /** Waits while frozen; false if the link was cut or the proxy closed meanwhile. */
        private boolean awaitForwarding() {
            lock.lock();
            try {
                while ((frozen || linkFrozen) && !cut && !closed) {
                    changed.await(100, TimeUnit.MILLISECONDS);
                }
                return !cut && !closed;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            } finally {
                lock.unlock();
            }
        }
    }
}
