package dev.tandem.internal.exec;

import dev.tandem.TandemException;
import dev.tandem.internal.db.Rows.ClaimedRow;
import dev.tandem.internal.db.SqlErrors;
import dev.tandem.internal.db.ExecutorStore;
import dev.tandem.internal.db.SystemDatabase;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An executor's periodic work, on two threads of their own. The heartbeat thread only sends the heartbeat, so nothing
 * else can delay it and make a live executor look dead. The maintenance thread, every heartbeat interval: recovers
 * the workflows of dead executors; reconciles this executor's own rows (every {@value #RECONCILE_ROUNDS} rounds);
 * starts due cron ticks; cancels workflows past their deadline; fails workflows no executor can run (every
 * {@value #UNKNOWN_CHECK_ROUNDS} rounds); forgets long-dead executors; applies retention. A round that fails is
 * logged and the next one tries again.
 */
final class Maintenance {
    private static final Logger log = LoggerFactory.getLogger(Maintenance.class);
    private static final int RECOVERY_BATCH = 100;
    static final int UNKNOWN_CHECK_ROUNDS = 10;
    /** The warning about stranded workflows (view tandem.stranded), every this many rounds. */
    static final int STRANDED_CHECK_ROUNDS = 60;
    static final int RECONCILE_ROUNDS = 5;
    /** With metrics on, the queue gauges are read from the database every this many rounds, never per scrape. */
    static final int QUEUE_SIZE_ROUNDS = 5;

    private final Engine engine;
    private final EngineConfig config;
    private final SystemDatabase db;
    private final Executions executions;
    private final Resuming resuming;
    private @Nullable ScheduledExecutorService heartbeats;
    private @Nullable ScheduledExecutorService maintenance;
    private long maintenanceRounds;
    private boolean databaseWarned;
    private volatile boolean heartbeatWarned;
    private volatile boolean previousIncarnationRecovered;

    Maintenance(Engine engine, EngineConfig config, SystemDatabase db, Executions executions, Resuming resuming) {
        this.engine = engine;
        this.config = config;
        this.db = db;
        this.executions = executions;
        this.resuming = resuming;
    }

    void start() {
        long period = config.heartbeatInterval().toMillis();
        heartbeats = daemonScheduler("tandem-heartbeat");
        heartbeats.scheduleAtFixedRate(this::heartbeat, period, period, TimeUnit.MILLISECONDS);
        maintenance = daemonScheduler("tandem-maintenance");
        maintenance.scheduleWithFixedDelay(this::maintain, period, period, TimeUnit.MILLISECONDS);
    }

    /**
     * The workflow clock jumped forward (a test clock): what became due runs now, not at its old real-time deadline.
     * Waiting executions recompute what is left, the queue worker looks for delayed workflows, and a round runs at
     * once for cron ticks, deadlines and retention.
     */
    void timeJumped() {
        engine.waiters().signalAll();
        executions.wakeQueueWorker();
        engine.admin().retentionDueNow();
        runSoon();
    }

    /** Runs a maintenance round now, on the maintenance thread. */
    private void runSoon() {
        ScheduledExecutorService m = maintenance;
        if (m != null) {
            try {
                m.execute(this::maintain);
            } catch (java.util.concurrent.RejectedExecutionException e) {
                // stopping
            }
        }
    }

    /** Stops the maintenance rounds; the heartbeat goes on until {@link #stopHeartbeat}. */
    void stopMaintenance() {
        if (maintenance != null) {
            maintenance.shutdownNow();
        }
    }

    void stopHeartbeat() {
        if (heartbeats != null) {
            heartbeats.shutdownNow();
        }
    }

    /** A single daemon thread for scheduled work, named for thread dumps. */
    static ScheduledExecutorService daemonScheduler(String name) {
        return Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * The heartbeat, on a thread of its own: nothing else the executor does (recovery, cron, retention, a slow
     * query) can delay it and make a live executor look dead.
     */
    private void heartbeat() {
        try {
            if (!db.executors().heartbeat(config.executorId(), engine.incarnation())) {
                log.warn("executor '{}' lost its registration (another process with the same executorId, or a long"
                        + " outage); registering again. Give every process its own executorId.", config.executorId());
                engine.registerExecutor();
            }
            engine.telemetry().heartbeat();
            if (heartbeatWarned) {
                log.info("heartbeat of executor '{}' sent again", config.executorId());
                heartbeatWarned = false;
            }
        } catch (Exception | Error e) { // an Error must not end the scheduled task: heartbeats would stop silently
            if (!heartbeatWarned) {
                log.warn("executor '{}' could not send its heartbeat, will retry: {}", config.executorId(),
                        e.getMessage());
            }
            heartbeatWarned = true;
        }
    }

    private void maintain() {
        try {
            if (!previousIncarnationRecovered) {
                recoverPreviousIncarnation();
            }
            recoverOrphans(null, maintenanceRounds % UNKNOWN_CHECK_ROUNDS == 0);
            if (maintenanceRounds % RECONCILE_ROUNDS == 0) {
                reconcile();
            }
            engine.scheduler().runDue();
            for (String expired : db.executors().expireDeadlines()) {
                log.info("workflow '{}' passed its deadline and was cancelled", expired);
                engine.waiters().signal(expired, Waiters.CANCEL);
            }
            if (maintenanceRounds % UNKNOWN_CHECK_ROUNDS == 0) {
                db.executors().registerNames(engine.workflowNames());
                checkUnknownWorkflows();
            }
            if (maintenanceRounds % QUEUE_SIZE_ROUNDS == 0 && engine.telemetry().metricsEnabled()) {
                engine.telemetry().queueSizes(db.queues().queueSizes());
            }
            if (++maintenanceRounds % 600 == 0) {
                Duration silence = Duration.ofHours(1).compareTo(config.executorTimeout().multipliedBy(10)) > 0
                        ? Duration.ofHours(1) : config.executorTimeout().multipliedBy(10);
                db.executors().forgetDeadExecutors(silence);
            }
            engine.admin().applyRetention(config.heartbeatInterval().dividedBy(2)); // leaves the heartbeat its pace
            if (databaseWarned) {
                log.info("database reachable again; executor '{}' carries on", config.executorId());
                databaseWarned = false;
            }
        } catch (Exception | Error e) { // an Error must not end the scheduled task: heartbeats would stop silently
            if (!databaseWarned || !SqlErrors.isConnectionError(e)) {
                log.warn("executor '{}' maintenance failed (heartbeat/recovery), will retry: {}",
                        config.executorId(), e.getMessage());
            }
            databaseWarned = true;
        }
    }

    /** Warns about waiting workflows nobody runs, and fails those that waited longer than the configured time. */
    private void checkUnknownWorkflows() throws SQLException {
        Duration alive = config.executorTimeout();
        for (String failed : db.executors().failUnknownWorkflows(config.unknownWorkflowTimeout(), alive)) {
            log.error("workflow {} ended ERROR: no executor has registered its name for {} while it waited", failed,
                    config.unknownWorkflowTimeout());
        }
        db.executors().unknownWaiting(alive).forEach((name, count) -> log.warn("{} workflows named '{}' are waiting, but no running"
                + " executor has registered that name; they fail after {} unless one does", count, name,
                config.unknownWorkflowTimeout()));
        if (maintenanceRounds % STRANDED_CHECK_ROUNDS != 0) {
            return; // a scan of every workflow that has not ended, on every executor: once a minute is enough
        }
        var stranded = db.executors().stranded();
        if (stranded.count() > 0) {
            log.warn("{} workflows ({}) cannot be run by any live executor: their application version is not running;"
                    + " see view tandem.stranded, and move them with tandem.set_workflow_version, fork or cancel them",
                    stranded.count(), stranded.names());
        }
    }

    /**
     * Resumes the work this executor id left RUNNING before this process started (its previous incarnation's), at
     * once rather than after executorTimeout. If that fails (the database is unreachable at start), start goes on and
     * every maintenance round tries again until it succeeds: nobody else would recover those rows, since this
     * executor id's heartbeat is alive.
     */
    void recoverPreviousIncarnation() {
        try {
            recoverOrphans(config.executorId(), true);
            previousIncarnationRecovered = true;
        } catch (RuntimeException e) {
            log.warn("executor '{}' could not recover its previous incarnation's workflows yet, will retry: {}",
                    config.executorId(), e.getMessage());
        }
    }

    /**
     * Claims and resumes orphaned executions, in batches until none is left.
     *
     * @param previousIncarnation this executor's id at start (its own earlier incarnation's work is orphaned), else null
     * @param everyRow also look for rows of restarted or forgotten executors (a scan of every RUNNING row: at start
     *     and every tenth round); else only the rows of silent executors, through the index
     */
    void recoverOrphans(@Nullable String previousIncarnation, boolean everyRow) {
        List<String> names = engine.workflowNames();
        if (names.isEmpty()) {
            return;
        }
        while (!engine.isStopping()) {
            List<ClaimedRow> claimed;
            try {
                claimed = db.executors().claimOrphans(config.executorId(), engine.incarnation(), names, previousIncarnation,
                        config.executorTimeout(), engine.appVersion(), RECOVERY_BATCH, everyRow);
            } catch (SQLException e) {
                throw new TandemException("recovery failed: " + e.getMessage(), e);
            }
            for (ClaimedRow row : claimed) {
                log.info("recovering workflow '{}' ({}), attempt {}", row.workflowId(), row.name(), row.attempts());
                resuming.resumeClaimed(row, row.queueName(), "crash");
            }
            if (claimed.size() < RECOVERY_BATCH) {
                return;
            }
        }
    }

    /**
     * Resumes every RUNNING workflow this process owns in the database but does not run: one whose start, queue claim
     * or recovery committed while its acknowledgement was lost, or one an execution left behind. Nobody else would
     * ever resume it (this executor is alive). Rows taken within the last executorTimeout are left alone: an
     * acknowledgement may be on its way.
     */
    private void reconcile() throws SQLException {
        // No queue claim is between its commit and its hand-over to the executions while this looks: a claim that
        // waited long for a queue's lock, or a loaded machine, would otherwise make its fresh rows look forgotten.
        executions.handover().writeLock().lock();
        try {
            reconcileOwned();
        } finally {
            executions.handover().writeLock().unlock();
        }
    }

    private void reconcileOwned() throws SQLException {
        List<ExecutorStore.OwnedRow> owned = db.executors().ownedRunning(config.executorId(), engine.incarnation(),
                config.executorTimeout());
        List<ExecutorStore.OwnedRow> forgotten = new ArrayList<>();
        for (ExecutorStore.OwnedRow row : owned) {
            if (executions.local(row.workflowId()) == null) {
                forgotten.add(row);
            }
        }
        if (forgotten.isEmpty()) {
            return;
        }
        for (ClaimedRow row : db.executors().reclaimOwned(config.executorId(), engine.incarnation(), forgotten)) {
            log.warn("workflow '{}' ({}) was RUNNING on this executor but not running in it (an acknowledgement lost"
                    + " to a network or database failure); resuming it, attempt {}", row.workflowId(), row.name(),
                    row.attempts());
            resuming.resumeClaimed(row, row.queueName(), "reconciliation");
        }
    }
}
