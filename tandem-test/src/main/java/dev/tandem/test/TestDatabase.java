package dev.tandem.test;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.tandem.internal.db.Migrator;
import javax.sql.DataSource;

/** A test class's own database: created, migrated and given a test clock before its first test; dropped after. */
final class TestDatabase implements AutoCloseable {
    private final String url;
    private final HikariDataSource pool;
    private final TestClock clock;

    TestDatabase(String owner) {
        this.url = TestServer.shared().createDatabase(owner);
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(url);
        config.setMaximumPoolSize(24);
        config.setMinimumIdle(0);
        config.setPoolName("tandem-test-" + owner);
        this.pool = new HikariDataSource(config);
        Migrator.migrate(pool);
        this.clock = TestClock.install(pool);
    }

    String url() {
        return url;
    }

    DataSource dataSource() {
        return pool;
    }

    TestClock clock() {
        return clock;
    }

    @Override
    public void close() {
        clock.stopAutoSkip();
        pool.close();
        TestServer.shared().dropDatabase(url);
    }
}
