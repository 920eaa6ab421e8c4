package dev.tandem;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.testing.WorkerJvm;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * A minute of faults over a running mix. Two workers in child JVMs ({@link ChaosWorker}, executors {@code chaos-a}
 * and {@code chaos-b}, heartbeat 200 ms, executor timeout 2 s) run workflows that do a plain step, transactional
 * steps, a durable sleep, a {@code recv} of a message this test sends (and sometimes sends again, with the same
 * idempotency key), a child workflow that sends its parent a message, and, for part of them, wait in queue
 * {@code limited} (concurrency 3). Work arrives during the whole run: the workers start and enqueue their share, and
 * this test enqueues more with {@code tandem.enqueue_workflow} in the same transaction as an application row (one in
 * ten of those transactions rolls back).
 *
 * <p>Meanwhile, at random moments (seeded: the seed is printed, and {@code -Dchaos.seed=N} replays the schedule), one
 * fault at a time: SIGKILL of a worker (restarted under the same executor id); SIGSTOP of a worker for longer than
 * the executor timeout, then SIGCONT (a zombie: its work is taken over, and its late writes must be refused);
 * a restart of PostgreSQL (this class's own embedded server, never the shared one); {@code pg_terminate_backend} of
 * a worker's backends, or both workers'; an application transaction that holds a workflow's row locked for a few
 * seconds (an uncommitted {@code tandem.cancel_workflow}, or {@code SELECT ... FOR UPDATE}), then rolls back.
 *
 * <p>Afterwards: every workflow succeeded; every transactional step's row exists exactly once (the ledger has no
 * unique key); every message was received exactly once; the queue's limit held in every sample (one each 50 ms);
 * both workers still take new work. It prints how long recovery took after each fault.
 */
class ChaosTest {
    static final String[] EXECUTORS = {"chaos-a", "chaos-b"};
    static final long CHAOS_MS = 60_000;
    /** No fault starts later than this, so the last one has ended by about {@link #CHAOS_MS}. */
    static final long LAST_FAULT_MS = CHAOS_MS - 4_000;
    /** Work arrives during this much of the run. */
    static final long FEED_MS = 57_000;
    static final int SQL_ENQUEUES = 240;
    static final int WORKER_ITEMS = 60;
    static final long SETTLE_MS = 60_000;
    /**
     * After each fault ends, every workflow it hit must have moved on within this long: recovery takes about the
     * executor timeout, a reconnection, or a replay's backoff; this bound is generous for a busy 2-core machine.
     */
    static final long RECOVERY_BOUND_MS = 15_000;
    static final int PARENT_POSITIONS = 10;
    static final int CHILD_POSITIONS = 3;
    static final String TEST_APP = "chaos-test";
    /** A workflow's state, as far as progress goes: its status and how many checkpoints it has. */
    static final String STATE = "w.status || ':' || (SELECT count(*) FROM tandem.steps s"
            + " WHERE s.workflow_id = w.workflow_id)";

    enum Kind { KILL, FREEZE, RESTART_POSTGRES, TERMINATE_BACKENDS, HOLD_ROW_LOCK }

    /** One fault and what followed it; times in ms since the chaos began. */
    static final class Fault {
        final int number;
        final Kind kind;
        final String target;
        final long at;
        volatile long lifted = -1;
        volatile String note = "";
        /** The workflows it hit, each with its state (status and checkpoint count) when it hit them. */
        final Map<String, String> affected = new ConcurrentHashMap<>();
        /** When each affected workflow was first seen in another state (a checkpoint more, or another status). */
        final Map<String, Long> movedAt = new ConcurrentHashMap<>();

        Fault(int number, Kind kind, String target, long at) {
            this.number = number;
            this.kind = kind;
            this.target = target;
            this.at = at;
        }

        boolean pending() {
            return movedAt.size() < affected.size();
        }
    }

    record Sample(long at, long success) {}

    private final long seed = Long.getLong("chaos.seed", System.nanoTime());
    private final Random random = new Random(seed);
    private final Path log = Path.of("target", "chaos-worker-" + seed + ".log").toAbsolutePath();
    private final String about = "seed " + seed + ", worker log " + log;
    private volatile long chaosStart = System.nanoTime(); // set again when the chaos begins
    private volatile long chaosEpochMillis;

    private Path dataDir;
    private int port;
    private volatile EmbeddedPostgres pg;
    private String url;
    /** Each thread's connection to the chaos database, and every one opened (to close them at the end). */
    private final ThreadLocal<Connection> connections = new ThreadLocal<>();
    private final List<Connection> opened = new CopyOnWriteArrayList<>();
    private final Map<String, WorkerJvm> workers = new ConcurrentHashMap<>();
    private final Map<String, Integer> launches = new ConcurrentHashMap<>();

    private final List<Fault> faults = new CopyOnWriteArrayList<>();
    private final List<Sample> successes = new CopyOnWriteArrayList<>();
    private final Set<String> committedSql = ConcurrentHashMap.newKeySet();
    private final Set<String> rolledBackSql = ConcurrentHashMap.newKeySet();
    private final AtomicInteger resends = new AtomicInteger();
    private final AtomicInteger resendRequests = new AtomicInteger();
    private final AtomicLong queueSamples = new AtomicLong();
    private final AtomicLong queueMax = new AtomicLong();
    private final List<String> queueViolations = new CopyOnWriteArrayList<>();
    private final AtomicReference<Throwable> backgroundFailure = new AtomicReference<>();
    private final List<Thread> threads = new ArrayList<>();
    private volatile boolean stopping;
    private volatile String timeline = "did not settle";
    private final Map<String, Long> goDue = new ConcurrentHashMap<>();
    private final List<String> goSent = new CopyOnWriteArrayList<>();

