package dev.tandem.spring;

import dev.tandem.Tandem;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.sql.DataSource;

/**
 * What the health indicators report, without the actuator's types (they moved between Spring Boot 3 and 4): the
 * engine is up while it runs and its heartbeat is younger than {@code tandem.executor-timeout}, after which other
 * executors may take its workflows over. Details: executor id, heartbeat age, schema version.
 */
final class TandemHealth {
    private final Tandem tandem;
    private final TandemLifecycle lifecycle;
    private final DataSource dataSource;
    private final Duration executorTimeout;

    TandemHealth(Tandem tandem, TandemLifecycle lifecycle, DataSource dataSource, Duration executorTimeout) {
        this.tandem = tandem;
        this.lifecycle = lifecycle;
        this.dataSource = dataSource;
        this.executorTimeout = executorTimeout;
    }

    /** The report; {@code up} false with a reason in the details when down. */
    record Report(boolean up, Map<String, Object> details) {}

    Report check() throws SQLException {
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("executorId", tandem.executorId());
        details.put("running", lifecycle.isRunning());
        if (!lifecycle.isRunning()) {
            details.put("reason", "the engine is not running");
            return new Report(false, details);
        }
        Long heartbeatAgeMillis = null;
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement("SELECT (SELECT max(version) FROM tandem.schema_version),"
                        + " (SELECT (extract(epoch FROM now() - heartbeat_at) * 1000)::bigint FROM tandem.executors"
                        + " WHERE executor_id = ?)")) {
            ps.setString(1, tandem.executorId());
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                details.put("schemaVersion", rs.getInt(1));
                long age = rs.getLong(2);
                heartbeatAgeMillis = rs.wasNull() ? null : age;
            }
        }
        if (heartbeatAgeMillis == null) {
            details.put("reason", "this executor has no heartbeat row");
            return new Report(false, details);
        }
        details.put("heartbeatAge", Duration.ofMillis(heartbeatAgeMillis).toString());
        if (heartbeatAgeMillis > executorTimeout.toMillis()) {
            details.put("reason", "the heartbeat is older than tandem.executor-timeout (" + executorTimeout
                    + "): other executors may take this one's workflows over");
            return new Report(false, details);
        }
        return new Report(true, details);
    }
}
