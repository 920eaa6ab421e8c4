package dev.tandem.test;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.Workflow;
import dev.tandem.WorkflowContext;
import dev.tandem.WorkflowHandle;
import dev.tandem.WorkflowStatus;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import javax.sql.DataSource;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The kit's crash helpers, used as an application would: the executor dies right after a step, a restarted one
 * resumes the workflow from its checkpoints, and the assertions show what ran how many times.
 */
@TandemTest
class CrashAndRecoverTest {

    static long pay(WorkflowContext ctx, Long orderId) {
        int cents = ctx.step("quote", () -> 1250);
        long paymentId = ctx.transaction("charge", conn -> {
            try (PreparedStatement ps = conn.prepareStatement(
                    "INSERT INTO payments (order_id, cents) VALUES (?, ?) RETURNING id")) {
                ps.setLong(1, orderId);
                ps.setInt(2, cents);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return rs.getLong(1);
                }
            }
        });
        return ctx.step("receipt", () -> paymentId);
    }

    @BeforeEach
    void table(DataSource ds) throws Exception {
        try (Connection c = ds.getConnection(); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE IF NOT EXISTS payments (id bigserial PRIMARY KEY, order_id bigint NOT NULL,"
                    + " cents int NOT NULL)");
            st.execute("TRUNCATE payments");
        }
    }

    @Test
    void aCrashAfterTheTransactionalStepChargesOnce(TandemKit kit) throws Exception {
        Workflow<Long, Long> payment = kit.register("pay", Long.class, CrashAndRecoverTest::pay);
        kit.crashAfterStep("charge");
        WorkflowHandle<Long> h = payment.start(42L);
        kit.awaitCrash(Duration.ofSeconds(20));
        kit.assertWorkflow(h).hasStatus(WorkflowStatus.RUNNING).isWaitingOn("nothing");

        kit.restart();
        kit.assertWorkflow(h).succeeded()
                .ranStep("quote", 1)    // its checkpoint was written with the charge's commit
                .ranStep("charge", 1)   // committed with its checkpoint: replayed, not run again
                .ranStep("receipt", 1)
                .recordedStep("charge", 1);
        assertThat(payments(kit, 42)).isEqualTo(1);
    }

    @Test
    void aCrashAfterAPlainStepRunsItAgainAndStillChargesOnce(TandemKit kit) throws Exception {
        Workflow<Long, Long> payment = kit.register("pay", Long.class, CrashAndRecoverTest::pay);
        kit.crashAfterStep("quote");
        WorkflowHandle<Long> h = payment.start(43L);
        kit.awaitCrash(Duration.ofSeconds(20));

        kit.restart();
        kit.assertWorkflow(h).succeeded()
                .ranStep("quote", 2)    // at least once: its checkpoint had not been written when it crashed
                .ranStep("charge", 1);
        assertThat(payments(kit, 43)).isEqualTo(1);
    }

    @Test
    void aWorkflowSleepingThroughACrashWakesOnTheRestartedExecutorAtItsTime(TandemKit kit) {
        Workflow<String, String> nap = kit.register("nap", String.class, (ctx, in) -> {
            ctx.step("before", () -> in);
            ctx.sleep(Duration.ofHours(6));
            return ctx.step("after", () -> in + " rested");
        });
        WorkflowHandle<String> h = nap.start("x");
        awaitWaitingOn(kit, h.workflowId(), "sleep until");
        kit.crash();
        kit.restart();
        kit.assertWorkflow(h).isWaitingOn("sleep until"); // the wake-up time was durable: it sleeps on, not anew
        kit.clock().advance(Duration.ofHours(6));
        kit.assertWorkflow(h).succeededWith("x rested").ranStep("before", 1).ranStep("after", 1);
    }

    @Test
    void badUsesFailClearly(TandemKit kit) {
        kit.register("w", String.class, (ctx, in) -> in);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> kit.register("w", String.class, (ctx, in) -> in))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("registered already");
        org.assertj.core.api.Assertions.assertThatThrownBy(kit::crash)
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("no engine");
        kit.tandem();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> kit.register("v", String.class, (ctx, in) -> in))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("before the engine starts");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> kit.clock().advance(Duration.ofSeconds(-1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("never goes back");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> kit.assertWorkflow("nope").status())
                .isInstanceOf(AssertionError.class).hasMessageContaining("does not exist");
    }

    private static int payments(TandemKit kit, long orderId) throws Exception {
        try (Connection c = kit.dataSource().getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM payments WHERE order_id = ?")) {
            ps.setLong(1, orderId);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }

    static void awaitWaitingOn(TandemKit kit, String id, String prefix) {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!kit.waitingOn(id).startsWith(prefix)) {
            assertThat(System.nanoTime() - deadline).as("waiting on " + kit.waitingOn(id)).isNegative();
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }
    }
}