    @Test
    void aMinuteOfFaultsLosesNothingRepeatsNothingAndLeavesNoExecutorStuck() throws Exception {
        long began = System.nanoTime();
        System.out.println("ChaosTest: " + about);
        Files.createDirectories(log.getParent());
        Files.writeString(log, "ChaosTest " + about + "\n", StandardCharsets.UTF_8);
        dataDir = Files.createTempDirectory("tandem-chaos-pg");
        port = DatabaseOutageTest.freePort();
        pg = DatabaseOutageTest.startServer(dataDir, port);
        try {
            run();
        } finally {
            stopThreads();
            if (!faults.isEmpty()) {
                try {
                    printReport();
                } catch (Exception e) {
                    System.out.println("ChaosTest: no report (" + e + ")");
                }
            }
            for (WorkerJvm w : workers.values()) {
                w.kill(); // SIGKILL ends a stopped process too
            }
            for (Connection c : opened) {
                closeQuietly(c);
            }
            pg.close();
            try (Stream<Path> files = Files.walk(dataDir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
            System.out.printf("ChaosTest on Java %d: %s; wall time %d s%n", Runtime.version().feature(), about,
                    TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - began));
        }
    }

    private void run() throws Exception {
        DatabaseOutageTest.execute(pg.getJdbcUrl("postgres", "postgres"), "CREATE DATABASE chaos");
        url = pg.getJdbcUrl("postgres", "chaos");
        DatabaseOutageTest.execute(url, "CREATE TABLE ledger (workflow_id text NOT NULL, step text NOT NULL,"
                + " at timestamptz NOT NULL DEFAULT clock_timestamp())");
        DatabaseOutageTest.execute(url, "CREATE TABLE orders (workflow_id text NOT NULL, n int NOT NULL)");
        DatabaseOutageTest.execute(url, "CREATE TABLE body_runs (workflow_id text NOT NULL, step text NOT NULL)");

        // The chaos starts once both workers are up (a JVM starts in 1-3 s here); the workers are told when, so
        // their own starts are spread over the same time as this test's enqueues.
        chaosEpochMillis = System.currentTimeMillis() + 6_000;
        for (String executor : EXECUTORS) {
            launch(executor);
        }
        for (String executor : EXECUTORS) {
            workers.get(executor).awaitReady(60, executor + ", " + about);
        }
        long wait = chaosEpochMillis - System.currentTimeMillis();
        if (wait > 0) {
            Thread.sleep(wait);
        }
        chaosStart = System.nanoTime() - TimeUnit.MILLISECONDS.toNanos(System.currentTimeMillis() - chaosEpochMillis);
        say("0.0 s: the chaos begins");

        background("chaos-queue-sampler", this::sampleQueue);
        background("chaos-monitor", this::monitor);
        background("chaos-sender", this::sendGoMessages);
        Thread feeder = background("chaos-feeder", this::feed);

        List<Kind> schedule = schedule();
        say("schedule (in this order, as far as the minute goes): " + schedule);
        long next = 2_000 + random.nextInt(1_500);
        for (Kind kind : schedule) {
            if (next > LAST_FAULT_MS) {
                break;
            }
            sleepUntil(next);
            inject(kind);
            assertNoBackgroundFailure();
            next = now() + 1_500 + random.nextInt(2_500);
        }
        sleepUntil(CHAOS_MS);
        long chaosEnded = now();
        feeder.join(30_000);
        assertThat(feeder.isAlive()).as("the feeder finished (%s)", about).isFalse();

        Set<String> expected = expectedParents();
        settle(expected, chaosEnded);
        long settled = now();
        timeline = String.format("chaos %d s; settled %.1f s after the faults ended", chaosEnded / 1000,
                (settled - chaosEnded) / 1000.0);
        finalBatch(expected);
        timeline += String.format("; the final batch took %.1f s", (now() - settled) / 1000.0);
        assertNoBackgroundFailure();
        stopThreads();
        assertEverything(expected);
    }

    private void stopThreads() throws InterruptedException {
        stopping = true;
        for (Thread t : threads) {
            t.interrupt();
            t.join(5_000);
        }
    }

    // ---- the faults ----

    /** Each kind once, in random order, twice over; then more at random: the minute ends the list. */
    private List<Kind> schedule() {
        List<Kind> all = new ArrayList<>();
        for (int round = 0; round < 2; round++) {
            List<Kind> kinds = new ArrayList<>(List.of(Kind.values()));
            Collections.shuffle(kinds, random);
            all.addAll(kinds);
        }
        for (int i = 0; i < 10; i++) {
            all.add(Kind.values()[random.nextInt(Kind.values().length)]);
        }
        return all;
    }

    private void inject(Kind kind) throws Exception {
        switch (kind) {
            case KILL -> kill(EXECUTORS[random.nextInt(2)]);
            case FREEZE -> freeze(EXECUTORS[random.nextInt(2)]);
            case RESTART_POSTGRES -> restartPostgres();
            case TERMINATE_BACKENDS -> {
                int which = random.nextInt(3);
                terminateBackends(which == 2 ? null : EXECUTORS[which]);
            }
            case HOLD_ROW_LOCK -> holdRowLock();
        }
        resendRequests.addAndGet(10);
    }

    /** Prints {@code line}, and writes it to the worker log too, where it marks what the workers saw next. */
    private void say(String line) {
        System.out.println("ChaosTest " + line);
        try {
            Files.writeString(log, "==== " + line + "\n", StandardCharsets.UTF_8, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private Fault begin(Kind kind, String target) {
        Fault f = new Fault(faults.size() + 1, kind, target, now());
        faults.add(f);
        say(String.format("%6.1f s: fault #%d %s %s", f.at / 1000.0, f.number, kind, target));
        return f;
    }

    private void kill(String executor) throws Exception {
        Fault f = begin(Kind.KILL, executor);
        WorkerJvm w = workers.get(executor);
        assertThat(w.kill()).as("%s died of SIGKILL (%s)", executor, about).isTrue();
        Thread.sleep(100); // statements it had sent finish on the server; what it owns no longer changes
        snapshot(f, "status = 'RUNNING' AND executor_id = '" + executor + "'");
        Thread.sleep(300 + random.nextInt(900));
        WorkerJvm next = launch(executor);
        next.awaitReady(60, executor + " restarted, " + about);
        f.lifted = now();
        f.note = "down " + (f.lifted - f.at) + " ms until its successor was ready";
    }

    private void freeze(String executor) throws Exception {
        Fault f = begin(Kind.FREEZE, executor);
        WorkerJvm w = workers.get(executor);
        signal(w, "STOP");
        Thread.sleep(100);
        snapshot(f, "status = 'RUNNING' AND executor_id = '" + executor + "'");
        Thread.sleep(ChaosWorker.EXECUTOR_TIMEOUT.toMillis() + 900 + random.nextInt(1_500));
        signal(w, "CONT");
        f.lifted = now();
        f.note = "frozen " + (f.lifted - f.at) + " ms (executor timeout "
                + ChaosWorker.EXECUTOR_TIMEOUT.toMillis() + " ms)";
    }

    private void restartPostgres() throws Exception {
        Fault f = begin(Kind.RESTART_POSTGRES, "server");
        snapshot(f, "status = 'RUNNING'");
        long stop = System.nanoTime();
        pg.close();
        long stopped = System.nanoTime();
        Thread.sleep(1_000 + random.nextInt(1_000));
        pg = DatabaseOutageTest.startServer(dataDir, port);
        f.lifted = now();
        f.note = "stop took " + TimeUnit.NANOSECONDS.toMillis(stopped - stop) + " ms, down "
                + (f.lifted - f.at) + " ms";
    }

    private void terminateBackends(String executor) throws Exception {
        Fault f = begin(Kind.TERMINATE_BACKENDS, executor == null ? "both" : executor);
        snapshot(f, executor == null ? "status = 'RUNNING'"
                : "status = 'RUNNING' AND executor_id = '" + executor + "'");
        long terminated = 0;
        for (int round = 0; round < 3; round++) {
            String where;
            if (executor == null) {
                where = "application_name <> '" + TEST_APP + "'";
            } else {
                Set<Integer> ports = clientPorts(workers.get(executor).pid());
                where = "client_port IN (" + (ports.isEmpty() ? "-1"
                        : ports.stream().map(String::valueOf).collect(Collectors.joining(", "))) + ")";
            }
            terminated += retrying(() -> queryLong("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    + " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    + " AND backend_type = 'client backend' AND " + where));
            Thread.sleep(100);
        }
        f.lifted = now();
        f.note = terminated + " backends terminated in 3 rounds";
    }

    /**
     * Locks the row of a workflow (two times in three a RUNNING parent or child, else a parent waiting in a queue) in
     * an application transaction, holds it 2–6.5 s (past 5 s, a transactional step's lock_timeout), rolls back.
     */
    private void holdRowLock() throws Exception {
        List<String> running = new ArrayList<>();
        List<String> enqueued = new ArrayList<>();
        retrying(() -> {
            running.clear();
            enqueued.clear();
            Connection c = connection();
            try (Statement st = c.createStatement();
                    ResultSet rs = st.executeQuery("SELECT workflow_id, status FROM tandem.workflow_status"
                            + " WHERE (status = 'RUNNING' AND name IN ('chaos-order', 'chaos-child'))"
                            + " OR (status = 'ENQUEUED' AND name = 'chaos-order') ORDER BY workflow_id")) {
                while (rs.next()) {
                    (rs.getString(2).equals("RUNNING") ? running : enqueued).add(rs.getString(1));
                }
            }
            return null;
        });
        boolean viaCancel = random.nextBoolean();
        long hold = 2_000 + random.nextInt(4_500);
        boolean lockRunning = random.nextInt(3) > 0;
        List<String> candidates = running.isEmpty() || (!lockRunning && !enqueued.isEmpty()) ? enqueued : running;
        if (candidates.isEmpty()) {
            Fault f = begin(Kind.HOLD_ROW_LOCK, "-");
            f.lifted = now();
            f.note = "no RUNNING or ENQUEUED workflow to lock";
            return;
        }
        String id = candidates.get(random.nextInt(candidates.size()));
        Fault f = begin(Kind.HOLD_ROW_LOCK, id);
        String how = viaCancel ? "uncommitted tandem.cancel_workflow" : "SELECT ... FOR UPDATE";
        try (Connection c = DriverManager.getConnection(testUrl())) {
            c.setAutoCommit(false);
            try (Statement st = c.createStatement()) {
                st.execute("SET LOCAL lock_timeout = '3s'");
            }
            try (PreparedStatement ps = c.prepareStatement(viaCancel ? "SELECT tandem.cancel_workflow(?)"
                    : "SELECT status FROM tandem.workflow_status WHERE workflow_id = ? FOR UPDATE")) {
                ps.setString(1, id);
                ps.execute();
            } catch (SQLException e) {
                c.rollback();
                f.lifted = now();
                f.note = how + " on " + id + " could not take the lock: " + e.getMessage();
                return;
            }
            snapshot(f, "workflow_id = '" + id + "'");
            long successBefore = lastSuccessCount();
            Thread.sleep(hold);
            long successDuring = lastSuccessCount() - successBefore;
            c.rollback();
            f.lifted = now();
            f.note = how + " (" + f.affected.getOrDefault(id, "?") + "), held " + hold + " ms, then ROLLBACK; "
                    + successDuring + " other workflows succeeded meanwhile";
        }
    }

    /** Records the workflows a fault hits (those {@code where} selects), with their state now. */
    private void snapshot(Fault f, String where) throws Exception {
        retrying(() -> {
            Connection c = connection();
            try (Statement st = c.createStatement();
                    ResultSet rs = st.executeQuery("SELECT w.workflow_id, " + STATE + " FROM tandem.workflow_status w"
                            + " WHERE " + where)) {
                while (rs.next()) {
                    f.affected.put(rs.getString(1), rs.getString(2));
                }
            }
            return null;
        });
    }

    // ---- background work ----

    private Thread background(String name, ThrowingRunnable body) {
        Thread t = new Thread(() -> {
            try {
                body.run();
            } catch (InterruptedException e) {
                // stopping
            } catch (Throwable e) {
                if (!stopping) {
                    backgroundFailure.compareAndSet(null, e);
                }
            }
        }, name);
        t.setDaemon(true);
        threads.add(t);
        t.start();
        return t;
    }

    /** Every 50 ms, how many workflows of the limited queue run; never more than its limit. */
    private void sampleQueue() throws InterruptedException {
        Connection c = null;
        while (!stopping) {
            try {
                if (c == null) {
                    c = DriverManager.getConnection(testUrl());
                }
                try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
                        "SELECT count(*), string_agg(workflow_id || '@' || executor_id, ' ') FROM tandem.workflow_status"
                                + " WHERE queue_name = '" + ChaosWorker.QUEUE + "' AND status = 'RUNNING'")) {
                    rs.next();
                    long n = rs.getLong(1);
                    queueSamples.incrementAndGet();
                    queueMax.accumulateAndGet(n, Math::max);
                    if (n > ChaosWorker.QUEUE_LIMIT) {
                        queueViolations.add(String.format("%.2f s: %d running: %s", now() / 1000.0, n,
                                rs.getString(2)));
                    }
                }
            } catch (SQLException e) {
                closeQuietly(c);
                c = null; // the server restarts, or the connection was terminated: connect again
            }
            Thread.sleep(50);
        }
        closeQuietly(c);
    }

    /** Every 100 ms: the SUCCESS count, and which workflows hit by a fault have moved since. */
    private void monitor() throws InterruptedException {
        while (!stopping) {
            try {
                Connection c = connection();
                try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
                        "SELECT count(*) FROM tandem.workflow_status WHERE status = 'SUCCESS'")) {
                    rs.next();
                    successes.add(new Sample(now(), rs.getLong(1)));
                }
                Map<String, List<Fault>> watched = new HashMap<>();
                for (Fault f : faults) {
                    if (f.pending()) {
                        for (String id : f.affected.keySet()) {
                            if (!f.movedAt.containsKey(id)) {
                                watched.computeIfAbsent(id, k -> new ArrayList<>()).add(f);
                            }
                        }
                    }
                }
                if (!watched.isEmpty()) {
                    try (PreparedStatement ps = c.prepareStatement("SELECT w.workflow_id, " + STATE
                            + " FROM tandem.workflow_status w WHERE w.workflow_id = ANY (?)")) {
                        ps.setArray(1, c.createArrayOf("text", watched.keySet().toArray()));
                        try (ResultSet rs = ps.executeQuery()) {
                            long at = now();
                            while (rs.next()) {
                                String id = rs.getString(1);
                                String state = rs.getString(2);
                                for (Fault f : watched.get(id)) {
                                    if (!state.equals(f.affected.get(id))) {
                                        f.movedAt.putIfAbsent(id, at);
                                    }
                                }
                            }
                        }
                    }
                }
            } catch (SQLException e) {
                // the server restarts: look again
            }
            Thread.sleep(100);
        }
    }

