package dev.tandem.examples.springorders;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.testing.TestDatabase;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.boot.web.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

/** The example's contract, over HTTP on a random port: an order is shipped; a failing one leaves nothing. */
class SpringOrdersTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    static ConfigurableApplicationContext app;
    static String base;
    static final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    static void start() {
        app = new org.springframework.boot.SpringApplication(SpringOrders.class).run("--server.port=0",
                "--spring.datasource.url=" + db.url(), "--spring.main.banner-mode=off", "--logging.level.root=WARN");
        base = "http://127.0.0.1:" + ((WebServerApplicationContext) app).getWebServer().getPort();
    }

    @AfterAll
    static void stop() {
        if (app != null) {
            app.close();
        }
    }

    static HttpResponse<String> post(String json) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(base + "/orders"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void anOrderIsPaidOnceAndShipped() throws Exception {
        HttpResponse<String> response = post("{\"customer\": \"ada\", \"amountCents\": 1250}");
        assertThat(response.statusCode()).isEqualTo(201);
        Matcher m = Pattern.compile("\"id\"\\s*:\\s*(\\d+)").matcher(response.body());
        assertThat(m.find()).as(response.body()).isTrue();
        long id = Long.parseLong(m.group(1));
        Awaitility.await().atMost(Duration.ofSeconds(20))
                .until(() -> "SHIPPED".equals(db.queryString("SELECT status FROM orders WHERE id = " + id)));
        assertThat(db.queryLong("SELECT count(*) FROM payments WHERE order_id = " + id + " AND amount_cents = 1250"))
                .isEqualTo(1);
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> "SUCCESS".equals(
                db.queryString("SELECT status FROM tandem.workflows WHERE workflow_id = 'order-" + id + "'")));
    }

    @Test
    void aFailingOrderLeavesNeitherTheOrderNorItsWorkflow() throws Exception {
        HttpResponse<String> response = post("{\"customer\": \"fail\", \"amountCents\": 99}");
        assertThat(response.statusCode()).isBetween(400, 599);
        assertThat(db.queryLong("SELECT count(*) FROM orders WHERE customer = 'fail'")).isZero();
        // No process_order workflow without its order (the failed one's id was taken from the sequence).
        assertThat(db.queryLong("SELECT count(*) FROM tandem.workflows w WHERE name = 'process_order'"
                + " AND NOT EXISTS (SELECT 1 FROM orders o WHERE 'order-' || o.id = w.workflow_id)")).isZero();
    }
}
