package dev.tandem;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A worker process for {@link ChaosTest}. Both workers register the same mix, and each starts its share of it:
 *
 * <ul>
 *   <li>{@code chaos-order} (input n): a plain step; a transactional step that inserts {@code ledger(id, 'reserve')};
 *       a durable sleep ({@link #sleepMillis}); {@code recv} of the "go" message the test sends; a child {@code chaos-child}
 *       via {@code runChild}; {@code recv} of the message the child sent it; a transactional step at one of the
 *       three isolation levels that inserts {@code ledger(id, 'settle')}. Ten positions in all. Output:
 *       {@code n:<go message>:<child id>:<child's message>};
 *   <li>{@code chaos-child} (input: its parent's id): a plain step, a transactional step that inserts
 *       {@code ledger(id, 'child')}, and {@code send} of its own id to its parent on topic "from-child". Output:
 *       its id;
 *   <li>{@code chaos-ping-<executorId>}: registered by this worker only, so the test can tell that both workers
 *       still take new work at the end: a step and a transactional step that inserts {@code ledger(id, 'ping')}.
 * </ul>
 *
 * <p>The ledger has no unique key: exactly once must come from Tandem. Each step and transaction body also notes
 * that it ran in {@code body_runs}, on a connection of its own (so a body that runs again and rolls back still
 * shows), best effort (a note lost to a fault is not retried): how often the faults made bodies run again. Besides what the test enqueues with SQL, this
 * worker starts {@code direct-<executorId>-<i>} (with {@code start}) and enqueues {@code jenq-<executorId>-<i>}
 * (with Java's {@code enqueue}, into queue {@code limited}), for i below {@code count}, item i at
 * {@code epochMillis + i * intervalMillis}. A restarted worker issues every item whose time has come again: a start
 * or enqueue of an id that exists is a no-op, so what its predecessor did not get to is made up for.
 *
 * <p>Usage: {@code ChaosWorker <jdbcUrl> <executorId> <epochMillis> <count> <intervalMillis> <inputBase>}
 */
public final class ChaosWorker {
    static final String QUEUE = "limited";
    static final int QUEUE_LIMIT = 3;
    static final Duration HEARTBEAT = Duration.ofMillis(200);
    static final Duration EXECUTOR_TIMEOUT = Duration.ofSeconds(2);
    private static final IsolationLevel[] LEVELS = IsolationLevel.values();

    /** For the notes in {@code body_runs}, apart from every workflow's transaction. */
    private static HikariDataSource notes;

    private ChaosWorker() {}

    /** The ids and inputs of what a worker starts itself. */
    static String itemId(String executorId, int i) {
        return (isJavaEnqueue(i) ? "jenq-" : "direct-") + executorId + "-" + i;
    }

    /** Every fourth item goes through queue {@code limited}: with Java's enqueue here, with SQL in the test. */
    static boolean isJavaEnqueue(int i) {
        return i % 4 == 0;
    }

    /**
     * How long workflow n sleeps: 500–2499 ms, to keep work in flight; but 200–599 ms for n divisible by 4, which
     * are the ones that go through queue {@code limited} (the inputs are chosen so), so that its 3 slots keep up.
     */
    static long sleepMillis(int n) {
        return n % 4 == 0 ? 200 + (n * 37L) % 400 : 500 + (n * 37L) % 2000;
    }

    public static void main(String[] args) throws Exception {
        // Before any logger exists: the engine's info lines (recoveries, takeovers, refused zombies) go to the log.
        System.setProperty("org.slf4j.simpleLogger.log.dev.tandem", "info");
        String url = args[0];
        String executorId = args[1];
        long epochMillis = Long.parseLong(args[2]);
        int count = Integer.parseInt(args[3]);
        long intervalMillis = Long.parseLong(args[4]);
        int inputBase = Integer.parseInt(args[5]);

        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(url + "&ApplicationName=" + executorId);
        config.setMaximumPoolSize(2);
        config.setConnectionTimeout(250);
        config.setInitializationFailTimeout(-1);
        config.setPoolName("chaos-notes");
        notes = new HikariDataSource(config);

        Tandem tandem = Tandem.builder()
                .databaseUrl(url + "&ApplicationName=" + executorId)
                .executorId(executorId)
                .heartbeatInterval(HEARTBEAT)
                .executorTimeout(EXECUTOR_TIMEOUT)
                .pollInterval(Duration.ofMillis(500))
                .queue(QUEUE, QueueOptions.unlimited().concurrency(QUEUE_LIMIT))
                .build();

        Workflow<String, String> child = tandem.register("chaos-child", String.class, (ctx, parentId) -> {
            ctx.step("work", () -> {
                ran(ctx.workflowId(), "work");
                pause(10, 60);
                return parentId;
            });
            ctx.transaction("child", conn -> ledger(conn, ctx.workflowId(), "child"));
            ctx.send(parentId, "from-child", ctx.workflowId());
            return ctx.workflowId();
        });

        Workflow<Integer, String> order = tandem.register("chaos-order", Integer.class, (ctx, n) -> {
            ctx.step("prepare", () -> {
                ran(ctx.workflowId(), "prepare");
                pause(5, 30);
                return n * 2;
            });
            ctx.transaction("reserve", conn -> ledger(conn, ctx.workflowId(), "reserve"));
            ctx.sleep(Duration.ofMillis(sleepMillis(n)));
            String go = ctx.recv("go", String.class, Duration.ofMinutes(3));
            if (go == null) {
                throw new IllegalStateException("no go message within 3 minutes");
            }
            String childId = ctx.runChild(child, ctx.workflowId());
            String fromChild = ctx.recv("from-child", String.class, Duration.ofMinutes(3));
            if (fromChild == null) {
                throw new IllegalStateException("no message from child " + childId + " within 3 minutes");
            }
            ctx.transaction("settle", TransactionOptions.isolation(LEVELS[n % LEVELS.length]),
                    conn -> ledger(conn, ctx.workflowId(), "settle"));
            return n + ":" + go + ":" + childId + ":" + fromChild;
        });

        tandem.register("chaos-ping-" + executorId, Integer.class, (ctx, n) -> {
            ctx.step("pong", () -> n);
            ctx.transaction("ping", conn -> ledger(conn, ctx.workflowId(), "ping"));
            return executorId;
        });

        tandem.start();
        System.out.println("READY");
        System.out.flush();

        for (int i = 0; i < count; i++) {
            long wait = epochMillis + i * intervalMillis - System.currentTimeMillis();
            if (wait > 0) {
                Thread.sleep(wait);
            }
            String id = itemId(executorId, i);
            int n = inputBase + i;
            // A start during an outage waits for the database, and may end without knowing whether it committed:
            // the same id again is safe either way.
            for (int attempt = 1; ; attempt++) {
                try {
                    if (isJavaEnqueue(i)) {
                        order.enqueue(n, EnqueueOptions.withId(id).queue(QUEUE));
                    } else {
                        order.start(n, StartOptions.withId(id));
                    }
                    break;
                } catch (RuntimeException e) {
                    System.out.println("start of " + id + " failed (attempt " + attempt + "), again: " + e);
                    Thread.sleep(200);
                }
            }
        }
        System.out.println("STARTED-ALL");
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }

    private static String ledger(Connection conn, String workflowId, String step) throws SQLException {
        ran(workflowId, step);
        pause(1, 15);
        try (PreparedStatement ps = conn.prepareStatement("INSERT INTO ledger (workflow_id, step) VALUES (?, ?)")) {
            ps.setString(1, workflowId);
            ps.setString(2, step);
            ps.executeUpdate();
        }
        return step;
    }

    /** Notes that a body ran, if the database takes the note now. */
    private static void ran(String workflowId, String step) {
        try (Connection c = notes.getConnection();
                PreparedStatement ps = c.prepareStatement("INSERT INTO body_runs (workflow_id, step) VALUES (?, ?)")) {
            ps.setString(1, workflowId);
            ps.setString(2, step);
            ps.executeUpdate();
        } catch (SQLException e) {
            // best effort: the count is a lower bound
        }
    }

    private static void pause(int fromMillis, int toMillis) {
        try {
            Thread.sleep(ThreadLocalRandom.current().nextInt(fromMillis, toMillis));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
