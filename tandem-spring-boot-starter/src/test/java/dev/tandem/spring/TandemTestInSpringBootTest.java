package dev.tandem.spring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.EnqueueOptions;
import dev.tandem.Tandem;
import dev.tandem.WorkflowStatus;
import dev.tandem.test.TandemKit;
import dev.tandem.test.TandemTest;
import dev.tandem.test.TestClock;
import java.time.Duration;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.annotation.Bean;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.annotation.Transactional;

/**
 * The test kit in a {@code @SpringBootTest}: the application's own engine runs on the test class's database and
 * its test clock, so a test moves the application's workflows through days and asserts with the kit.
 */
@SpringBootTest(classes = TandemTestInSpringBootTest.TrialApp.class, properties = {
        "spring.main.banner-mode=off", "logging.level.root=WARN", "tandem.heartbeat-interval=200ms",
        "tandem.executor-timeout=2s", "spring.data.jpa.repositories.enabled=false"})
@TandemTest
class TandemTestInSpringBootTest {

    @SpringBootConfiguration
    @EnableAutoConfiguration(excludeName = {
            "org.springframework.boot.autoconfigure.orm.jpa.HibernateJpaAutoConfiguration",
            "org.springframework.boot.hibernate.autoconfigure.HibernateJpaAutoConfiguration"})
    static class TrialApp {
        /** A 14-day trial: reminded on day 11, converted (or not) on day 14. */
        @Bean
        WorkflowDefinition<String, String> trial(JdbcTemplate jdbc) {
            return WorkflowDefinition.of("trial", String.class, (ctx, account) -> {
                ctx.sleep(Duration.ofDays(11));
                ctx.transaction("remind", conn -> jdbc.update(
                        "UPDATE accounts SET status = 'REMINDED' WHERE id = ?", account));
                ctx.sleep(Duration.ofDays(3));
                return ctx.transaction("end", conn -> jdbc.update(
                        "UPDATE accounts SET status = 'ENDED' WHERE id = ?", account) == 1 ? "ended" : "missing");
            });
        }

        @Bean
        Signup signup(JdbcTemplate jdbc, WorkflowDefinition<String, String> trial) {
            return new Signup(jdbc, trial);
        }
    }

    /** Inserts the account and enqueues its trial in one transaction. */
    static class Signup {
        private final JdbcTemplate jdbc;
        private final WorkflowDefinition<String, String> trial;

        Signup(JdbcTemplate jdbc, WorkflowDefinition<String, String> trial) {
            this.jdbc = jdbc;
            this.trial = trial;
        }

        @Transactional
        public String signUp(String account) {
            jdbc.execute("CREATE TABLE IF NOT EXISTS accounts (id text PRIMARY KEY, status text NOT NULL)");
            jdbc.update("INSERT INTO accounts (id, status) VALUES (?, 'TRIAL')", account);
            return trial.enqueue(account, EnqueueOptions.withId("trial-" + account)).workflowId();
        }
    }

    @Autowired
    Signup signup;
    @Autowired
    Tandem tandem;
    @Autowired
    DataSource applicationDataSource;
    @Autowired
    TestClock clockBean;

    @Test
    void theApplicationsTrialRunsItsFourteenDaysOnTheTestClock(TandemKit kit, TestClock clock) {
        assertThat(clockBean).isSameAs(clock);
        String id = signup.signUp("ada");
        kit.assertWorkflow(id).isWaitingOn("sleep until");

        clock.advance(Duration.ofDays(11).plusMinutes(1));
        kit.assertWorkflow(id).isWaitingOn("sleep until");
        assertThat(status("ada")).isEqualTo("REMINDED");

        clock.advance(Duration.ofDays(3));
        kit.assertWorkflow(id).succeededWith("ended");
        assertThat(status("ada")).isEqualTo("ENDED");
    }

    @Test
    void autoSkipRunsItInMilliseconds(TandemKit kit, TestClock clock) {
        clock.autoSkip();
        long wall = System.nanoTime();
        String id = signup.signUp("bob");
        kit.assertWorkflow(id).succeededWith("ended").hasStatus(WorkflowStatus.SUCCESS);
        assertThat((System.nanoTime() - wall) / 1_000_000).isLessThan(10_000);
        assertThat(status("bob")).isEqualTo("ENDED");
    }

    private String status(String account) {
        return new JdbcTemplate(applicationDataSource).queryForObject("SELECT status FROM accounts WHERE id = ?",
                String.class, account);
    }
}
