package dev.tandem.spring;

import dev.tandem.AmbientTransaction;
import dev.tandem.QueueOptions;
import dev.tandem.Tandem;
import dev.tandem.TandemBuilder;
import dev.tandem.TransactionRunner;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.PlatformTransactionManager;

/**
 * Auto-configures a {@link Tandem} engine on the application's {@link DataSource} (which must be PostgreSQL), with
 * {@code tandem.*} properties ({@link TandemProperties}) and {@link TandemCustomizer} beans; {@link
 * SpringAmbientTransaction} makes {@code enqueue} and {@code send} join the Spring transaction active on the thread,
 * and {@link SpringTransactionRunner} runs transactional steps with the application's {@link
 * PlatformTransactionManager}. {@link TandemLifecycle} registers the {@link WorkflowDefinition} beans and the {@link
 * Workflow @Workflow} methods ({@link AnnotatedWorkflows}) and starts the engine after the context is refreshed. Names
 * of Boot's auto-configurations are given as strings, for their Spring Boot 3 and 4 packages.
 */
@AutoConfiguration(afterName = {
        "org.springframework.boot.autoconfigure.jdbc.DataSourceAutoConfiguration",
        "org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration",
        "org.springframework.boot.autoconfigure.jdbc.DataSourceTransactionManagerAutoConfiguration",
        "org.springframework.boot.jdbc.autoconfigure.DataSourceTransactionManagerAutoConfiguration",
        "org.springframework.boot.autoconfigure.orm.jpa.HibernateJpaAutoConfiguration",
        "org.springframework.boot.hibernate.autoconfigure.HibernateJpaAutoConfiguration",
        "org.springframework.boot.autoconfigure.transaction.TransactionAutoConfiguration",
        "org.springframework.boot.transaction.autoconfigure.TransactionAutoConfiguration"})
@ConditionalOnClass({Tandem.class, DataSource.class, PlatformTransactionManager.class})
@ConditionalOnProperty(prefix = "tandem", name = "enabled", havingValue = "true", matchIfMissing = true)
@EnableConfigurationProperties(TandemProperties.class)
public class TandemAutoConfiguration {
    private static final Logger log = LoggerFactory.getLogger(TandemAutoConfiguration.class);

    @Bean
    @ConditionalOnMissingBean
    public AmbientTransaction tandemAmbientTransaction(ObjectProvider<DataSource> dataSources) {
        return new SpringAmbientTransaction(dataSource(dataSources));
    }

    @Bean
    @ConditionalOnMissingBean
    public TransactionRunner tandemTransactionRunner(ObjectProvider<DataSource> dataSources,
            ObjectProvider<PlatformTransactionManager> transactionManagers) {
        DataSource dataSource = dataSource(dataSources);
        PlatformTransactionManager manager = transactionManagers.getIfUnique();
        if (manager == null) {
            // No manager, or several and none primary: one on Tandem's DataSource. JdbcTemplate and JdbcClient join
            // its transactions; JPA does not (declare a primary JpaTransactionManager for that).
            log.info("Tandem: no unique PlatformTransactionManager; transactional steps use a"
                    + " DataSourceTransactionManager of their own on the application's DataSource");
            manager = new DataSourceTransactionManager(dataSource);
        }
        return new SpringTransactionRunner(manager, dataSource);
    }

    @Bean
    @ConditionalOnMissingBean
    public Tandem tandem(ObjectProvider<DataSource> dataSources, TandemProperties properties,
            AmbientTransaction ambientTransaction, TransactionRunner transactionRunner,
            ObjectProvider<TandemCustomizer> customizers) {
        DataSource dataSource = dataSource(dataSources);
        requirePostgreSql(dataSource);
        TandemBuilder builder = builder(properties).dataSource(dataSource)
                .ambientTransaction(ambientTransaction)
                .transactionRunner(transactionRunner);
        customizers.orderedStream().forEach(c -> c.customize(builder));
        return builder.build();
    }

