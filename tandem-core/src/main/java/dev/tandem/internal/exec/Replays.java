package dev.tandem.internal.exec;

import dev.tandem.NonDeterministicWorkflowException;
import dev.tandem.ReplayReport.Replayed;
import dev.tandem.ReplayReport.Verdict;
import dev.tandem.ResultTimeoutException;
import dev.tandem.StepFailedException;
import dev.tandem.WorkflowFailedException;
import dev.tandem.WorkflowStatus;
import dev.tandem.internal.db.AdminStore.RecordedCheckpoint;
import dev.tandem.internal.db.AdminStore.RecordedWorkflow;
import dev.tandem.internal.db.Rows.StepRow;
import dev.tandem.internal.exec.ExecutionControl.Kind;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;

/**
 * Replays exported histories against the workflows registered on an engine that is never started (no database): each
 * is a {@link WorkflowExecution} over a {@link RecordedHistory}, so the positions, the non-determinism check and the
 * recorded outputs are the engine's own, and it ends where its history ends. Runs on the calling thread.
 */
public final class Replays {
    private Replays() {}

    /** Replays one recorded workflow and says how the registered code took it. */
    public static Replayed replay(Engine engine, RecordedWorkflow recorded) {
        RegisteredWorkflow<?, ?> workflow = engine.registry().get(recorded.name());
        if (workflow == null) {
            return result(recorded, Verdict.UNKNOWN_WORKFLOW, 0, "no workflow named '" + recorded.name() + "' is"
                    + " registered by the new code; an execution in flight would wait for an executor that registers"
                    + " it, then end ERROR (register it, or keep the old name)");
        }
        return replay(engine, workflow, recorded);
    }

    private static <I, O> Replayed replay(Engine engine, RegisteredWorkflow<I, O> workflow, RecordedWorkflow recorded) {
        I input;
        try {
            input = engine.resuming().bindInput(recorded.input(), workflow.inputType());
        } catch (Exception e) {
            return result(recorded, Verdict.FAILED, 0, "its input does not bind to " + workflow.inputType().getName()
                    + ": " + e.getMessage());
        }
        List<StepRow> rows = new ArrayList<>();
        for (RecordedCheckpoint c : recorded.checkpoints()) {
            rows.add(new StepRow(recorded.workflowId(), c.position(), c.name(), c.kind(), c.output(), c.outputType(),
                    c.error(), Instant.EPOCH, 0));
        }
        boolean ended = ended(recorded.status());
        WorkflowExecution<I, O> x;
        try {
            x = new WorkflowExecution<>(engine, workflow, recorded.workflowId(), 0, input, true, null,
                    new CompletableFuture<>(), null, new RecordedHistory(rows, ended));
        } catch (IllegalArgumentException e) {
            return result(recorded, Verdict.FAILED, 0, "its history is not valid: " + e.getMessage());
        }
        Throwable thrown = null;
        try {
            x.runFunction();
        } catch (Throwable t) {
            thrown = t;
        }
        Throwable stoppedBy = x.stoppedBy(); // what stopped it, even if the code caught it
        if (stoppedBy instanceof ExecutionControl control && control.kind == Kind.END_OF_HISTORY) {
            return result(recorded, Verdict.REACHED_END, x.position, control.getMessage());
        }
        if (stoppedBy instanceof NonDeterministicWorkflowException e) {
            return new Replayed(recorded.workflowId(), recorded.name(), recorded.status(), Verdict.NON_DETERMINISTIC,
                    e.position(), e.recordedKind(), e.recordedName(), e.requestedKind(), e.requestedName(),
                    e.getMessage());
        }
        if (stoppedBy != null) {
            thrown = stoppedBy;
        }
        StepRow unconsumed = firstAfter(x.checkpoints.recorded, x.position);
        if (thrown == null) {
            if (unconsumed != null) {
                return new Replayed(recorded.workflowId(), recorded.name(), recorded.status(),
                        Verdict.NON_DETERMINISTIC, unconsumed.position(), unconsumed.kind(), unconsumed.name(), null,
                        null, "the code returns after #" + x.position + ", but the history goes on: #"
                        + unconsumed.position() + " is recorded as " + CheckpointKinds.describe(unconsumed.kind())
                        + " '" + unconsumed.name() + "'");
            }
            return result(recorded, Verdict.FOLLOWED, x.position, "the code returns at the end of its history (#"
                    + x.position + ")");
        }
        String threw = thrown.getClass().getName() + ": " + thrown.getMessage();
        if (unconsumed != null) {
            return result(recorded, Verdict.FAILED, x.position, "the code throws after #" + x.position + " ("
                    + threw + "), but the history goes on: #" + unconsumed.position() + " is recorded as "
                    + CheckpointKinds.describe(unconsumed.kind()) + " '" + unconsumed.name() + "'");
        }
        boolean recordedFailure = thrown instanceof StepFailedException || thrown instanceof WorkflowFailedException
                || thrown instanceof ResultTimeoutException;
        if (recorded.status().equals(WorkflowStatus.SUCCESS.name()) || !(ended || recordedFailure)) {
            return result(recorded, Verdict.FAILED, x.position, "the code throws " + threw + " after #" + x.position
                    + (ended ? ", where the recorded run succeeded" : ""));
        }
        return result(recorded, Verdict.FOLLOWED, x.position, "the code throws at the end of its history (#"
                + x.position + ") as recorded: " + threw);
    }

    /** Whether the recorded execution had ended: then every wait in its history was over. */
    private static boolean ended(String status) {
        return !(status.equals("RUNNING") || status.equals("ENQUEUED") || status.equals("DELAYED"));
    }

    private static @Nullable StepRow firstAfter(Map<Integer, StepRow> recorded, int position) {
        StepRow first = null;
        for (StepRow row : recorded.values()) {
            if (row.position() > position && (first == null || row.position() < first.position())) {
                first = row;
            }
        }
        return first;
    }

    private static Replayed result(RecordedWorkflow recorded, Verdict verdict, int position, String message) {
        return new Replayed(recorded.workflowId(), recorded.name(), recorded.status(), verdict, position, null, null,
                null, null, message);
    }
}
