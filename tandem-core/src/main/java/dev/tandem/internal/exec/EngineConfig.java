package dev.tandem.internal.exec;

import dev.tandem.WorkflowClock;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tandem.internal.db.QueueStore.QueueRow;
import dev.tandem.internal.observe.Telemetry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;

/** Validated settings of one engine (built by {@code TandemBuilder}). */
public record EngineConfig(
        DataSource dataSource,
        String executorId,
        boolean migrate,
        Duration heartbeatInterval,
        Duration executorTimeout,
        int maxRecoveryAttempts,
        boolean virtualThreads,
        int maxConcurrentWorkflows,
        Duration shutdownTimeout,
        @Nullable ObjectMapper objectMapper,
        Map<String, QueueRow> queues,
        Duration pollInterval,
        Duration unknownWorkflowTimeout,
        @Nullable Duration retention,
        Telemetry telemetry,
        @Nullable String appVersion,
        List<String> compatibleWith,
        WorkflowClock clock) {}
