package dev.tandem;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.testing.Engines;
import dev.tandem.testing.TestDatabase;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Defect: a receive skipped message rows locked by another transaction and then waited for a notification. When the
 * holder was a zombie execution of the same workflow whose take the fence rolled back, no notification came, and the
 * message sat there for the whole recv timeout (two days, with the README's example). Reproduced deterministically:
 * the test holds the message's row lock while the receiver looks, then releases it.
 */
class HeldMessageTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    @RegisterExtension
    final Engines engines = new Engines();

    @Test
    void aMessageLockedWhileTheReceiverLooksIsReceivedWhenTheLockIsReleased() throws Exception {
        Tandem tandem = engines.add(Tandem.builder().dataSource(db.dataSource()).build());
        Workflow<String, String> receiver = tandem.register("receiver", String.class, (ctx, in) -> {
            ctx.transaction("ready", conn -> 1); // its checkpoint tells the test the receiver is about to look
            String m = ctx.recv("decision", String.class, Duration.ofMinutes(5));
            return "got " + m;
        });
        tandem.start();

        // The workflow exists and waits before its message arrives, so the message is sent to a waiting receiver.
        db.execute("SELECT tandem.enqueue_workflow('receiver', '[\"x\"]', workflow_id => 'held-1',"
                + " delay => interval '1 hour')");
        db.execute("SELECT tandem.send_message('held-1', '\"yes\"', topic => 'decision')");
        try (Connection zombie = db.dataSource().getConnection()) {
            zombie.setAutoCommit(false);
            try (Statement st = zombie.createStatement();
                    ResultSet rs = st.executeQuery("SELECT seq FROM tandem.messages WHERE workflow_id = 'held-1'"
                            + " FOR UPDATE")) {
                assertThat(rs.next()).isTrue(); // the message's row is held, as a zombie's take holds it
            }
            db.execute("UPDATE tandem.workflow_status SET not_before = now() WHERE workflow_id = 'held-1'");
            // The receiver runs and looks while the row is held.
            FenceTest.await(() -> db.queryLong("SELECT count(*) FROM tandem.steps WHERE workflow_id = 'held-1'"
                    + " AND name = 'ready'") == 1);
            Thread.sleep(500); // it looks within milliseconds; give it time to find the row held
            assertThat(db.queryString("SELECT status FROM tandem.workflows WHERE workflow_id = 'held-1'"))
                    .isEqualTo("RUNNING");
            zombie.rollback(); // as the fence rolls back a zombie's take: no NOTIFY
        }
        long released = System.nanoTime();
        String result = tandem.<String>handle("held-1").result(Duration.ofSeconds(30));
        assertThat(result).isEqualTo("got yes");
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - released))
                .as("received soon after the lock was released, not at the recv timeout").isLessThan(3000);
    }
}
