package dev.tandem.admin.internal.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.tandem.admin.AdminPrincipal;
import dev.tandem.admin.OperationException;
import dev.tandem.admin.model.Health;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin HTTP server, on the JDK's own {@code com.sun.net.httpserver} (no dependency, starts in milliseconds):
 * {@code /api/v1/...} answers JSON, {@code /} and {@code /ui/...} serve the dashboard's files from the jar. One
 * thread per request (virtual threads on Java 21+); each request is authenticated before it touches the database.
 */
public final class AdminServer {
    private static final Logger log = LoggerFactory.getLogger(AdminServer.class);
    private static final int MAX_BODY = 1 << 20;
    private static final String UI = "/dev/tandem/admin/ui/";
    private static final Map<String, String> TYPES = Map.of("html", "text/html; charset=utf-8",
            "js", "text/javascript; charset=utf-8", "css", "text/css; charset=utf-8", "svg", "image/svg+xml",
            "png", "image/png", "ico", "image/x-icon");
    /** Scripts and styles only from this server; nothing fetched elsewhere (the dashboard works air-gapped). */
    private static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
            + " connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private final HttpServer server;
    private final ExecutorService threads;
    private final ApiRoutes routes;
    private final Auth auth;
    private final ObjectMapper json;

    public AdminServer(InetSocketAddress address, ApiRoutes routes, Auth auth, ObjectMapper json) throws IOException {
        this.routes = routes;
        this.auth = auth;
        this.json = json;
        // The JDK's server writes a response's headers and body as two segments; with Nagle's algorithm the body
        // then waits for the client's delayed ACK of the headers: ~40 ms on every request of a kept-alive
        // connection (measured: GET /api/v1/me 44 ms, with TCP_NODELAY 4 ms). The property is read once, when the
        // JDK's server is first used in this JVM; an application that set it keeps its choice.
        if (System.getProperty("sun.net.httpserver.nodelay") == null) {
            System.setProperty("sun.net.httpserver.nodelay", "true");
        }
        this.server = HttpServer.create(address, 64);
        this.threads = threads();
        server.setExecutor(threads);
        server.createContext("/", this::handle);
    }

    public void start() {
        server.start();
    }

    public InetSocketAddress address() {
        return server.getAddress();
    }

