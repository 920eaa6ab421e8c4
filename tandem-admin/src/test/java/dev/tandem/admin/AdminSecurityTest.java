package dev.tandem.admin;

import static dev.tandem.admin.AdminFixture.OPERATOR;
import static dev.tandem.admin.AdminFixture.VIEWER;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tandem.admin.ApiClient.Response;
import dev.tandem.testing.TestDatabase;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Who may see and do what: hidden values, the application's authenticator, no-auth limits, the standalone checks. */
class AdminSecurityTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    static AdminFixture fixture;

    @BeforeAll
    static void setUp() {
        fixture = new AdminFixture(db.dataSource());
        fixture.populate();
    }

    @AfterAll
    static void tearDown() {
        fixture.close();
    }

    @Test
    void valuesCanBeHiddenFromViewersButNotFromOperators() {
        try (TandemAdmin admin = TandemAdmin.create(db.dataSource()).port(0).tokens(OPERATOR, VIEWER)
                .hideValuesFromViewers(true).start()) {
            ApiClient viewer = new ApiClient(admin.url(), VIEWER);
            JsonNode row = viewer.get("/api/v1/workflows?id_prefix=order-ada").body().path("workflows").get(0);
            assertThat(row.path("input").isNull()).isTrue();
            assertThat(row.path("redacted").asBoolean()).isTrue();
            JsonNode detail = viewer.get("/api/v1/workflows/order-ada").body();
            assertThat(detail.path("output").isNull()).isTrue();
            assertThat(detail.path("steps").get(0).path("output").isNull()).isTrue();
            assertThat(detail.path("events").get(0).path("value").isNull()).isTrue();
            assertThat(detail.toString()).doesNotContain("1200").doesNotContain("\"ada\"");
            Response probe = viewer.get("/api/v1/workflows?input=%7B%22customer%22%3A%22ada%22%7D");
            assertThat(probe.status()).as("a viewer could otherwise guess hidden values").isEqualTo(403);
            assertThat(viewer.get("/api/v1/me").body().path("values_hidden").asBoolean()).isTrue();

            JsonNode full = viewer.as(OPERATOR).get("/api/v1/workflows/order-ada").body();
            assertThat(full.path("input").path("customer").asText()).isEqualTo("ada");
        }
    }

    @Test
    void theApplicationsAuthenticatorDecides() {
        AdminAuthenticator sso = headers -> Optional.ofNullable(headers.get("x-user"))
                .map(v -> new AdminPrincipal(v.get(0), v.get(0).startsWith("ops-") ? AdminRole.OPERATOR
                        : AdminRole.VIEWER));
        try (TandemAdmin admin = TandemAdmin.create(fixture.tandem).port(0).authenticator(sso).start()) {
            ApiClient api = new ApiClient(admin.url(), null);
            assertThat(api.get("/api/v1/workflows").status()).isEqualTo(401);
            Response me = api.send(api.request("/api/v1/me").header("X-User", "ops-grace").GET());
            assertThat(me.body().path("name").asText()).isEqualTo("ops-grace");
            assertThat(me.body().path("role").asText()).isEqualTo("operator");
            Response viewerActs = api.send(api.request("/api/v1/workflows/waiter-2/cancel").header("X-User", "linus")
                    .POST(HttpRequest.BodyPublishers.noBody()));
            assertThat(viewerActs.status()).isEqualTo(403);
        }
    }

    @Test
    void withoutAuthenticationOnlyLoopbackAndSameOriginActions() {
        assertThatThrownBy(() -> TandemAdmin.create(db.dataSource()).port(0).bind("0.0.0.0").noAuth().start())
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("loopback");
        assertThatThrownBy(() -> TandemAdmin.create(db.dataSource()).port(0).start())
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("authenticate");
        assertThatThrownBy(() -> TandemAdmin.create(db.dataSource()).tokens("short", null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("too short");
        try (TandemAdmin admin = TandemAdmin.create(db.dataSource()).port(0).noAuth().start()) {
            ApiClient api = new ApiClient(admin.url(), null);
            assertThat(api.get("/api/v1/workflows").status()).isEqualTo(200);
            Response crossSite = api.send(api.request("/api/v1/workflows/waiter-2/cancel")
                    .header("Origin", "https://evil.example").POST(HttpRequest.BodyPublishers.noBody()));
            assertThat(crossSite.status()).isEqualTo(403);
            assertThat(fixture.tandem.handle("waiter-2").status().name()).isEqualTo("ENQUEUED");
            assertThat(api.post("/api/v1/workflows/no-such-id/cancel", null).status()).isEqualTo(404);
        }
    }

    @Test
    void tokensNeverTravelInUrls() {
        try (TandemAdmin admin = TandemAdmin.create(db.dataSource()).port(0).tokens(OPERATOR, null).start()) {
            ApiClient anonymous = new ApiClient(admin.url(), null);
            assertThat(anonymous.get("/api/v1/workflows?token=" + OPERATOR).status()).isIn(400, 401);
            assertThat(anonymous.get("/api/v1/workflows?access_token=" + OPERATOR).status()).isIn(400, 401);
        }
    }

    @Test
    void theStandaloneServerRefusesToStartWithoutAWayToAuthenticate() throws Exception {
        assertThat(runMain(Map.of(), "--database-url", db.url())).contains("no token is set");
        assertThat(runMain(Map.of(), "--database-url", db.url(), "--no-auth", "--bind", "0.0.0.0"))
                .contains("loopback");
        assertThat(runMain(Map.of(), "--port", "99999", "--database-url", db.url())).contains("--port");
        assertThat(runMain(Map.of())).contains("--database-url is required");
        assertThat(runMain(Map.of("TANDEM_ADMIN_OPERATOR_TOKEN", OPERATOR), "--database-url", "mysql://x"))
                .contains("PostgreSQL JDBC URL");
    }

    /** Runs AdminMain to its refusal; returns what it printed on stderr (exit code 2 asserted). */
    private static String runMain(Map<String, String> env, String... args) throws Exception {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = AdminMain.run(args, env, new PrintStream(new ByteArrayOutputStream()),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        assertThat(code).as(List.of(args).toString()).isEqualTo(2);
        return err.toString(StandardCharsets.UTF_8);
    }
}
