package dev.tandem;

import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * What {@link WorkflowReplayer} found: one {@link Replayed} per workflow of the histories file, in the file's order.
 *
 * @param workflows every workflow replayed, problems or not
 */
public record ReplayReport(List<Replayed> workflows) {

    public ReplayReport {
        workflows = List.copyOf(workflows);
    }

    /** How the new code took one recorded history. */
    public enum Verdict {
        /** It followed the whole history and ended as recorded (returned, or threw a recorded failure). */
        FOLLOWED,
        /** It followed the history to its end (an execution in flight); the code beyond was not run. */
        REACHED_END,
        /** It asked for another call than the one recorded at a position, or returned before the history ended. */
        NON_DETERMINISTIC,
        /** No workflow of the recorded name is registered by the new code. */
        UNKNOWN_WORKFLOW,
        /**
         * Something else: the input or a recorded output no longer binds to its class, the code threw where the
         * recorded run did not fail, or it tried to read the database.
         */
        FAILED;

        /** Whether the new code would not follow the history: everything but FOLLOWED and REACHED_END. */
        public boolean isProblem() {
            return this != FOLLOWED && this != REACHED_END;
        }
    }

    /**
     * One workflow's replay.
     *
     * @param position the position where the replay ended or the code parted from the history (0: before any)
     * @param recordedKind for a non-determinism, the kind of the checkpoint recorded at {@code position}
     * @param recordedName ... and its name
     * @param requestedKind the kind of call the new code made there; null if it returned instead
     * @param requestedName ... and its name
     * @param message what happened, in words (the exception's message for a problem)
     */
    public record Replayed(String workflowId, String workflowName, String recordedStatus, Verdict verdict,
            int position, @Nullable String recordedKind, @Nullable String recordedName,
            @Nullable String requestedKind, @Nullable String requestedName, String message) {

        public boolean isProblem() {
            return verdict.isProblem();
        }

        /** One line: {@code order-7 (pay, RUNNING): NON_DETERMINISTIC at #2: ...}. */
        public String describe() {
            return workflowId + " (" + workflowName + ", " + recordedStatus + "): " + verdict
                    + (position > 0 ? " at #" + position : "") + ": " + message;
        }
    }

    /** The workflows whose history the new code would not follow. */
    public List<Replayed> problems() {
        return workflows.stream().filter(Replayed::isProblem).toList();
    }

    /** Whether the new code follows every history. */
    public boolean ok() {
        return problems().isEmpty();
    }

    /** A summary line, then one line per problem. */
    public String describe() {
        List<Replayed> problems = problems();
        StringBuilder text = new StringBuilder();
        long followed = workflows.stream().filter(w -> w.verdict() == Verdict.FOLLOWED).count();
        long inFlight = workflows.stream().filter(w -> w.verdict() == Verdict.REACHED_END).count();
        text.append("replayed ").append(workflows.size()).append(" workflow histories: ").append(followed)
                .append(" followed to their end, ").append(inFlight).append(" to the end of their history (in flight), ")
                .append(problems.size()).append(problems.size() == 1 ? " problem" : " problems");
        for (Replayed problem : problems) {
            text.append("\n  ").append(problem.describe());
        }
        return text.toString();
    }
}