    /**
     * Sends each workflow {@code chaos-order} its "go" message, 0–1000 ms after it is first seen, with the idempotency
     * key {@code go:<id>}; and, after each fault, sends ten of the messages sent before again (no-ops).
     */
    private void sendGoMessages() throws InterruptedException {
        Random r = new Random(seed + 1);
        long lastLook = 0;
        while (!stopping) {
            try {
                Connection c = connection();
                if (now() - lastLook >= 200) {
                    lastLook = now();
                    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
                            "SELECT workflow_id FROM tandem.workflow_status WHERE name = 'chaos-order'")) {
                        while (rs.next()) {
                            goDue.putIfAbsent(rs.getString(1), now() + r.nextInt(1_000));
                        }
                    }
                }
                for (Map.Entry<String, Long> e : goDue.entrySet()) {
                    if (e.getValue() >= 0 && e.getValue() <= now()) {
                        send(c, e.getKey());
                        e.setValue(-1L);
                        goSent.add(e.getKey());
                    }
                }
                while (resendRequests.get() > 0 && !goSent.isEmpty()) {
                    send(c, goSent.get(r.nextInt(goSent.size())));
                    resendRequests.decrementAndGet();
                    resends.incrementAndGet();
                }
            } catch (SQLException e) {
                // the server restarts: the messages not sent yet stay due
            }
            Thread.sleep(50);
        }
    }

    private static void send(Connection c, String workflowId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT tandem.send_message(?, to_jsonb(?::text), 'go', ?)")) {
            ps.setString(1, workflowId);
            ps.setString(2, "go-" + workflowId);
            ps.setString(3, "go:" + workflowId);
            ps.execute();
        }
    }

    /**
     * Enqueues {@code sql-<i>} over the first {@link #FEED_MS}, one in four into {@code limited}, the others into
     * {@code default}, each in one transaction with its application row in {@code orders}: the transactional outbox.
     * One in ten rolls back, and its workflow must never exist. A transaction whose commit went unanswered is looked
     * up by its row before it is tried again.
     */
    private void feed() throws InterruptedException {
        for (int i = 0; i < SQL_ENQUEUES; i++) {
            sleepUntil(i * FEED_MS / SQL_ENQUEUES);
            String id = "sql-" + i;
            int n = 100_000 + i;
            boolean rollback = i % 10 == 9;
            String queue = i % 4 == 0 ? ChaosWorker.QUEUE : "default";
            while (true) {
                try {
                    Connection c = connection();
                    c.setAutoCommit(false);
                    try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM orders WHERE workflow_id = ?")) {
                        ps.setString(1, id);
                        if (ps.executeQuery().next()) {
                            committedSql.add(id); // the commit had gone through
                            c.rollback();
                            break;
                        }
                    }
                    try (PreparedStatement ps = c.prepareStatement("INSERT INTO orders VALUES (?, ?)")) {
                        ps.setString(1, id);
                        ps.setInt(2, n);
                        ps.executeUpdate();
                    }
                    try (PreparedStatement ps = c.prepareStatement(
                            "SELECT tandem.enqueue_workflow('chaos-order', jsonb_build_array(?), ?, workflow_id => ?)")) {
                        ps.setInt(1, n);
                        ps.setString(2, queue);
                        ps.setString(3, id);
                        ps.execute();
                    }
                    if (rollback) {
                        c.rollback();
                        rolledBackSql.add(id);
                    } else {
                        c.commit();
                        committedSql.add(id);
                    }
                    break;
                } catch (SQLException e) {
                    if (rollback) {
                        rolledBackSql.add(id); // never committed, whatever happened
                        break;
                    }
                    Thread.sleep(200);
                }
            }
        }
    }

    // ---- the end ----

    private Set<String> expectedParents() {
        Set<String> expected = new TreeSet<>(committedSql);
        for (String executor : EXECUTORS) {
            for (int i = 0; i < WORKER_ITEMS; i++) {
                expected.add(ChaosWorker.itemId(executor, i));
            }
        }
        return expected;
    }

    /** Waits until every expected workflow exists and every workflow succeeded; fails at once on any other end. */
    private void settle(Set<String> expected, long chaosEnded) throws Exception {
        long deadline = chaosEnded + SETTLE_MS;
        while (true) {
            assertNoBackgroundFailure();
            String failed = retrying(() -> queryString("SELECT string_agg(workflow_id || ': ' || status || ' '"
                    + " || coalesce(error::text, ''), '; ') FROM tandem.workflow_status"
                    + " WHERE status NOT IN ('ENQUEUED', 'DELAYED', 'RUNNING', 'SUCCESS')"));
            assertThat(failed).as("workflows that ended otherwise than SUCCESS (%s)", about).isNull();
            long parents = retrying(() -> queryLong("SELECT count(*) FROM tandem.workflow_status"
                    + " WHERE name = 'chaos-order' AND status = 'SUCCESS'"));
            long unfinished = retrying(() -> queryLong("SELECT count(*) FROM tandem.workflow_status"
                    + " WHERE status <> 'SUCCESS'"));
            if (parents >= expected.size() && unfinished == 0) {
                return;
            }
            if (now() > deadline) {
                throw new AssertionError("not everything succeeded within " + SETTLE_MS / 1000 + " s after the"
                        + " faults ended (" + about + "): " + parents + " of " + expected.size() + " parents"
                        + " succeeded; not finished (at most 40): " + retrying(() -> queryString("SELECT"
                        + " string_agg(workflow_id || ' ' || status || ' on ' || coalesce(executor_id, '-')"
                        + " || ' attempts ' || attempts, ', ') FROM (SELECT * FROM tandem.workflow_status"
                        + " WHERE status <> 'SUCCESS' ORDER BY workflow_id LIMIT 40) t")) + "; go messages not sent: "
                        + goDue.entrySet().stream().filter(e -> e.getValue() >= 0).count());
            }
            Thread.sleep(200);
        }
    }

    /**
     * No executor stuck: new work after the chaos, some of it for each worker alone ({@code chaos-ping-<id>}), and
     * some in both queues, must all finish.
     */
    private void finalBatch(Set<String> expected) throws Exception {
        List<String> batch = new ArrayList<>();
        try (Statement st = connection().createStatement()) {
            for (int i = 0; i < 6; i++) {
                String id = "final-" + i;
                st.execute("SELECT tandem.enqueue_workflow('chaos-order', '[" + (900_000 + i) + "]', '"
                        + (i % 2 == 0 ? ChaosWorker.QUEUE : "default") + "', workflow_id => '" + id + "')");
                batch.add(id);
                expected.add(id);
            }
            for (String executor : EXECUTORS) {
                for (int i = 0; i < 3; i++) {
                    String id = "ping-" + executor + "-" + i;
                    st.execute("SELECT tandem.enqueue_workflow('chaos-ping-" + executor + "', '[" + i + "]',"
                            + " workflow_id => '" + id + "')");
                    batch.add(id);
                }
            }
        }
        long deadline = now() + 30_000;
        String ids = batch.stream().map(id -> "'" + id + "'").collect(Collectors.joining(", "));
        while (queryLong("SELECT count(*) FROM tandem.workflow_status WHERE status = 'SUCCESS' AND workflow_id IN ("
                + ids + ")") < batch.size()) {
            if (now() > deadline) {
                throw new AssertionError("an executor is stuck: new work did not finish within 30 s (" + about
                        + "): " + queryString("SELECT string_agg(workflow_id || ' ' || status || ' on '"
                        + " || coalesce(executor_id, '-'), ', ') FROM tandem.workflow_status WHERE workflow_id IN ("
                        + ids + ") AND status <> 'SUCCESS'"));
            }
            Thread.sleep(100);
        }
        for (String executor : EXECUTORS) {
            assertThat(queryLong("SELECT count(*) FROM tandem.workflow_status WHERE name = 'chaos-ping-" + executor
                    + "' AND status = 'SUCCESS' AND output #>> '{}' = '" + executor + "'"))
                    .as("pings that %s ran after the chaos (%s)", executor, about).isEqualTo(3);
            assertThat(workers.get(executor).isAlive()).as("%s alive (%s)", executor, about).isTrue();
        }
        assertThat(queryLong("SELECT count(*) FROM tandem.executors WHERE executor_id IN ('chaos-a', 'chaos-b')"
                + " AND heartbeat_at > now() - interval '2 seconds'")).as("fresh heartbeats (%s)", about)
                .isEqualTo(2);
    }

    private void assertEverything(Set<String> expected) throws Exception {
        int p = expected.size();
        String as = about;
        // Every workflow reached its end, with SUCCESS: exactly the expected parents, each with one child.
        assertThat(queryLong("SELECT count(*) FROM tandem.workflow_status WHERE status <> 'SUCCESS'")).as(as).isZero();
        assertThat(queryStrings("SELECT workflow_id FROM tandem.workflow_status WHERE name = 'chaos-order'"))
                .as("parents (%s)", as).containsExactlyInAnyOrderElementsOf(expected);
        assertThat(rolledBackSql).as("enqueues rolled back (%s)", as).isNotEmpty();
        assertThat(queryLong("SELECT count(*) FROM tandem.workflow_status WHERE workflow_id = ANY ('{"
                + String.join(",", rolledBackSql) + "}'::text[])"))
                .as("workflows of rolled-back enqueues (%s)", as).isZero();
        assertThat(queryLong("SELECT count(*) FROM orders")).as("order rows (%s)", as).isEqualTo(committedSql.size());
        assertThat(queryLong("SELECT count(*) FROM tandem.workflow_status WHERE name = 'chaos-child'"))
                .as("children (%s)", as).isEqualTo(p);
        assertThat(queryLong("SELECT count(*) FROM tandem.workflow_status c JOIN tandem.workflow_status w"
                + " ON w.workflow_id = c.parent_workflow_id WHERE c.name = 'chaos-child' AND w.name = 'chaos-order'"
                + " AND c.workflow_id = w.workflow_id || '-6' AND c.input #>> '{}' = w.workflow_id"))
                .as("children named <parent>-6 with their parent's id as input (%s)", as).isEqualTo(p);

        // Each checkpoint once: ten positions per parent, three per child, of the expected kinds.
        assertThat(queryLong("SELECT count(*) FROM (SELECT w.workflow_id FROM tandem.workflow_status w"
                + " LEFT JOIN tandem.steps s USING (workflow_id) WHERE w.name = 'chaos-order' GROUP BY 1"
                + " HAVING count(s.*) <> " + PARENT_POSITIONS + " OR string_agg(s.kind, ',' ORDER BY s.position)"
                + " <> 'STEP,TRANSACTION,SLEEP,SLEEP,RECV,CHILD,CHILD_RESULT,SLEEP,RECV,TRANSACTION') t"))
                .as("parents whose history is not the ten expected checkpoints (%s)", as).isZero();
        assertThat(queryLong("SELECT count(*) FROM (SELECT w.workflow_id FROM tandem.workflow_status w"
                + " LEFT JOIN tandem.steps s USING (workflow_id) WHERE w.name = 'chaos-child' GROUP BY 1"
                + " HAVING count(s.*) <> " + CHILD_POSITIONS + " OR string_agg(s.kind, ',' ORDER BY s.position)"
                + " <> 'STEP,TRANSACTION,SEND') t"))
                .as("children whose history is not the three expected checkpoints (%s)", as).isZero();
        assertThat(queryLong("SELECT count(*) FROM tandem.steps WHERE error IS NOT NULL"))
                .as("failed checkpoints (%s)", as).isZero();

        // Exactly once: each transactional step's row, once per workflow, and its checkpoint names it.
        long rows = 2L * p + p + 2L * 3;
        assertThat(queryLong("SELECT count(*) FROM ledger")).as("ledger rows (%s)", as).isEqualTo(rows);
        assertThat(queryLong("SELECT count(*) FROM (SELECT DISTINCT workflow_id, step FROM ledger) t"))
                .as("distinct ledger rows (%s)", as).isEqualTo(rows);
        assertThat(queryLong("SELECT count(*) FROM ledger l JOIN tandem.workflow_status w USING (workflow_id)"
                + " WHERE (w.name = 'chaos-order' AND l.step IN ('reserve', 'settle'))"
                + " OR (w.name = 'chaos-child' AND l.step = 'child') OR (w.name LIKE 'chaos-ping-%' AND l.step = 'ping')"))
                .as("ledger rows of the workflow and step they belong to (%s)", as).isEqualTo(rows);
        assertThat(queryLong("SELECT count(*) FROM ledger l JOIN tandem.steps s ON s.workflow_id = l.workflow_id"
                + " AND s.name = l.step AND s.kind = 'TRANSACTION'"))
                .as("ledger rows with their TRANSACTION checkpoint (%s)", as).isEqualTo(rows);

        // Every message received once: the test's "go" and the child's, each consumed by a RECV checkpoint that
        // holds it; the re-sends with the same key were no-ops, and so is one more of each now.
        for (String id : expected) {
            send(connection(), id);
        }
        assertThat(queryLong("SELECT count(*) FROM tandem.messages")).as("messages (%s)", as).isEqualTo(2L * p);
        assertThat(queryLong("SELECT count(*) FROM tandem.messages WHERE topic = 'go' AND idempotency_key ="
                + " 'go:' || workflow_id AND message #>> '{}' = 'go-' || workflow_id"))
                .as("go messages (%s)", as).isEqualTo(p);
        assertThat(queryLong("SELECT count(*) FROM tandem.messages WHERE consumed_at IS NULL"))
                .as("messages not consumed (%s)", as).isZero();
        assertThat(queryLong("SELECT count(*) FROM tandem.messages m JOIN tandem.steps s"
                + " ON s.workflow_id = m.workflow_id AND s.kind = 'RECV' AND s.output = m.message"))
                .as("messages matched by one RECV checkpoint each (%s)", as).isEqualTo(2L * p);
        assertThat(queryLong("SELECT count(*) FROM tandem.steps WHERE kind = 'RECV'"))
                .as("RECV checkpoints (%s)", as).isEqualTo(2L * p);
        assertThat(queryLong("SELECT count(*) FROM tandem.workflow_status w WHERE w.name = 'chaos-order'"
                + " AND w.output #>> '{}' = coalesce(w.input ->> 0, w.input #>> '{}') || ':go-' || w.workflow_id || ':' || w.workflow_id"
                + " || '-6:' || w.workflow_id || '-6'"))
                .as("parents whose output shows their go message and their child (%s)", as).isEqualTo(p);

        // The queue's limit held in every sample, and the samples saw it reached.
        assertThat(queueViolations).as("samples of queue '%s' over its limit %d (%s)", ChaosWorker.QUEUE,
                ChaosWorker.QUEUE_LIMIT, as).isEmpty();
        assertThat(queueSamples.get()).as("queue samples (%s)", as).isGreaterThan(500);
        assertThat(queueMax.get()).as("most running in queue '%s' in a sample (%s)", ChaosWorker.QUEUE, as)
                .isEqualTo(ChaosWorker.QUEUE_LIMIT);

        // The faults did hit work, and each fault's work moved on.
        assertThat(queryLong("SELECT count(*) FROM tandem.workflow_status WHERE attempts > 1"))
                .as("workflows recovered or replayed (%s)", as).isPositive();
        for (Fault f : faults) {
            assertThat(f.pending()).as("fault #%d %s %s: a workflow it hit never moved again (%s)", f.number, f.kind,
                    f.target, as).isFalse();
            long moved = f.movedAt.values().stream().mapToLong(Long::longValue).max().orElse(f.lifted);
            assertThat(moved - f.lifted).as("fault #%d %s %s: ms from its end until every workflow it hit moved on"
                    + " (%s)", f.number, f.kind, f.target, as).isLessThan(RECOVERY_BOUND_MS);
        }
        assertThat(faults.stream().map(f -> f.kind).distinct().count()).as("kinds of fault injected (%s)", as)
                .isEqualTo(Kind.values().length);
    }

    private void printReport() throws Exception {
        StringBuilder out = new StringBuilder();
        out.append(String.format("%nChaosTest on Java %d, %s%n", Runtime.version().feature(), about));
        out.append(String.format("%-3s %-18s %-20s %7s %9s %8s %12s %14s  %s%n", "#", "fault", "target", "at s",
                "lasted ms", "affected", "resumed ms*", "all moved ms**", "note"));
        for (Fault f : faults) {
            long resumed = resumedAfter(f.lifted);
            long moved = f.affected.isEmpty() ? -1
                    : f.movedAt.values().stream().mapToLong(Long::longValue).max().orElse(-1) - f.at;
            out.append(String.format("%-3d %-18s %-20s %7.1f %9d %8d %12s %14s  %s%n", f.number, f.kind, f.target,
                    f.at / 1000.0, f.lifted - f.at, f.affected.size(), resumed < 0 ? "-" : String.valueOf(resumed),
                    f.affected.isEmpty() ? "-" : f.pending() ? "never" : String.valueOf(moved),
                    f.note + lastToMove(f)));
        }
        out.append("  * after the fault was lifted, until the SUCCESS count next rose\n");
        out.append("  ** after the fault began, until each workflow it hit (RUNNING on the target then) had a new"
                + " checkpoint or had ended; this includes the workflows' own waits (a sleep of up to 2.5 s, a go"
                + " message sent up to 1 s after the workflow is seen)\n");
        out.append(timeline).append('\n');
        out.append(String.format("workflows: %s%n", queryString("SELECT string_agg(name || ' ' || n || ' (recovered"
                + " or replayed: ' || r || ', most attempts ' || m || ')', ', ' ORDER BY name) FROM (SELECT name,"
                + " count(*) n, count(*) FILTER (WHERE attempts > 1) r, max(attempts) m FROM tandem.workflow_status"
                + " GROUP BY name) t")));
        out.append(String.format("bodies that ran (at least; a note lost to a fault is not retried), for the"
                + " workflows that have the step: %s%n", queryString("SELECT string_agg(step || ' ' || runs || ' for '"
                + " || workflows, ', ' ORDER BY step) FROM (SELECT step, count(*) runs, count(DISTINCT workflow_id)"
                + " workflows FROM body_runs GROUP BY step) t")));
        out.append(String.format("sql enqueues: %d committed, %d rolled back; go messages re-sent: %d; queue '%s':"
                + " %d samples, most running %d (limit %d), %d over the limit%n", committedSql.size(),
                rolledBackSql.size(), resends.get(), ChaosWorker.QUEUE, queueSamples.get(), queueMax.get(),
                ChaosWorker.QUEUE_LIMIT, queueViolations.size()));
        out.append(String.format("worker log: %s; launches %s; %s%n", log, launches, logCounts()));
        System.out.print(out);
        Files.writeString(log, out.toString(), StandardCharsets.UTF_8, StandardOpenOption.APPEND);
    }

    private String logCounts() throws IOException {
        List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
        Map<String, Long> counts = new LinkedHashMap<>();
        String[][] patterns = {
            {"recovering workflow", "recoveries"},
            {"no longer RUNNING on this executor", "zombie executions stopped"},
            {"replaying workflow", "replays after a transient failure"},
            {"waits for a row lock", "waits on a held row lock"},
            {"lost its connection", "transactions that lost their connection"},
            {"was RUNNING on this executor but not running in it", "reconciled"},
            {"ERROR", "ERROR lines"},
            {"Exception", "lines naming an exception"},
        };
        for (String[] p : patterns) {
            counts.put(p[1], lines.stream().filter(l -> l.contains(p[0])).count());
        }
        return counts.entrySet().stream().map(e -> e.getKey() + " " + e.getValue()).collect(Collectors.joining(", "));
    }

    /** Which workflow hit by a fault moved on last (or not at all), and in which state the fault found it. */
    private static String lastToMove(Fault f) {
        if (f.affected.size() < 2) {
            return "";
        }
        String last = f.affected.keySet().stream().filter(id -> !f.movedAt.containsKey(id)).findFirst()
                .orElseGet(() -> Collections.max(f.movedAt.entrySet(), Map.Entry.comparingByValue()).getKey());
        return "; last to move: " + last + " (" + f.affected.get(last) + ")";
    }

    /** Ms after {@code lifted} until the SUCCESS count rose above what it was when the fault was lifted. */
    private long resumedAfter(long lifted) {
        long base = -1;
        for (Sample s : successes) {
            if (s.at() <= lifted) {
                base = s.success();
            } else if (base < 0) {
                base = s.success();
            } else if (s.success() > base) {
                return s.at() - lifted;
            }
        }
        return -1;
    }

    private long lastSuccessCount() {
        return successes.isEmpty() ? 0 : successes.get(successes.size() - 1).success();
    }

    // ---- workers and signals ----

    private WorkerJvm launch(String executor) throws Exception {
        int n = launches.merge(executor, 1, Integer::sum);
        int base = executor.equals(EXECUTORS[0]) ? 200_000 : 300_000;
        WorkerJvm w = WorkerJvm.start(ChaosWorker.class, log, executor + " #" + n, url, executor,
                String.valueOf(chaosEpochMillis), String.valueOf(WORKER_ITEMS), String.valueOf(FEED_MS / WORKER_ITEMS),
                String.valueOf(base));
        workers.put(executor, w);
        return w;
    }

    private static void signal(WorkerJvm w, String signal) throws Exception {
        if (!w.isAlive()) {
            return;
        }
        Process kill = new ProcessBuilder("kill", "-" + signal, String.valueOf(w.pid())).inheritIO().start();
        assertThat(kill.waitFor()).as("kill -%s %d", signal, w.pid()).isZero();
    }

    /** The local ports of the TCP connections process {@code pid} holds: its backends' {@code client_port}. */
    private static Set<Integer> clientPorts(long pid) throws IOException {
        Set<String> inodes = new TreeSet<>();
        try (Stream<Path> fds = Files.list(Path.of("/proc", String.valueOf(pid), "fd"))) {
            for (Path fd : (Iterable<Path>) fds::iterator) {
                try {
                    String link = Files.readSymbolicLink(fd).toString();
                    if (link.startsWith("socket:[")) {
                        inodes.add(link.substring(8, link.length() - 1));
                    }
                } catch (IOException e) {
                    // closed meanwhile
                }
            }
        }
        Set<Integer> ports = new TreeSet<>();
        for (String table : new String[] {"tcp", "tcp6"}) {
            Path file = Path.of("/proc", String.valueOf(pid), "net", table);
            if (!Files.exists(file)) {
                continue;
            }
            List<String> lines = Files.readAllLines(file);
            for (String line : lines.subList(1, lines.size())) {
                String[] f = line.trim().split("\\s+");
                if (f.length > 9 && inodes.contains(f[9])) {
                    String local = f[1];
                    ports.add(Integer.parseInt(local.substring(local.lastIndexOf(':') + 1), 16));
                }
            }
        }
        return ports;
    }

    // ---- time and SQL ----

    /** Ms since the chaos began. */
    private long now() {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - chaosStart);
    }

    private void sleepUntil(long at) throws InterruptedException {
        long wait = at - now();
        if (wait > 0) {
            Thread.sleep(wait);
        }
    }

    private void assertNoBackgroundFailure() {
        Throwable failure = backgroundFailure.get();
        if (failure != null) {
            throw new AssertionError("a background thread of the test failed (" + about + ")", failure);
        }
    }

    interface ThrowingRunnable {
        void run() throws Exception;
    }

    interface SqlCall<T> {
        T call() throws SQLException;
    }

    /** Runs {@code call}, again while it fails for up to 20 s (the server may be restarting). */
    private static <T> T retrying(SqlCall<T> call) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true) {
            try {
                return call.call();
            } catch (SQLException e) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException(e);
                }
                Thread.sleep(100);
            }
        }
    }

    /** A URL of the chaos database that marks the test's own connections, so that no fault terminates them. */
    private String testUrl() {
        return url + "&ApplicationName=" + TEST_APP + "&connectTimeout=2&socketTimeout=60";
    }

    /**
     * This thread's connection, opened on first use, and again once it no longer works (the server restarted): the
     * test's threads each keep one, as an application would keep a pool, without a pool's warnings in the output.
     */
    private Connection connection() throws SQLException {
        Connection c = connections.get();
        if (c != null && !c.isClosed() && c.isValid(2)) {
            if (!c.getAutoCommit()) {
                c.rollback();
                c.setAutoCommit(true);
            }
            return c;
        }
        closeQuietly(c);
        c = DriverManager.getConnection(testUrl());
        connections.set(c);
        opened.add(c);
        return c;
    }

    private long queryLong(String sql) throws SQLException {
        try (Statement st = connection().createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private String queryString(String sql) throws SQLException {
        try (Statement st = connection().createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    private List<String> queryStrings(String sql) throws SQLException {
        try (Statement st = connection().createStatement(); ResultSet rs = st.executeQuery(sql)) {
            List<String> values = new ArrayList<>();
            while (rs.next()) {
                values.add(rs.getString(1));
            }
            return values;
        }
    }

    private static void closeQuietly(Connection c) {
        if (c != null) {
            try {
                c.close();
            } catch (SQLException ignored) {
                // already gone
            }
        }
    }
}
