package dev.tandem;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tandem.testing.Engines;
import dev.tandem.testing.TestDatabase;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Defect: a value PostgreSQL refuses (a string with {@code \u0000}: jsonb says 22P05) was treated as a transient
 * failure: the step's body ran 222 times in 5 s, the workflow stayed RUNNING forever and every group commit holding
 * the write failed and was split. A data error now ends the step or the workflow with a clear message, once.
 */
class UnstorableValueTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    @RegisterExtension
    final Engines engines = new Engines();

    static final Duration WAIT = Duration.ofSeconds(10);

    @Test
    void aStepReturningANulCharacterFailsOnceWithAClearMessage() throws Exception {
        AtomicInteger runs = new AtomicInteger();
        Tandem tandem = engines.add(Tandem.builder().dataSource(db.dataSource()).build());
        Workflow<String, String> w = tandem.register("nul", String.class, (ctx, in) -> {
            String s = ctx.step("read-file", () -> {
                runs.incrementAndGet();
                return "a\u0000b";
            });
            return ctx.step("after", () -> s.length() + " chars");
        });
        tandem.start();

        WorkflowHandle<String> h = w.start("x", StartOptions.withId("nul-1"));
        assertThatThrownBy(() -> h.result(WAIT))
                .isInstanceOfSatisfying(WorkflowFailedException.class, e -> {
                    assertThat(e.status()).isEqualTo(WorkflowStatus.ERROR);
                    assertThat(e.getMessage()).contains("read-file").contains("NUL character");
                });
        Thread.sleep(500);
        assertThat(runs.get()).as("the step's body ran once, not in a loop").isEqualTo(1);
        assertThat(db.queryString("SELECT status FROM tandem.workflows WHERE workflow_id = 'nul-1'")).isEqualTo("ERROR");
    }

    @Test
    void aValueTheDatabaseRefusesEndsTheWorkflowInsteadOfReplayingIt() throws Exception {
        AtomicInteger runs = new AtomicInteger();
        Tandem tandem = engines.add(Tandem.builder().dataSource(db.dataSource()).build());
        // Jackson writes it, PostgreSQL refuses it: "value overflows numeric format" (SQLSTATE 22003).
        Workflow<String, String> w = tandem.register("huge", String.class, (ctx, in) -> {
            BigDecimal huge = ctx.step("compute", () -> {
                runs.incrementAndGet();
                return new BigDecimal("1e1000000");
            });
            return ctx.step("after", () -> "scale " + huge.scale());
        });
        tandem.start();

        WorkflowHandle<String> h = w.start("x", StartOptions.withId("huge-1"));
        assertThatThrownBy(() -> h.result(WAIT)).isInstanceOfSatisfying(WorkflowFailedException.class, e -> {
            assertThat(e.status()).isEqualTo(WorkflowStatus.ERROR);
            assertThat(e.getMessage()).contains("PostgreSQL cannot store").contains("'compute' (#1)")
                    .contains("overflows");
        });
        Thread.sleep(500);
        assertThat(runs.get()).as("the step's body ran once, not in a loop").isEqualTo(1);
        assertThat(db.queryLong("SELECT attempts FROM tandem.workflows WHERE workflow_id = 'huge-1'")).isEqualTo(1);
    }

    @Test
    void aWorkflowOutputTheDatabaseRefusesEndsItError() {
        Tandem tandem = engines.add(Tandem.builder().dataSource(db.dataSource()).build());
        Workflow<String, BigDecimal> w = tandem.register("huge-output", String.class,
                (ctx, in) -> new BigDecimal("1e1000000"));
        tandem.start();
        WorkflowHandle<BigDecimal> h = w.start("x", StartOptions.withId("huge-out-1"));
        assertThatThrownBy(() -> h.result(WAIT))
                .isInstanceOfSatisfying(WorkflowFailedException.class, e ->
                        assertThat(e.getMessage()).contains("the workflow's output").contains("overflows"));
        assertThat(db.queryString("SELECT status FROM tandem.workflows WHERE workflow_id = 'huge-out-1'"))
                .isEqualTo("ERROR");
    }
}
