package dev.tandem.internal.exec;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.tandem.ForkOptions;
import dev.tandem.StepInfo;
import dev.tandem.TandemException;
import dev.tandem.WorkflowConflictException;
import dev.tandem.WorkflowHandle;
import dev.tandem.WorkflowInfo;
import dev.tandem.WorkflowQuery;
import dev.tandem.internal.db.AdminStore;
import dev.tandem.internal.db.SqlErrors;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operators' side of an engine: listing workflows and steps, fork, deleting ended workflows, and the retention
 * that deletes them from the maintenance thread. Thread-safe, except {@link #applyRetention}, which only the
 * maintenance thread calls.
 */
public final class Admin {
    private static final Logger log = LoggerFactory.getLogger(Admin.class);
    /** Workflows per call of tandem.delete_workflows: each batch is one short transaction. */
    static final int DELETE_BATCH = 1000;
    private static final long RETENTION_PERIOD_NANOS = TimeUnit.MINUTES.toNanos(1);

    private final Engine engine;
    private final AdminStore store;
    private final @Nullable Duration retention;
    private volatile long nextRetentionAt = System.nanoTime(); // due at once: the first maintenance round after start
    private int deletedThisSweep;

    Admin(Engine engine, DataSource dataSource, @Nullable Duration retention) {
        this.engine = engine;
        this.store = new AdminStore(dataSource);
        this.retention = retention;
    }

    public List<WorkflowInfo> listWorkflows(WorkflowQuery query) {
        if (query == null) {
            throw new IllegalArgumentException("query must not be null; use WorkflowQuery.all()");
        }
        try {
            return store.listWorkflows(query);
        } catch (SQLException e) {
            throw new TandemException("failed to list workflows (" + query + "): " + AdminStore.reason(e), e);
        }
    }

    public List<StepInfo> listSteps(String workflowId) {
        requireId(workflowId);
        try {
            return store.listSteps(workflowId).orElseThrow(() -> new IllegalArgumentException(
                    "no workflow with id '" + workflowId + "' exists"));
        } catch (SQLException e) {
            throw new TandemException("failed to list the steps of workflow '" + workflowId + "': "
                    + AdminStore.reason(e), e);
        }
    }

    public <O> WorkflowHandle<O> fork(String workflowId, int startStep, ForkOptions options) {
        requireId(workflowId);
        if (startStep < 1) {
            throw new IllegalArgumentException("startStep must be at least 1, the first step (was " + startStep + ")");
        }
        if (options == null) {
            throw new IllegalArgumentException("options must not be null; use ForkOptions.defaults()");
        }
        String newId;
        try {
            newId = store.fork(workflowId, startStep, options.workflowId(), options.queueName());
        } catch (SQLException e) {
            String state = e.getSQLState();
            if ("P0002".equals(state) || "22023".equals(state)) { // no_data_found, invalid_parameter_value
                throw new IllegalArgumentException(AdminStore.reason(e), e);
            }
            if ("23505".equals(state)) {
                throw new WorkflowConflictException(AdminStore.reason(e));
            }
            throw new TandemException("failed to fork workflow '" + workflowId + "' at step " + startStep + ": "
                    + AdminStore.reason(e), e);
        }
        return new Handle<>(engine, newId, null);
    }

    /** Deletes, in batches, every workflow that ended more than {@code olderThan} ago; returns how many. */
    public int deleteWorkflows(Duration olderThan) {
        if (olderThan == null || olderThan.isNegative()) {
            throw new IllegalArgumentException("olderThan must be zero or positive (was " + olderThan + ")");
        }
        int total = 0;
        try {
            int deleted;
            do {
                deleted = store.deleteWorkflows(olderThan, DELETE_BATCH);
                total += deleted;
            } while (deleted == DELETE_BATCH);
            return total;
        } catch (SQLException e) {
            throw new TandemException("failed to delete workflows that ended more than " + olderThan + " ago, after"
                    + " deleting " + total + ": " + AdminStore.reason(e), e);
        }
    }

    /**
     * Retention, from the maintenance thread: once a minute deletes the workflows that ended longer ago than the
     * configured age, in batches. It stops after {@code budget} so that the heartbeat keeps its pace, and carries on
     * with a backlog in the next round.
     */
    void applyRetention(Duration budget) {
        Duration olderThan = retention;
        long now = System.nanoTime();
        if (olderThan == null || now - nextRetentionAt < 0) {
            return;
        }
        long stopAt = now + budget.toNanos();
        try {
            int deleted;
            do {
                deleted = store.deleteWorkflows(olderThan, DELETE_BATCH);
                deletedThisSweep += deleted;
            } while (deleted == DELETE_BATCH && System.nanoTime() - stopAt < 0);
            if (deleted == DELETE_BATCH) {
                return; // more to delete: the next round carries on
            }
            if (deletedThisSweep > 0) {
                log.info("retention: deleted {} workflows that ended more than {} ago", deletedThisSweep, olderThan);
            }
        } catch (SQLException e) {
            if (!SqlErrors.isConnectionError(e)) { // the heartbeat reports an unreachable database already
                log.warn("retention failed after deleting {} workflows, will retry in a minute: {}", deletedThisSweep,
                        AdminStore.reason(e));
            }
        }
        deletedThisSweep = 0;
        nextRetentionAt = now + RETENTION_PERIOD_NANOS;
    }

    /** The workflow clock jumped: workflows may have aged past the retention; the next round looks. */
    void retentionDueNow() {
        nextRetentionAt = System.nanoTime();
    }

    /** Decodes stored JSON with the engine's object mapper. */
    public <T> @Nullable T decode(@Nullable String json, Class<T> type) {
        if (type == null) {
            throw new IllegalArgumentException("type must not be null");
        }
        if (json == null) {
            return null;
        }
        try {
            return engine.json().read(json, type);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("cannot decode JSON as " + type.getName() + ": "
                    + e.getOriginalMessage() + "; JSON was " + json, e);
        }
    }

    private static void requireId(String workflowId) {
        if (workflowId == null || workflowId.isBlank()) {
            throw new IllegalArgumentException("workflowId must not be null or blank");
        }
    }
}
