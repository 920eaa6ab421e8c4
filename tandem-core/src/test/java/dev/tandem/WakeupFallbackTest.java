package dev.tandem;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.tandem.testing.TestDatabase;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Changes that send no NOTIFY (a lost notification, a row written by hand) still reach waiters, through the periodic
 * look every 5 s, not at their timeouts of minutes. The look replays only the waits that have something to see: idle
 * parked sleepers are left alone. On Java 17 long waits park; on 21+ they block virtual threads: run it on both.
 */
class WakeupFallbackTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    /** The period of the look (5 s), and some slack for the replay it triggers on a loaded machine. */
    static final Duration WITHIN_LOOK = Duration.ofSeconds(5).plusSeconds(3);
    static final Duration LONG = Duration.ofMinutes(5);

    static Tandem tandem;
    static Workflow<String, String> receiver;
    static Workflow<String, String> sleeper;
    static final AtomicInteger sleeperBodyRuns = new AtomicInteger();
    static final AtomicInteger sleeperAfterRuns = new AtomicInteger();

    @BeforeAll
    static void setUp() {
        tandem = Tandem.builder().dataSource(db.dataSource()).shutdownTimeout(Duration.ofSeconds(1)).build();
        receiver = tandem.register("receiver", String.class, (ctx, in) -> ctx.recv(String.class, LONG));
        sleeper = tandem.register("sleeper", String.class, (ctx, in) -> {
            sleeperBodyRuns.incrementAndGet(); // every run of the body, replays included
            ctx.sleep(LONG);
            ctx.step("after", sleeperAfterRuns::incrementAndGet);
            return "woke";
        });
        tandem.start();
    }

    @AfterAll
    static void tearDown() {
        tandem.close();
    }

    static void awaitWaiting(String workflowId) {
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(10)).until(() -> db.queryLong(
                "SELECT count(*) FROM tandem.steps WHERE workflow_id = '" + workflowId + "' AND kind = 'SLEEP'") == 1);
    }

    @Test
    void aMessageWithoutANotifyIsReceivedWithinTheLookAndIdleSleepersAreNotReplayed() {
        List<String> idle = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            idle.add(sleeper.start("x", StartOptions.withId("idle-" + i)).workflowId());
        }
        WorkflowHandle<String> h = receiver.start("x", StartOptions.withId("lost-notify"));
        idle.forEach(WakeupFallbackTest::awaitWaiting);
        awaitWaiting("lost-notify");
        int bodyRuns = sleeperBodyRuns.get();

        // As a lost NOTIFY looks: the row is there, nobody was told.
        db.execute("INSERT INTO tandem.messages (workflow_id, message) VALUES ('lost-notify', '\"hello\"')");
        long t0 = System.nanoTime();
        assertThat(h.result(WITHIN_LOOK)).isEqualTo("hello");
        System.out.printf("message without NOTIFY received after %d ms%n", (System.nanoTime() - t0) / 1_000_000);

        // The look that found the message looked at the sleepers too, and replayed none of them.
        assertThat(sleeperBodyRuns.get()).isEqualTo(bodyRuns);
        assertThat(sleeperAfterRuns.get()).isZero();
    }

    @Test
    void aSleeperCancelledWithoutANotifyStopsWithinTheLook() {
        WorkflowHandle<String> h = sleeper.start("x", StartOptions.withId("silent-cancel"));
        awaitWaiting("silent-cancel");
        db.execute("UPDATE tandem.workflow_status SET status = 'CANCELLED' WHERE workflow_id = 'silent-cancel'");
        long t0 = System.nanoTime();
        assertThatThrownBy(() -> h.result(WITHIN_LOOK)).isInstanceOfSatisfying(WorkflowFailedException.class,
                e -> assertThat(e.status()).isEqualTo(WorkflowStatus.CANCELLED));
        System.out.printf("sleeper cancelled without NOTIFY stopped after %d ms%n",
                (System.nanoTime() - t0) / 1_000_000);
        assertThat(sleeperAfterRuns.get()).isZero();
    }

    @Test
    void anEventSetWithoutANotifyIsSeenWithinTheLook() {
        receiver.start("x", StartOptions.withId("silent-event"));
        CompletableFuture<String> value = CompletableFuture.supplyAsync(
                () -> tandem.getEvent("silent-event", "state", String.class, LONG));
        await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(2)).until(() -> !value.isDone());
        db.execute("INSERT INTO tandem.events (workflow_id, key, value) VALUES ('silent-event', 'state', '\"ready\"')");
        long t0 = System.nanoTime();
        assertThat(value).succeedsWithin(WITHIN_LOOK).isEqualTo("ready");
        System.out.printf("event without NOTIFY seen after %d ms%n", (System.nanoTime() - t0) / 1_000_000);
    }
}
