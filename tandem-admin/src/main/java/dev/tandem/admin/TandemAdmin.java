package dev.tandem.admin;

import dev.tandem.Tandem;
import dev.tandem.admin.internal.http.AdminServer;
import dev.tandem.admin.internal.http.Servers;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;

/**
 * The admin HTTP API ({@code /api/v1}) and the dashboard ({@code /}), served from inside the application:
 *
 * <pre>{@code
 * TandemAdmin admin = TandemAdmin.create(tandem)
 *         .port(8080)
 *         .tokens(System.getenv("TANDEM_ADMIN_OPERATOR_TOKEN"), System.getenv("TANDEM_ADMIN_VIEWER_TOKEN"))
 *         .start();
 * }</pre>
 *
 * <p>Safe by default: it binds to 127.0.0.1 unless {@link #bind} says otherwise, and needs a way to authenticate
 * callers (tokens, an {@link AdminAuthenticator}, or {@link #noAuth()}, which is refused on a non-loopback address).
 * Tokens are sent as {@code Authorization: Bearer <token>}; {@code GET /api/v1/health} needs none. Every action is
 * written to {@code tandem.audit_log}. Stop it with {@link #close()}.
 */
public final class TandemAdmin implements AutoCloseable {
    private final @Nullable DataSource dataSource;
    private final @Nullable Tandem tandem;
    private int port = 8080;
    private String bind = "127.0.0.1";
    private @Nullable String operatorToken;
    private @Nullable String viewerToken;
    private @Nullable AdminAuthenticator authenticator;
    private boolean noAuth;
    private boolean hideValuesFromViewers;
    private @Nullable AdminServer server;

    private TandemAdmin(@Nullable Tandem tandem, @Nullable DataSource dataSource) {
        this.tandem = tandem;
        this.dataSource = dataSource;
    }

    /** The admin server of this engine: its database, and its executor's heartbeat in the health check. */
    public static TandemAdmin create(Tandem tandem) {
        if (tandem == null) {
            throw new IllegalArgumentException("tandem must not be null");
        }
        return new TandemAdmin(tandem, null);
    }

    /** An admin server for the database behind this DataSource, with no engine in this process. */
    public static TandemAdmin create(DataSource dataSource) {
        if (dataSource == null) {
            throw new IllegalArgumentException("dataSource must not be null");
        }
        return new TandemAdmin(null, dataSource);
    }

    /** The TCP port, default 8080; 0 picks a free one (see {@link #port()} after start). */
    public TandemAdmin port(int port) {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port must be between 0 and 65535 (was " + port + ")");
        }
        this.port = port;
        return this;
    }

    /** The address to listen on, default 127.0.0.1; "0.0.0.0" for every interface (then authenticate callers). */
    public TandemAdmin bind(String address) {
        if (address == null || address.isBlank()) {
            throw new IllegalArgumentException("bind address must not be null or blank (e.g. 127.0.0.1 or 0.0.0.0)");
        }
        this.bind = address.strip();
        return this;
    }

    /**
     * The bearer tokens of the two roles; either may be null (that role then has no token). Use long random values
     * (e.g. {@code openssl rand -hex 32}); they are compared in constant time.
     */
    public TandemAdmin tokens(@Nullable String operatorToken, @Nullable String viewerToken) {
        this.operatorToken = checkToken("operator", operatorToken);
        this.viewerToken = checkToken("viewer", viewerToken);
        if (operatorToken != null && operatorToken.equals(viewerToken)) {
            throw new IllegalArgumentException("the operator and viewer tokens must differ");
        }
        return this;
    }

    /** The application's own authentication instead of tokens (for example Spring Security's). */
    public TandemAdmin authenticator(AdminAuthenticator authenticator) {
        if (authenticator == null) {
            throw new IllegalArgumentException("authenticator must not be null");
        }
        this.authenticator = authenticator;
        return this;
    }

    /**
     * No authentication: every caller is an operator. Only on a loopback address (refused at {@link #start()}
     * otherwise); requests must then name a loopback host and actions come from the same origin.
     */
    public TandemAdmin noAuth() {
        this.noAuth = true;
        return this;
    }

    /** Hides inputs, outputs, messages, events and stream values from viewers (they may hold personal data). */
    public TandemAdmin hideValuesFromViewers(boolean hide) {
        this.hideValuesFromViewers = hide;
        return this;
    }

    /**
     * Starts serving.
     *
     * @throws IllegalStateException if no authentication is configured, or {@link #noAuth()} is asked on an address
     *     that is not loopback, or it is already started
     * @throws UncheckedIOException if the port cannot be bound
     */
    public synchronized TandemAdmin start() {
        if (server != null) {
            throw new IllegalStateException("the admin server is already started, on port " + port());
        }
        boolean hasTokens = operatorToken != null || viewerToken != null;
        if (!noAuth && !hasTokens && authenticator == null) {
            throw new IllegalStateException("the admin server needs a way to authenticate callers: tokens(...),"
                    + " authenticator(...), or noAuth() on a loopback address");
        }
        InetAddress address;
        try {
            address = InetAddress.getByName(bind);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("bind address '" + bind + "' is not a known address", e);
        }
        if (noAuth && !address.isLoopbackAddress()) {
            throw new IllegalStateException("noAuth() is allowed only on a loopback address (127.0.0.1, ::1), not on "
                    + bind + ": anyone who reaches it could cancel workflows; configure tokens instead");
        }
        if (noAuth && (hasTokens || authenticator != null)) {
            throw new IllegalStateException("noAuth() and tokens/authenticator are exclusive; choose one");
        }
        DataSource source = tandem != null ? tandem.dataSource() : dataSource;
        String executorId = tandem != null ? tandem.executorId() : null;
        try {
            server = Servers.create(new InetSocketAddress(address, port), Operations.over(source), executorId,
                    Duration.ofSeconds(30), operatorToken, viewerToken, authenticator, noAuth, hideValuesFromViewers);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen on " + bind + ":" + port + ": " + e.getMessage(), e);
        }
        server.start();
        return this;
    }

    /** The port it listens on (the chosen one when configured with 0). */
    public synchronized int port() {
        if (server == null) {
            throw new IllegalStateException("the admin server is not started");
        }
        return server.address().getPort();
    }

    /** Its base URL, e.g. {@code http://127.0.0.1:8080/}. */
    public String url() {
        String host = bind.contains(":") ? "[" + bind + "]" : bind;
        return "http://" + host + ":" + port() + "/";
    }

    /** Stops serving; requests in flight get up to a second to finish. */
    @Override
    public synchronized void close() {
        if (server != null) {
            server.stop(1);
            server = null;
        }
    }

    private static @Nullable String checkToken(String role, @Nullable String token) {
        if (token == null) {
            return null;
        }
        if (token.strip().length() < 16) {
            throw new IllegalArgumentException("the " + role + " token is too short (" + token.strip().length()
                    + " characters); use at least 16 random characters, e.g. openssl rand -hex 32");
        }
        return token.strip();
    }
}
