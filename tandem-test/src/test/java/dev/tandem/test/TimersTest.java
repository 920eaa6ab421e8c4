package dev.tandem.test;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.EnqueueOptions;
import dev.tandem.QueueOptions;
import dev.tandem.StartOptions;
import dev.tandem.Workflow;
import dev.tandem.WorkflowHandle;
import dev.tandem.WorkflowStatus;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Every timer the engine has, moved by the test clock: delays, deadlines, sleepUntil, retention, rate limits. */
@TandemTest
class TimersTest {

    @Test
    void aDelayedWorkflowStartsWhenTheClockReachesItsDelay(TandemKit kit) {
        Workflow<String, String> later = kit.register("later", String.class, (ctx, in) -> in + "!");
        WorkflowHandle<String> h = later.enqueue("hello", EnqueueOptions.defaults().delay(Duration.ofDays(2)));
        kit.assertWorkflow(h).hasStatus(WorkflowStatus.DELAYED);
        kit.clock().advance(Duration.ofDays(1));
        sleepMillis(300); // a queue poll and a maintenance round: it must stay delayed
        kit.assertWorkflow(h).hasStatus(WorkflowStatus.DELAYED);
        kit.clock().advance(Duration.ofDays(1).plusSeconds(1));
        kit.assertWorkflow(h).succeededWith("hello!");
    }

    @Test
    void aDeadlineCancelsAWorkflowThatSleepsPastIt(TandemKit kit) {
        Workflow<String, String> slow = kit.register("slow", String.class, (ctx, in) -> {
            ctx.sleep(Duration.ofDays(3));
            return in;
        });
        WorkflowHandle<String> h = slow.start("x", StartOptions.defaults().timeout(Duration.ofDays(1)));
        CrashAndRecoverTest.awaitWaitingOn(kit, h.workflowId(), "sleep until");
        kit.clock().advance(Duration.ofDays(1).plusMinutes(1));
        kit.assertWorkflow(h).endedWith(WorkflowStatus.CANCELLED);
    }

    @Test
    void sleepUntilAnInstantOnTheTestClock(TandemKit kit) {
        Instant newYear = Instant.parse("2031-01-01T00:00:00Z");
        Workflow<String, Long> wait = kit.register("wait", String.class, (ctx, in) -> {
            ctx.sleepUntil(newYear);
            return ctx.step("at", () -> kit.clock().now().getEpochSecond());
        });
        kit.clock().autoSkip();
        WorkflowHandle<Long> h = wait.start("x");
        kit.assertWorkflow(h).succeeded();
        assertThat(h.result(Duration.ofSeconds(5))).isBetween(newYear.getEpochSecond(), newYear.getEpochSecond() + 60);
    }

    @Test
    void retentionDeletesWhatEndedLongerAgoOnTheTestClock(TandemKit kit) {
        kit.configure(b -> b.retention(Duration.ofDays(7)));
        Workflow<String, String> quick = kit.register("quick", String.class, (ctx, in) -> in);
        WorkflowHandle<String> old = quick.start("old");
        kit.assertWorkflow(old).succeeded();
        kit.clock().advance(Duration.ofDays(5));
        WorkflowHandle<String> young = quick.start("young");
        kit.assertWorkflow(young).succeeded();
        kit.clock().advance(Duration.ofDays(3)); // old ended 8 days ago, young 3
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (kit.tandem().listWorkflows(dev.tandem.WorkflowQuery.all()).size() > 1) {
            assertThat(System.nanoTime() - deadline).as("retention ran").isNegative();
            sleepMillis(20);
        }
        assertThat(kit.tandem().listWorkflows(dev.tandem.WorkflowQuery.all()))
                .extracting(w -> w.workflowId()).containsExactly(young.workflowId());
    }

    @Test
    void aRateLimitWindowPassesOnTheTestClock(TandemKit kit) {
        kit.configure(b -> b.queue("mail", QueueOptions.unlimited().rateLimit(1, Duration.ofHours(1))));
        Workflow<String, String> mail = kit.register("mail", String.class, (ctx, to) -> "sent to " + to);
        List<WorkflowHandle<String>> sent = new ArrayList<>();
        for (String to : List.of("a", "b", "c")) {
            sent.add(mail.enqueue(to, EnqueueOptions.defaults().queue("mail")));
        }
        awaitSucceeded(kit, sent, 1);
        sleepMillis(300); // queue polls: the hour's one start is used
        assertThat(succeeded(kit, sent)).isEqualTo(1);
        kit.clock().advance(Duration.ofHours(1).plusSeconds(1));
        awaitSucceeded(kit, sent, 2);
        kit.clock().advance(Duration.ofHours(1).plusSeconds(1));
        awaitSucceeded(kit, sent, 3);
    }

    private static long succeeded(TandemKit kit, List<WorkflowHandle<String>> handles) {
        return handles.stream().filter(h -> kit.assertWorkflow(h).status() == WorkflowStatus.SUCCESS).count();
    }

    private static void awaitSucceeded(TandemKit kit, List<WorkflowHandle<String>> handles, int count) {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (succeeded(kit, handles) < count) {
            assertThat(System.nanoTime() - deadline).as(count + " sent").isNegative();
            sleepMillis(10);
        }
        assertThat(succeeded(kit, handles)).isEqualTo(count);
    }

    private static void sleepMillis(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }
}
