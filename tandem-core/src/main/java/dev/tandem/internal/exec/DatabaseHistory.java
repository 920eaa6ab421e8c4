package dev.tandem.internal.exec;

import dev.tandem.internal.db.Rows.FinishRow;
import dev.tandem.internal.db.Rows.StepRow;
import dev.tandem.internal.db.SqlErrors;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * The engine's {@link History}: checkpoints are read from {@code tandem.steps} and written through the group
 * committer, under the execution's ownership epoch; beyond the recorded history the execution goes on, live.
 * Stateless: one instance serves every execution.
 */
final class DatabaseHistory implements History {
    static final DatabaseHistory INSTANCE = new DatabaseHistory();

    private DatabaseHistory() {}

    @Override
    public Map<Integer, StepRow> load(WorkflowExecution<?, ?> x) {
        try {
            Map<Integer, StepRow> rows = new HashMap<>();
            for (StepRow row : x.engine.db().checkpoints().loadSteps(x.workflowId)) {
                rows.put(row.position(), row);
            }
            return rows;
        } catch (Exception e) {
            throw x.transientFailure("load the checkpoints", e);
        }
    }

    @Override
    public void beyondRecorded(WorkflowExecution<?, ?> x, int pos, String what, String name) {
        // live: the call runs
    }

    @Override
    public boolean waitEnded(WorkflowExecution<?, ?> x, int pos) {
        return false; // live: the execution waits
    }

    @Override
    public void readsDatabase(WorkflowExecution<?, ?> x, String what) {
        // live: it reads
    }

    @Override
    public boolean write(WorkflowExecution<?, ?> x, List<StepRow> steps, @Nullable FinishRow finish) {
        try {
            return x.engine.committer().write(steps, finish);
        } catch (EngineStoppedException e) {
            throw new ExecutionControl(ExecutionControl.Kind.STOP, e.getMessage(), e);
        } catch (Exception e) {
            if (SqlErrors.classify(e) == SqlErrors.Kind.DATA) {
                throw x.checkpoints.unstorable(e, steps, finish);
            }
            throw x.transientFailure("write checkpoints", e);
        }
    }

    /** Looks the checkpoint up, retrying while the database cannot be reached (the outcome is there to be read). */
    @Override
    public Optional<StepRow> lookUp(WorkflowExecution<?, ?> x, int pos) {
        long backoff = 10;
        while (true) {
            try {
                return x.engine.db().checkpoints().loadStep(x.workflowId, pos);
            } catch (Exception e) {
                if (!SqlErrors.isConnectionError(e) || x.engine.isStopping()) {
                    throw x.transientFailure("check checkpoint #" + pos, e);
                }
                x.pause(backoff);
                backoff = Math.min(backoff * 2, 2000);
            }
        }
    }
}
