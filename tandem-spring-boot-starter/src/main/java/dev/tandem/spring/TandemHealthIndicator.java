package dev.tandem.spring;

import org.springframework.boot.actuate.health.AbstractHealthIndicator;
import org.springframework.boot.actuate.health.Health;

/** Health of the Tandem engine for Spring Boot 3's actuator ({@code /actuator/health/tandem}); see TandemHealth. */
final class TandemHealthIndicator extends AbstractHealthIndicator {
    private final TandemHealth health;

    TandemHealthIndicator(TandemHealth health) {
        super("Tandem health check failed");
        this.health = health;
    }

    @Override
    protected void doHealthCheck(Health.Builder builder) throws Exception {
        TandemHealth.Report report = health.check();
        (report.up() ? builder.up() : builder.down()).withDetails(report.details());
    }
}
