package dev.tandem.test;

import dev.tandem.TandemException;
import dev.tandem.WorkflowStatus;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Assertions on one workflow ({@link TandemKit#assertWorkflow}). Each reads the database when it is called. The
 * ones about how a workflow ended ({@link #succeeded}, {@link #succeededWith}, {@link #endedWith}) first wait for it
 * to end, up to 30 s; the others check the present. Failures are {@link AssertionError}s that say what was found.
 */
public final class WorkflowAssert {
    private static final Duration END_WAIT = Duration.ofSeconds(30);

    private final TandemKit kit;
    private final String workflowId;

    WorkflowAssert(TandemKit kit, String workflowId) {
        this.kit = kit;
        this.workflowId = workflowId;
    }

    /** The workflow's status now. */
    public WorkflowStatus status() {
        return row().status();
    }

    /** Asserts its status now is {@code expected}. */
    public WorkflowAssert hasStatus(WorkflowStatus expected) {
        Row row = row();
        if (row.status() != expected) {
            throw new AssertionError("workflow '" + workflowId + "' is " + row.status() + ", expected " + expected
                    + describe(row));
        }
        return this;
    }

    /** Waits for the workflow to end and asserts it ended {@code expected}. */
    public WorkflowAssert endedWith(WorkflowStatus expected) {
        return hasStatus(awaitEnd(expected));
    }

    /** Waits for the workflow to end and asserts it succeeded. */
    public WorkflowAssert succeeded() {
        return endedWith(WorkflowStatus.SUCCESS);
    }

    /** Waits for the workflow to end and asserts it succeeded with output {@code expected} (compared decoded). */
    public WorkflowAssert succeededWith(@Nullable Object expected) {
        succeeded();
        Row row = row();
        Object actual = expected == null ? row.output()
                : kit.decode(row.output(), expected.getClass());
        if (expected == null ? !(actual == null || "null".equals(actual)) : !expected.equals(actual)) {
            throw new AssertionError("workflow '" + workflowId + "' succeeded with output " + row.output()
                    + ", expected " + expected);
        }
        return this;
    }

    /**
     * Asserts the code of step (or transaction) {@code stepName} ran {@code times} times in this test (counting runs
     * on every engine the kit started, and none for replays of a recorded step): 1 for exactly once, 2 for a plain
     * step that ran again after a crash before its checkpoint was written.
     */
    public WorkflowAssert ranStep(String stepName, int times) {
        int runs = kit.stepRuns(workflowId, stepName);
        if (runs != times) {
            throw new AssertionError("step '" + stepName + "' of workflow '" + workflowId + "' ran " + runs
                    + " times, expected " + times);
        }
        return this;
    }

    /** Asserts it has {@code times} checkpoints of steps or transactions named {@code stepName}. */
    public WorkflowAssert recordedStep(String stepName, int times) {
        long recorded = checkpoints().stream()
                .filter(c -> c.name().equals(stepName) && (c.kind().equals("STEP") || c.kind().equals("TRANSACTION")))
                .count();
        if (recorded != times) {
            throw new AssertionError("workflow '" + workflowId + "' recorded step '" + stepName + "' " + recorded
                    + " times, expected " + times + "; its checkpoints: " + checkpoints());
        }
        return this;
    }

    /** Asserts it received a message on {@code topic} ("" for the default topic), as opposed to timing out. */
    public WorkflowAssert received(String topic) {
        String name = topic == null || topic.isEmpty() ? "recv" : "recv:" + topic;
        boolean got = checkpoints().stream()
                .anyMatch(c -> c.kind().equals("RECV") && c.name().equals(name) && !"null".equals(c.output()));
        if (!got) {
            throw new AssertionError("workflow '" + workflowId + "' received no message on topic '" + topic
                    + "'; its checkpoints: " + checkpoints());
        }
        return this;
    }

    /**
     * Asserts that what it is waiting on starts with {@code expected} (see {@link TandemKit#waitingOn}), waiting up
     * to 30 s for it to get there: a workflow just started has not reached its wait yet.
     */
    public WorkflowAssert isWaitingOn(String expected) {
        long deadline = System.nanoTime() + END_WAIT.toNanos();
        String actual;
        while (!(actual = waitingOn()).startsWith(expected)) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("workflow '" + workflowId + "' is waiting on: " + actual + "; expected: "
                        + expected + " (waited " + END_WAIT + ")");
            }
            pause();
        }
        return this;
    }

    /** What it waits on, in words; see {@link TandemKit#waitingOn}. */
    public String waitingOn() {
        Row row = row();
        switch (row.status()) {
            case ENQUEUED:
                return "queue";
            case DELAYED:
                return "delay";
            case RUNNING:
                break;
            default:
                return "ended " + row.status();
        }
        List<Checkpoint> all = checkpoints();
        if (all.isEmpty()) {
            return "nothing: running";
        }
        Checkpoint last = all.get(all.size() - 1);
        if (last.kind().equals("SLEEP") && last.output() != null) {
            Instant until = Instant.ofEpochMilli(Long.parseLong(last.output()));
            if (until.isAfter(kit.clock().now())) {
                return last.name().startsWith("recv")
                        ? "message" + (last.name().startsWith("recv:") ? " on topic '" + last.name().substring(5)
                        + "'" : "") + " until " + until
                        : "sleep until " + until;
            }
        }
        if (last.kind().equals("CHILD") && last.output() != null) {
            return "child " + last.output();
        }
        return "nothing: running";
    }

    private WorkflowStatus awaitEnd(WorkflowStatus expected) {
        long deadline = System.nanoTime() + END_WAIT.toNanos();
        while (true) {
            WorkflowStatus status = status();
            if (status != WorkflowStatus.RUNNING && status != WorkflowStatus.ENQUEUED
                    && status != WorkflowStatus.DELAYED) {
                return status;
            }
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("workflow '" + workflowId + "' has not ended " + expected + " within "
                        + END_WAIT + ": it is " + status + ", waiting on: " + waitingOn()
                        + (kit.clock().skew().isZero() ? "" : " (test clock " + kit.clock().now() + ")"));
            }
            pause();
        }
    }

    private void pause() {
        try {
            Thread.sleep(5);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while waiting for workflow '" + workflowId + "'", e);
        }
    }

    private String describe(Row row) {
        return row.error() != null ? " (error " + row.error() + ")" : "";
    }

    private Row row() {
        try (Connection conn = kit.dataSource().getConnection();
             PreparedStatement ps = conn.prepareStatement(TandemKit.SQL.get("workflow"))) {
            ps.setString(1, workflowId);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw new AssertionError("workflow '" + workflowId + "' does not exist");
                }
                return new Row(WorkflowStatus.valueOf(rs.getString(1)), rs.getString(2), rs.getString(3));
            }
        } catch (SQLException e) {
            throw new TandemException("could not read workflow '" + workflowId + "': " + e.getMessage(), e);
        }
    }

    private List<Checkpoint> checkpoints() {
        try (Connection conn = kit.dataSource().getConnection();
             PreparedStatement ps = conn.prepareStatement(TandemKit.SQL.get("checkpoints"))) {
            ps.setString(1, workflowId);
            List<Checkpoint> all = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String output = rs.getString(4);
                    if (output != null && output.startsWith("\"")) {
                        output = output.substring(1, output.length() - 1); // a JSON string, as its text
                    }
                    all.add(new Checkpoint(rs.getInt(1), rs.getString(2), rs.getString(3), output));
                }
            }
            return all;
        } catch (SQLException e) {
            throw new TandemException("could not read the checkpoints of '" + workflowId + "': " + e.getMessage(), e);
        }
    }

    private record Row(WorkflowStatus status, @Nullable String output, @Nullable String error) {}

    private record Checkpoint(int position, String name, String kind, @Nullable String output) {
        @Override
        public String toString() {
            return "#" + position + " " + kind + " " + name + (output == null ? "" : " = " + output);
        }
    }

}
