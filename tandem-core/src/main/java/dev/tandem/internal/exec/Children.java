package dev.tandem.internal.exec;

import static dev.tandem.internal.exec.CheckpointKinds.CHILD;
import static dev.tandem.internal.exec.CheckpointKinds.CHILD_RESULT;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.tandem.ResultTimeoutException;
import dev.tandem.StartOptions;
import dev.tandem.TandemException;
import dev.tandem.TransactionOptions;
import dev.tandem.Workflow;
import dev.tandem.WorkflowConflictException;
import dev.tandem.WorkflowFailedException;
import dev.tandem.WorkflowHandle;
import dev.tandem.WorkflowStatus;
import dev.tandem.internal.db.Json;
import dev.tandem.internal.db.Json.ErrorInfo;
import dev.tandem.internal.db.Rows.StepRow;
import dev.tandem.internal.db.WorkflowStore.ChildStart;
import dev.tandem.internal.exec.Waiters.Wakeup;
import dev.tandem.internal.observe.Telemetry;
import dev.tandem.internal.observe.TraceContext;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * Child workflows of one execution: starting one (its row inserted in the transaction of the parent's CHILD
 * checkpoint, re-attached on replay only if it really is this parent's child) and waiting for one (the outcome the
 * parent saw, or the timeout, recorded as a CHILD_RESULT checkpoint, so every replay takes the same path).
 */
final class Children {
    private final WorkflowExecution<?, ?> x;

    Children(WorkflowExecution<?, ?> execution) {
        this.x = execution;
    }

    <C, R extends @Nullable Object> WorkflowHandle<R> startChild(Workflow<C, R> child, C childInput,
            StartOptions options) {
        if (child == null || options == null) {
            throw new IllegalArgumentException("startChild needs a workflow and options, not null (workflow '"
                    + x.workflowId + "')");
        }
        RegisteredWorkflow<C, R> registered = x.engine.registered(child.name());
        String inputJson = x.engine.starting().encodeInput(registered, childInput);
        String name = child.name();
        int pos = x.begin("child workflow", name, options, child);
        StepRow previous = x.checkpoints.recorded.get(pos);
        if (previous != null) {
            String childId = x.checkpoints.replay(previous, CHILD, name, pos);
            return new ChildHandle<>(x, x.engine.executions().childHandle(childId));
        }
        String childId = options.workflowId() != null ? options.workflowId() : x.workflowId + "-" + pos;
        Long timeoutMillis = options.timeout() == null ? null : options.timeout().toMillis();
        boolean[] inserted = new boolean[1];
        TraceContext[] trace = new TraceContext[1];
        x.transactional(CHILD, name, pos, TransactionOptions.defaults(), conn -> {
            trace[0] = x.engine.telemetry().currentContext(); // the span of this step: the child's runs continue it
            ChildStart start = x.engine.db().workflows().startChild(conn, childId, name, inputJson,
                    x.engine.executorId(), x.engine.incarnation(), timeoutMillis, x.workflowId,
                    trace[0] == null ? null : trace[0].traceparent(), trace[0] == null ? null : trace[0].tracestate());
            if (!start.inserted() && start.existingName() != null && !isOwnChild(start, name)) {
                // Ids are predictable, and a role that may only enqueue can take one first: what it planted must
                // not pass for this parent's child. Thrown in the transaction, so the failure is the checkpoint.
                throw new WorkflowConflictException("child workflow id '" + childId + "' is already used by a"
                        + " workflow that parent '" + x.workflowId + "' did not start; a parent only re-attaches to a"
                        + " child it started itself (same workflow '" + name + "', parent_workflow_id '" + x.workflowId
                        + "'). Find out who enqueued '" + childId + "', remove it or give the child another id, then"
                        + " resume '" + x.workflowId + "'");
            }
            inserted[0] = start.inserted();
            return childId;
        });
        try {
            return new ChildHandle<>(x, x.engine.executions().runChild(registered, childId, childInput, inserted[0],
                    trace[0]));
        } catch (TandemException e) {
            if (e.getCause() instanceof java.sql.SQLException) { // reading the child's row failed: replay the parent
                throw x.transientFailure("read child workflow '" + childId + "'", e.getCause());
            }
            throw e;
        }
    }

    /** Whether the workflow that held the id is this parent's own child: a replay meeting what it started before. */
    private boolean isOwnChild(ChildStart start, String name) {
        return name.equals(start.existingName()) && x.workflowId.equals(start.existingParentId());
    }

