package dev.tandem.internal.exec;

import dev.tandem.internal.db.Rows.FinishRow;
import dev.tandem.internal.db.Rows.StepRow;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * Where an execution's recorded checkpoints come from and where its new ones go: the seam between the replay of a
 * history (positions, the non-determinism check, recorded outputs given back: {@link WorkflowExecution},
 * {@link Checkpoints}, {@link Steps}, {@link Primitives}, {@link Children}, {@link Patches}) and what lies beyond it.
 *
 * <ul>
 *   <li>{@link DatabaseHistory}, the engine's: checkpoints are read from {@code tandem.steps} and new ones written
 *       through the group committer; beyond the recorded history the execution simply goes on, live.
 *   <li>{@link RecordedHistory}, the pre-deploy check's ({@code WorkflowReplayer}): a history exported to a file,
 *       replayed in memory by the same code. Wherever a live execution would leave what is recorded (run a step's
 *       code, write, wait, read the database), the replay ends instead, so no step function, transaction or SQL runs.
 * </ul>
 *
 * <p>Only the calls that read or write checkpoints as such go through here. The transactional writes (a transactional
 * step, a receive, send, setEvent, writeStream, startChild) stay with their code in {@link Steps} and
 * {@link Primitives}: they come after {@link #beyondRecorded}, which a recorded history never lets pass.
 */
interface History {

    /** The checkpoints recorded before this run, by position. */
    Map<Integer, StepRow> load(WorkflowExecution<?, ?> x);

    /**
     * The code asks for position {@code pos}, where nothing is recorded: what it does next is new. The database lets
     * it go on; a recorded history ends the replay here (it throws).
     */
    void beyondRecorded(WorkflowExecution<?, ?> x, int pos, String what, String name);

    /**
     * A wait recorded at {@code pos} (a sleep) whose time has not come yet: false if the execution waits for it (the
     * database); true if it is over without waiting (a recorded history that goes on after it, or that ended). A
     * recorded history that stops there ends the replay (it throws).
     */
    boolean waitEnded(WorkflowExecution<?, ?> x, int pos);

    /**
     * The execution must read the database to go on ({@code what}: a child's outcome that a history of a version
     * before 6 did not record). The database lets it; a recorded history ends the replay (it throws).
     */
    void readsDatabase(WorkflowExecution<?, ?> x, String what);

    /** Writes checkpoints (and the final status, if any); true if everything was recorded. */
    boolean write(WorkflowExecution<?, ?> x, List<StepRow> steps, @Nullable FinishRow finish);

    /** After a commit whose outcome is unknown: the checkpoint at {@code pos} if it committed. */
    Optional<StepRow> lookUp(WorkflowExecution<?, ?> x, int pos);
}
