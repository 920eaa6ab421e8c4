package dev.tandem.test;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.tandem.internal.db.Migrator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import javax.sql.DataSource;

/**
 * A test class's own database: created, migrated and given a {@link TestClock} at its first need; dropped when
 * JUnit is done with the class, or, if an application context uses it (a {@code @SpringBootTest}, whose context
 * Spring may keep beyond the class), when the JVM exits.
 */
public final class TestDatabase {
    private static final Map<Class<?>, TestDatabase> BY_CLASS = new ConcurrentHashMap<>();

    private final String url;
    private final HikariDataSource pool;
    private final TestClock clock;
    private volatile boolean keptUntilExit;

    private TestDatabase(String owner) {
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

    /** The database of {@code testClass}, created now if it has none yet. */
    public static TestDatabase of(Class<?> testClass) {
        if (testClass == null) {
            throw new IllegalArgumentException("TestDatabase.of needs the test class, not null");
        }
        return BY_CLASS.computeIfAbsent(testClass, c -> new TestDatabase(c.getSimpleName()));
    }

    /** Its JDBC URL (with the server's user and options). */
    public String url() {
        return url;
    }

    /** A small pool on it, for the test's own queries. */
    public DataSource dataSource() {
        return pool;
    }

    /** Its test clock: what {@code tandem.now()} returns in it. */
    public TestClock clock() {
        return clock;
    }

    /**
     * Keeps it until the JVM exits instead of dropping it after its class: for an application context that uses it
     * and that Spring's test context cache may keep open until then.
     */
    public void keepUntilExit() {
        if (!keptUntilExit) {
            keptUntilExit = true;
            Runtime.getRuntime().addShutdownHook(new Thread(this::drop, "tandem-test-drop-database"));
        }
    }

    /** JUnit is done with {@code testClass}. */
    static void release(Class<?> testClass) {
        TestDatabase database = BY_CLASS.get(testClass);
        if (database != null && !database.keptUntilExit) {
            BY_CLASS.remove(testClass);
            database.drop();
        }
    }

    private void drop() {
        clock.stopAutoSkip();
        pool.close();
        TestServer.shared().dropDatabase(url);
    }
}
