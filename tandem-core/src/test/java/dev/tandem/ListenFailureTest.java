package dev.tandem;

import static dev.tandem.testing.FaultyDataSource.matching;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.HikariPoolMXBean;
import dev.tandem.testing.Engines;
import dev.tandem.testing.FaultyDataSource;
import dev.tandem.testing.TestDatabase;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * LISTEN fails (as on a standby after a failover: SQLSTATE 25006) while the engine runs. Each failed attempt must give
 * its connection back to the pool; once LISTEN works again, notifications wake waiters at once.
 */
class ListenFailureTest {
    /** Connections of the application's pool in use at most without a leak; a leak reaches 8 or more. */
    static final int LIMIT = 7;

    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    @RegisterExtension
    final Engines engines = new Engines();

    @Test
    void aFailingListenLeaksNoConnectionAndNotificationsWorkOnceItSucceeds() throws Exception {
        PGSimpleDataSource real = new PGSimpleDataSource();
        real.setURL(db.url());
        FaultyDataSource faulty = new FaultyDataSource(real);
        FaultyDataSource.Rule standby = faulty.failStatement(matching("^LISTEN"), "25006");
        FaultyDataSource.Rule listened = faulty.observe(matching("^LISTEN tandem_message"));
        HikariConfig config = new HikariConfig();
        config.setDataSource(faulty);
        config.setMaximumPoolSize(10);
        config.setConnectionTimeout(2000);
        config.setPoolName("listen-failure");
        ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor();
        try (HikariDataSource pool = new HikariDataSource(config)) {
            Tandem tandem = engines.add(Tandem.builder().dataSource(pool).shutdownTimeout(Duration.ofSeconds(1))
                    .build());
            Workflow<String, String> receiver = tandem.register("receiver", String.class, (ctx, in) -> {
                StringBuilder got = new StringBuilder();
                for (int i = 0; i < 3; i++) {
                    got.append(ctx.recv(String.class, Duration.ofMinutes(5)));
                }
                return got.toString();
            });
            tandem.start();
            WorkflowHandle<String> handle = receiver.start("x", StartOptions.withId("receiver-1"));

            HikariPoolMXBean mx = pool.getHikariPoolMXBean();
            AtomicInteger maxActive = new AtomicInteger();
            sampler.scheduleAtFixedRate(() -> maxActive.accumulateAndGet(mx.getActiveConnections(), Math::max),
                    0, 10, TimeUnit.MILLISECONDS);
            // Both listeners (workflow notifications and the queue worker's) retry with backoff: 10 failures take
            // about 3 s, and each of them leaked a connection before the fix. The engine's own pool (8 connections)
            // borrows from this pool, so every connection it holds counts here: a leak fills it (8, plus the
            // workflow's own), while without one it holds at most its two idle connections and the few in use.
            await().atMost(Duration.ofSeconds(15)).until(() -> standby.fired() >= 10 || maxActive.get() > LIMIT);
            assertThat(maxActive.get()).as("active connections while LISTEN fails (pool of 10)")
                    .isLessThanOrEqualTo(LIMIT);

            standby.disarm();
            await().atMost(Duration.ofSeconds(10)).until(() -> listened.fired() >= 1);
            // Sent from a connection of its own, so only the NOTIFY (or the periodic look, every 5 s) can wake the
            // receiver: three messages each received within a second is the NOTIFY.
            try (Connection direct = DriverManager.getConnection(db.url())) {
                for (int i = 1; i <= 3; i++) {
                    awaitRecvCheckpoints(i - 1); // waiting for message i
                    long t0 = System.nanoTime();
                    try (PreparedStatement ps = direct.prepareStatement(
                            "SELECT tandem.send_message('receiver-1', to_jsonb(?::text))")) {
                        ps.setString(1, "m" + i);
                        ps.execute();
                    }
                    awaitRecvCheckpoints(i);
                    assertThat(Duration.ofNanos(System.nanoTime() - t0)).as("message %d received after", i)
                            .isLessThan(Duration.ofSeconds(1));
                }
            }
            assertThat(handle.result(Duration.ofSeconds(10))).isEqualTo("m1m2m3");
            assertThat(maxActive.get()).as("active connections, overall").isLessThanOrEqualTo(LIMIT);
            tandem.close(); // before its pool
        } finally {
            sampler.shutdownNow();
        }
    }

    /** Waits until the receiver has recorded {@code n} RECV checkpoints (its first {@code n} messages). */
    static void awaitRecvCheckpoints(int n) {
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(5)).until(() -> db.queryLong(
                "SELECT count(*) FROM tandem.steps WHERE workflow_id = 'receiver-1' AND kind = 'RECV'") >= n);
    }
}
