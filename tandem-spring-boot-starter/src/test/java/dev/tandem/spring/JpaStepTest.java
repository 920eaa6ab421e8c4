package dev.tandem.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tandem.StartOptions;
import dev.tandem.WorkflowFailedException;
import dev.tandem.spring.jpa.JpaApp;
import dev.tandem.testing.TestDatabase;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.orm.jpa.JpaTransactionManager;
import org.springframework.transaction.PlatformTransactionManager;

/** A transactional step on JpaTransactionManager: JPA and JdbcTemplate join it, and the checkpoint commits with them. */
class JpaStepTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    static ConfigurableApplicationContext app;
    static WorkflowDefinition<String, String> note;

    @BeforeAll
    @SuppressWarnings("unchecked")
    static void start() {
        db.execute(JpaApp.SCHEMA);
        app = Apps.run(JpaApp.class, db.url(), "tandem.executor-id=jpa", "spring.jpa.hibernate.ddl-auto=none");
        note = app.getBean("note", WorkflowDefinition.class);
    }

    @AfterAll
    static void stop() {
        if (app != null) {
            app.close();
        }
    }

    @Test
    void jpaAndJdbcTemplateCommitWithTheCheckpointInOneTransaction() {
        assertThat(app.getBean(PlatformTransactionManager.class)).isInstanceOf(JpaTransactionManager.class);
        assertThat(note.run("n1", StartOptions.withId("note-n1"))).isEqualTo("noted");
        assertThat(db.queryString("SELECT text FROM notes WHERE id = 'n1'")).isEqualTo("written by n1");
        // The note (flushed at commit), the payment and the checkpoint: one transaction, one commit.
        assertThat(db.queryLong("SELECT count(DISTINCT x) FROM ("
                + " SELECT xmin::text AS x FROM notes WHERE id = 'n1'"
                + " UNION ALL SELECT xmin::text FROM payments WHERE order_id = 'n1'"
                + " UNION ALL SELECT xmin::text FROM tandem.steps WHERE workflow_id = 'note-n1' AND kind = 'TRANSACTION'"
                + ") t")).isEqualTo(1);
        assertThat(db.queryLong("SELECT count(*) FROM tandem.steps WHERE workflow_id = 'note-n1'"
                + " AND kind = 'TRANSACTION' AND output IS NOT NULL")).isEqualTo(1);
    }

    @Test
    void aFlushThatFailsAtCommitRollsBackTheCheckpointAndTheStepsOtherWrites() {
        db.execute("INSERT INTO notes (id, text) VALUES ('taken', 'already here')");
        assertThatThrownBy(() -> note.run("dup:taken", StartOptions.withId("note-dup")))
                .isInstanceOf(WorkflowFailedException.class);
        assertThat(db.queryLong("SELECT count(*) FROM payments WHERE order_id = 'dup:taken'")).isZero();
        assertThat(db.queryString("SELECT text FROM notes WHERE id = 'taken'")).isEqualTo("already here");
        // The step is recorded as failed (its error, written later), never as committed.
        assertThat(db.queryLong("SELECT count(*) FROM tandem.steps WHERE workflow_id = 'note-dup'"
                + " AND output IS NOT NULL")).isZero();
        assertThat(db.queryString("SELECT status FROM tandem.workflows WHERE workflow_id = 'note-dup'"))
                .isEqualTo("ERROR");
    }
}
