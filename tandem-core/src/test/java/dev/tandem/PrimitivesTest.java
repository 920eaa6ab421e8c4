package dev.tandem;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tandem.testing.TestDatabase;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Sleep, messages, events, streams, child workflows and timeouts, in one engine. On Java 17 long waits park their
 * execution (no thread) and replay it when due; on 21+ they block a virtual thread: the suite runs on both.
 */
class PrimitivesTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    static final Duration WAIT = Duration.ofSeconds(20);
    static Tandem tandem;
    static Workflow<Long, String> sleeper;
    static Workflow<String, String> receiver;
    static Workflow<String, String> sender;
    static Workflow<Integer, Integer> evented;
    static Workflow<Integer, String> streamer;
    static Workflow<Integer, Integer> square;
    static Workflow<Integer, Integer> fanOut;
    static Workflow<String, String> waitsForever;
    static Workflow<String, String> parentOfSleeper;
    static Workflow<String, String> badCalls;
    static final AtomicInteger sleeperStepRuns = new AtomicInteger();
    static final AtomicInteger squareRuns = new AtomicInteger();

    @BeforeAll
    static void setUp() {
        tandem = Tandem.builder().dataSource(db.dataSource()).heartbeatInterval(Duration.ofMillis(200))
                .executorTimeout(Duration.ofSeconds(2)).build();
        sleeper = tandem.register("sleeper", Long.class, (ctx, millis) -> {
            Instant before = ctx.step("before", Instant::now);
            ctx.sleep(Duration.ofMillis(millis));
            ctx.step("after", sleeperStepRuns::incrementAndGet);
            return Duration.between(before, Instant.now()).toMillis() >= millis ? "slept" : "woke early";
        });
        receiver = tandem.register("receiver", String.class, (ctx, topic) -> {
            List<String> got = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                got.add(ctx.recv(topic, String.class, Duration.ofSeconds(10)));
            }
            String none = ctx.recv(topic, String.class, Duration.ofMillis(300));
            return String.join(",", got) + "|" + none;
        });
        sender = tandem.register("sender", String.class, (ctx, target) -> {
            ctx.send(target, "t", "x");
            ctx.send(target, "t", "y");
            ctx.send(target, "t", "z");
            return "sent";
        });
        evented = tandem.register("evented", Integer.class, (ctx, n) -> {
            for (int i = 1; i <= n; i++) {
                ctx.setEvent("progress", i);
            }
            ctx.recv("go", String.class, Duration.ofSeconds(10));
            ctx.setEvent("done", true);
            return n;
        });
        streamer = tandem.register("streamer", Integer.class, (ctx, n) -> {
            for (int i = 0; i < n; i++) {
                ctx.writeStream("tokens", "t" + i);
            }
            ctx.closeStream("tokens");
            return "streamed";
        });
        square = tandem.register("square", Integer.class, (ctx, x) -> ctx.step("square", () -> {
            squareRuns.incrementAndGet();
            return x * x;
        }));
        fanOut = tandem.register("fan-out", Integer.class, (ctx, n) -> {
            List<WorkflowHandle<Integer>> children = new ArrayList<>();
            for (int i = 1; i <= n; i++) {
                children.add(ctx.startChild(square, i));
            }
            int sum = 0;
            for (WorkflowHandle<Integer> child : children) {
                sum += child.result(WAIT);
            }
            return sum + ctx.runChild(square, 10);
        });
        waitsForever = tandem.register("waits-forever", String.class, (ctx, in) -> {
            ctx.recv(String.class, Duration.ofHours(1));
            return "received";
        });
        parentOfSleeper = tandem.register("parent-of-sleeper", String.class, (ctx, in) -> {
            ctx.startChild(waitsForever, "child");
            ctx.sleep(Duration.ofHours(1));
            return "woke";
        });
        WorkflowContext[] escaped = new WorkflowContext[1];
        Workflow<String, String> leak = tandem.register("leaks-its-context", String.class, (ctx, in) -> {
            escaped[0] = ctx;
            return in;
        });
        Workflow<String, String> notRegistered = new Workflow<>() {
            @Override
            public String name() {
                return "not-registered";
            }

            @Override
            public WorkflowHandle<String> start(String input) {
                throw new UnsupportedOperationException();
            }

            @Override
            public WorkflowHandle<String> start(String input, StartOptions options) {
                throw new UnsupportedOperationException();
            }

            @Override
            public WorkflowHandle<String> enqueue(java.sql.Connection tx, String input, EnqueueOptions options) {
                throw new UnsupportedOperationException();
            }

            @Override
            public WorkflowHandle<String> enqueue(String input, EnqueueOptions options) {
                throw new UnsupportedOperationException();
            }

            @Override
            public String run(String input, StartOptions options) {
                throw new UnsupportedOperationException();
            }
        };
        badCalls = tandem.register("bad-calls", String.class, (ctx, in) -> {
            List<Runnable> calls = List.of(
                    () -> ctx.sleep(Duration.ofSeconds(-1)),
                    () -> ctx.recv(null, String.class, WAIT),
                    () -> ctx.recv("t", String.class, Duration.ofSeconds(-1)),
                    () -> ctx.setEvent(null, 1),
                    () -> ctx.setEvent("k", new Object()),
                    () -> ctx.startChild(notRegistered, "x"),
                    () -> {
                        ctx.closeStream("k");
                        ctx.writeStream("k", 1);
                    },
                    () -> {
                        leak.run("in", StartOptions.defaults());
                        escaped[0].sleep(Duration.ZERO);
                    });
            List<String> messages = new ArrayList<>();
            for (Runnable call : calls) {
                try {
                    call.run();
                    messages.add("accepted");
                } catch (RuntimeException e) {
                    messages.add(e.getMessage());
                }
            }
            return String.join("\n", messages);
        });
        tandem.start();
    }

    @AfterAll
    static void tearDown() {
        tandem.close();
    }

    @Test
    void sleepWaitsAtLeastItsDurationAndRecordsTheWakeUpTime() {
        WorkflowHandle<String> h = sleeper.start(700L, StartOptions.withId("sleep-1"));
        assertThat(h.result(WAIT)).isEqualTo("slept");
        assertThat(db.queryString("SELECT kind FROM tandem.steps WHERE workflow_id = 'sleep-1' AND position = 2"))
                .isEqualTo("SLEEP");
        long recordedWake = db.queryLong("SELECT output::text::bigint FROM tandem.steps"
                + " WHERE workflow_id = 'sleep-1' AND position = 2");
        long started = db.queryLong("SELECT (extract(epoch FROM started_at) * 1000)::bigint FROM tandem.steps"
                + " WHERE workflow_id = 'sleep-1' AND position = 2");
        assertThat(recordedWake - started).isBetween(650L, 900L);
    }

    @Test
    void manySleepersWakeUpTogether() {
        List<WorkflowHandle<String>> handles = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            handles.add(sleeper.start(500L));
        }
        for (WorkflowHandle<String> h : handles) {
            assertThat(h.result(WAIT)).isEqualTo("slept");
        }
    }

    @Test
    void messagesSentBeforeAndWhileWaitingAreReceivedInOrderExactlyOnce() throws Exception {
        WorkflowHandle<String> h = receiver.start("orders", StartOptions.withId("recv-1"));
        tandem.send("recv-1", "orders", "a", null);
        tandem.send("recv-1", "other-topic", "ignored", null);
        Thread.sleep(300);
        tandem.send("recv-1", "orders", "b", "key-b");
        Thread.sleep(300);
        tandem.send("recv-1", "orders", "b", "key-b"); // same idempotency key, after "b" was received: a no-op
        Thread.sleep(300);
        try (var conn = db.dataSource().getConnection(); var ps = conn.prepareStatement(
                "SELECT tandem.send_message('recv-1', '\"c\"', 'orders')")) {
            ps.execute();
        }
        assertThat(h.result(WAIT)).isEqualTo("a,b,c|null");
        assertThat(db.queryLong("SELECT count(*) FROM tandem.messages WHERE workflow_id = 'recv-1' AND topic = 'orders'"
                + " AND consumed_at IS NULL")).isZero();
        assertThat(db.queryLong("SELECT count(*) FROM tandem.messages WHERE workflow_id = 'recv-1'"
                + " AND consumed_at IS NULL")).isEqualTo(1);
    }

    @Test
    void aWorkflowSendsExactlyOnceToAnother() {
        WorkflowHandle<String> r = receiver.start("t", StartOptions.withId("recv-2"));
        assertThat(sender.start("recv-2").result(WAIT)).isEqualTo("sent");
        assertThat(r.result(WAIT)).isEqualTo("x,y,z|null");
    }

    @Test
    void getEventWaitsForTheValueAndSeesTheLastOne() throws Exception {
        CompletableFuture<Boolean> done = CompletableFuture.supplyAsync(
                () -> tandem.getEvent("events-1", "done", Boolean.class, WAIT));
        WorkflowHandle<Integer> h = evented.start(5, StartOptions.withId("events-1"));
        assertThat(tandem.getEvent("events-1", "progress", Integer.class, WAIT)).isBetween(1, 5);
        long sent = System.nanoTime();
        tandem.send("events-1", "go", "now", null);
        assertThat(done.get()).isTrue();
        assertThat(Duration.ofNanos(System.nanoTime() - sent)).isLessThan(Duration.ofSeconds(2));
        assertThat(h.result(WAIT)).isEqualTo(5);
        assertThat(tandem.getEvent("events-1", "progress", Integer.class, Duration.ZERO)).isEqualTo(5);
        assertThat(db.queryString("SELECT string_agg(value::text, ',' ORDER BY position) FROM tandem.event_history"
                + " WHERE workflow_id = 'events-1' AND key = 'progress'")).isEqualTo("1,2,3,4,5");
        assertThat(tandem.getEvent("events-1", "never-set", String.class, Duration.ofMillis(200))).isNull();
    }

    @Test
    void readStreamReturnsTheValuesInOrderAndEndsWhenClosed() {
        streamer.start(50, StartOptions.withId("stream-1"));
        try (Stream<String> values = tandem.readStream("stream-1", "tokens", String.class)) {
            assertThat(values.collect(Collectors.toList()))
                    .containsExactlyElementsOf(Stream.iterate(0, i -> i + 1).limit(50).map(i -> "t" + i).toList());
        }
    }

    @Test
    void readStreamEndsWhenTheWorkflowEndsWithoutClosing() {
        WorkflowHandle<String> h = receiver.start("nothing", StartOptions.withId("no-stream"));
        tandem.cancel("no-stream");
        try (Stream<String> values = tandem.readStream("no-stream", "tokens", String.class)) {
            assertThat(values.count()).isZero();
        }
        assertThatThrownBy(() -> h.result(WAIT)).isInstanceOf(WorkflowFailedException.class);
    }

    @Test
    void childrenHaveDeterministicIdsAndRecordTheirParent() {
        assertThat(fanOut.start(5, StartOptions.withId("fan")).result(WAIT)).isEqualTo(1 + 4 + 9 + 16 + 25 + 100);
        assertThat(db.queryLong("SELECT count(*) FROM tandem.workflows WHERE parent_workflow_id = 'fan'"))
                .isEqualTo(6);
        // Positions 1-5 start the children, 6-10 record their results, 11 starts the last child and 12 its result.
        assertThat(db.queryString("SELECT string_agg(workflow_id, ',' ORDER BY length(workflow_id), workflow_id)"
                + " FROM tandem.workflows WHERE parent_workflow_id = 'fan'"))
                .isEqualTo("fan-1,fan-2,fan-3,fan-4,fan-5,fan-11");
        assertThat(db.queryString("SELECT string_agg(coalesce(child_workflow_id, name), ',' ORDER BY position)"
                + " FROM tandem.workflow_steps WHERE workflow_id = 'fan'")).isEqualTo("fan-1,fan-2,fan-3,fan-4,fan-5,"
                + "result:fan-1,result:fan-2,result:fan-3,result:fan-4,result:fan-5,fan-11,result:fan-11");
    }

    @Test
    void parentsWaitingForChildrenDoNotHoldTheOnlyThreads() {
        // Two platform threads, six parents: a parent waiting for its child must give its thread back, or the
        // children never get one.
        try (Tandem small = Tandem.builder().dataSource(db.dataSource()).virtualThreads(false)
                .maxConcurrentWorkflows(2).build()) {
            Workflow<Integer, Integer> child = small.register("small-child", Integer.class, (ctx, n) -> {
                ctx.sleep(Duration.ofMillis(300));
                return ctx.step("double", () -> n * 2);
            });
            Workflow<Integer, Integer> parent = small.register("small-parent", Integer.class,
                    (ctx, n) -> ctx.runChild(child, n) + ctx.startChild(child, n + 100).result(WAIT));
            small.start();
            List<WorkflowHandle<Integer>> parents = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                parents.add(parent.start(i));
            }
            for (int i = 0; i < 6; i++) {
                assertThat(parents.get(i).result(WAIT)).isEqualTo(i * 2 + (i + 100) * 2);
            }
        }
    }

    @Test
    void aTimeoutCancelsTheWorkflowAndItsChildren() {
        WorkflowHandle<String> h = parentOfSleeper.start("x",
                StartOptions.withId("deadline-1").timeout(Duration.ofMillis(800)));
        assertThatThrownBy(() -> h.result(WAIT)).isInstanceOfSatisfying(WorkflowFailedException.class, e -> {
            assertThat(e.status()).isEqualTo(WorkflowStatus.CANCELLED);
            assertThat(e.errorType()).isEqualTo("timeout");
        });
        assertThat(db.queryString("SELECT status FROM tandem.workflows WHERE workflow_id = 'deadline-1-1'"))
                .isEqualTo("CANCELLED");
        assertThat(db.queryLong("SELECT count(*) FROM tandem.workflows WHERE workflow_id = 'deadline-1-1'"
                + " AND deadline_at = (SELECT deadline_at FROM tandem.workflows WHERE workflow_id = 'deadline-1')"))
                .isEqualTo(1);
    }

    @Test
    void cancellingAParentCancelsItsChildrenWhenAsked() throws Exception {
        WorkflowHandle<String> h = parentOfSleeper.start("x", StartOptions.withId("tree-1"));
        awaitStatus("tree-1-1", "RUNNING");
        Thread.sleep(300);
        tandem.cancel("tree-1", true);
        assertThatThrownBy(() -> h.result(WAIT)).isInstanceOf(WorkflowFailedException.class);
        assertThat(db.queryString("SELECT status FROM tandem.workflows WHERE workflow_id = 'tree-1-1'"))
                .isEqualTo("CANCELLED");
    }

    @Test
    void aCancelledSleeperStopsAtOnce() throws Exception {
        WorkflowHandle<String> h = waitsForever.start("x", StartOptions.withId("cancel-waiting"));
        Thread.sleep(500);
        long t0 = System.nanoTime();
        tandem.cancel("cancel-waiting");
        assertThatThrownBy(() -> h.result(WAIT)).isInstanceOf(WorkflowFailedException.class);
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(2));
    }

    @Test
    void badInputIsRefusedClearly() {
        assertThatThrownBy(() -> tandem.getEvent("x", null, String.class, WAIT))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("key");
        assertThatThrownBy(() -> tandem.getEvent("x", "k", String.class, Duration.ofSeconds(-1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("timeout");
        assertThatThrownBy(() -> tandem.readStream("no-such-workflow", "k", String.class))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no-such-workflow");
        assertThatThrownBy(() -> tandem.cancel("no-such-workflow", true))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("does not exist");
        assertThatThrownBy(() -> StartOptions.defaults().timeout(Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("timeout must be positive");
        String refusals = badCalls.start("x", StartOptions.withId("bad-calls")).result(WAIT);
        assertThat(refusals.split("\n")).satisfiesExactly(
                m -> assertThat(m).contains("sleep duration must be zero or positive (was PT-1S)"),
                m -> assertThat(m).contains("recv topic must not be null"),
                m -> assertThat(m).contains("recv timeout must be zero or positive"),
                m -> assertThat(m).contains("event key must not be null"),
                m -> assertThat(m).contains("cannot be stored as JSON"),
                m -> assertThat(m).contains("unknown workflow 'not-registered'"),
                m -> assertThat(m).contains("stream 'k' of workflow 'bad-calls' is closed"),
                m -> assertThat(m).contains("is no longer running"));
        // Refused calls take no position and write nothing: only the closeStream is recorded.
        assertThat(db.queryString("SELECT string_agg(kind, ',' ORDER BY position) FROM tandem.steps"
                + " WHERE workflow_id = 'bad-calls'")).isEqualTo("WRITE_STREAM");
    }

    private static void awaitStatus(String workflowId, String status) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (db.queryLong("SELECT count(*) FROM tandem.workflows WHERE workflow_id = '" + workflowId
                + "' AND status = '" + status + "'") == 0) {
            assertThat(System.nanoTime()).as("%s reaches %s", workflowId, status).isLessThan(deadline);
            Thread.sleep(20);
        }
    }
}
