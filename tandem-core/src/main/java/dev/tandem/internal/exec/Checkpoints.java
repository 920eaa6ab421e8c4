package dev.tandem.internal.exec;

import static dev.tandem.internal.exec.CheckpointKinds.describe;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.tandem.NonDeterministicWorkflowException;
import dev.tandem.StepFailedException;
import dev.tandem.TandemException;
import dev.tandem.internal.db.Json.ErrorInfo;
import dev.tandem.internal.db.Rows.FinishRow;
import dev.tandem.internal.db.Rows.StepRow;
import dev.tandem.internal.exec.ExecutionControl.Kind;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * The checkpoints of one execution: those recorded before this run, replayed in order, and those it makes, held in
 * memory until they are written.
 *
 * <p>The checkpoint of a plain step is held in memory until the execution next does something with effects outside
 * its own memory, and written then: before the next step's body runs (through the group committer), inside the
 * transaction of a transactional step (in its commit), or with the final status (in the same commit). Code between
 * steps is deterministic by contract, so this is the same as writing at once, minus a commit per step: the payments
 * workflow (step, transactional step, step) costs one commit of its own plus two shared group commits.
 */
final class Checkpoints {
    private final WorkflowExecution<?, ?> x;

    /**
     * Checkpoints by position: the recorded ones, and those this run made (written or not); complete and durable
     * once the execution has parked.
     */
    Map<Integer, StepRow> recorded = new HashMap<>();
    final List<StepRow> unwritten = new ArrayList<>(); // checkpoints not yet sent to the database

    Checkpoints(WorkflowExecution<?, ?> execution) {
        this.x = execution;
    }

    /** Fails the workflow for good if the checkpoint at {@code pos} is not of the call this run makes there. */
    void checkRecorded(StepRow row, String kind, String name, int pos) {
        if (!row.name().equals(name) || !row.kind().equals(kind)) {
            throw x.failForGood(new NonDeterministicWorkflowException("workflow '" + x.workflowId + "' ("
                    + x.workflow.name() + ") is not deterministic: position #" + pos + " is recorded as "
                    + describe(row.kind()) + " '" + row.name() + "' but this run asked for " + describe(kind) + " '"
                    + name + "'; workflow code must call the same steps in the same order on every run (to change it"
                    + " safely, see ctx.patched)", pos, row.kind(), row.name(), kind, name));
        }
    }

    @SuppressWarnings("unchecked")
    <T extends @Nullable Object> T replay(StepRow row, String kind, String name, int pos) {
        checkRecorded(row, kind, name, pos);
        if (row.error() != null) {
            ErrorInfo info = x.engine.json().readError(row.error());
            throw new StepFailedException(x.workflowId, name, pos, info.type(), info.message(), null);
        }
        try {
            return (T) x.engine.json().read(row.output(), row.outputType(), x.engine.classLoader());
        } catch (JsonProcessingException | ClassNotFoundException | LinkageError e) {
            throw new TandemException("cannot rebuild the recorded output of " + describe(kind) + " '" + name
                    + "' (#" + pos + ") of workflow '" + x.workflowId + "' as " + row.outputType() + ": "
                    + e.getMessage(), e);
        }
    }

    /** A new checkpoint, held in memory until the next write. */
    void record(StepRow row) {
        unwritten.add(row);
        recorded.put(row.position(), row);
    }

    /** Writes the checkpoints held in memory through the group committer and waits until they are durable. */
    void write() {
        if (unwritten.isEmpty()) {
            return;
        }
        if (!commit(unwritten, null)) {
            // Not ours to write any more, or a position was taken: only the database knows which.
            throw new ExecutionControl(Kind.RESTART, "checkpoints of workflow '" + x.workflowId
                    + "' were not recorded; checking ownership and replaying");
        }
        unwritten.clear();
    }

    /** Writes through the history (the group committer); true if everything was recorded. */
    boolean commit(List<StepRow> steps, @Nullable FinishRow finish) {
        x.deferredStart.ensureWritten();
        boolean recorded = x.history.write(x, steps, finish);
        if (recorded) {
            x.resetTransientReplays(); // the failure has passed: a later one starts its backoff from the beginning
        }
        return recorded;
    }

    /** PostgreSQL refused a value of this execution's write: the workflow ends ERROR (see recordUnstorable). */
    ExecutionControl unstorable(Throwable cause, List<StepRow> steps, @Nullable FinishRow finish) {
        List<String> what = new ArrayList<>();
        for (StepRow row : steps) {
            what.add("the checkpoint of " + describe(row.kind()) + " '" + row.name() + "' (#" + row.position() + ")");
        }
        if (finish != null) {
            what.add(finish.output() != null ? "the workflow's output" : "its final status");
        }
        return new ExecutionControl(Kind.UNSTORABLE, "workflow '" + x.workflowId + "' (" + x.workflow.name()
                + ") ended because PostgreSQL cannot store " + String.join(" or ", what) + ": " + cause.getMessage()
                + "; return values PostgreSQL's jsonb can store", cause);
    }

    ExecutionControl unstorable(Throwable cause) {
        return unstorable(cause, unwritten, null);
    }

    /**
     * After a commit whose outcome is unknown (its connection was lost): the checkpoint at {@code pos} if it
     * committed, taken as recorded, with the unwritten checkpoints that committed with it; empty if it rolled back.
     */
    Optional<StepRow> committedCheckpoint(int pos) {
        Optional<StepRow> found = x.history.lookUp(x, pos);
        found.ifPresent(row -> {
            unwritten.clear();
            recorded.put(pos, row);
            x.deferredStart.writtenWithStep(); // a deferred start commits with the checkpoint
        });
        return found;
    }
}
