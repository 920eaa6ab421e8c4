package dev.tandem.internal.exec;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.tandem.TandemException;
import dev.tandem.WorkflowStatus;
import dev.tandem.internal.db.Rows.ClaimedRow;
import dev.tandem.internal.db.Rows.FinishRow;
import dev.tandem.internal.observe.TraceContext;
import java.sql.SQLException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs workflows this executor owns in the database but does not run yet: claimed from a queue, taken over from a dead
 * executor, found by reconciliation, or a start whose acknowledgement was lost. Each is bound from its stored input
 * and handed to {@link Executions}; one that cannot run (too many attempts, an input that does not bind) is ended
 * here instead, without running.
 */
final class Resuming {
    private static final Logger log = LoggerFactory.getLogger(Resuming.class);

    private final Engine engine;
    private final Executions executions;

    Resuming(Engine engine, Executions executions) {
        this.engine = engine;
        this.executions = executions;
    }

    /**
     * Runs a workflow this executor has just claimed, if it registered its name. {@code why}: "queue" (taken from
     * {@code queueName}), or the reason of a recovery, "crash" or "reconciliation".
     */
    void resumeClaimed(ClaimedRow row, @Nullable String queueName, String why) {
        RegisteredWorkflow<?, ?> workflow = engine.registry().get(row.name());
        if (workflow == null || executions.local(row.workflowId()) != null) {
            return;
        }
        engine.instrumentation().claimed(row, queueName, why);
        resume(workflow, row.workflowId(), row.input(), row.attempts(), queueName, row.epoch(),
                Origin.trace(row.traceparent(), row.tracestate()));
    }

    /** Ends a workflow this executor claimed without running it; if that fails, the next recovery tries again. */
    void finishClaimed(FinishRow row) {
        try {
            engine.committer().write(List.of(), row);
        } catch (SQLException | RuntimeException e) {
            log.warn("could not record the end of workflow '{}': {}", row.workflowId(), e.getMessage());
        }
    }

    /** Runs an execution this executor owns in the database, from its checkpoints. */
    <I, O> void resume(RegisteredWorkflow<I, O> workflow, String id, @Nullable String inputJson, int attempts,
            @Nullable String queueName, long epoch, @Nullable TraceContext trace) {
        if (attempts > engine.config().maxRecoveryAttempts() + 1) {
            String message = "workflow '" + id + "' was started or recovered " + attempts + " times without"
                    + " finishing (maxRecoveryAttempts is " + engine.config().maxRecoveryAttempts() + "); it is no longer"
                    + " retried. Fix the cause, then resume it.";
            log.error(message);
            finishClaimed(new FinishRow(id, WorkflowStatus.RETRIES_EXCEEDED.name(), null, null,
                    engine.json().error(TandemException.class.getName(), message, null), epoch));
            engine.instrumentation().ended(workflow.name(), WorkflowStatus.RETRIES_EXCEEDED, 0, TandemException.class,
                    message);
            return;
        }
        I input;
        try {
            input = bindInput(inputJson, workflow.inputType());
        } catch (JsonProcessingException e) {
            String message = "the input of workflow '" + id + "' (" + workflow.name() + ") does not bind to "
                    + workflow.inputType().getName() + ": " + e.getOriginalMessage() + "; input was " + inputJson;
            log.error(message);
            finishClaimed(new FinishRow(id, WorkflowStatus.ERROR.name(), null, null,
                    engine.json().error(IllegalArgumentException.class.getName(), message, null), epoch));
            engine.instrumentation().ended(workflow.name(), WorkflowStatus.ERROR, 0, IllegalArgumentException.class,
                    message);
            return;
        }
        // A first run (attempts 1) has no checkpoints to load: one query saved per dequeued workflow.
        WorkflowExecution<I, O> execution = new WorkflowExecution<>(engine, workflow, id, epoch, input, attempts > 1,
                queueName, new CompletableFuture<>());
        execution.origin = engine.instrumentation().origin(trace, attempts);
        executions.admitClaimed(execution);
    }

    /**
     * Binds stored JSON to the input type. SQL callers pass arguments as an array ({@code '[42]'}), so a one-element
     * array is unwrapped unless the input type is itself an array or a collection.
     */
    <I> I bindInput(@Nullable String inputJson, Class<I> type) throws JsonProcessingException {
        com.fasterxml.jackson.databind.JsonNode node = engine.json().mapper().readTree(inputJson == null ? "null" : inputJson);
        boolean takesArray = type.isArray() || java.util.Collection.class.isAssignableFrom(type)
                || type == Object.class || com.fasterxml.jackson.databind.JsonNode.class.isAssignableFrom(type);
        if (node.isArray() && node.size() == 1 && !takesArray) {
            node = node.get(0);
        }
        I input = engine.json().mapper().treeToValue(node, type);
        if (input == null) {
            throw com.fasterxml.jackson.databind.exc.MismatchedInputException.from(null, type,
                    "the input is null, and workflows need an input");
        }
        return input;
    }
}
