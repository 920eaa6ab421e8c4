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
            Thread.sleep(200 + random.nextInt(1200));
            assertThat(worker.kill()).isTrue();
        }
        long done = db.queryLong("SELECT count(*) FROM tandem.workflows WHERE status = 'SUCCESS'");
        WorkerJvm last = launch(run, log);
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            while (db.queryLong("SELECT count(*) FROM tandem.workflows WHERE status = 'SUCCESS'") < WORKFLOWS) {
                assertThat(System.nanoTime()).as("all workflows succeed (seed %d, log %s)", seed, log)
                        .isLessThan(deadline);
                assertThat(last.isAlive()).as("worker alive (log %s)", log).isTrue();
                Thread.sleep(100);
            }
        } finally {
            last.kill();
        }

        assertThat(db.queryLong("SELECT count(*) FROM tandem.workflows")).isEqualTo(WORKFLOWS);
        assertThat(done).as("the kills interrupted work in flight").isLessThan(WORKFLOWS);
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

    private static WorkerJvm launch(int run, Path log) throws Exception {
        return WorkerJvm.start(CrashWorker.class, log, "run " + run, db.url(), "worker-" + (run % 2),
                String.valueOf(WORKFLOWS));
    }
}
