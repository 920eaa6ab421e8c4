package dev.tandem.spring;

import java.util.ArrayList;
import java.util.List;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Starts test applications as a user would (SpringApplication with auto-configuration), without spring-test's context
 * cache: each test closes what it started, before its database is dropped.
 */
final class Apps {
    private Apps() {}

    static ConfigurableApplicationContext run(Class<?> app, String url, String... properties) {
        List<String> all = new ArrayList<>(List.of("spring.datasource.url=" + url, "spring.main.banner-mode=off",
                "spring.main.log-startup-info=false", "logging.level.root=WARN",
                "spring.datasource.hikari.maximum-pool-size=8", "tandem.heartbeat-interval=200ms",
                "tandem.executor-timeout=2s", "spring.jpa.open-in-view=false",
                "spring.data.jpa.repositories.enabled=false"));
        all.addAll(List.of(properties));
        return new SpringApplicationBuilder(app).web(WebApplicationType.NONE)
                .properties(all.toArray(String[]::new)).run();
    }
}
