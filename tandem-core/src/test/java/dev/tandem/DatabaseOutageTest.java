package dev.tandem;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.tandem.testing.Engines;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * The database goes away under a running engine. This class runs its own embedded PostgreSQL (never the shared
 * server), because it stops it and starts it again on the same data directory and port; a lighter variant kills the
 * engine's connections with {@code pg_terminate_backend}.
 */
class DatabaseOutageTest {
    static final int STEPS = 6; // plain steps per workflow, plus one transaction after the third
    static Path dataDir;
    static int port;
    static EmbeddedPostgres pg;

    @RegisterExtension
    final Engines engines = new Engines();

    @BeforeAll
    static void startServer() throws IOException {
        dataDir = Files.createTempDirectory("tandem-outage-pg");
        port = freePort();
        pg = startServer(dataDir, port);
    }

    @AfterAll
    static void stopServer() throws IOException {
        if (pg != null) {
            pg.close();
        }
        try (Stream<Path> files = Files.walk(dataDir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }


    /** Same settings as {@code TestPostgres.startEmbedded()}, on a data directory and port that outlive a restart. */
    static EmbeddedPostgres startServer(Path dir, int port) throws IOException {
        return EmbeddedPostgres.builder()
                .setDataDirectory(dir)
                .setCleanDataDirectory(false)
                .setPort(port)
                .setServerConfig("max_connections", "300")
                .setServerConfig("timezone", "America/Sao_Paulo")
                .start();
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    static String adminUrl() {
        return pg.getJdbcUrl("postgres", "postgres");
    }

    /** Creates a database on the private server, with the application's table, and returns its URL. */
    static String createDatabase(String name) throws SQLException {
        execute(adminUrl(), "CREATE DATABASE " + name);
        String url = pg.getJdbcUrl("postgres", name);
        execute(url, "CREATE TABLE payments (workflow_id text NOT NULL, amount int NOT NULL)");
        return url;
    }

    static void execute(String url, String sql) throws SQLException {
        try (Connection c = DriverManager.getConnection(url); Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }

    static long queryLong(String url, String sql) throws SQLException {
        try (Connection c = DriverManager.getConnection(url); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    Tandem engine(String url, String executorId) {
        Tandem t = Tandem.builder()
                .databaseUrl(url)
                .executorId(executorId)
                .heartbeatInterval(Duration.ofMillis(200))
                .executorTimeout(Duration.ofSeconds(2))
                .shutdownTimeout(Duration.ofSeconds(1))
                .build();
        engines.add(t);
        return t;
    }

    /**
     * Six plain steps of ~50 ms and, after the third, a transaction that writes the application's payment row. The
     * output counts the step bodies that ran in this process, so a repeated step would show.
     */
    static Workflow<Integer, String> register(Tandem t, AtomicInteger stepRuns, AtomicInteger transactionRuns) {
        return t.register("slow-pay", Integer.class, (ctx, amount) -> {
            int sum = 0;
            for (int i = 1; i <= STEPS; i++) {
                int n = i;
                sum += ctx.step("s" + i, () -> {
                    stepRuns.incrementAndGet();
                    Thread.sleep(50);
                    return n;
                });
                if (i == 3) {
                    ctx.transaction("pay", conn -> {
                        transactionRuns.incrementAndGet();
                        try (var ps = conn.prepareStatement("INSERT INTO payments VALUES (?, ?)")) {
                            ps.setString(1, ctx.workflowId());
                            ps.setInt(2, amount);
                            ps.executeUpdate();
                        }
                        return amount;
                    });
                }
            }
            return "paid " + amount + " after " + sum;
        });
    }

    static List<WorkflowHandle<String>> startAll(Workflow<Integer, String> wf, String prefix, int count) {
        List<WorkflowHandle<String>> handles = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            handles.add(wf.start(i, StartOptions.withId(prefix + i)));
        }
        return handles;
    }

    static void awaitCheckpoints(String url, long atLeast) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (queryLong(url, "SELECT count(*) FROM tandem.steps") < atLeast) {
            assertThat(System.nanoTime()).as("%d checkpoints recorded", atLeast).isLessThan(deadline);
            Thread.sleep(5);
        }
    }

    static void assertAllPaidExactlyOnce(String url, List<WorkflowHandle<String>> handles) throws SQLException {
        for (int i = 0; i < handles.size(); i++) {
            assertThat(handles.get(i).result(Duration.ofSeconds(20)))
                    .isEqualTo("paid " + i + " after " + (STEPS * (STEPS + 1) / 2));
        }
        int n = handles.size();
        assertThat(queryLong(url, "SELECT count(*) FROM tandem.workflows WHERE status = 'SUCCESS'")).isEqualTo(n);
        assertThat(queryLong(url, "SELECT count(*) FROM payments")).isEqualTo(n);
        assertThat(queryLong(url, "SELECT count(DISTINCT workflow_id) FROM payments")).isEqualTo(n);
        assertThat(queryLong(url, "SELECT count(*) FROM payments p JOIN tandem.workflows w USING (workflow_id)"
                + " WHERE w.input::int = p.amount")).isEqualTo(n);
        assertThat(queryLong(url, "SELECT count(*) FROM tandem.steps")).isEqualTo((long) n * (STEPS + 1));
    }

    @Test
    void startAgainstAnUnreachableDatabaseSaysItCannotConnectAndWhatToCheck() throws Exception {
        int closedPort = freePort(); // nothing listens there
        PGSimpleDataSource unreachable = new PGSimpleDataSource();
        unreachable.setURL("jdbc:postgresql://127.0.0.1:" + closedPort + "/app?user=postgres&connectTimeout=2");
        Tandem viaDataSource = Tandem.builder().dataSource(unreachable).build();
        engines.add(viaDataSource);
        assertThatThrownBy(viaDataSource::start)
                .isInstanceOf(TandemException.class)
                .hasMessageContaining("cannot connect to the database")
                .hasMessageContaining(String.valueOf(closedPort))
                .hasMessageContaining("check that PostgreSQL is running and that the URL, user and password are right");

        PGSimpleDataSource noSuchDatabase = new PGSimpleDataSource();
        noSuchDatabase.setURL(pg.getJdbcUrl("postgres", "no_such_db"));
        Tandem wrongDatabase = Tandem.builder().dataSource(noSuchDatabase).build();
        engines.add(wrongDatabase);
        assertThatThrownBy(wrongDatabase::start)
                .isInstanceOf(TandemException.class)
                .hasMessageContaining("cannot connect to the database")
                .hasMessageContaining("no_such_db")
                .hasMessageContaining("does not exist");

        // With a URL Tandem owns the pool, which waits for its connection timeout (10 s) before giving up.
        long t0 = System.nanoTime();
        Tandem viaUrl = Tandem.builder().databaseUrl("jdbc:postgresql://127.0.0.1:" + closedPort + "/app").build();
        engines.add(viaUrl);
        assertThatThrownBy(viaUrl::start)
                .isInstanceOf(TandemException.class)
                .hasMessageContaining("cannot connect to the database")
                .hasMessageContaining("check that PostgreSQL is running");
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(15));
    }

    @Test
    void workflowsRunningWhileTheDatabaseRestartsAllFinishAndPayExactlyOnce() throws Exception {
        String url = createDatabase("outage_restart");
        AtomicInteger stepRuns = new AtomicInteger();
        AtomicInteger transactionRuns = new AtomicInteger();
        Tandem t = engine(url, "outage-restart");
        Workflow<Integer, String> wf = register(t, stepRuns, transactionRuns);
        t.start();

        int count = 20;
        List<WorkflowHandle<String>> handles = startAll(wf, "restart-", count);
        awaitCheckpoints(url, count * 2L); // under way: some steps recorded, none finished
        long finishedBeforeStop = queryLong(url, "SELECT count(*) FROM tandem.workflows WHERE status <> 'RUNNING'");
        CompletableFuture<WorkflowHandle<String>> startedDuringOutage;
        pg.close();
        try {
            // While it is down, a new engine cannot start, and says why.
            PGSimpleDataSource down = new PGSimpleDataSource();
            down.setURL(url);
            Tandem late = Tandem.builder().dataSource(down).build();
            engines.add(late);
            register(late, new AtomicInteger(), new AtomicInteger());
            assertThatThrownBy(late::start)
                    .isInstanceOf(TandemException.class)
                    .hasMessageContaining("cannot connect to the database");
            // A start issued during the outage waits for the database (up to its 30 s start timeout).
            startedDuringOutage = CompletableFuture.supplyAsync(
                    () -> wf.start(count, StartOptions.withId("restart-" + count)));
            Thread.sleep(1000); // the outage: workflows finish their step bodies and wait for the database
            assertThat(startedDuringOutage).isNotDone();
        } finally {
            pg = startServer(dataDir, port);
        }
        handles.add(startedDuringOutage.get(20, TimeUnit.SECONDS));

        assertAllPaidExactlyOnce(url, handles);
        assertThat(finishedBeforeStop).as("the outage caught workflows mid-way").isLessThan(count);
        assertThat(stepRuns.get()).as("step bodies that ran").isGreaterThanOrEqualTo((count + 1) * STEPS);
        assertThat(transactionRuns.get()).as("transaction bodies that ran").isGreaterThanOrEqualTo(count + 1);
        assertThat(queryLong(url, "SELECT max(attempts) FROM tandem.workflows")).isEqualTo(1);
    }

    @Test
    void anOutageLongerThanTheExecutorTimeoutWithTwoEnginesPaysEachWorkflowExactlyOnce() throws Exception {
        String url = createDatabase("outage_takeover");
        AtomicInteger stepRuns = new AtomicInteger();
        AtomicInteger transactionRuns = new AtomicInteger();
        // A beats slowly, B looks for orphans often: once the database is back, B tends to find A silent for
        // longer than the timeout before A's next heartbeat, and takes over workflows that A is still running.
        Tandem a = Tandem.builder().databaseUrl(url).executorId("takeover-a")
                .heartbeatInterval(Duration.ofMillis(250)).executorTimeout(Duration.ofMillis(500))
                .shutdownTimeout(Duration.ofSeconds(1)).build();
        Tandem b = Tandem.builder().databaseUrl(url).executorId("takeover-b")
                .heartbeatInterval(Duration.ofMillis(20)).executorTimeout(Duration.ofMillis(500))
                .shutdownTimeout(Duration.ofSeconds(1)).build();
        engines.add(a);
        engines.add(b);
        Workflow<Integer, String> wf = register(a, stepRuns, transactionRuns);
        register(b, stepRuns, transactionRuns);
        a.start();
        b.start();

        int count = 30;
        List<WorkflowHandle<String>> handles = startAll(wf, "takeover-", count); // all on A
        awaitCheckpoints(url, count * 2L);
        pg.close();
        try {
            Thread.sleep(1500); // three executor timeouts: once it is back, A's heartbeat looks stale to B
        } finally {
            pg = startServer(dataDir, port);
        }

        assertAllPaidExactlyOnce(url, handles);
        assertThat(queryLong(url, "SELECT count(*) FROM tandem.workflows WHERE executor_id NOT IN"
                + " ('takeover-a', 'takeover-b')")).isZero();
    }

    @Test
    void closingTheEngineDuringAnOutageReturnsAndItsSuccessorFinishesEverythingExactlyOnce() throws Exception {
        String url = createDatabase("outage_close");
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(url);
        config.setMaximumPoolSize(10);
        config.setConnectionTimeout(1000); // the application's own pool, which Tandem does not close
        config.setInitializationFailTimeout(-1);
        try (HikariDataSource appPool = new HikariDataSource(config)) {
            AtomicInteger stepRuns = new AtomicInteger();
            AtomicInteger transactionRuns = new AtomicInteger();
            Tandem first = Tandem.builder()
                    .dataSource(appPool)
                    .executorId("outage-close")
                    .shutdownTimeout(Duration.ofMillis(500))
                    .build();
            engines.add(first);
            Workflow<Integer, String> wf = register(first, stepRuns, transactionRuns);
            first.start();
            int count = 20;
            startAll(wf, "close-", count);
            awaitCheckpoints(url, count * 2L);

            pg.close();
            long t0 = System.nanoTime();
            try {
                first.close();
            } finally {
                pg = startServer(dataDir, port);
            }
            Duration closing = Duration.ofNanos(System.nanoTime() - t0);
            assertThat(closing).as("close() while the database is down").isLessThan(Duration.ofSeconds(10));
            assertThat(queryLong(url, "SELECT count(*) FROM tandem.workflows WHERE status = 'SUCCESS'"))
                    .isLessThan(count);

            // The application's pool reconnects on its own schedule (its timeout is 1 s): wait for it first, as an
            // application would before starting its engine again.
            awaitConnection(appPool);
            // The same executor id, restarted: it resumes its predecessor's work at start, from the checkpoints.
            Tandem second = Tandem.builder().dataSource(appPool).executorId("outage-close").build();
            engines.add(second);
            register(second, stepRuns, transactionRuns);
            second.start();
            List<WorkflowHandle<String>> handles = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                handles.add(second.handle("close-" + i));
            }
            assertAllPaidExactlyOnce(url, handles);
            assertThat(queryLong(url, "SELECT count(*) FROM tandem.workflows WHERE attempts = 2")).isPositive();
        }
    }

    @Test
    void workflowsWhoseConnectionsAreKilledRepeatedlyAllFinishAndPayExactlyOnce() throws Exception {
        String url = createDatabase("outage_terminate");
        AtomicInteger stepRuns = new AtomicInteger();
        AtomicInteger transactionRuns = new AtomicInteger();
        Tandem t = engine(url + "&ApplicationName=tandem-engine", "outage-terminate");
        Workflow<Integer, String> wf = register(t, stepRuns, transactionRuns);
        t.start();

        int count = 40;
        List<WorkflowHandle<String>> handles = startAll(wf, "terminate-", count);
        long killed = 0;
        try (Connection admin = DriverManager.getConnection(adminUrl());
                Statement st = admin.createStatement()) {
            for (int round = 0; round < 15; round++) {
                try (ResultSet rs = st.executeQuery("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                        + " WHERE application_name = 'tandem-engine'")) {
                    rs.next();
                    killed += rs.getLong(1);
                }
                Thread.sleep(40);
            }
        }

        assertThat(killed).as("connections killed").isPositive();
        assertAllPaidExactlyOnce(url, handles);
    }

    private static void awaitConnection(HikariDataSource pool) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true) {
            try (Connection c = pool.getConnection()) {
                return;
            } catch (SQLException e) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("the database did not come back", e);
                }
                Thread.sleep(100);
            }
        }
    }
}
