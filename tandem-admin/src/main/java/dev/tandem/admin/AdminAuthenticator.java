package dev.tandem.admin;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The application's own authentication for the admin API (Spring Security, an SSO proxy's headers, ...), used instead
 * of bearer tokens when set: given a request's headers (names in lower case), the principal it authenticates, or
 * empty to answer 401. It is called on a server thread for every request but {@code /api/v1/health} and the
 * dashboard's static files; it must be thread-safe and should be fast.
 */
@FunctionalInterface
public interface AdminAuthenticator {
    Optional<AdminPrincipal> authenticate(Map<String, List<String>> headers);
}
