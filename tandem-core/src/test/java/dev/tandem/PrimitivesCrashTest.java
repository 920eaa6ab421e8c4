package dev.tandem;

import static dev.tandem.PrimitivesCrashWorker.CHILDREN;
import static dev.tandem.PrimitivesCrashWorker.MESSAGES;
import static dev.tandem.PrimitivesCrashWorker.PARENTS;
import static dev.tandem.PrimitivesCrashWorker.RECEIVERS;
import static dev.tandem.PrimitivesCrashWorker.SLEEPERS;
import static dev.tandem.PrimitivesCrashWorker.TOPIC;
import static dev.tandem.PrimitivesCrashWorker.WORKFLOWS;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.testing.TestDatabase;
import dev.tandem.testing.WorkerJvm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.BlockingDeque;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The durable primitives under SIGKILL: a worker JVM ({@link PrimitivesCrashWorker}) runs workflows that sleep, wait
 * on {@code recv} and fan out to children, and is killed at random moments several times and restarted (under
 * alternating executor ids, so recovery happens both at restart and by heartbeat timeout), while this process sends
 * the messages, some of them twice with the same idempotency key. A last worker runs everything to the end, and the
 * outcome must be the one a run without crashes has: every sleeper slept once, until its one recorded wake-up time;
 * every message was received exactly once; every parent has exactly its children, each of which ran once.
 *
 * <p>On Java 17 long waits park their execution and replay it; on 21+ they block a virtual thread. The child JVM
 * runs on the test's own JDK, so running the suite on both covers both.
 */
class PrimitivesCrashTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    /** One kill per stage of starts: run k starts stage k, so the starts are spread over the runs. */
    static final int KILLS = PrimitivesCrashWorker.STAGES;

    @BeforeAll
    static void schema() {
        // No unique keys: exactly once must come from Tandem, not from a constraint.
        db.execute("CREATE TABLE slept (workflow_id text NOT NULL, woke_ms bigint NOT NULL)");
        db.execute("CREATE TABLE received (workflow_id text NOT NULL, idx int NOT NULL, message text NOT NULL)");
        db.execute("CREATE TABLE child_rows (workflow_id text NOT NULL, value int NOT NULL)");
        db.execute("CREATE TABLE sums (workflow_id text NOT NULL, total int NOT NULL)");
    }

    @Test
    void killedWorkersKeepSleepsMessagesAndChildren() throws Exception {
        long seed = System.nanoTime();
        Random random = new Random(seed);
        Path log = Files.createTempFile("tandem-primitives-crash-worker", ".log");
        String about = "seed " + seed + ", worker log " + log;
        long began = System.nanoTime();
        List<List<Send>> batches = sendBatches(random);
        int duplicates = batches.stream().mapToInt(List::size).sum() - RECEIVERS * MESSAGES;

        Tandem client = null;
        Sender sender = null;
        long doneBeforeLastRun;
        int sendsLeftBeforeLastRun;
        try {
            int run = 0;
            for (; run < KILLS; run++) {
                WorkerJvm worker = launch(run, log);
                boolean killed;
                try {
                    worker.awaitReady(60, about);
                    if (client == null) {
                        // Only now does schema tandem exist (the worker migrated it). Not started: it only sends.
                        client = Tandem.builder().dataSource(db.dataSource()).build();
                        sender = new Sender(client, new Random(seed + 1),
                                batches.stream().mapToInt(List::size).sum());
                        sender.start();
                    }
                    sender.release(batches.get(run));
                    Thread.sleep(300 + random.nextInt(1200));
                } finally {
                    killed = worker.kill();
                }
                assertThat(killed).as("worker died (%s)", about).isTrue();
            }
            assertThat(sender).as("sender started (%s)", about).isNotNull();
            doneBeforeLastRun = db.queryLong("SELECT count(*) FROM tandem.workflows WHERE status = 'SUCCESS'");
            sendsLeftBeforeLastRun = sender.pending();

            WorkerJvm last = launch(run, log);
            try {
                sender.release(batches.get(run));
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (sender.pending() > 0 || db.queryLong(
                        "SELECT count(*) FROM tandem.workflows WHERE status = 'SUCCESS'") < WORKFLOWS) {
                    String failed = db.queryString("SELECT string_agg(workflow_id || ': ' || status || ' '"
                            + " || coalesce(error::text, ''), '; ') FROM tandem.workflows"
                            + " WHERE status NOT IN ('ENQUEUED', 'DELAYED', 'RUNNING', 'SUCCESS')");
                    assertThat(failed).as("workflows that ended otherwise than SUCCESS (%s)", about).isNull();
                    assertThat(sender.failure.get()).as("sending failed (%s)", about).isNull();
                    if (System.nanoTime() > deadline) {
                        throw new AssertionError("not all workflows succeeded within 60 s of the last restart ("
                                + about + "); not finished: " + unfinished() + "; sends left: " + sender.pending());
                    }
                    assertThat(last.isAlive()).as("last worker alive (%s)", about).isTrue();
                    Thread.sleep(100);
                }
            } finally {
                last.kill();
            }
            assertThat(sender.failure.get()).as("sending failed (%s)", about).isNull();
            // Once more, every message, after it was received: each is a no-op, as the key is still known.
            for (int r = 0; r < RECEIVERS; r++) {
                for (int i = 0; i < MESSAGES; i++) {
                    String payload = PrimitivesCrashWorker.payload(r, i);
                    client.send("receiver-" + r, TOPIC, payload, "key:" + payload);
                }
            }
        } finally {
            if (sender != null) {
                sender.interrupt();
            }
            if (client != null) {
                client.close();
            }
        }
        long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - began);
        System.out.printf("PrimitivesCrashTest on Java %s: %s; %d kills, %d of %d workflows done before the last run,"
                + " %d sends left then, %d duplicate sends; recovered (attempts > 1): %s; %d s%n",
                Runtime.version().feature(), about, KILLS, doneBeforeLastRun, WORKFLOWS, sendsLeftBeforeLastRun,
                duplicates, db.queryString("SELECT string_agg(name || ' ' || recovered || '/' || total, ', '"
                        + " ORDER BY name) FROM (SELECT name, count(*) total, count(*) FILTER (WHERE attempts > 1)"
                        + " recovered FROM tandem.workflows GROUP BY name) t"),
                seconds);

        assertThat(db.queryLong("SELECT count(*) FROM tandem.workflows")).as(about).isEqualTo(WORKFLOWS);
        assertThat(db.queryLong("SELECT count(*) FROM tandem.workflows WHERE status = 'SUCCESS'")).as(about)
                .isEqualTo(WORKFLOWS);
        // Run 4 starts sleeper-4 (1955 ms) within 800 ms and is killed within 1500 ms: at least it was asleep.
        assertThat(doneBeforeLastRun).as("the kills interrupted work in flight (%s)", about).isLessThan(WORKFLOWS);
        assertThat(db.queryLong("SELECT count(*) FROM tandem.workflows WHERE attempts > 1"))
                .as("some workflows were recovered (%s)", about).isPositive();

        assertSleepers(about);
        assertReceivers(about);
        assertFanOut(about);
    }

    /** Each sleeper slept once: one wake-up time, recorded once, respected, and one row. */
    private static void assertSleepers(String about) {
        assertThat(db.queryLong("SELECT count(*) FROM slept")).as("slept rows (%s)", about).isEqualTo(SLEEPERS);
        assertThat(db.queryLong("SELECT count(DISTINCT workflow_id) FROM slept")).as(about).isEqualTo(SLEEPERS);
        for (int n = 0; n < SLEEPERS; n++) {
            String id = "sleeper-" + n;
            String what = id + " (" + about + ")";
            assertThat(queryLong("SELECT count(*) FROM tandem.steps WHERE workflow_id = ? AND kind = 'SLEEP'", id))
                    .as("SLEEP checkpoints of %s", what).isEqualTo(1);
            long begin = queryLong("SELECT (output #>> '{}')::bigint FROM tandem.steps"
                    + " WHERE workflow_id = ? AND position = 1 AND kind = 'STEP' AND name = 'begin'", id);
            long wakeAt = queryLong("SELECT (output #>> '{}')::bigint FROM tandem.steps"
                    + " WHERE workflow_id = ? AND kind = 'SLEEP'", id);
            long woke = queryLong("SELECT woke_ms FROM slept WHERE workflow_id = ?", id);
            long output = queryLong("SELECT (output #>> '{}')::bigint FROM tandem.workflows WHERE workflow_id = ?", id);
            long millis = PrimitivesCrashWorker.sleepMillis(n);
            if (n % 2 == 0) {
                // sleep(d): now + d, taken right after "begin". A wake-up time recorded again by a recovery would be
                // at least a worker restart (over a second) later.
                assertThat(wakeAt - begin).as("wake-up time of %s minus its begin step, slept %d ms", what, millis)
                        .isBetween(millis, millis + 1000);
            } else {
                assertThat(wakeAt).as("wake-up time of %s (sleepUntil)", what).isEqualTo(begin + millis);
            }
            assertThat(woke).as("%s woke no earlier than its recorded wake-up time %d", what, wakeAt)
                    .isGreaterThanOrEqualTo(wakeAt);
            assertThat(output).as("output of %s", what).isEqualTo(woke);
        }
    }

    /** Each message was received once, by its receiver, and recorded once; duplicates were refused. */
    private static void assertReceivers(String about) {
        assertThat(db.queryLong("SELECT count(*) FROM received")).as("received rows (%s)", about)
                .isEqualTo((long) RECEIVERS * MESSAGES);
        assertThat(db.queryLong("SELECT count(DISTINCT message) FROM received")).as("distinct messages (%s)", about)
                .isEqualTo((long) RECEIVERS * MESSAGES);
        for (int r = 0; r < RECEIVERS; r++) {
            String id = "receiver-" + r;
            String what = id + " (" + about + ")";
            List<String> got = queryStrings("SELECT message FROM received WHERE workflow_id = ? ORDER BY idx", id);
            Set<String> expected = new TreeSet<>();
            List<String> indexes = new ArrayList<>();
            for (int i = 0; i < MESSAGES; i++) {
                expected.add(PrimitivesCrashWorker.payload(r, i));
                indexes.add(String.valueOf(i));
            }
            assertThat(got).as("messages recorded by %s", what).hasSize(MESSAGES)
                    .containsExactlyInAnyOrderElementsOf(expected);
            assertThat(queryStrings("SELECT idx FROM received WHERE workflow_id = ? ORDER BY idx", id))
                    .as("recv positions recorded by %s", what).containsExactlyElementsOf(indexes);
            assertThat(queryStrings("SELECT output #>> '{}' FROM tandem.workflows WHERE workflow_id = ?", id))
                    .as("output of %s", what).containsExactly(String.join(",", got));
            assertThat(queryLong("SELECT count(*) FROM tandem.steps WHERE workflow_id = ? AND kind = 'RECV'"
                    + " AND output IS NOT NULL AND output <> 'null'::jsonb", id))
                    .as("RECV checkpoints of %s", what).isEqualTo(MESSAGES);
        }
        assertThat(db.queryLong("SELECT count(*) FROM tandem.messages WHERE workflow_id LIKE 'receiver-%'"))
                .as("messages stored: duplicates refused (%s)", about).isEqualTo((long) RECEIVERS * MESSAGES);
        assertThat(db.queryLong("SELECT count(*) FROM tandem.messages WHERE consumed_at IS NULL"))
                .as("messages left unconsumed (%s)", about).isZero();
        // Each message was consumed by the workflow it was sent to, and its checkpoint holds that message.
        assertThat(db.queryLong("SELECT count(*) FROM tandem.messages m JOIN tandem.steps s"
                + " ON s.workflow_id = m.workflow_id AND s.kind = 'RECV' AND s.output = m.message"))
                .as("messages matched by a RECV checkpoint (%s)", about).isEqualTo((long) RECEIVERS * MESSAGES);
    }

    /** Each parent started exactly its children, each of which ran once, and recorded their sum once. */
    private static void assertFanOut(String about) {
        long children = (long) PARENTS * CHILDREN;
        assertThat(db.queryLong("SELECT count(*) FROM tandem.workflows WHERE name = 'pc-child'"))
                .as("child workflows (%s)", about).isEqualTo(children);
        assertThat(db.queryLong("SELECT count(*) FROM tandem.workflows c WHERE c.name = 'pc-child' AND NOT EXISTS"
                + " (SELECT 1 FROM tandem.steps s WHERE s.kind = 'CHILD' AND s.workflow_id = c.parent_workflow_id"
                + " AND s.child_workflow_id = c.workflow_id)"))
                .as("orphan children: no CHILD checkpoint of their parent names them (%s)", about).isZero();
        assertThat(db.queryLong("SELECT count(*) FROM tandem.steps WHERE kind = 'CHILD'"))
                .as("CHILD checkpoints (%s)", about).isEqualTo(children);
        assertThat(db.queryLong("SELECT count(*) FROM child_rows")).as("child rows (%s)", about).isEqualTo(children);
        assertThat(db.queryLong("SELECT count(DISTINCT workflow_id) FROM child_rows")).as(about).isEqualTo(children);
        assertThat(db.queryLong("SELECT count(*) FROM sums")).as("sum rows (%s)", about).isEqualTo(PARENTS);
        for (int n = 0; n < PARENTS; n++) {
            String id = "fan-" + n;
            String what = id + " (" + about + ")";
            List<String> expectedIds = new ArrayList<>();
            long expectedSum = 0;
            for (int i = 0; i < CHILDREN; i++) {
                expectedIds.add(id + "-" + (i + 1)); // the children are its calls #1..#K
                expectedSum += PrimitivesCrashWorker.childValue(n, i);
            }
            assertThat(queryStrings("SELECT workflow_id FROM tandem.workflows WHERE parent_workflow_id = ?"
                    + " ORDER BY workflow_id", id)).as("children of %s", what)
                    .containsExactlyInAnyOrderElementsOf(expectedIds);
            for (int i = 0; i < CHILDREN; i++) {
                assertThat(queryStrings("SELECT value::text FROM child_rows WHERE workflow_id = ?", expectedIds.get(i)))
                        .as("row of child %s of %s", expectedIds.get(i), what)
                        .containsExactly(String.valueOf(PrimitivesCrashWorker.childValue(n, i)));
            }
            assertThat(queryStrings("SELECT total::text FROM sums WHERE workflow_id = ?", id))
                    .as("sum recorded by %s", what).containsExactly(String.valueOf(expectedSum));
            assertThat(queryLong("SELECT (output #>> '{}')::bigint FROM tandem.workflows WHERE workflow_id = ?", id))
                    .as("output of %s", what).isEqualTo(expectedSum);
        }
    }

    // ---- sending ----

    private record Send(int receiver, int message) {}

    /**
     * Which messages are sent during which run of the worker (the last list: during the last run): each message
     * once, during or after the run that starts its receiver and before the last run; about half of them once more,
     * with the same idempotency key, then or later.
     */
    private static List<List<Send>> sendBatches(Random random) {
        List<List<Send>> batches = new ArrayList<>();
        for (int run = 0; run <= KILLS; run++) {
            batches.add(new ArrayList<>());
        }
        for (int r = 0; r < RECEIVERS; r++) {
            int stage = PrimitivesCrashWorker.stage(r);
            for (int i = 0; i < MESSAGES; i++) {
                int run = stage + random.nextInt(KILLS - stage);
                batches.get(run).add(new Send(r, i));
                if (random.nextBoolean()) {
                    batches.get(run + random.nextInt(KILLS + 1 - run)).add(new Send(r, i));
                }
            }
        }
        for (List<Send> batch : batches) {
            Collections.shuffle(batch, random);
        }
        return batches;
    }

    /**
     * Sends released messages one at a time, 20–150 ms apart, so that they arrive while workers run and while they
     * are dead. A message whose receiver does not exist yet (its worker was killed before starting it) goes to the
     * back of the line: a later run starts it.
     */
    private static final class Sender extends Thread {
        private final Tandem client;
        private final Random random;
        private final BlockingDeque<Send> released = new LinkedBlockingDeque<>();
        private final AtomicInteger pending;
        final AtomicReference<Throwable> failure = new AtomicReference<>();

        Sender(Tandem client, Random random, int sends) {
            super("primitives-crash-sender");
            setDaemon(true);
            this.client = client;
            this.random = random;
            this.pending = new AtomicInteger(sends);
        }

        void release(List<Send> batch) {
            released.addAll(batch);
        }

        /** Sends not done yet, released or not. */
        int pending() {
            return pending.get();
        }

        @Override
        public void run() {
            try {
                while (pending.get() > 0) {
                    Send next = released.poll(100, TimeUnit.MILLISECONDS);
                    if (next == null) {
                        continue;
                    }
                    Thread.sleep(20 + random.nextInt(130));
                    String payload = PrimitivesCrashWorker.payload(next.receiver(), next.message());
                    try {
                        client.send("receiver-" + next.receiver(), TOPIC, payload, "key:" + payload);
                        pending.decrementAndGet();
                    } catch (IllegalArgumentException e) {
                        released.addLast(next); // no such workflow yet
                    }
                }
            } catch (InterruptedException e) {
                // the test is over
            } catch (Throwable e) {
                failure.set(e);
            }
        }
    }

    // ---- the worker process ----

    private static WorkerJvm launch(int run, Path log) throws Exception {
        return WorkerJvm.start(PrimitivesCrashWorker.class, log, "run " + run, db.url(), "worker-" + (run % 2),
                String.valueOf(run));
    }

    // ---- queries ----

    private static String unfinished() {
        return db.queryString("SELECT string_agg(workflow_id || ': ' || status, ', ' ORDER BY workflow_id)"
                + " FROM tandem.workflows WHERE status <> 'SUCCESS'");
    }

    private static long queryLong(String sql, String param) {
        List<String> values = queryStrings(sql, param);
        assertThat(values).as("one row: %s [%s]", sql, param).hasSize(1);
        return Long.parseLong(values.get(0));
    }

    private static List<String> queryStrings(String sql, String param) {
        try (Connection c = db.dataSource().getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, param);
            try (ResultSet rs = ps.executeQuery()) {
                List<String> values = new ArrayList<>();
                while (rs.next()) {
                    values.add(rs.getString(1));
                }
                return values;
            }
        } catch (SQLException e) {
            throw new IllegalStateException(sql, e);
        }
    }
}
