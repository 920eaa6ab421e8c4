package dev.tandem.test;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.ScheduleOptions;
import dev.tandem.StepInfo;
import dev.tandem.Tandem;
import dev.tandem.Workflow;
import dev.tandem.WorkflowContext;
import dev.tandem.WorkflowHandle;
import dev.tandem.WorkflowStatus;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import javax.sql.DataSource;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The kit's reason to exist: a 30-day approval flow, with receive timeouts, a durable sleep and a weekly reminder
 * cron, runs in well under a second of wall time on the test clock, and the same flow behaves the same on the
 * system clock (its time unit scaled down).
 */
@TandemTest
class MonthLongWorkflowTest {

    /** A document to approve; {@code unitMillis} is a "day" of the flow (a real day on the test clock). */
    record Request(String doc, long unitMillis) {}

    static String approval(WorkflowContext ctx, Request request) {
        Duration day = Duration.ofMillis(request.unitMillis());
        ctx.step("submit", () -> "submitted " + request.doc());
        String decision = ctx.recv("approval", String.class, day.multipliedBy(3));
        if (decision == null) {
            ctx.step("escalate", () -> "escalated " + request.doc());
            decision = ctx.recv("approval", String.class, day.multipliedBy(7));
        }
        ctx.sleep(day.multipliedBy(20)); // a cooling-off period before the decision is archived
        ctx.step("archive", () -> "archived");
        return decision == null ? "expired" : decision;
    }

