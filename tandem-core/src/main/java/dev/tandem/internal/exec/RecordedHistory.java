package dev.tandem.internal.exec;

import dev.tandem.internal.db.Rows.FinishRow;
import dev.tandem.internal.db.Rows.StepRow;
import dev.tandem.internal.exec.ExecutionControl.Kind;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * A {@link History} exported from a database, replayed in memory by {@link Replays}: the execution's code gets its
 * recorded checkpoints through the engine's own replay and non-determinism check, and the replay ends (an
 * {@code END_OF_HISTORY} control, which the code cannot swallow) wherever a live execution would go beyond them. So
 * nothing outside the replay's memory is touched: no step function, transaction, wait or SQL runs.
 */
final class RecordedHistory implements History {
    private final Map<Integer, StepRow> rows;
    /** The recorded execution ended (SUCCESS, ERROR, ...): every wait it made was over. */
    private final boolean ended;

    RecordedHistory(List<StepRow> checkpoints, boolean ended) {
        this.rows = new HashMap<>();
        for (StepRow row : checkpoints) {
            if (rows.putIfAbsent(row.position(), row) != null) {
                throw new IllegalArgumentException("position #" + row.position() + " is recorded twice");
            }
        }
        this.ended = ended;
    }

    @Override
    public Map<Integer, StepRow> load(WorkflowExecution<?, ?> x) {
        return new HashMap<>(rows);
    }

    @Override
    public void beyondRecorded(WorkflowExecution<?, ?> x, int pos, String what, String name) {
        throw x.halt(new ExecutionControl(Kind.END_OF_HISTORY, "the history ends at #" + (pos - 1) + "; the code"
                + " goes on with " + what + " '" + name + "' (#" + pos + "), which is not replayed"));
    }

    @Override
    public boolean waitEnded(WorkflowExecution<?, ?> x, int pos) {
        if (ended || rows.containsKey(pos + 1)) {
            return true;
        }
        throw x.halt(new ExecutionControl(Kind.END_OF_HISTORY, "the history ends waiting at #" + pos));
    }

    @Override
    public void readsDatabase(WorkflowExecution<?, ?> x, String what) {
        throw x.halt(new ExecutionControl(Kind.END_OF_HISTORY, "the replay stops at #" + x.position + ": it would"
                + " read " + what + " from the database"));
    }

    @Override
    public boolean write(WorkflowExecution<?, ?> x, List<StepRow> steps, @Nullable FinishRow finish) {
        throw new IllegalStateException("a replay of a recorded history writes nothing (workflow '" + x.workflowId
                + "')");
    }

    @Override
    public Optional<StepRow> lookUp(WorkflowExecution<?, ?> x, int pos) {
        throw new IllegalStateException("a replay of a recorded history reads nothing (workflow '" + x.workflowId
                + "')");
    }
}
