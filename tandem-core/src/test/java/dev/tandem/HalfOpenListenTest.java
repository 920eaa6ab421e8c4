package dev.tandem;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tandem.testing.Engines;
import dev.tandem.testing.TcpProxy;
import dev.tandem.testing.TestDatabase;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The listening connections go silently dead, as a NAT or load balancer leaves them after its idle timeout: the
 * sockets stay open and nothing more arrives. The engine must notice (its keepalive times out), listen again, and
 * deliver what was sent meanwhile, long before a receive's timeout.
 */
class HalfOpenListenTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    @RegisterExtension
    final Engines engines = new Engines();

    /** Server-side view of the connections whose last statement was a LISTEN: their client ports (the proxy's). */
    static Set<Integer> listeningPorts() throws SQLException {
        Set<Integer> ports = new HashSet<>();
        try (Connection c = DriverManager.getConnection(db.url()); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT client_port FROM pg_stat_activity"
                        + " WHERE datname = current_database() AND ltrim(query) LIKE 'LISTEN%'")) {
            while (rs.next()) {
                ports.add(rs.getInt(1));
            }
        }
        return ports;
    }

    @Test
    void aReceiverWhoseListeningConnectionWentSilentlyDeadGetsItsMessage() throws Exception {
        try (TcpProxy proxy = TcpProxy.to(db.url())) {
            Tandem tandem = engines.add(Tandem.builder().databaseUrl(proxy.jdbcUrl(db.url()))
                    .shutdownTimeout(Duration.ofSeconds(1)).build());
            Workflow<String, String> receiver = tandem.register("receiver", String.class,
                    (ctx, in) -> ctx.recv(String.class, Duration.ofMinutes(5)));
            tandem.start();
            // Right after start, LISTEN is the last statement of both listening connections (workflow
            // notifications and the queue worker's), and nothing else runs LISTEN.
            Set<Integer> dead = new HashSet<>();
            await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(10)).until(() -> {
                dead.addAll(listeningPorts());
                return dead.size() >= 2;
            });
            WorkflowHandle<String> h = receiver.start("x", StartOptions.withId("half-open"));
            await().atMost(Duration.ofSeconds(10)).until(() -> db.queryLong(
                    "SELECT count(*) FROM tandem.steps WHERE workflow_id = 'half-open' AND kind = 'SLEEP'") == 1);

            int frozen = 0;
            for (TcpProxy.Link link : proxy.links()) {
                if (dead.contains(link.upstreamLocalPort())) {
                    link.freeze(); // for good: never unfrozen
                    frozen++;
                }
            }
            assertThat(frozen).isEqualTo(dead.size());
            long t0 = System.nanoTime();
            // Sent around the proxy: the NOTIFY is stuck on the frozen connection.
            db.execute("SELECT tandem.send_message('half-open', '\"hello\"')");
            // While the listening connection hangs, nothing else can wake the receiver: receiving it means the dead
            // connection was noticed and replaced (keepalive every 3 s, network timeout 5 s).
            assertThat(h.result(Duration.ofSeconds(15))).isEqualTo("hello");
            System.out.printf("frozen listening connection: message received after %d ms%n",
                    (System.nanoTime() - t0) / 1_000_000);
            tandem.close(); // before the proxy
        }
    }
}
