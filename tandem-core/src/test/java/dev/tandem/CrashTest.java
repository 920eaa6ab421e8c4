package dev.tandem;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.testing.TestDatabase;
import dev.tandem.testing.WorkerJvm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The heart of the suite: a worker JVM is killed with SIGKILL at random moments, several times, and restarted (under
 * alternating executor ids, so recovery happens both at restart and by heartbeat timeout). Afterwards every workflow
 * has succeeded, every transactional step's rows exist exactly once, and no step body ran after its checkpoint
 * committed.
 */
class CrashTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    static final int WORKFLOWS = 300;
    static final int KILLS = 6;

    @BeforeAll
    static void schema() {
        db.execute("CREATE TABLE accounts (id int PRIMARY KEY, balance bigint NOT NULL)");
        db.execute("INSERT INTO accounts SELECT g, 1000000 FROM generate_series(0, 9) g");
        db.execute("CREATE TABLE payments (id bigserial PRIMARY KEY, workflow_id text NOT NULL, cents int NOT NULL)");
        db.execute("CREATE TABLE step_runs (workflow_id text, step text, started_at timestamptz)");
    }

    @Test
    void killedWorkersLoseNothingAndRepeatNoCommittedStep() throws Exception {
        long seed = System.nanoTime();
        Random random = new Random(seed);
        Path log = Files.createTempFile("tandem-crash-worker", ".log");
        int run = 0;
        for (; run < KILLS; run++) {
            WorkerJvm worker = launch(run, log);
            worker.awaitReady(60, "seed " + seed + ", log " + log);
            // Kill while work is in flight, at a moment set by progress rather than by time (a fast machine once
            // finished all 300 before the last timed kill): once a random share of what is left has succeeded in this
            // run, none at all (a kill during start-up and recovery) up to 1/(kills left + 1) of it, then 0-50 ms.
            long before = succeeded();
            long target = before + random.nextInt((int) ((WORKFLOWS - before) / (KILLS - run + 1)) + 1);
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (succeeded() < target && System.nanoTime() < until) {
                Thread.sleep(5);
            }
            Thread.sleep(random.nextInt(50));
            assertThat(worker.kill()).isTrue();
        }
        long done = succeeded();
        WorkerJvm last = launch(run, log);
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            while (succeeded() < WORKFLOWS) {
                assertThat(System.nanoTime()).as("all workflows succeed (seed %d, log %s)", seed, log)
                        .isLessThan(deadline);
                assertThat(last.isAlive()).as("worker alive (log %s)", log).isTrue();
                Thread.sleep(100);
            }
        } finally {
            last.kill();
        }

        System.out.printf("CrashTest: seed %d; %d kills, %d of %d workflows done before the last run; recovered"
                + " (attempts > 1): %d%n", seed, KILLS, done, WORKFLOWS,
                db.queryLong("SELECT count(*) FROM tandem.workflows WHERE attempts > 1"));
        assertThat(db.queryLong("SELECT count(*) FROM tandem.workflows")).isEqualTo(WORKFLOWS);
        assertThat(done).as("the kills interrupted work in flight (seed %d)", seed).isLessThan(WORKFLOWS);
        // Exactly once: one payment per workflow, and balances debited once per payment.
        assertThat(db.queryLong("SELECT count(*) FROM payments")).isEqualTo(WORKFLOWS);
        assertThat(db.queryLong("SELECT count(DISTINCT workflow_id) FROM payments")).isEqualTo(WORKFLOWS);
        assertThat(db.queryLong("SELECT sum(1000000 - balance) FROM accounts"))
                .isEqualTo(db.queryLong("SELECT sum(cents) FROM payments"));
        // The recorded output is the payment that exists.
        assertThat(db.queryLong("SELECT count(*) FROM tandem.workflows w JOIN payments p USING (workflow_id)"
                + " WHERE w.output #>> '{}' = 'paid ' || p.cents || ' as #' || p.id")).isEqualTo(WORKFLOWS);
        // No step body started after its checkpoint was written.
        assertThat(db.queryLong("SELECT count(*) FROM step_runs r JOIN tandem.steps s"
                + " ON s.workflow_id = r.workflow_id AND s.name = r.step WHERE r.started_at > s.finished_at"))
                .isZero();
        // Each step has exactly one checkpoint.
        assertThat(db.queryLong("SELECT count(*) FROM tandem.steps")).isEqualTo(3L * WORKFLOWS);
        assertThat(db.queryLong("SELECT count(*) FROM tandem.workflows WHERE attempts > 1"))
                .as("some workflows were recovered").isPositive();
    }

    private static long succeeded() {
        return db.queryLong("SELECT count(*) FROM tandem.workflows WHERE status = 'SUCCESS'");
    }

    private static WorkerJvm launch(int run, Path log) throws Exception {
        return WorkerJvm.start(CrashWorker.class, log, "run " + run, db.url(), "worker-" + (run % 2),
                String.valueOf(WORKFLOWS));
    }
}
