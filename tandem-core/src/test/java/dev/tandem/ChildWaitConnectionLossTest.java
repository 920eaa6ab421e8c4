package dev.tandem;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.tandem.testing.Engines;
import dev.tandem.testing.TestDatabase;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A parent that waits for its child reads the child's row: every second while the child runs elsewhere, and when a
 * parked wait (platform threads) is replayed after its child ended. If the application pool's connection is lost just
 * then, the read fails with a connection error: a transient failure, which must replay the parent from its
 * checkpoints, not end it ERROR.
 *
 * <p>Engine bug found by {@link ChaosTest} (a parent ended ERROR with "failed to read workflow '&lt;child&gt;': FATAL:
 * terminating connection due to administrator command" after a restart of PostgreSQL): {@code Handle.endedOutcome}
 * reads through {@code Engine.loadWorkflow}, which wraps any {@code SQLException} in a plain
 * {@code TandemException}; it escapes the workflow function, and {@code WorkflowExecution.run} records it as the
 * workflow's failure, where every other read and write of an execution goes through {@code SqlErrors.classify}. Here
 * the pool's one connection is terminated right after the child's transaction used it (HikariCP hands out a
 * connection used within the last 500 ms without checking it), so the parent's read meets the dead connection: on
 * this machine 1 to 3 of the 10 parents end ERROR, on Java 17 and 25 alike. Enable this test with the fix.
 */
@Disabled("engine bug: a lost connection while a parent reads its child's row ends the parent ERROR (see class comment)")
class ChildWaitConnectionLossTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    @RegisterExtension
    final Engines engines = new Engines();

    @Test
    void aConnectionLostWhileAParentReadsItsEndedChildDoesNotFailTheParent() throws Exception {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(db.url() + (db.url().contains("?") ? "&" : "?") + "ApplicationName=victim");
        config.setMaximumPoolSize(1); // one connection: the one the child's transaction just used
        config.setPoolName("victim");
        try (HikariDataSource pool = new HikariDataSource(config)) {
            Tandem t = engines.add(Tandem.builder().dataSource(pool).virtualThreads(false).build());
            Workflow<Integer, Integer> child = t.register("loss-child", Integer.class, (ctx, n) -> {
                ctx.step("slow", () -> {
                    Thread.sleep(600); // the parent parks meanwhile
                    return n;
                });
                ctx.transaction("touch", conn -> n); // uses the pool's connection last
                ctx.step("lose-connections", () -> {
                    try (Connection admin = DriverManager.getConnection(db.url());
                            Statement st = admin.createStatement()) {
                        st.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                                + " WHERE application_name = 'victim' AND state = 'idle'");
                    }
                    return n;
                });
                return n;
            });
            Workflow<Integer, Integer> parent = t.register("loss-parent", Integer.class,
                    (ctx, n) -> ctx.runChild(child, n) + 1);
            t.start();
            List<WorkflowHandle<Integer>> handles = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                handles.add(parent.start(i, StartOptions.withId("loss-" + i)));
            }
            List<String> failed = new ArrayList<>();
            for (int i = 0; i < handles.size(); i++) {
                try {
                    assertThat(handles.get(i).result(Duration.ofSeconds(30))).isEqualTo(i + 1);
                } catch (WorkflowFailedException e) {
                    failed.add("loss-" + i + ": " + e.getMessage());
                }
            }
            assertThat(failed).as("parents that ended otherwise than SUCCESS").isEmpty();
        }
    }
}