    @Bean
    @ConditionalOnBean(Tandem.class)
    @ConditionalOnMissingBean
    public TandemLifecycle tandemLifecycle(Tandem tandem, ObjectProvider<WorkflowDefinition<?, ?>> definitions,
            ObjectProvider<AnnotatedWorkflows> annotated) {
        return new TandemLifecycle(tandem, definitions.orderedStream().toList(), annotated.getIfUnique());
    }

    /**
     * Proxies the beans with {@code @Workflow}, {@code @Step} and {@code @TransactionalStep} methods. Static: a
     * BeanPostProcessor is created before the other beans, and must not make this configuration be created early.
     */
    @Bean
    static TandemAnnotationPostProcessor tandemAnnotationPostProcessor() {
        return new TandemAnnotationPostProcessor();
    }

    /** The {@code @Workflow} methods' workflows, by name, to start them. */
    @Bean
    @ConditionalOnMissingBean
    AnnotatedWorkflows annotatedWorkflows(TandemAnnotationPostProcessor postProcessor) {
        return postProcessor.workflows();
    }

    /** Passes the application's Micrometer registry to the engine (Tandem's meters: docs/observability.md). */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = "io.micrometer.core.instrument.MeterRegistry")
    static class Metrics {
        @Bean
        TandemCustomizer tandemMeterRegistry(
                ObjectProvider<io.micrometer.core.instrument.MeterRegistry> registries) {
            return builder -> registries.ifUnique(builder::meterRegistry);
        }
    }

    /** Passes the application's OpenTelemetry to the engine (spans: docs/observability.md). */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = "io.opentelemetry.api.OpenTelemetry")
    static class Tracing {
        @Bean
        TandemCustomizer tandemOpenTelemetry(ObjectProvider<io.opentelemetry.api.OpenTelemetry> openTelemetries) {
            return builder -> openTelemetries.ifUnique(builder::openTelemetry);
        }
    }

    private static DataSource dataSource(ObjectProvider<DataSource> dataSources) {
        DataSource dataSource = dataSources.getIfUnique();
        if (dataSource == null) {
            throw new IllegalStateException("Tandem needs the application's DataSource, a PostgreSQL database, and"
                    + " there is " + (dataSources.stream().findAny().isPresent()
                            ? "more than one without a @Primary one" : "none (set spring.datasource.url)")
                    + "; or set tandem.enabled=false");
        }
        return dataSource;
    }

    /** Fails startup clearly if the DataSource is not PostgreSQL, rather than with Tandem's first SQL error. */
    static void requirePostgreSql(DataSource dataSource) {
        String product;
        String url;
        try (Connection connection = dataSource.getConnection()) {
            DatabaseMetaData metaData = connection.getMetaData();
            product = metaData.getDatabaseProductName();
            url = metaData.getURL();
        } catch (SQLException e) {
            throw new IllegalStateException("Tandem cannot connect to the application's DataSource to check that it is"
                    + " PostgreSQL: " + e.getMessage(), e);
        }
        if (!"PostgreSQL".equalsIgnoreCase(product)) {
            throw new IllegalStateException("Tandem needs a PostgreSQL DataSource (it keeps its state in schema tandem"
                    + " of the application's database), but the application's DataSource (" + url + ") is " + product
                    + "; point spring.datasource.url at PostgreSQL, or set tandem.enabled=false");
        }
    }

    /** A builder with the properties applied; each value that cannot work is refused, naming its property. */
    static TandemBuilder builder(TandemProperties p) {
        TandemBuilder b = Tandem.builder();
        String executorId = p.getExecutorId() != null ? p.getExecutorId() : hostName();
        if (executorId != null) {
            if (executorId.isBlank()) {
                throw invalid("executor-id", executorId, "must not be blank");
            }
            b.executorId(executorId);
        }
        b.migrate(p.isMigrate());
        b.heartbeatInterval(positive("heartbeat-interval", p.getHeartbeatInterval()));
        b.executorTimeout(positive("executor-timeout", p.getExecutorTimeout()));
        if (p.getExecutorTimeout().compareTo(p.getHeartbeatInterval().multipliedBy(2)) < 0) {
            throw invalid("executor-timeout", p.getExecutorTimeout(), "must be at least twice"
                    + " tandem.heartbeat-interval (" + p.getHeartbeatInterval() + ")");
        }
        b.shutdownTimeout(positive("shutdown-timeout", p.getShutdownTimeout()));
        b.pollInterval(positive("poll-interval", p.getPollInterval()));
        b.unknownWorkflowTimeout(positive("unknown-workflow-timeout", p.getUnknownWorkflowTimeout()));
        if (p.getRetention() != null) {
            b.retention(positive("retention", p.getRetention()));
        }
        if (p.getMaxRecoveryAttempts() < 0) {
            throw invalid("max-recovery-attempts", p.getMaxRecoveryAttempts(), "must be zero or more");
        }
        b.maxRecoveryAttempts(p.getMaxRecoveryAttempts());
        b.virtualThreads(p.isVirtualThreads());
        if (p.getMaxConcurrentWorkflows() < 1) {
            throw invalid("max-concurrent-workflows", p.getMaxConcurrentWorkflows(), "must be at least 1");
        }
        b.maxConcurrentWorkflows(p.getMaxConcurrentWorkflows());
        for (Map.Entry<String, TandemProperties.Queue> e : p.getQueues().entrySet()) {
            b.queue(e.getKey(), queue(e.getKey(), e.getValue()));
        }
        return b;
    }

    private static QueueOptions queue(String name, TandemProperties.Queue q) {
        String prefix = "queues." + name + ".";
        atLeastOne(prefix + "concurrency", q.getConcurrency());
        atLeastOne(prefix + "worker-concurrency", q.getWorkerConcurrency());
        atLeastOne(prefix + "rate-limit", q.getRateLimit());
        atLeastOne(prefix + "partition-concurrency", q.getPartitionConcurrency());
        if ((q.getRateLimit() == null) != (q.getRatePeriod() == null)) {
            String missing = q.getRateLimit() == null ? "rate-limit" : "rate-period";
            String set = q.getRateLimit() == null ? "rate-period" : "rate-limit";
            throw invalid(prefix + missing, null, "must be set together with tandem." + prefix + set);
        }
        if (q.getRatePeriod() != null && q.getRatePeriod().toMillis() < 1) {
            throw invalid(prefix + "rate-period", q.getRatePeriod(), "must be at least 1 ms");
        }
        return new QueueOptions(q.getConcurrency(), q.getWorkerConcurrency(), q.getRateLimit(), q.getRatePeriod(),
                q.getPartitionConcurrency());
    }

    private static void atLeastOne(String property, @Nullable Integer value) {
        if (value != null && value < 1) {
            throw invalid(property, value, "must be at least 1 (or unset for no limit)");
        }
    }

    private static Duration positive(String property, @Nullable Duration value) {
        if (value == null || value.isZero() || value.isNegative()) {
            throw invalid(property, value, "must be positive");
        }
        return value;
    }

    private static InvalidConfigurationPropertyValueException invalid(String property, @Nullable Object value,
            String reason) {
        return new InvalidConfigurationPropertyValueException("tandem." + property, value, reason);
    }

    /** The host name, the default executor id (a pod's name on Kubernetes); null if it cannot be told. */
    private static @Nullable String hostName() {
        String env = System.getenv("HOSTNAME");
        if (env != null && !env.isBlank()) {
            return env;
        }
        try {
            String name = InetAddress.getLocalHost().getHostName();
            return name == null || name.isBlank() ? null : name;
        } catch (UnknownHostException e) {
            return null; // the builder's default: a random id
        }
    }
}