    /**
     * Waits for a child to end, like any other wait of the workflow (it parks on platform threads): woken when a
     * child that runs here ends (however it came to run here: started, or recovered), and looking every second for
     * one that runs elsewhere. What the wait saw, the child's outcome or that the wait timed out, is recorded at the
     * next position as a {@code CHILD_RESULT} checkpoint, and a replay returns (or throws) that: a child may end
     * otherwise later (resumed after it failed, or ended after the wait gave up), and the parent's path must not
     * change with it. A failure or a timeout is recorded as an error, so resuming a parent that failed right after it
     * re-reads the child, as it re-runs a failed step.
     *
     * <p>Histories recorded before these checkpoints existed have the parent's next call right after the CHILD
     * checkpoint. So if the next position holds anything but a {@code CHILD_RESULT}, this wait takes no position and
     * reads the child's outcome, as those versions did; at the end of such a history (nothing recorded next) it is
     * recorded like any new wait. The price: code that now waits where its recorded run made another call is not
     * reported as non-deterministic (code that no longer waits where a run did is).
     */
    <R> R awaitChild(Handle<R> child, Duration timeout) {
        StepRow next = x.checkpoints.recorded.get(x.position + 1);
        if (next != null && !next.kind().equals(CHILD_RESULT)) {
            return awaitChildUnrecorded(child, timeout);
        }
        String name = "result:" + child.workflowId();
        int pos = x.begin("child result", name, this, this);
        if (next != null) {
            x.checkpoints.checkRecorded(next, CHILD_RESULT, name, pos);
            return replayObservation(next, child, pos);
        }
        Instant startedAt = x.engine.clock().now();
        Outcome ended = waitForChild(child, timeout, pos + ":" + child.workflowId());
        if (ended == null) {
            ResultTimeoutException timedOut = child.timedOut(timeout);
            x.checkpoints.record(x.checkpoint(pos, name, CHILD_RESULT, null, null,
                    x.engine.json().error(ResultTimeoutException.class.getName(), timedOut.getMessage(), null),
                    startedAt));
            throw timedOut;
        }
        if (ended instanceof Outcome.Failed failed) {
            x.checkpoints.record(x.checkpoint(pos, name, CHILD_RESULT, null, null,
                    x.engine.json().error(failed.error(), failed.status().name()), startedAt));
        } else {
            Object output = ((Outcome.Succeeded) ended).output();
            String json;
            try {
                json = x.engine.json().write(output);
            } catch (JsonProcessingException e) { // it was stored as JSON when the child ended
                throw new TandemException("the output of child workflow '" + child.workflowId() + "' cannot be"
                        + " recorded by its parent '" + x.workflowId + "': " + e.getOriginalMessage(), e);
            }
            x.checkpoints.record(x.checkpoint(pos, name, CHILD_RESULT, json, Json.typeName(output), null, startedAt));
        }
        return child.unwrap(ended);
    }

    /** A wait for a child in a history of an earlier version, which did not record it (see {@link #awaitChild}). */
    private <R> R awaitChildUnrecorded(Handle<R> child, Duration timeout) {
        Outcome known = x.childOutcomes.get(child.workflowId());
        if (known != null) {
            return child.unwrap(known);
        }
        x.history.readsDatabase(x, "the outcome of child workflow '" + child.workflowId() + "', which a history of a"
                + " version before 6 did not record");
        Outcome ended = waitForChild(child, timeout, "unrecorded:" + x.position + ":" + child.workflowId());
        if (ended == null) {
            throw child.timedOut(timeout);
        }
        x.childOutcomes.put(child.workflowId(), ended);
        return child.unwrap(ended);
    }

    /** What a recorded {@code CHILD_RESULT} says: the child's output, or its failure or the timeout, thrown. */
    private <R> R replayObservation(StepRow row, Handle<R> child, int pos) {
        if (row.error() == null) {
            return x.checkpoints.replay(row, CHILD_RESULT, row.name(), pos);
        }
        ErrorInfo info = x.engine.json().readError(row.error());
        if (info.type().equals(ResultTimeoutException.class.getName())) {
            throw new ResultTimeoutException(Objects.requireNonNullElse(info.message(), "timed out"));
        }
        String status = x.engine.json().readStatus(row.error());
        throw new WorkflowFailedException(child.workflowId(),
                status != null ? WorkflowStatus.valueOf(status) : WorkflowStatus.ERROR, info.type(), info.message(),
                info.stack());
    }

    /**
     * Waits until the child has ended and returns how, or null once {@code timeout} has passed. The deadline is kept
     * under {@code waitKey} across parked replays of this wait, which would otherwise each start it again.
     */
    private @Nullable Outcome waitForChild(Handle<?> child, Duration timeout, String waitKey) {
        long deadline = x.childWaitDeadlines.computeIfAbsent(waitKey, k -> System.nanoTime() + timeout.toNanos());
        Wakeup wakeup = x.engine.waiters().register(x.workflowId, Waiters.CHILD | Waiters.CANCEL);
        Telemetry.Observation waiting = x.engine.telemetry().await("child", x.name(), x.workflowId, x.position,
                CHILD_RESULT);
        try {
            while (true) {
                Outcome ended = endedOutcome(child);
                long now = System.nanoTime();
                if (ended != null || now - deadline >= 0) {
                    x.childWaitDeadlines.remove(waitKey);
                    return ended;
                }
                long until;
                if (child.runsHere()) {
                    child.whenEnded(() -> x.engine.waiters().signal(x.workflowId, Waiters.CHILD));
                    until = deadline;
                } else {
                    until = Math.min(deadline, now + TimeUnit.SECONDS.toNanos(1));
                }
                x.checkpoints.write();
                x.waits.await(wakeup, until, false);
                x.waits.afterWakeUp(wakeup);
            }
        } finally {
            x.waits.release(wakeup);
            waiting.close();
        }
    }

    /**
     * The child's outcome if it has ended. Reading it is a read of this execution like any other: a failure of the
     * database is a transient failure of the parent (replayed from its checkpoints), never the parent's own failure.
     */
    private @Nullable Outcome endedOutcome(Handle<?> child) {
        try {
            return child.endedOutcome();
        } catch (TandemException e) {
            if (e.getCause() instanceof java.sql.SQLException) {
                throw x.transientFailure("read child workflow '" + child.workflowId() + "'", e.getCause());
            }
            throw e;
        }
    }
}
