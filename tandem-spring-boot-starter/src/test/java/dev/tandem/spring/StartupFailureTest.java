package dev.tandem.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tandem.testing.TestDatabase;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.context.annotation.Bean;

/** Bad tandem.* values and a DataSource that is not PostgreSQL stop the application, saying what is wrong. */
class StartupFailureTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    @Test
    void aNegativeDurationNamesItsProperty() {
        assertThatThrownBy(() -> Apps.run(JdbcApp.class, db.url(), "tandem.heartbeat-interval=-1s"))
                .satisfies(e -> assertThat(messages(e)).contains("tandem.heartbeat-interval")
                        .contains("must be positive"));
    }

    @Test
    void anExecutorTimeoutShorterThanTwoHeartbeatsNamesItsProperty() {
        assertThatThrownBy(() -> Apps.run(JdbcApp.class, db.url(), "tandem.heartbeat-interval=1s",
                "tandem.executor-timeout=1500ms"))
                .satisfies(e -> assertThat(messages(e)).contains("tandem.executor-timeout")
                        .contains("at least twice tandem.heartbeat-interval"));
    }

    @Test
    void aQueueLimitOfZeroNamesItsProperty() {
        assertThatThrownBy(() -> Apps.run(JdbcApp.class, db.url(), "tandem.queues.emails.concurrency=0"))
                .satisfies(e -> assertThat(messages(e)).contains("tandem.queues.emails.concurrency")
                        .contains("at least 1"));
    }

    @Test
    void aRateLimitWithoutAPeriodNamesBoth() {
        assertThatThrownBy(() -> Apps.run(JdbcApp.class, db.url(), "tandem.queues.emails.rate-limit=5"))
                .satisfies(e -> assertThat(messages(e)).contains("tandem.queues.emails.rate-period")
                        .contains("tandem.queues.emails.rate-limit"));
    }

    @Test
    void aValueThatIsNotADurationNamesItsProperty() {
        assertThatThrownBy(() -> Apps.run(JdbcApp.class, db.url(), "tandem.executor-timeout=soon"))
                .satisfies(e -> assertThat(messages(e)).contains("tandem.executor-timeout"));
    }

    @Test
    void aDataSourceThatIsNotPostgreSqlFailsClearly() {
        assertThatThrownBy(() -> Apps.run(NotPostgres.class, "jdbc:h2:mem:unused"))
                .satisfies(e -> assertThat(messages(e)).contains("Tandem needs a PostgreSQL DataSource")
                        .contains("is H2"));
    }

    /** An application whose DataSource says it is H2 (a stub: no H2 here). */
    @SpringBootConfiguration
    @EnableAutoConfiguration(excludeName = {
            "org.springframework.boot.autoconfigure.orm.jpa.HibernateJpaAutoConfiguration",
            "org.springframework.boot.hibernate.autoconfigure.HibernateJpaAutoConfiguration"})
    static class NotPostgres {
        @Bean
        DataSource dataSource() {
            DatabaseMetaData metaData = (DatabaseMetaData) Proxy.newProxyInstance(getClass().getClassLoader(),
                    new Class<?>[] {DatabaseMetaData.class}, (proxy, method, args) -> switch (method.getName()) {
                        case "getDatabaseProductName" -> "H2";
                        case "getURL" -> "jdbc:h2:mem:stub";
                        default -> null;
                    });
            Connection connection = (Connection) Proxy.newProxyInstance(getClass().getClassLoader(),
                    new Class<?>[] {Connection.class}, (proxy, method, args) -> switch (method.getName()) {
                        case "getMetaData" -> metaData;
                        case "isClosed", "isReadOnly" -> false;
                        case "getAutoCommit", "isValid" -> true;
                        default -> null;
                    });
            return (DataSource) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {DataSource.class},
                    (proxy, method, args) -> switch (method.getName()) {
                        case "getConnection" -> connection;
                        case "toString" -> "stub DataSource";
                        case "hashCode" -> System.identityHashCode(proxy);
                        case "equals" -> proxy == args[0];
                        default -> null;
                    });
        }
    }

    /** The messages of an exception and its causes: Spring wraps the one that names the property. */
    private static String messages(Throwable e) {
        StringBuilder all = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            all.append(t.getMessage()).append('\n');
        }
        return all.toString();
    }
}
