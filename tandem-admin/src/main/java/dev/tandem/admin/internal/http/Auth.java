package dev.tandem.admin.internal.http;

import com.sun.net.httpserver.Headers;
import dev.tandem.admin.AdminAuthenticator;
import dev.tandem.admin.AdminPrincipal;
import dev.tandem.admin.AdminRole;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * Who a request comes from: a bearer token (compared in constant time), the application's authenticator, or, with
 * authentication off (loopback only), an anonymous operator. Tokens travel only in the Authorization header, never in
 * URLs; and since browsers do not attach that header by themselves, a cross-site page cannot act with a user's
 * token (no CSRF). Without authentication, a cross-site request could still reach a loopback server: actions then
 * need a same-origin request, and the Host header must be the loopback address (against DNS rebinding).
 */
final class Auth {
    private final byte @Nullable [] operatorToken;
    private final byte @Nullable [] viewerToken;
    private final @Nullable AdminAuthenticator authenticator;
    private final boolean noAuth;

    Auth(@Nullable String operatorToken, @Nullable String viewerToken, @Nullable AdminAuthenticator authenticator,
            boolean noAuth) {
        this.operatorToken = operatorToken == null ? null : operatorToken.getBytes(StandardCharsets.UTF_8);
        this.viewerToken = viewerToken == null ? null : viewerToken.getBytes(StandardCharsets.UTF_8);
        this.authenticator = authenticator;
        this.noAuth = noAuth;
    }

    AdminPrincipal authenticate(Headers headers) {
        if (noAuth) {
            return new AdminPrincipal("anonymous (no auth)", AdminRole.OPERATOR);
        }
        if (authenticator != null) {
            Map<String, List<String>> lower = new TreeMap<>();
            headers.forEach((k, v) -> lower.put(k.toLowerCase(Locale.ROOT), List.copyOf(v)));
            Optional<AdminPrincipal> principal = authenticator.authenticate(lower);
            return principal.orElseThrow(() -> new HttpError(401, "not authenticated"));
        }
        String header = headers.getFirst("Authorization");
        if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            throw new HttpError(401, "missing token: send 'Authorization: Bearer <token>'");
        }
        byte[] given = header.substring(7).strip().getBytes(StandardCharsets.UTF_8);
        if (operatorToken != null && MessageDigest.isEqual(given, operatorToken)) {
            return new AdminPrincipal("operator-token", AdminRole.OPERATOR);
        }
        if (viewerToken != null && MessageDigest.isEqual(given, viewerToken)) {
            return new AdminPrincipal("viewer-token", AdminRole.VIEWER);
        }
        throw new HttpError(401, "invalid token");
    }

    /** Refuses, without authentication, actions a page of another origin sends, and requests for another host. */
    void checkUnauthenticatedRequest(Headers headers, boolean action) {
        if (!noAuth) {
            return;
        }
        String host = headers.getFirst("Host");
        if (host != null && !isLoopbackHost(host)) {
            throw new HttpError(403, "host '" + host + "' is not a loopback address; a server without authentication"
                    + " answers only requests for 127.0.0.1, ::1 or localhost");
        }
        if (action) {
            String site = headers.getFirst("Sec-Fetch-Site");
            String origin = headers.getFirst("Origin");
            boolean crossSite = site != null && !site.equals("same-origin") && !site.equals("none");
            boolean otherOrigin = origin != null && (host == null || !origin.endsWith("//" + host));
            if (crossSite || otherOrigin) {
                throw new HttpError(403, "cross-site action refused");
            }
        }
    }

    private static boolean isLoopbackHost(String hostHeader) {
        String host = hostHeader;
        if (host.startsWith("[")) {
            host = host.substring(1, host.indexOf(']') > 0 ? host.indexOf(']') : host.length());
        } else if (host.indexOf(':') >= 0 && host.indexOf(':') == host.lastIndexOf(':')) {
            host = host.substring(0, host.indexOf(':'));
        }
        if (host.equalsIgnoreCase("localhost")) {
            return true;
        }
        try {
            return isLiteralAddress(host) && InetAddress.getByName(host).isLoopbackAddress();
        } catch (java.net.UnknownHostException e) {
            return false;
        }
    }

    /** Only literal addresses are resolved: a name is never looked up while answering a request. */
    private static boolean isLiteralAddress(String host) {
        return host.matches("\\d{1,3}(\\.\\d{1,3}){3}") || host.matches("[0-9a-fA-F:.]*:[0-9a-fA-F:.]*");
    }
}
