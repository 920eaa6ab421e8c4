package dev.tandem.spring;

import dev.tandem.Tandem;
import javax.sql.DataSource;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingClass;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The {@code tandem} health indicator, when the actuator is on the class path: Spring Boot 3's ({@code
 * org.springframework.boot.actuate.health}) or Spring Boot 4's ({@code org.springframework.boot.health.contributor}).
 */
@AutoConfiguration(after = TandemAutoConfiguration.class)
@ConditionalOnBean({Tandem.class, TandemLifecycle.class})
public class TandemHealthConfiguration {
    private static final String BOOT4_INDICATOR = "org.springframework.boot.health.contributor.HealthIndicator";

    static TandemHealth health(Tandem tandem, TandemLifecycle lifecycle, ObjectProvider<DataSource> dataSources,
            TandemProperties properties) {
        DataSource dataSource = dataSources.getIfUnique();
        return new TandemHealth(tandem, lifecycle, dataSource != null ? dataSource : tandem.dataSource(),
                properties.getExecutorTimeout());
    }

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = BOOT4_INDICATOR)
    static class Boot4 {
        @Bean
        @ConditionalOnMissingBean(name = "tandemHealthIndicator")
        TandemBoot4HealthIndicator tandemHealthIndicator(Tandem tandem, TandemLifecycle lifecycle,
                ObjectProvider<DataSource> dataSources, TandemProperties properties) {
            return new TandemBoot4HealthIndicator(health(tandem, lifecycle, dataSources, properties));
        }
    }

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = "org.springframework.boot.actuate.health.HealthIndicator")
    @ConditionalOnMissingClass(BOOT4_INDICATOR)
    static class Boot3 {
        @Bean
        @ConditionalOnMissingBean(name = "tandemHealthIndicator")
        TandemHealthIndicator tandemHealthIndicator(Tandem tandem, TandemLifecycle lifecycle,
                ObjectProvider<DataSource> dataSources, TandemProperties properties) {
            return new TandemHealthIndicator(health(tandem, lifecycle, dataSources, properties));
        }
    }
}
