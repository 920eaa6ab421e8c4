package dev.tandem;

import org.jspecify.annotations.Nullable;

/**
 * On replay, the workflow asked for a step at a position where a different step is recorded: the workflow's code
 * changed, or it branches on something that is not a step's output. The workflow ends {@code ERROR}; it never
 * continues on a history that does not match. {@link WorkflowReplayer} reports the same mismatch before a deploy.
 *
 * <p>Thrown by the engine, it says where: {@link #position()}, the checkpoint recorded there ({@link #recordedKind()},
 * {@link #recordedName()}) and what the code asked for instead ({@link #requestedKind()}, {@link #requestedName()}).
 * Kinds are those of {@code tandem.steps.kind}: {@code STEP}, {@code TRANSACTION}, {@code SLEEP}, {@code RECV}, ...
 */
public class NonDeterministicWorkflowException extends TandemException {
    private final int position;
    private final @Nullable String recordedKind;
    private final @Nullable String recordedName;
    private final @Nullable String requestedKind;
    private final @Nullable String requestedName;

    public NonDeterministicWorkflowException(String message) {
        this(message, 0, null, null, null, null);
    }

    public NonDeterministicWorkflowException(String message, int position, @Nullable String recordedKind,
            @Nullable String recordedName, @Nullable String requestedKind, @Nullable String requestedName) {
        super(message);
        this.position = position;
        this.recordedKind = recordedKind;
        this.recordedName = recordedName;
        this.requestedKind = requestedKind;
        this.requestedName = requestedName;
    }

    /** The position (1, 2, 3, ...) where the code and the history part; 0 if not known. */
    public int position() {
        return position;
    }

    /** The kind of the checkpoint recorded at {@link #position()}, e.g. {@code STEP}; null if not known. */
    public @Nullable String recordedKind() {
        return recordedKind;
    }

    /** The name of the checkpoint recorded at {@link #position()}; null if not known. */
    public @Nullable String recordedName() {
        return recordedName;
    }

    /** The kind of call the code made at {@link #position()}; null if not known. */
    public @Nullable String requestedKind() {
        return requestedKind;
    }

    /** The name the code asked for at {@link #position()}; null if not known. */
    public @Nullable String requestedName() {
        return requestedName;
    }
}
