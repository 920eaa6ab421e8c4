package dev.tandem;

import static dev.tandem.testing.FaultyDataSource.containing;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.tandem.testing.Engines;
import dev.tandem.testing.FaultyDataSource;
import dev.tandem.testing.TcpProxy;
import dev.tandem.testing.TestDatabase;
import java.time.Duration;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.postgresql.ds.PGSimpleDataSource;

/** Start and stop under faults: a failed start leaves nothing running; close() is bounded on a frozen network. */
class LifecycleTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    @RegisterExtension
    final Engines engines = new Engines();

    private static Set<String> tandemThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive).map(Thread::getName)
                .filter(n -> n.startsWith("tandem-")).collect(Collectors.toSet());
    }

    @Test
    void aStartThatFailsLeavesNoThreadRunning() throws Exception {
        PGSimpleDataSource real = new PGSimpleDataSource();
        real.setUrl(db.url());
        FaultyDataSource faulty = new FaultyDataSource(real);
        faulty.failStatement(containing("worker_concurrency = excluded"), "42501"); // a role that may not declare queues
        HikariConfig config = new HikariConfig();
        config.setDataSource(faulty);
        config.setPoolName("lifecycle");
        long before = tandemThreads().stream().filter(n -> !n.startsWith("tandem-workflow")).count();
        try (HikariDataSource pool = new HikariDataSource(config)) {
            Tandem tandem = Tandem.builder().dataSource(pool).executorId("failing-start")
                    .queue("emails", QueueOptions.unlimited().concurrency(2)).build();
            tandem.register("w", String.class, (ctx, in) -> in);
            assertThatThrownBy(tandem::start).isInstanceOf(TandemException.class)
                    .hasMessageContaining("failed to declare queues");
            Thread.sleep(300);
            assertThat(tandemThreads().stream().filter(n -> !n.startsWith("tandem-workflow")).count())
                    .as("threads left by the failed start: " + tandemThreads()).isLessThanOrEqualTo(before);
            assertThatThrownBy(tandem::start).isInstanceOf(IllegalStateException.class);
            tandem.close();
        }
    }

    /**
     * Defect: GroupCommitter.close() waited forever for a leader stuck on a dead socket, so close() never returned.
     * Here every connection of the engine goes silent (a frozen network) while workflows write checkpoints.
     */
    @Test
    void closeReturnsWithinTheShutdownTimeoutWhenTheNetworkFreezes() throws Exception {
        try (TcpProxy proxy = TcpProxy.to(db.url())) {
            Tandem tandem = Tandem.builder().databaseUrl(proxy.jdbcUrl(db.url())).executorId("frozen-close")
                    .shutdownTimeout(Duration.ofSeconds(1)).build();
            Workflow<Integer, Integer> busy = tandem.register("busy", Integer.class, (ctx, n) -> {
                int sum = 0;
                for (int i = 0; i < 1000; i++) {
                    int k = i;
                    sum += ctx.step("s" + i, () -> k);
                }
                return sum;
            });
            tandem.start();
            for (int i = 0; i < 8; i++) {
                busy.start(i, StartOptions.withId("busy-" + i));
            }
            Thread.sleep(300); // checkpoints are being written
            proxy.freeze();
            Thread.sleep(300); // a group commit is now stuck on the frozen socket
            long t0 = System.nanoTime();
            tandem.close();
            Duration closing = Duration.ofNanos(System.nanoTime() - t0);
            System.out.println("close() on a frozen network took " + closing.toMillis() + " ms");
            assertThat(closing).as("close() on a frozen network, shutdownTimeout 1 s").isLessThan(Duration.ofSeconds(15));
            proxy.unfreeze();
        }
    }
}
