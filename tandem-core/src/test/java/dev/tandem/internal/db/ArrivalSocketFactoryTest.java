package dev.tandem.internal.db;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariDataSource;
import dev.tandem.testing.TestDatabase;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.postgresql.PGNotification;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * The engine's sockets tell the queue's listening thread that a notification arrived when its bytes are read, not
 * when PgJDBC returns it (a millisecond later); nothing else they carry counts as an arrival, and an application's own
 * socket factory is left alone.
 */
class ArrivalSocketFactoryTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    private static PGSimpleDataSource watchedDataSource() {
        PGSimpleDataSource ds = new PGSimpleDataSource();
        ds.setURL(db.url());
        ds.setSocketFactory(ArrivalSocketFactory.class.getName());
        return ds;
    }

    @Test
    void aNotificationIsToldOnArrivalOnTheWaitingThreadBeforePgJdbcReturnsIt() throws Exception {
        try (ListeningConnection listening = ListeningConnection.open(watchedDataSource(), "LISTEN arrival_test")) {
            AtomicLong arrivedAt = new AtomicLong();
            AtomicReference<Thread> arrivedOn = new AtomicReference<>();
            CompletableFuture<Void> sent = CompletableFuture.runAsync(() -> {
                try (Connection c = DriverManager.getConnection(db.url()); Statement st = c.createStatement()) {
                    TimeUnit.MILLISECONDS.sleep(100);
                    st.execute("NOTIFY arrival_test, 'hello'");
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });

            PGNotification[] received = listening.poll(5_000, () -> {
                arrivedAt.compareAndSet(0, System.nanoTime());
                arrivedOn.compareAndSet(null, Thread.currentThread());
            });
            long returnedAt = System.nanoTime();
            sent.get(5, TimeUnit.SECONDS);

            assertThat(received).extracting(PGNotification::getParameter).containsExactly("hello");
            assertThat(arrivedAt.get()).as("told of the arrival").isPositive().isLessThanOrEqualTo(returnedAt);
            assertThat(arrivedOn.get()).isSameAs(Thread.currentThread());
        }
    }

    @Test
    void onAConnectionInClearPgJdbcReturnsANotificationWithoutWaitingForAnother() throws Exception {
        // PgJDBC looks for a next message with a 1 ms read timeout before it returns one; the socket answers at once.
        long[] lags = new long[21];
        try (ListeningConnection listening = ListeningConnection.open(watchedDataSource(), "LISTEN arrival_test");
                Connection sender = DriverManager.getConnection(db.url());
                Statement st = sender.createStatement()) {
            for (int i = 0; i < lags.length; i++) {
                AtomicLong arrivedAt = new AtomicLong();
                CompletableFuture<Boolean> sent = CompletableFuture.supplyAsync(() -> {
                    try {
                        TimeUnit.MILLISECONDS.sleep(5);
                        return st.execute("NOTIFY arrival_test");
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
                PGNotification[] received = listening.poll(5_000, () -> arrivedAt.compareAndSet(0, System.nanoTime()));
                lags[i] = System.nanoTime() - arrivedAt.get();
                sent.get(5, TimeUnit.SECONDS);
                assertThat(received).hasSize(1);
            }
        }
        java.util.Arrays.sort(lags);
        assertThat(lags[lags.length / 2]).as("median ns from arrival to return").isLessThan(700_000);
    }

    @Test
    void theStartupMessageInClearIsRecognizedAndAnEncryptionRequestIsNot() {
        byte[] startup = {0, 0, 0, 40, 0, 3, 0, 0, 'u', 's', 'e', 'r'};
        byte[] sslRequest = {0, 0, 0, 8, 0x04, (byte) 0xD2, 0x16, 0x2F};
        byte[] gssRequest = {0, 0, 0, 8, 0x04, (byte) 0xD2, 0x16, 0x30};
        byte[] tlsClientHello = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, (byte) 0xFC};
        assertThat(ArrivalSocketFactory.isStartupMessage(startup, 0, startup.length)).isTrue();
        assertThat(ArrivalSocketFactory.isStartupMessage(sslRequest, 0, sslRequest.length)).isFalse();
        assertThat(ArrivalSocketFactory.isStartupMessage(gssRequest, 0, gssRequest.length)).isFalse();
        assertThat(ArrivalSocketFactory.isStartupMessage(tlsClientHello, 0, tlsClientHello.length)).isFalse();
    }

    @Test
    void theKeepaliveAnswerAndAnEmptyWaitAreNoArrival() throws Exception {
        // A keepalive due at every wait: its round trip reads the server's answer, which is not a notification.
        try (ListeningConnection listening = ListeningConnection.open(watchedDataSource(), "LISTEN arrival_test",
                Duration.ZERO, Duration.ofSeconds(5))) {
            AtomicLong arrivals = new AtomicLong();
            for (int i = 0; i < 3; i++) {
                assertThat(listening.poll(20, arrivals::incrementAndGet)).isEmpty();
            }
            assertThat(arrivals.get()).isZero();
        }
    }

    @Test
    void readsOutsideAWatchedWaitTellNobody() throws Exception {
        AtomicLong arrivals = new AtomicLong();
        try (Connection c = watchedDataSource().getConnection(); Statement st = c.createStatement()) {
            ArrivalSocketFactory.watching(arrivals::incrementAndGet, () -> st.execute("SELECT 1"));
            long duringWatch = arrivals.get();
            st.execute("SELECT 2"); // same socket, not watched
            assertThat(duringWatch).as("a read while watching").isPositive();
            assertThat(arrivals.get()).isEqualTo(duringWatch);
        }
    }

    @Test
    void theEnginePoolWatchesItsSocketsUnlessTheApplicationChoseASocketFactory() throws Exception {
        try (HikariDataSource app = new HikariDataSource()) {
            app.setJdbcUrl(db.url());
            try (HikariDataSource engine = EnginePool.create(app, "arrival-test")) {
                assertThat(engine.getDataSourceProperties().getProperty("socketFactory"))
                        .isEqualTo(ArrivalSocketFactory.class.getName());
                try (Connection c = engine.getConnection(); Statement st = c.createStatement()) {
                    assertThat(st.execute("SELECT 1")).isTrue(); // connects through it
                }
            }
        }
        try (HikariDataSource app = new HikariDataSource()) {
            app.setJdbcUrl(db.url());
            app.addDataSourceProperty("socketFactory", "com.example.CloudSocketFactory");
            try (HikariDataSource engine = EnginePool.create(app, "arrival-test")) {
                assertThat(engine.getDataSourceProperties().getProperty("socketFactory"))
                        .isEqualTo("com.example.CloudSocketFactory");
                engine.close(); // before it tries to connect through a factory that does not exist
            }
        }
        assertThat(ArrivalSocketFactory.visibleToDriver()).as("one class loader here").isTrue();
        assertThat(EnginePool.namesSocketFactory("jdbc:postgresql://h/db?socketFactory=com.example.F")).isTrue();
        assertThat(EnginePool.namesSocketFactory("jdbc:postgresql://h/db?user=u")).isFalse();
    }
}
