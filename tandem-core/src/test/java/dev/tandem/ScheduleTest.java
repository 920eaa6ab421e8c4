package dev.tandem;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.tandem.testing.Engines;
import dev.tandem.testing.TestDatabase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Cron schedules: ticks, exactly once across executors, management at runtime, catch-up after an outage. */
class ScheduleTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    @RegisterExtension
    final Engines engines = new Engines();

    static final Duration WAIT = Duration.ofSeconds(10);
    /** How many times each workflow id ran its body, across all engines of the test. */
    static final Map<String, AtomicInteger> runs = new ConcurrentHashMap<>();
    /** Registered by {@link #engine()}: the tick, in; its ISO text, out. A schedule only needs its name. */
    Workflow<Instant, String> tick;
    Workflow<String, String> text;

    @BeforeAll
    static void migrate() {
        try (Tandem tandem = Tandem.builder().dataSource(db.dataSource()).build()) {
            tandem.start();
        }
    }

    @AfterEach
    void deleteSchedules() {
        db.execute("DELETE FROM tandem.schedules");
    }

    /** An engine, not started, with workflows {@link #tick} and {@link #text}. */
    Tandem engine() {
        Tandem tandem = engines.add(Tandem.builder()
                .dataSource(db.dataSource())
                .heartbeatInterval(Duration.ofMillis(100)) // the scheduler's pass: ticks start within 0.1 s
                .executorTimeout(Duration.ofSeconds(5))
                .pollInterval(Duration.ofMillis(200))
                .build());
        tick = tandem.register("tick", Instant.class, (ctx, at) -> {
            runs.computeIfAbsent(ctx.workflowId(), id -> new AtomicInteger()).incrementAndGet();
            return at.toString();
        });
        text = tandem.register("text", String.class, (ctx, s) -> s);
        return tandem;
    }

    Tandem started() {
        Tandem tandem = engine();
        tandem.start();
        return tandem;
    }

    @Test
    void eachTickStartsTheWorkflowWithTheTickAsInputUnderADeterministicId() {
        Tandem tandem = started();
        Schedules schedules = tandem.schedules();
        schedules.create("every-second", tick, "* * * * * *", ScheduleOptions.defaults());

        await().atMost(WAIT).until(() -> count("every-second", "SUCCESS") >= 2);
        schedules.pause("every-second");

        List<Instant> ticks = ticks("every-second");
        assertThat(ticks).hasSizeGreaterThanOrEqualTo(2);
        for (int i = 1; i < ticks.size(); i++) {
            assertThat(Duration.between(ticks.get(i - 1), ticks.get(i))).as("no gap, no repeat")
                    .isEqualTo(Duration.ofSeconds(1));
        }
        Instant first = ticks.get(0);
        String id = "every-second@" + first;
        assertThat(id).matches("every-second@\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ");
        assertThat(db.queryString("SELECT input::text FROM tandem.workflows WHERE workflow_id = '" + id + "'"))
                .isEqualTo("[\"" + first + "\"]");
        assertThat(tandem.<String>handle(id).result(WAIT)).isEqualTo(first.toString()); // bound to an Instant
        ScheduleInfo info = schedules.get("every-second").orElseThrow();
        assertThat(info.lastTick()).isEqualTo(ticks.get(ticks.size() - 1));
        assertThat(info.nextTick()).isEqualTo(info.lastTick().plusSeconds(1));
        assertThat(info.workflowName()).isEqualTo("tick");
        assertThat(info.timeZone()).isEqualTo(ZoneId.of("UTC"));
        assertThat(info.catchUp()).isEqualTo(CatchUp.SKIP);
    }

    @Test
    void twoExecutorsStartEachTickExactlyOnce() {
        Tandem a = started();
        Tandem b = started();
        List<String> names = List.of("pair-0", "pair-1", "pair-2", "pair-3");
        Instant created = dbNow();
        for (String name : names) {
            (name.endsWith("0") || name.endsWith("2") ? a : b).schedules()
                    .create(name, tick, "* * * * * *", ScheduleOptions.defaults());
        }
        await().atMost(WAIT).until(() -> names.stream().allMatch(n -> ticks(n).size() >= 4));
        names.forEach(b.schedules()::pause);

        for (String name : names) {
            List<Instant> ticks = ticks(name);
            assertThat(ticks.get(0)).as(name + ": starts at the first tick after create")
                    .isBetween(created, created.plusSeconds(3));
            for (int i = 1; i < ticks.size(); i++) {
                assertThat(Duration.between(ticks.get(i - 1), ticks.get(i))).as(name + ": no gap")
                        .isEqualTo(Duration.ofSeconds(1));
            }
            assertThat(a.schedules().get(name).orElseThrow().lastTick()).isEqualTo(ticks.get(ticks.size() - 1));
        }
        await().atMost(WAIT).until(() -> names.stream().mapToLong(n -> count(n, "SUCCESS")).sum()
                == names.stream().mapToLong(n -> ticks(n).size()).sum());
        for (String name : names) {
            for (Instant t : ticks(name)) {
                assertThat(runs.get(name + "@" + t)).as(name + "@" + t + " ran once").hasValue(1);
            }
        }
    }

    @Test
    void pauseResumeAndDelete() throws Exception {
        Tandem tandem = started();
        Schedules schedules = tandem.schedules();
        schedules.create("pausable", tick, "* * * * * *", ScheduleOptions.defaults());
        schedules.create("deletable", tick, "* * * * * *", ScheduleOptions.defaults());
        await().atMost(WAIT).until(() -> !ticks("pausable").isEmpty() && !ticks("deletable").isEmpty());

        schedules.pause("pausable");
        schedules.pause("pausable"); // again: nothing changes
        schedules.delete("deletable");
        ScheduleInfo paused = schedules.get("pausable").orElseThrow();
        assertThat(paused.paused()).isTrue();
        assertThat(schedules.get("deletable")).isEmpty();
        assertThat(schedules.list()).extracting(ScheduleInfo::name).containsExactly("pausable");
        int pausedCount = ticks("pausable").size();
        int deletedCount = ticks("deletable").size();
        Thread.sleep(1100); // nothing to signal: only time shows that nothing starts
        assertThat(ticks("pausable")).as("paused: no more ticks").hasSize(pausedCount);
        assertThat(ticks("deletable")).as("deleted: no more ticks; started ones stay").hasSize(deletedCount);

        Instant resumedAt = dbNow();
        schedules.resume("pausable");
        ScheduleInfo resumed = schedules.get("pausable").orElseThrow();
        assertThat(resumed.paused()).isFalse();
        assertThat(resumed.nextTick()).as("from now on: the paused period is not caught up").isAfter(resumedAt);
        await().atMost(WAIT).until(() -> ticks("pausable").size() > pausedCount);
        assertThat(ticks("pausable")).allMatch(t -> !t.isAfter(paused.lastTick()) || !t.isBefore(resumed.nextTick()));

        for (String action : List.of("pause", "resume", "delete")) {
            assertThatThrownBy(() -> {
                switch (action) {
                    case "pause" -> schedules.pause("deletable");
                    case "resume" -> schedules.resume("deletable");
                    default -> schedules.delete("deletable");
                }
            }).as(action).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("no schedule named 'deletable' exists; see Schedules.list()");
        }
    }

    @Test
    void createIsDeclarativeAndAChangedDefinitionStartsFromNow() {
        Tandem tandem = started();
        Schedules schedules = tandem.schedules();
        schedules.create("declared", tick, "0 0 * * *", ScheduleOptions.defaults().paused(true));
        ScheduleInfo created = schedules.get("declared").orElseThrow();
        assertThat(created.paused()).isTrue();
        assertThat(created.nextTick()).isEqualTo(Instant.now().truncatedTo(ChronoUnit.DAYS).plus(Duration.ofDays(1)));

        // Declared again at the next start, not paused: an operator's pause stands.
        schedules.create("declared", tick, "0 0 * * *", ScheduleOptions.defaults());
        assertThat(schedules.get("declared")).contains(created);

        schedules.resume("declared");
        ScheduleInfo resumed = schedules.get("declared").orElseThrow();
        schedules.create("declared", tick, " 0 0 * * * ", ScheduleOptions.defaults());
        assertThat(schedules.get("declared")).as("unchanged definition: same next tick").contains(resumed);

        ZoneId paris = ZoneId.of("Europe/Paris");
        schedules.create("declared", tick, "0 12 * * *", ScheduleOptions.defaults().timeZone(paris)
                .catchUp(CatchUp.BACKFILL));
        ScheduleInfo changed = schedules.get("declared").orElseThrow();
        assertThat(changed.cron()).isEqualTo("0 12 * * *");
        assertThat(changed.timeZone()).isEqualTo(paris);
        assertThat(changed.catchUp()).isEqualTo(CatchUp.BACKFILL);
        assertThat(changed.paused()).isFalse();
        assertThat(changed.nextTick().atZone(paris).getHour()).isEqualTo(12);
        assertThat(changed.nextTick()).isBetween(Instant.now(), Instant.now().plus(Duration.ofDays(1)));
        assertThat(schedules.list()).containsExactly(changed);
    }

    @Test
    void triggerStartsOneRunNowAndLeavesTheScheduleAlone() {
        Tandem tandem = started();
        Schedules schedules = tandem.schedules();
        schedules.create("yearly", tick, "@yearly", ScheduleOptions.defaults().paused(true));
        ScheduleInfo before = schedules.get("yearly").orElseThrow();

        WorkflowHandle<?> handle = schedules.trigger("yearly");
        assertThat(handle.workflowId()).matches("yearly@manual-[0-9a-f-]{36}");
        Instant input = Instant.parse((String) handle.result(WAIT));
        assertThat(Duration.between(input, Instant.now()).abs()).isLessThan(Duration.ofSeconds(5));
        assertThat(schedules.trigger("yearly").workflowId()).isNotEqualTo(handle.workflowId());
        assertThat(schedules.get("yearly")).contains(before);

        assertThatThrownBy(() -> schedules.trigger("no-such"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("no schedule named 'no-such' exists");
    }

    @Test
    void backfillEnqueuesEveryTickOfTheRangeOnceAndIsIdempotent() {
        Tandem tandem = started();
        Schedules schedules = tandem.schedules();
        schedules.create("minutely", tick, "0 * * * * *", ScheduleOptions.defaults().paused(true));
        Instant to = dbNow().truncatedTo(ChronoUnit.MINUTES);
        Instant from = to.minus(Duration.ofMinutes(10));

        List<String> ids = schedules.backfill("minutely", from, to);
        List<String> expected = new ArrayList<>();
        for (Instant t = from; t.isBefore(to); t = t.plus(Duration.ofMinutes(1))) {
            expected.add("minutely@" + t);
        }
        assertThat(ids).containsExactlyElementsOf(expected);
        assertThat(schedules.backfill("minutely", from, to)).as("again: nothing new").isEmpty();
        assertThat(schedules.backfill("minutely", from.minus(Duration.ofMinutes(5)), to.minusSeconds(1)))
                .as("overlapping: only the new ticks").hasSize(5)
                .allMatch(id -> id.compareTo("minutely@" + from) < 0);
        await().atMost(WAIT).until(() -> count("minutely", "SUCCESS") == 15);
        for (String id : expected) {
            assertThat(tandem.<String>handle(id).result(WAIT)).isEqualTo(id.substring("minutely@".length()));
        }

        // Ticks later than now are the schedule's own.
        List<String> upToNow = schedules.backfill("minutely", to, to.plus(Duration.ofHours(1)));
        assertThat(upToNow).startsWith("minutely@" + to).hasSizeLessThanOrEqualTo(2);

        schedules.create("per-second", tick, "* * * * * *", ScheduleOptions.defaults().paused(true));
        assertThatThrownBy(() -> schedules.backfill("per-second", to.minus(Duration.ofHours(3)), to))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("covers more than 10000 ticks")
                .hasMessageContaining("nothing was enqueued");
        assertThat(ticks("per-second")).isEmpty();
        assertThatThrownBy(() -> schedules.backfill("per-second", to, to))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("from must be before to");
        assertThatThrownBy(() -> schedules.backfill("per-second", null, to))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("needs both from and to");
        assertThatThrownBy(() -> schedules.backfill("no-such", from, to))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("no schedule named 'no-such' exists");
    }

    @Test
    void afterAnOutageSkipRunsOnlyOnTimeTicksAndBackfillRunsEveryMissedTick() {
        Tandem tandem = engine(); // not started: as if every executor were down
        Schedules schedules = tandem.schedules();
        schedules.create("skipper", tick, "*/10 * * * * *", ScheduleOptions.defaults());
        schedules.create("filler", tick, "*/10 * * * * *",
                ScheduleOptions.defaults().catchUp(CatchUp.BACKFILL));
        // Down for 10 minutes: their next ticks are 10 minutes old.
        db.execute("UPDATE tandem.schedules SET next_tick = date_trunc('minute', now()) - interval '10 minutes'");
        // Beside them, written by hand in SQL: a workflow no executor runs (1,500 missed ticks: two passes), a cron
        // expression that does not parse, and a queue that does not exist. The last two must not stop the others.
        db.execute("""
                INSERT INTO tandem.schedules (name, workflow_name, cron, catch_up, queue_name, next_tick) VALUES
                    ('many', 'nobody-runs-this', '* * * * * *', 'BACKFILL', 'default',
                     date_trunc('minute', now()) - interval '25 minutes'),
                    ('broken', 'tick', 'every day at noon', 'SKIP', 'default', now() - interval '1 minute'),
                    ('lost', 'tick', '* * * * * *', 'SKIP', 'no-such-queue', now() - interval '1 second')""");
        Instant outageEnd = dbNow();
        Instant missedFrom = schedules.get("filler").orElseThrow().nextTick();
        Instant manyFrom = schedules.get("many").orElseThrow().nextTick();
        assertThat(Duration.between(missedFrom, outageEnd)).isBetween(Duration.ofMinutes(10), Duration.ofMinutes(11));

        tandem.start();
        await().atMost(WAIT).until(() -> ticks("filler").size() > 60 && ticks("many").size() > 1500
                && !ticks("skipper").isEmpty());
        schedules.pause("skipper");
        schedules.pause("filler");
        schedules.pause("many");

        List<Instant> filled = ticks("filler");
        assertThat(filled.get(0)).isEqualTo(missedFrom);
        assertEvery(Duration.ofSeconds(10), filled);
        List<Instant> many = ticks("many");
        assertThat(many.get(0)).isEqualTo(manyFrom);
        assertEvery(Duration.ofSeconds(1), many);

        List<Instant> skipped = ticks("skipper");
        assertThat(skipped.get(0)).as("ticks more than a minute late are skipped")
                .isAfterOrEqualTo(outageEnd.minus(Duration.ofMinutes(1)));
        assertThat(skipped).as("the on-time ones run").hasSizeGreaterThanOrEqualTo(6);
        assertEvery(Duration.ofSeconds(10), skipped);

        assertThat(ticks("broken")).isEmpty();
        assertThat(ticks("lost")).isEmpty();
        assertThat(schedules.get("lost").orElseThrow().lastTick()).as("rolled back, tried again later").isNull();
        await().atMost(WAIT).until(() -> count("filler", "SUCCESS") == filled.size());
    }

    @Test
    void badArgumentsAreRejectedClearlyAndWriteNothing() {
        Tandem tandem = started();
        Schedules schedules = tandem.schedules();
        schedules.create("good", tick, "0 0 * * *", ScheduleOptions.defaults());
        ScheduleInfo good = schedules.get("good").orElseThrow();

        assertThatThrownBy(() -> schedules.create("bad", tick, "61 * * * *", ScheduleOptions.defaults()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("schedule 'bad': invalid cron expression '61 * * * *': minute field '61': '61' is out of"
                        + " range (allowed: 0-59)");
        assertThatThrownBy(() -> schedules.create("bad", tick, "* * *", ScheduleOptions.defaults()))
                .hasMessageContaining("expected 5 fields");
        assertThatThrownBy(() -> schedules.create("bad", tick, null, ScheduleOptions.defaults()))
                .hasMessageContaining("cron expression must not be null or blank");
        assertThatThrownBy(() -> schedules.create("bad", tick, "* * * * *", ScheduleOptions.defaults().queue("nope")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("queue 'nope' does not exist");
        @SuppressWarnings({"unchecked", "rawtypes"})
        Workflow<Instant, ?> wrongInput = (Workflow) text; // only an unchecked cast gets past the compiler
        assertThatThrownBy(() -> schedules.create("bad", wrongInput, "* * * * *", ScheduleOptions.defaults()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("workflow 'text' takes a java.lang.String, but a scheduled workflow takes the"
                        + " tick, a java.time.Instant");
        assertThatThrownBy(() -> schedules.create(" ", tick, "* * * * *", ScheduleOptions.defaults()))
                .hasMessage("schedule name must not be null or blank");
        assertThatThrownBy(() -> schedules.create("bad", null, "* * * * *", ScheduleOptions.defaults()))
                .hasMessageContaining("workflow of schedule 'bad' must not be null");
        assertThatThrownBy(() -> schedules.create("bad", tick, "* * * * *", null))
                .hasMessageContaining("use ScheduleOptions.defaults()");
        assertThatThrownBy(() -> ScheduleOptions.defaults().timeZone(null)).hasMessageContaining("timeZone");
        assertThatThrownBy(() -> ScheduleOptions.defaults().queue(" ")).hasMessageContaining("queue");
        assertThatThrownBy(() -> ScheduleOptions.defaults().catchUp(null)).hasMessageContaining("catchUp");
        // An invalid update leaves the schedule as it was.
        assertThatThrownBy(() -> schedules.create("good", tick, "0 0 31 4 *", ScheduleOptions.defaults()))
                .hasMessageContaining("never fires");

        assertThat(schedules.list()).containsExactly(good);
        assertThat(db.queryLong("SELECT count(*) FROM tandem.workflows WHERE starts_with(workflow_id, 'bad@')"))
                .isZero();
        assertThat(schedules.get("no-such")).isEmpty();
    }

    // ---- helpers ----

    /** The ticks a schedule started, oldest first, from its workflows' ids. */
    static List<Instant> ticks(String schedule) {
        List<Instant> ticks = new ArrayList<>();
        for (String id : strings("SELECT workflow_id FROM tandem.workflow_status WHERE starts_with(workflow_id, ?)"
                + " ORDER BY workflow_id", schedule + "@")) {
            ticks.add(Instant.parse(id.substring(schedule.length() + 1)));
        }
        return ticks;
    }

    static long count(String schedule, String status) {
        return strings("SELECT workflow_id FROM tandem.workflow_status WHERE starts_with(workflow_id, ?)"
                + " AND status = '" + status + "'", schedule + "@").size();
    }

    static void assertEvery(Duration period, List<Instant> ticks) {
        for (int i = 1; i < ticks.size(); i++) {
            assertThat(Duration.between(ticks.get(i - 1), ticks.get(i))).as("no gap after " + ticks.get(i - 1))
                    .isEqualTo(period);
        }
    }

    static Instant dbNow() {
        return Instant.parse(db.queryString("SELECT to_char(now() AT TIME ZONE 'UTC',"
                + " 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"));
    }

    static List<String> strings(String sql, String parameter) {
        try (Connection c = db.dataSource().getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, parameter);
            List<String> values = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    values.add(rs.getString(1));
                }
            }
            return values;
        } catch (SQLException e) {
            throw new IllegalStateException(sql, e);
        }
    }
}
