package dev.tandem.testing;

import static dev.tandem.testing.FaultyDataSource.containing;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.postgresql.ds.PGSimpleDataSource;
import org.postgresql.util.PSQLException;

/** The fault-injection kit itself: each fault happens when armed, is counted, and stops when disarmed. */
class FaultKitTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    @BeforeAll
    static void createTable() {
        db.execute("CREATE TABLE kit (id int PRIMARY KEY)");
    }

    static FaultyDataSource faulty() {
        PGSimpleDataSource real = new PGSimpleDataSource();
        real.setURL(db.url());
        return new FaultyDataSource(real);
    }

    static void insert(Connection c, int id) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.executeUpdate("INSERT INTO kit VALUES (" + id + ")");
        }
    }

    @Test
    void aFailedStatementFailsWithItsSqlStateWithoutRunningAsOftenAsAsked() throws Exception {
        FaultyDataSource faulty = faulty();
        FaultyDataSource.Rule rule = faulty.failStatement(containing("insert into kit"), "25006", 2);
        try (Connection c = faulty.getConnection()) {
            for (int i = 1; i <= 2; i++) {
                int id = i;
                assertThatThrownBy(() -> insert(c, id)).isInstanceOfSatisfying(PSQLException.class, e -> {
                    assertThat(e.getSQLState()).isEqualTo("25006");
                    assertThat(e.getServerErrorMessage()).isNotNull();
                    assertThat(e.getMessage()).contains("injected");
                });
            }
            insert(c, 3); // spent: runs normally
            try (var ps = c.prepareStatement("INSERT INTO kit VALUES (?)")) {
                ps.setInt(1, 4);
                ps.executeUpdate();
            }
        }
        assertThat(rule.fired()).isEqualTo(2);
        assertThat(rule.armed()).isFalse();
        assertThat(db.queryString("SELECT string_agg(id::text, ',' ORDER BY id) FROM kit WHERE id <= 4"))
                .isEqualTo("3,4");
    }

    @Test
    void aRuleWithoutACountFiresOnPreparedStatementsUntilDisarmed() throws Exception {
        FaultyDataSource faulty = faulty();
        FaultyDataSource.Rule rule = faulty.failStatement(FaultyDataSource.matching("(?i)^select .* from kit"), "57014");
        try (Connection c = faulty.getConnection();
                var ps = c.prepareStatement("SELECT count(*) FROM kit WHERE id > ?")) {
            ps.setInt(1, 0);
            for (int i = 0; i < 3; i++) {
                assertThatThrownBy(ps::executeQuery).isInstanceOf(SQLException.class)
                        .extracting(e -> ((SQLException) e).getSQLState()).isEqualTo("57014");
            }
            rule.disarm();
            try (ResultSet rs = ps.executeQuery()) {
                assertThat(rs.next()).isTrue();
            }
        }
        assertThat(rule.fired()).isEqualTo(3);
    }

    @Test
    void aLostReplyCommitsThenBreaksTheConnectionWith08006() throws Exception {
        FaultyDataSource faulty = faulty();
        FaultyDataSource.Rule rule = faulty.loseReplyAfterCommit(containing("VALUES (10)"), 1);
        FaultyDataSource.Rule onCommit = faulty.loseReplyAfterCommit(FaultyDataSource.matching("^COMMIT$"), 1);
        try (Connection c = faulty.getConnection()) {
            assertThatThrownBy(() -> insert(c, 10)).isInstanceOf(SQLException.class)
                    .extracting(e -> ((SQLException) e).getSQLState()).isEqualTo("08006");
            assertThat(c.isValid(1)).isFalse(); // the physical connection is gone
        }
        try (Connection c = faulty.getConnection()) { // commit() is matched as COMMIT
            c.setAutoCommit(false);
            insert(c, 11);
            assertThatThrownBy(c::commit).isInstanceOf(SQLException.class)
                    .extracting(e -> ((SQLException) e).getSQLState()).isEqualTo("08006");
        }
        assertThat(rule.fired()).isEqualTo(1);
        assertThat(onCommit.fired()).isEqualTo(1);
        // Both committed although their callers were told the connection failed.
        assertThat(db.queryLong("SELECT count(*) FROM kit WHERE id IN (10, 11)")).isEqualTo(2);
    }

    @Test
    void refusedConnectionsAreTransientAndCounted() throws Exception {
        FaultyDataSource faulty = faulty();
        faulty.failConnections(true);
        assertThatThrownBy(faulty::getConnection).isInstanceOfSatisfying(SQLTransientConnectionException.class,
                e -> assertThat(e.getSQLState()).isEqualTo("08001"));
        assertThat(faulty.connectionsRefused()).isEqualTo(1);
        faulty.failConnections(false);
        try (Connection c = faulty.getConnection()) {
            assertThat(c.isValid(1)).isTrue();
        }
    }

    @Test
    void anObserverCountsStatementsThatRan() throws Exception {
        FaultyDataSource faulty = faulty();
        FaultyDataSource.Rule seen = faulty.observe(containing("LISTEN kit_channel"));
        FaultyDataSource.Rule failing = faulty.failStatement(containing("LISTEN kit_channel"), "25006", 1);
        try (Connection c = faulty.getConnection(); Statement st = c.createStatement()) {
            assertThatThrownBy(() -> st.execute("LISTEN kit_channel")).isInstanceOf(SQLException.class);
            st.execute("LISTEN kit_channel");
        }
        assertThat(failing.fired()).isEqualTo(1);
        assertThat(seen.fired()).isEqualTo(1);
    }

    @Test
    void aFrozenProxyLeavesTheConnectionOpenAndSilentUntilTheSocketTimeout() throws Exception {
        try (TcpProxy proxy = TcpProxy.to(db.url())) {
            String url = proxy.jdbcUrl(db.url()) + "&socketTimeout=2";
            try (Connection frozen = DriverManager.getConnection(url);
                    Connection other = DriverManager.getConnection(url)) {
                assertThat(frozen.isValid(1)).isTrue();
                assertThat(proxy.links()).hasSize(2);
                proxy.freeze();
                long t0 = System.nanoTime();
                assertThatThrownBy(() -> frozen.createStatement().execute("SELECT 1"))
                        .isInstanceOf(SQLException.class)
                        .extracting(e -> ((SQLException) e).getSQLState()).isEqualTo("08006");
                Duration detected = Duration.ofNanos(System.nanoTime() - t0);
                assertThat(detected).isBetween(Duration.ofMillis(1500), Duration.ofSeconds(6));
                proxy.unfreeze();
                assertThat(other.isValid(2)).isTrue(); // held bytes flow again
                proxy.cutAll();
                assertThat(other.isValid(2)).isFalse();
            }
        }
    }

    @Test
    void oneConnectionCanBeFrozenAlone() throws Exception {
        try (TcpProxy proxy = TcpProxy.to(db.url())) {
            String url = proxy.jdbcUrl(db.url()) + "&socketTimeout=1";
            try (Connection a = DriverManager.getConnection(url)) {
                int pid = a.unwrap(org.postgresql.PGConnection.class).getBackendPID();
                long port = db.queryLong("SELECT client_port FROM pg_stat_activity WHERE pid = " + pid);
                try (Connection b = DriverManager.getConnection(url)) {
                    TcpProxy.Link link = proxy.links().stream().filter(l -> l.upstreamLocalPort() == port)
                            .findFirst().orElseThrow();
                    link.freeze();
                    assertThat(b.isValid(1)).isTrue();
                    assertThat(a.isValid(1)).isFalse();
                }
            }
        }
    }
}