    static Integer remind(DataSource ds, Instant tick) throws Exception {
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(
                "INSERT INTO reminders (tick) VALUES (?)")) {
            ps.setObject(1, java.sql.Timestamp.from(tick));
            return ps.executeUpdate();
        }
    }

    @BeforeEach
    void table(DataSource ds) throws Exception {
        try (Connection c = ds.getConnection(); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE IF NOT EXISTS reminders (tick timestamptz NOT NULL)");
            st.execute("TRUNCATE reminders");
        }
    }

    @Test
    void aThirtyDayFlowWithTimeoutsASleepAndACronRunsInMilliseconds(TandemKit kit) throws Exception {
        Workflow<Request, String> flow = kit.register("approval", Request.class, MonthLongWorkflowTest::approval);
        Workflow<Instant, Integer> reminder = kit.register("reminder", Instant.class,
                (ctx, tick) -> ctx.step("remind", () -> remind(kit.dataSource(), tick)));
        Tandem tandem = kit.tandem();
        tandem.schedules().create("weekly-reminder", reminder, "0 9 * * MON", ScheduleOptions.defaults());
        Instant began = kit.clock().now();

        long wall = System.nanoTime();
        kit.clock().autoSkip();
        WorkflowHandle<String> h = flow.start(new Request("doc-7", Duration.ofDays(1).toMillis()));
        kit.assertWorkflow(h).succeededWith("expired");
        long wallMillis = (System.nanoTime() - wall) / 1_000_000;

        System.out.printf("30-day approval flow: %d ms of wall time, %d clock jumps, test clock now %s%n",
                wallMillis, kit.clock().jumps(), kit.clock().now());
        assertThat(Duration.between(began, kit.clock().now())).isGreaterThanOrEqualTo(Duration.ofDays(30));
        assertThat(wallMillis).as("wall time of 30 days on the test clock").isLessThan(3_000);
        kit.assertWorkflow(h).ranStep("escalate", 1).ranStep("archive", 1).recordedStep("submit", 1);
        // Mondays 09:00 UTC in the 30 days: 4 or 5 reminders, each at its own tick, none twice.
        try (Connection c = kit.dataSource().getConnection(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*), count(DISTINCT tick), min(extract(dow FROM tick AT TIME"
                     + " ZONE 'UTC')), max(extract(dow FROM tick AT TIME ZONE 'UTC')) FROM reminders")) {
            rs.next();
            assertThat(rs.getInt(1)).isBetween(4, 5).isEqualTo(rs.getInt(2));
            assertThat(rs.getInt(3)).isEqualTo(1);
            assertThat(rs.getInt(4)).isEqualTo(1);
        }
    }

    @Test
    void advancingByHandWakesTheTimeoutAndAMessageStillWins(TandemKit kit) {
        Workflow<Request, String> flow = kit.register("approval", Request.class, MonthLongWorkflowTest::approval);
        WorkflowHandle<String> h = flow.start(new Request("doc-8", Duration.ofDays(1).toMillis()));
        awaitWaitingOn(kit, h.workflowId(), "message on topic 'approval'");

        kit.clock().advance(Duration.ofDays(3).plusMinutes(1)); // the first receive times out: escalated
        awaitStep(kit, h.workflowId(), "escalate");
        awaitWaitingOn(kit, h.workflowId(), "message on topic 'approval' until");
        kit.tandem().send(h.workflowId(), "approval", "approved");
        awaitWaitingOn(kit, h.workflowId(), "sleep until");
        kit.assertWorkflow(h).received("approval").hasStatus(WorkflowStatus.RUNNING);

        kit.clock().advance(Duration.ofDays(19)); // not yet
        kit.assertWorkflow(h).isWaitingOn("sleep until");
        kit.clock().advance(Duration.ofDays(1).plusMinutes(1));
        kit.assertWorkflow(h).succeededWith("approved").ranStep("archive", 1);
    }

    @Test
    void theSameFlowOnTheSystemClockBehavesTheSame(TandemKit kit) throws Exception {
        // First a plain engine on the system clock (the test clock has not moved yet), a "day" of 40 ms: 30 days in
        // 1.2 s of real waiting.
        List<String> onSystemClock;
        try (Tandem plain = Tandem.builder().dataSource(kit.dataSource()).executorId("system-clock")
                .heartbeatInterval(Duration.ofMillis(100)).executorTimeout(Duration.ofSeconds(1)).build()) {
            Workflow<Request, String> same = plain.register("approval", Request.class, MonthLongWorkflowTest::approval);
            plain.start();
            long wall = System.nanoTime();
            WorkflowHandle<String> real = same.start(new Request("doc-10", 40));
            assertThat(real.result(Duration.ofSeconds(30))).isEqualTo("expired");
            assertThat((System.nanoTime() - wall) / 1_000_000).isGreaterThanOrEqualTo(30 * 40);
            onSystemClock = shape(plain.listSteps(real.workflowId()));
        }

        // Then the kit's engine on the test clock, auto-skipping real days.
        Workflow<Request, String> flow = kit.register("approval", Request.class, MonthLongWorkflowTest::approval);
        kit.clock().autoSkip();
        WorkflowHandle<String> skipped = flow.start(new Request("doc-9", Duration.ofDays(1).toMillis()));
        kit.assertWorkflow(skipped).succeededWith("expired");
        assertThat(shape(kit.tandem().listSteps(skipped.workflowId()))).isEqualTo(onSystemClock)
                .contains("RECV recv:approval timeout", "STEP escalate", "SLEEP sleep", "STEP archive");
    }

    /** Each checkpoint as kind and name, and whether a receive got a message: the flow's path, not its times. */
    private static List<String> shape(List<StepInfo> steps) {
        return steps.stream().map(s -> s.kind() + " " + s.name()
                + (s.kind().equals("RECV") ? (s.outputJson() == null || s.outputJson().equals("null") ? " timeout" : " got")
                : "")).toList();
    }

    private static void awaitWaitingOn(TandemKit kit, String id, String prefix) {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!kit.waitingOn(id).startsWith(prefix)) {
            assertThat(System.nanoTime() - deadline).as("waiting on " + kit.waitingOn(id)).isNegative();
            sleep();
        }
    }

    private static void awaitStep(TandemKit kit, String id, String step) {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (kit.tandem().listSteps(id).stream().noneMatch(s -> s.name().equals(step))) {
            assertThat(System.nanoTime() - deadline).as("step " + step).isNegative();
            sleep();
        }
    }

    private static void sleep() {
        try {
            Thread.sleep(5);
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }
}
