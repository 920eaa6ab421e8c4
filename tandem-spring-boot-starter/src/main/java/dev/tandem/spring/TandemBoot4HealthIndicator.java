package dev.tandem.spring;

import org.springframework.boot.health.contributor.AbstractHealthIndicator;
import org.springframework.boot.health.contributor.Health;

/** Health of the Tandem engine for Spring Boot 4's actuator ({@code /actuator/health/tandem}); see TandemHealth. */
final class TandemBoot4HealthIndicator extends AbstractHealthIndicator {
    private final TandemHealth health;

    TandemBoot4HealthIndicator(TandemHealth health) {
        super("Tandem health check failed");
        this.health = health;
    }

    @Override
    protected void doHealthCheck(Health.Builder builder) throws Exception {
        TandemHealth.Report report = health.check();
        (report.up() ? builder.up() : builder.down()).withDetails(report.details());
    }
}