    /** Stops accepting, lets requests in flight finish for up to {@code seconds}, then stops. */
    public void stop(int seconds) {
        server.stop(seconds);
        threads.shutdownNow();
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String path = exchange.getRequestURI().getRawPath();
            try {
                if (path.startsWith("/api/v1/") || path.equals("/api/v1")) {
                    api(exchange, path);
                } else {
                    ui(exchange, path);
                }
            } catch (HttpError e) {
                error(exchange, e.status, e.getMessage());
            } catch (IllegalArgumentException e) {
                error(exchange, 400, e.getMessage());
            } catch (OperationException e) {
                error(exchange, e.kind().httpStatus(), e.getMessage());
            } catch (RuntimeException e) {
                log.warn("admin API: {} {} failed", exchange.getRequestMethod(), path, e);
                error(exchange, 500, "internal error: " + e.getMessage());
            }
        }
    }

    private void api(HttpExchange exchange, String rawPath) throws IOException {
        String method = exchange.getRequestMethod();
        List<String> path = segments(rawPath.substring("/api/v1".length()));
        boolean action = ApiRoutes.isAction(method);
        auth.checkUnauthenticatedRequest(exchange.getRequestHeaders(), action);
        if (ApiRoutes.isPublic(method, path)) {
            // 200 with status UP or DOWN: the answer is the field (a probe that wants a failing code adds ?strict)
            Health health = (Health) routes.health();
            boolean strict = Params.ofQuery(exchange.getRequestURI().getRawQuery()).has("strict");
            send(exchange, strict && !health.status().equals("UP") ? 503 : 200, health);
            return;
        }
        AdminPrincipal principal = auth.authenticate(exchange.getRequestHeaders());
        JsonNode body = action ? body(exchange) : null;
        Params query = Params.ofQuery(exchange.getRequestURI().getRawQuery());
        Object result = routes.route(new ApiRoutes.Call(method, path, query, body, principal));
        send(exchange, 200, result);
    }

    private @Nullable JsonNode body(HttpExchange exchange) throws IOException {
        byte[] bytes;
        try (InputStream in = exchange.getRequestBody()) {
            bytes = in.readNBytes(MAX_BODY + 1);
        }
        if (bytes.length > MAX_BODY) {
            throw new HttpError(413, "the request body is larger than " + MAX_BODY + " bytes");
        }
        if (bytes.length == 0) {
            return null;
        }
        String type = exchange.getRequestHeaders().getFirst("Content-Type");
        if (type != null && !type.toLowerCase(java.util.Locale.ROOT).startsWith("application/json")) {
            throw new HttpError(415, "the request body must be JSON (Content-Type: application/json), was " + type);
        }
        try {
            return json.readTree(bytes);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("the request body is not valid JSON: " + e.getOriginalMessage());
        }
    }

    private void ui(HttpExchange exchange, String path) throws IOException {
        if (!exchange.getRequestMethod().equals("GET") && !exchange.getRequestMethod().equals("HEAD")) {
            throw new HttpError(405, "the dashboard's files are read with GET");
        }
        String file = path.equals("/") || path.equals("/index.html") ? "index.html"
                : path.startsWith("/ui/") ? path.substring(4) : null;
        if (file == null || file.isEmpty() || file.contains("..") || file.contains("/") || file.contains("\\")) {
            throw new HttpError(404, "no page " + path + "; the dashboard is at /");
        }
        byte[] content;
        try (InputStream in = AdminServer.class.getResourceAsStream(UI + file)) {
            if (in == null) {
                throw new HttpError(404, "no file " + path);
            }
            content = in.readAllBytes();
        }
        String extension = file.substring(file.lastIndexOf('.') + 1);
        var headers = exchange.getResponseHeaders();
        headers.set("Content-Type", TYPES.getOrDefault(extension, "application/octet-stream"));
        headers.set("Content-Security-Policy", CSP);
        headers.set("X-Content-Type-Options", "nosniff");
        headers.set("Referrer-Policy", "no-referrer");
        headers.set("Cache-Control", "no-cache");
        exchange.sendResponseHeaders(200, exchange.getRequestMethod().equals("HEAD") ? -1 : content.length);
        if (!exchange.getRequestMethod().equals("HEAD")) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(content);
            }
        }
    }

    private void error(HttpExchange exchange, int status, @Nullable String message) throws IOException {
        send(exchange, status, Map.of("status", status, "error", message == null ? "error" : message));
    }

    private void send(HttpExchange exchange, int status, Object value) throws IOException {
        byte[] bytes = json.writeValueAsBytes(value);
        var headers = exchange.getResponseHeaders();
        headers.set("Content-Type", "application/json; charset=utf-8");
        headers.set("Cache-Control", "no-store");
        headers.set("X-Content-Type-Options", "nosniff");
        if (status == 401) {
            headers.set("WWW-Authenticate", "Bearer realm=\"tandem\"");
        }
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    private static List<String> segments(String path) {
        List<String> segments = new ArrayList<>();
        for (String part : path.split("/")) {
            if (!part.isEmpty()) {
                segments.add(java.net.URLDecoder.decode(part.replace("+", "%2B"), StandardCharsets.UTF_8));
            }
        }
        return segments;
    }

    /** Virtual threads on Java 21+ (requests mostly wait on the database), else a small pool. */
    private static ExecutorService threads() {
        try {
            return (ExecutorService) Executors.class.getMethod("newVirtualThreadPerTaskExecutor").invoke(null);
        } catch (ReflectiveOperationException e) {
            return Executors.newFixedThreadPool(16, r -> {
                Thread t = new Thread(r, "tandem-admin-http");
                t.setDaemon(true);
                return t;
            });
        }
    }
}
