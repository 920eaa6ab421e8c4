package dev.tandem;

import java.sql.PreparedStatement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A worker process for {@link PrimitivesCrashTest}. It registers three kinds of workflows that spend their time in the
 * durable primitives, and starts them (idempotently, by id) in stages: run k of the worker starts stage k at random
 * moments after it is ready (and every earlier stage at once), so that the starts are spread over the time the test
 * kills workers, however slowly the JVMs start:
 *
 * <ul>
 *   <li>{@code sleeper-<n>}: a step, a durable sleep of 1–3 s ({@code sleep} for even n, {@code sleepUntil} for odd
 *       n), then a transactional step that inserts one row into {@code slept};
 *   <li>{@code receiver-<n>}: {@link #MESSAGES} times: {@code recv} on {@link #TOPIC}, then a transactional step that
 *       inserts the message into {@code received}. The test process sends the messages;
 *   <li>{@code fan-<n>}: starts {@link #CHILDREN} children ({@code fan-<n>-<position>}), waits for all their results
 *       and records the sum in {@code sums} with a transactional step. Each child inserts one row into
 *       {@code child_rows}.
 * </ul>
 *
 * <p>Usage: {@code PrimitivesCrashWorker <jdbcUrl> <executorId> <run>}
 */
public final class PrimitivesCrashWorker {
    static final int SLEEPERS = 15;
    static final int RECEIVERS = 10;
    static final int MESSAGES = 5;
    static final int PARENTS = 8;
    static final int CHILDREN = 4;
    static final int WORKFLOWS = SLEEPERS + RECEIVERS + PARENTS + PARENTS * CHILDREN;
    static final String TOPIC = "inbox";
    /** Workflows are started in this many stages, one per run of the worker (the test kills that many). */
    static final int STAGES = 5;
    /** A run starts its stage's workflows within this many milliseconds after it is ready. */
    static final long STAGE_MS = 800;

    private PrimitivesCrashWorker() {}

    /** How long sleeper {@code n} sleeps: 1–3 s, different for each. */
    static long sleepMillis(int n) {
        return 1000 + (n * 739L) % 2001;
    }

    /** The stage of workflow {@code n} of each kind: the first run of the worker that starts it. */
    static int stage(int n) {
        return n % STAGES;
    }

    /** The value child {@code i} (0-based) of parent {@code n} returns; the parent records the sum. */
    static int childValue(int parent, int i) {
        return 3 * (parent * CHILDREN + i + 1);
    }

    /** The message payload {@code i} for receiver {@code n}: unique across the test. */
    static String payload(int n, int i) {
        return "receiver-" + n + "/message-" + i;
    }

    public static void main(String[] args) throws Exception {
        String url = args[0];
        String executorId = args[1];
        int run = Integer.parseInt(args[2]);

        Tandem tandem = Tandem.builder()
                .databaseUrl(url)
                .executorId(executorId)
                .heartbeatInterval(Duration.ofMillis(100))
                .executorTimeout(Duration.ofMillis(500))
                .build();

        Workflow<Integer, Long> sleeper = tandem.register("pc-sleeper", Integer.class, (ctx, n) -> {
            long begin = ctx.step("begin", () -> {
                pause();
                return System.currentTimeMillis(); // last, so that begin + d is as close as can be to the sleep's now
            });
            if (n % 2 == 0) {
                ctx.sleep(Duration.ofMillis(sleepMillis(n)));
            } else {
                ctx.sleepUntil(Instant.ofEpochMilli(begin + sleepMillis(n)));
            }
            return ctx.transaction("record", conn -> {
                long woke = System.currentTimeMillis(); // the same clock that computed the wake-up time
                try (PreparedStatement ps = conn.prepareStatement("INSERT INTO slept VALUES (?, ?)")) {
                    ps.setString(1, ctx.workflowId());
                    ps.setLong(2, woke);
                    ps.executeUpdate();
                }
                return woke;
            });
        });

        Workflow<Integer, String> receiver = tandem.register("pc-receiver", Integer.class, (ctx, n) -> {
            List<String> got = new ArrayList<>();
            for (int i = 0; i < MESSAGES; i++) {
                String message = ctx.recv(TOPIC, String.class, Duration.ofMinutes(10));
                if (message == null) {
                    throw new IllegalStateException("recv #" + i + " timed out");
                }
                int index = i;
                ctx.transaction("record-" + i, conn -> {
                    try (PreparedStatement ps = conn.prepareStatement("INSERT INTO received VALUES (?, ?, ?)")) {
                        ps.setString(1, ctx.workflowId());
                        ps.setInt(2, index);
                        ps.setString(3, message);
                        ps.executeUpdate();
                    }
                    return index;
                });
                got.add(message);
            }
            return String.join(",", got);
        });

        Workflow<Integer, Integer> child = tandem.register("pc-child", Integer.class, (ctx, value) -> {
            ctx.step("work", () -> {
                Thread.sleep(ThreadLocalRandom.current().nextInt(100, 800)); // keeps the fan-out in flight a while
                return value;
            });
            return ctx.transaction("record", conn -> {
                try (PreparedStatement ps = conn.prepareStatement("INSERT INTO child_rows VALUES (?, ?)")) {
                    ps.setString(1, ctx.workflowId());
                    ps.setInt(2, value);
                    ps.executeUpdate();
                }
                return value;
            });
        });

        Workflow<Integer, Integer> parent = tandem.register("pc-parent", Integer.class, (ctx, n) -> {
            List<WorkflowHandle<Integer>> children = new ArrayList<>();
            for (int i = 0; i < CHILDREN; i++) {
                children.add(ctx.startChild(child, childValue(n, i)));
            }
            int sum = 0;
            for (WorkflowHandle<Integer> h : children) {
                sum += h.result(Duration.ofMinutes(10));
            }
            int total = sum;
            return ctx.transaction("record-sum", conn -> {
                try (PreparedStatement ps = conn.prepareStatement("INSERT INTO sums VALUES (?, ?)")) {
                    ps.setString(1, ctx.workflowId());
                    ps.setInt(2, total);
                    ps.executeUpdate();
                }
                return total;
            });
        });

        tandem.start();
        System.out.println("READY");
        System.out.flush();

        // Stage k is started by run k, spread over its first STAGE_MS; what earlier runs were killed before starting
        // is started at once (a start of an id that exists is a no-op).
        record Due(long at, Runnable start) {}
        List<Due> due = new ArrayList<>();
        for (int n = 0; n < SLEEPERS; n++) {
            int id = n;
            due.add(new Due(startAt(n, run), () -> sleeper.start(id, StartOptions.withId("sleeper-" + id))));
        }
        for (int n = 0; n < RECEIVERS; n++) {
            int id = n;
            due.add(new Due(startAt(n, run), () -> receiver.start(id, StartOptions.withId("receiver-" + id))));
        }
        for (int n = 0; n < PARENTS; n++) {
            int id = n;
            due.add(new Due(startAt(n, run), () -> parent.start(id, StartOptions.withId("fan-" + id))));
        }
        due.removeIf(d -> d.at() < 0);
        due.sort(Comparator.comparingLong(Due::at));
        long ready = System.currentTimeMillis();
        for (Due d : due) {
            long wait = ready + d.at() - System.currentTimeMillis();
            if (wait > 0) {
                Thread.sleep(wait);
            }
            d.start().run();
        }
        System.out.println("STARTED");
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }

    /** When run {@code run} starts workflow {@code n} of a kind, in ms after it is ready; negative: not yet. */
    private static long startAt(int n, int run) {
        int stage = stage(n);
        if (stage > run) {
            return -1;
        }
        return stage < run ? 0 : ThreadLocalRandom.current().nextLong(STAGE_MS);
    }

    private static void pause() throws InterruptedException {
        Thread.sleep(ThreadLocalRandom.current().nextInt(5, 40));
    }
}
