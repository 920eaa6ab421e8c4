package dev.tandem.admin.internal.http;

import dev.tandem.admin.AdminAuthenticator;
import dev.tandem.admin.Operations;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import org.jspecify.annotations.Nullable;

/** Assembles an {@link AdminServer} from TandemAdmin's settings (the public class sees no internal constructor). */
public final class Servers {
    private Servers() {}

    public static AdminServer create(InetSocketAddress address, Operations ops, @Nullable String executorId,
            Duration heartbeatLimit, @Nullable String operatorToken, @Nullable String viewerToken,
            @Nullable AdminAuthenticator authenticator, boolean noAuth, boolean hideValuesFromViewers)
            throws IOException {
        var json = Operations.jsonMapper();
        ApiRoutes routes = new ApiRoutes(ops, json, hideValuesFromViewers, executorId, heartbeatLimit);
        Auth auth = new Auth(operatorToken, viewerToken, authenticator, noAuth);
        return new AdminServer(address, routes, auth, json);
    }
}
