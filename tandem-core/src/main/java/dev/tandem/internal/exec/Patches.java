package dev.tandem.internal.exec;

import static dev.tandem.internal.exec.CheckpointKinds.PATCH;

import dev.tandem.internal.db.Rows.StepRow;
import java.time.Instant;

/**
 * Changes of a workflow's code made safe for executions in flight ({@code ctx.patched}, {@code ctx.deprecatePatch};
 * the life of a change: docs/versioning.md). A decision like any other: the side an execution took is a
 * {@code PATCH} checkpoint named after the change, and every replay of it takes the same side.
 *
 * <ul>
 *   <li>A {@code PATCH} of this change recorded at the next position: the execution took the new code there before;
 *       consume it, new code.
 *   <li>Another checkpoint recorded there: the execution passed this point on the code before the change; old code,
 *       and the position is not consumed, so the old path's checkpoints line up with its recorded ones.
 *   <li>Nothing recorded there: the execution reaches this point now, on the new code; record a {@code PATCH} (held
 *       in memory until the next write, like a step's checkpoint) and take the new code. A replay of an exported
 *       history ends here instead, like at any call beyond its end.
 * </ul>
 */
final class Patches {
    private final WorkflowExecution<?, ?> x;

    Patches(WorkflowExecution<?, ?> execution) {
        this.x = execution;
    }

    boolean patched(String changeId) {
        validate("patched", changeId);
        StepRow next = x.checkpoints.recorded.get(x.position + 1);
        if (next == null) {
            int pos = x.begin("patch", changeId, this, this);
            x.checkpoints.record(x.checkpoint(pos, changeId, PATCH, "true", "java.lang.Boolean", null,
                    x.engine.clock().now()));
            return true;
        }
        if (isThisPatch(next, changeId)) {
            x.begin("patch", changeId, this, this);
            return true;
        }
        return false;
    }

    /**
     * Once no execution from before the change is in flight, {@code patched} becomes {@code deprecatePatch} and the
     * old code goes: executions that recorded the patch consume it here, the others (started on the patched code
     * after this deploy, which record nothing here) find their next call next. Records nothing.
     */
    void deprecatePatch(String changeId) {
        validate("deprecatePatch", changeId);
        StepRow next = x.checkpoints.recorded.get(x.position + 1);
        if (next != null && isThisPatch(next, changeId)) {
            x.begin("patch", changeId, this, this);
        }
    }

    private static boolean isThisPatch(StepRow row, String changeId) {
        return row.kind().equals(PATCH) && row.name().equals(changeId);
    }

    private void validate(String what, String changeId) {
        if (changeId == null || changeId.isBlank()) {
            throw new IllegalArgumentException(what + " needs a change id, not " + (changeId == null ? "null"
                    : "a blank one ('" + changeId + "')") + " (workflow '" + x.workflowId + "', position #"
                    + (x.position + 1) + "); name the change, e.g. ctx.patched(\"fee-before-charge\")");
        }
        x.checkUsable(what, changeId);
    }
}
