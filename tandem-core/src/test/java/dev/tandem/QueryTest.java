package dev.tandem;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tandem.testing.TestDatabase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Types;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Listing workflows (every filter, paging, order) and a workflow's steps, from Java and through the views. */
class QueryTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    static final Instant BASE = Instant.parse("2024-03-01T12:00:00Z");
    static final WorkflowStatus[] STATUSES = {
        WorkflowStatus.SUCCESS, WorkflowStatus.ERROR, WorkflowStatus.CANCELLED, WorkflowStatus.ENQUEUED
    };
    /** The rows inserted directly, as the Java side of the expectations. */
    static final List<Row> fixture = new ArrayList<>();
    static Tandem tandem;

    record Row(String id, String name, WorkflowStatus status, String queue, Instant createdAt,
            @Nullable String parent) {}

    @BeforeAll
    static void setUp() throws Exception {
        tandem = Tandem.builder()
                .dataSource(db.dataSource())
                .unknownWorkflowTimeout(Duration.ofDays(3650)) // the fixture's waiting rows must stay waiting
                .build();
        Workflow<String, String> withSteps = tandem.register("with-steps", String.class, (ctx, in) -> {
            int one = ctx.step("one", () -> 1);
            String two = ctx.transaction("two", conn -> "two");
            try {
                ctx.step("boom", () -> {
                    throw new IllegalStateException("kaboom");
                });
            } catch (StepFailedException expected) {
                // recorded as a failed step; the workflow carries on
            }
            return ctx.step("last", () -> two + one);
        });
        Workflow<String, String> noSteps = tandem.register("no-steps", String.class, (ctx, in) -> in);
        tandem.start();

        // 30 workflows, two per minute (equal creation times test the tie-break), plus 4 whose ids hold wildcards.
        for (int i = 0; i < 30; i++) {
            fixture.add(new Row(String.format("q-%02d", i), i % 2 == 0 ? "alpha" : "beta", STATUSES[i % 4],
                    i % 3 == 0 ? "slow" : "default", BASE.plus(Duration.ofMinutes(i / 2)),
                    i % 5 == 0 ? "parent-1" : null));
        }
        List<String> wildcards = List.of("pre_x1", "pre%x2", "prefix3", "pre!4");
        for (int i = 0; i < wildcards.size(); i++) { // distinct times: ids ordered by the database's collation
            fixture.add(new Row(wildcards.get(i), "prefixed", WorkflowStatus.SUCCESS, "default",
                    BASE.minus(Duration.ofDays(1)).plusSeconds(i), null));
        }
        try (Connection c = db.dataSource().getConnection();
                PreparedStatement ps = c.prepareStatement("INSERT INTO tandem.workflow_status (workflow_id, name,"
                        + " status, queue_name, input, output, error, created_at, updated_at, parent_workflow_id)"
                        + " VALUES (?, ?, ?, ?, ?::jsonb, ?::jsonb, ?::jsonb, ?, ?, ?)")) {
            for (Row r : fixture) {
                ps.setString(1, r.id());
                ps.setString(2, r.name());
                ps.setString(3, r.status().name());
                ps.setString(4, r.queue());
                ps.setString(5, "[\"" + r.id() + "\"]");
                ps.setString(6, r.status() == WorkflowStatus.SUCCESS ? "{\"done\": \"" + r.id() + "\"}" : null);
                ps.setString(7, r.status() == WorkflowStatus.ERROR
                        ? "{\"type\": \"java.lang.IllegalStateException\", \"message\": \"failed " + r.id() + "\","
                                + " \"stack\": \"...\"}"
                        : null);
                ps.setObject(8, r.createdAt().atOffset(ZoneOffset.UTC), Types.TIMESTAMP_WITH_TIMEZONE);
                ps.setObject(9, r.createdAt().atOffset(ZoneOffset.UTC), Types.TIMESTAMP_WITH_TIMEZONE);
                ps.setString(10, r.parent());
                ps.addBatch();
            }
            ps.executeBatch();
        }
        // On an ended workflow: the engines cancel waiting or running ones whose deadline has passed.
        db.execute("UPDATE tandem.workflow_status SET forked_from = 'q-01', deadline_at = '2024-03-02T00:00:00Z'"
                + " WHERE workflow_id = 'q-04'");

        // Two real workflows, created after the fixture: one with steps of every outcome, one without any step.
        withSteps.run("x", StartOptions.withId("steps-1"));
        noSteps.run("y", StartOptions.withId("no-steps-1"));
    }

    @AfterAll
    static void tearDown() {
        tandem.close();
    }

    static final Comparator<Row> NEWEST_FIRST =
            Comparator.comparing(Row::createdAt).thenComparing(Row::id).reversed();

    /** The fixture's ids that match, in the query's order. */
    static List<String> expected(Predicate<Row> filter, boolean oldestFirst) {
        return fixture.stream().filter(filter)
                .sorted(oldestFirst ? NEWEST_FIRST.reversed() : NEWEST_FIRST)
                .map(Row::id).collect(Collectors.toList());
    }

    static List<String> ids(WorkflowQuery query) {
        return tandem.listWorkflows(query).stream().map(WorkflowInfo::workflowId).collect(Collectors.toList());
    }

    /** Only the fixture: everything created before the two real workflows. */
    static WorkflowQuery fixtureOnly() {
        return WorkflowQuery.all().createdBefore(BASE.plus(Duration.ofDays(1)));
    }

    @Test
    void byDefaultTheNewestHundredComeFirst() {
        List<String> all = new ArrayList<>(List.of("no-steps-1", "steps-1"));
        all.addAll(expected(r -> true, false));

        assertThat(ids(WorkflowQuery.all())).containsExactlyElementsOf(all);
        assertThat(ids(fixtureOnly().oldestFirst(true))).containsExactlyElementsOf(expected(r -> true, true));
        assertThat(ids(WorkflowQuery.all().limit(3))).containsExactly("no-steps-1", "steps-1", "q-29");
    }

    @Test
    void everyFilterSelectsWhatItSays() {
        assertThat(ids(fixtureOnly().statuses(WorkflowStatus.ERROR, WorkflowStatus.CANCELLED)))
                .containsExactlyElementsOf(expected(r -> r.status() == WorkflowStatus.ERROR
                        || r.status() == WorkflowStatus.CANCELLED, false))
                .hasSize(15);
        assertThat(ids(WorkflowQuery.all().name("alpha"))).containsExactlyElementsOf(
                expected(r -> r.name().equals("alpha"), false));
        assertThat(ids(WorkflowQuery.all().queue("slow"))).containsExactlyElementsOf(
                expected(r -> r.queue().equals("slow"), false)).hasSize(10);
        Instant after = BASE.plus(Duration.ofMinutes(3));
        Instant before = BASE.plus(Duration.ofMinutes(6));
        assertThat(ids(WorkflowQuery.all().createdAfter(after).createdBefore(before)))
                .as("at or after the start, strictly before the end")
                .containsExactly("q-11", "q-10", "q-09", "q-08", "q-07", "q-06");
        assertThat(ids(WorkflowQuery.all().createdAfter(BASE.plus(Duration.ofMinutes(14)))))
                .containsExactly("no-steps-1", "steps-1", "q-29", "q-28");
        assertThat(ids(WorkflowQuery.all().idPrefix("q-1"))).containsExactlyElementsOf(
                expected(r -> r.id().startsWith("q-1"), false)).hasSize(10);
        assertThat(ids(WorkflowQuery.all().parentWorkflowId("parent-1"))).containsExactlyElementsOf(
                expected(r -> "parent-1".equals(r.parent()), false)).hasSize(6);
        assertThat(ids(WorkflowQuery.all().name("steps-1"))).as("names are matched exactly").isEmpty();

        // Several at once: each must match.
        WorkflowQuery successfulSlowAlphas = WorkflowQuery.all().statuses(Set.of(WorkflowStatus.SUCCESS))
                .name("alpha").queue("slow").createdAfter(BASE).idPrefix("q-").oldestFirst(true);
        assertThat(ids(successfulSlowAlphas)).containsExactly("q-00", "q-12", "q-24");
        assertThat(ids(successfulSlowAlphas.parentWorkflowId("parent-1"))).containsExactly("q-00");
        assertThat(ids(successfulSlowAlphas.statuses(Set.of()))).as("no statuses: any").hasSize(5);
    }

    @Test
    void anIdPrefixMatchesWildcardsLiterally() {
        assertThat(ids(WorkflowQuery.all().idPrefix("pre"))).containsExactlyInAnyOrder(
                "pre_x1", "pre%x2", "prefix3", "pre!4");
        assertThat(ids(WorkflowQuery.all().idPrefix("pre_"))).containsExactly("pre_x1");
        assertThat(ids(WorkflowQuery.all().idPrefix("pre%"))).containsExactly("pre%x2");
        assertThat(ids(WorkflowQuery.all().idPrefix("pre!"))).containsExactly("pre!4");
        assertThat(ids(WorkflowQuery.all().idPrefix("%"))).isEmpty();
        assertThat(ids(WorkflowQuery.all().idPrefix("pre' OR '1'='1"))).isEmpty();
    }

    @Test
    void pagesNeitherRepeatNorSkipAWorkflow() {
        for (boolean oldestFirst : new boolean[] {false, true}) {
            List<String> paged = new ArrayList<>();
            WorkflowQuery page = fixtureOnly().oldestFirst(oldestFirst).limit(7);
            while (true) {
                List<String> ids = ids(page);
                paged.addAll(ids);
                if (ids.size() < page.limit()) {
                    break;
                }
                page = page.nextPage();
            }
            assertThat(paged).as("oldest first: " + oldestFirst)
                    .containsExactlyElementsOf(expected(r -> true, oldestFirst))
                    .doesNotHaveDuplicates();
        }
        assertThat(ids(WorkflowQuery.all().name("alpha").offset(14))).containsExactly("q-00");
        assertThat(ids(WorkflowQuery.all().name("alpha").offset(15))).isEmpty();
    }

    @Test
    void aWorkflowInfoCarriesEveryColumn() {
        WorkflowInfo failed = only(WorkflowQuery.all().idPrefix("q-01"));
        assertThat(failed.status()).isEqualTo(WorkflowStatus.ERROR);
        assertThat(failed.errorType()).isEqualTo("java.lang.IllegalStateException");
        assertThat(failed.errorMessage()).isEqualTo("failed q-01");
        assertThat(failed.outputJson()).isNull();
        assertThat(failed.inputJson()).isEqualTo("[\"q-01\"]");
        assertThat(failed.createdAt()).isEqualTo(BASE);
        assertThat(failed.updatedAt()).isEqualTo(BASE);

        WorkflowInfo forked = only(WorkflowQuery.all().idPrefix("q-04"));
        assertThat(forked.forkedFrom()).isEqualTo("q-01");
        assertThat(forked.deadlineAt()).isEqualTo(Instant.parse("2024-03-02T00:00:00Z"));
        assertThat(forked.queueName()).isEqualTo("default");
        assertThat(only(WorkflowQuery.all().idPrefix("q-03")).queueName()).isEqualTo("slow");

        WorkflowInfo child = only(WorkflowQuery.all().idPrefix("q-20"));
        assertThat(child.parentWorkflowId()).isEqualTo("parent-1");
        Object decoded = tandem.decode(child.outputJson(), java.util.Map.class);
        assertThat(decoded).isEqualTo(java.util.Map.of("done", "q-20"));

        WorkflowInfo ran = only(WorkflowQuery.all().idPrefix("steps-1"));
        assertThat(ran.name()).isEqualTo("with-steps");
        assertThat(ran.status()).isEqualTo(WorkflowStatus.SUCCESS);
        assertThat(tandem.decode(ran.outputJson(), String.class)).isEqualTo("two1");
        assertThat(ran.attempts()).isEqualTo(1);
        assertThat(ran.executorId()).isEqualTo(tandem.executorId());
        assertThat(ran.queueName()).isNull();
        assertThat(ran.errorType()).isNull();
        assertThat(ran.createdAt()).isBefore(Instant.now().plusSeconds(1)).isAfter(Instant.now().minusSeconds(60));
        assertThat(ran.updatedAt()).isAfterOrEqualTo(ran.createdAt());
    }

    static WorkflowInfo only(WorkflowQuery query) {
        List<WorkflowInfo> found = tandem.listWorkflows(query);
        assertThat(found).hasSize(1);
        return found.get(0);
    }

    @Test
    void aWorkflowsStepsComeInOrderWithTheirOutputsAndErrors() {
        List<StepInfo> steps = tandem.listSteps("steps-1");

        assertThat(steps).extracting(StepInfo::position).containsExactly(1, 2, 3, 4);
        assertThat(steps).extracting(StepInfo::name).containsExactly("one", "two", "boom", "last");
        assertThat(steps).extracting(StepInfo::kind).containsExactly("STEP", "TRANSACTION", "STEP", "STEP");
        assertThat(steps).extracting(StepInfo::outputJson).containsExactly("1", "\"two\"", null, "\"two1\"");
        assertThat(steps).extracting(StepInfo::failed).containsExactly(false, false, true, false);
        StepInfo boom = steps.get(2);
        assertThat(boom.errorType()).isEqualTo("java.lang.IllegalStateException");
        assertThat(boom.errorMessage()).isEqualTo("kaboom");
        assertThat(boom.childWorkflowId()).isNull();
        for (StepInfo step : steps) {
            assertThat(step.finishedAt()).isAfterOrEqualTo(step.startedAt());
        }

        assertThat(tandem.listSteps("no-steps-1")).as("a workflow without steps").isEmpty();
        assertThat(tandem.listSteps("q-05")).isEmpty();
        assertThatThrownBy(() -> tandem.listSteps("no-such-workflow")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("no workflow with id 'no-such-workflow' exists");
        assertThatThrownBy(() -> tandem.listSteps(" ")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("workflowId must not be null or blank");
    }

    @Test
    void theViewsShowTheSameRows() {
        assertThat(db.queryString("SELECT string_agg(position || ':' || name || ':' || kind || ':'"
                + " || coalesce(output::text, error ->> 'message'), ',' ORDER BY position)"
                + " FROM tandem.workflow_steps WHERE workflow_id = 'steps-1'"))
                .isEqualTo("1:one:STEP:1,2:two:TRANSACTION:\"two\",3:boom:STEP:kaboom,4:last:STEP:\"two1\"");
        assertThat(db.queryString("SELECT forked_from || ' ' || deadline_at AT TIME ZONE 'UTC' FROM tandem.workflows"
                + " WHERE workflow_id = 'q-04'")).isEqualTo("q-01 2024-03-02 00:00:00");
        assertThat(db.queryLong("SELECT count(*) FROM tandem.workflows WHERE parent_workflow_id = 'parent-1'"))
                .isEqualTo(6);
    }

    @Test
    void badQueriesAreRefusedWithTheReason() {
        assertThatThrownBy(() -> WorkflowQuery.all().limit(0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("limit must be between 1 and 10000 (was 0)");
        assertThatThrownBy(() -> WorkflowQuery.all().limit(10_001)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("limit must be between 1 and 10000 (was 10001)");
        assertThatThrownBy(() -> WorkflowQuery.all().offset(-1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("offset must be zero or more (was -1)");
        assertThatThrownBy(() -> WorkflowQuery.all().name(" ")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("name must not be blank");
        assertThatThrownBy(() -> WorkflowQuery.all().idPrefix("")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("idPrefix must not be empty");
        assertThatThrownBy(() -> WorkflowQuery.all().statuses(WorkflowStatus.ERROR, null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("statuses must not hold null");
        assertThatThrownBy(() -> WorkflowQuery.all().createdAfter(BASE).createdBefore(BASE))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("must be before createdBefore");
        assertThatThrownBy(() -> tandem.listWorkflows(null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("WorkflowQuery.all()");
        assertThat(WorkflowQuery.all().statuses(WorkflowStatus.ERROR).statuses()).containsExactly(WorkflowStatus.ERROR);
        assertThat(WorkflowQuery.all().statuses()).isEmpty();
    }
}
