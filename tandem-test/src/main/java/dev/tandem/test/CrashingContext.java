package dev.tandem.test;

import dev.tandem.StartOptions;
import dev.tandem.StepFunction;
import dev.tandem.StepOptions;
import dev.tandem.TransactionFunction;
import dev.tandem.TransactionOptions;
import dev.tandem.Workflow;
import dev.tandem.WorkflowContext;
import dev.tandem.WorkflowHandle;
import java.time.Duration;
import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * The context the kit's workflows get: the engine's own, which tells the kit each time a step's or transaction's
 * code runs (replays of recorded steps do not run it), for {@link WorkflowAssert#ranStep}, and when one returns, so
 * that {@link TandemKit#crashAfterStep} can crash the executor at exactly that point.
 */
final class CrashingContext implements WorkflowContext {
    private final WorkflowContext ctx;
    private final TandemKit kit;

    CrashingContext(WorkflowContext ctx, TandemKit kit) {
        this.ctx = ctx;
        this.kit = kit;
    }

    @Override
    public String workflowId() {
        return ctx.workflowId();
    }

    @Override
    public String idempotencyKey() {
        return ctx.idempotencyKey();
    }

    @Override
    public <T extends @Nullable Object> T step(String name, StepFunction<T> fn) {
        T result = ctx.step(name, () -> {
            kit.stepRan(ctx.workflowId(), name);
            return fn.run();
        });
        kit.stepFinished(name);
        return result;
    }

    @Override
    public <T extends @Nullable Object> T step(String name, StepOptions options, StepFunction<T> fn) {
        T result = ctx.step(name, options, () -> {
            kit.stepRan(ctx.workflowId(), name);
            return fn.run();
        });
        kit.stepFinished(name);
        return result;
    }

    @Override
    public <T extends @Nullable Object> T transaction(String name, TransactionFunction<T> fn) {
        T result = ctx.transaction(name, conn -> {
            kit.stepRan(ctx.workflowId(), name);
            return fn.run(conn);
        });
        kit.stepFinished(name);
        return result;
    }

    @Override
    public <T extends @Nullable Object> T transaction(String name, TransactionOptions options,
            TransactionFunction<T> fn) {
        T result = ctx.transaction(name, options, conn -> {
            kit.stepRan(ctx.workflowId(), name);
            return fn.run(conn);
        });
        kit.stepFinished(name);
        return result;
    }

    @Override
    public void sleep(Duration duration) {
        ctx.sleep(duration);
    }

    @Override
    public void sleepUntil(Instant wakeAt) {
        ctx.sleepUntil(wakeAt);
    }

    @Override
    public <T> @Nullable T recv(String topic, Class<T> type, Duration timeout) {
        return ctx.recv(topic, type, timeout);
    }

    @Override
    public <T> @Nullable T recv(Class<T> type, Duration timeout) {
        return ctx.recv(type, timeout);
    }

    @Override
    public void send(String workflowId, String topic, Object message) {
        ctx.send(workflowId, topic, message);
    }

    @Override
    public void send(String workflowId, Object message) {
        ctx.send(workflowId, message);
    }

    @Override
    public void setEvent(String key, Object value) {
        ctx.setEvent(key, value);
    }

    @Override
    public void writeStream(String key, Object value) {
        ctx.writeStream(key, value);
    }

    @Override
    public void closeStream(String key) {
        ctx.closeStream(key);
    }

    @Override
    public <I, O extends @Nullable Object> WorkflowHandle<O> startChild(Workflow<I, O> workflow, I input,
            StartOptions options) {
        return ctx.startChild(workflow, input, options);
    }

    @Override
    public <I, O extends @Nullable Object> WorkflowHandle<O> startChild(Workflow<I, O> workflow, I input) {
        return ctx.startChild(workflow, input);
    }

    @Override
    public <I, O extends @Nullable Object> O runChild(Workflow<I, O> workflow, I input) {
        return ctx.runChild(workflow, input);
    }

    @Override
    public boolean patched(String changeId) {
        return ctx.patched(changeId);
    }

    @Override
    public void deprecatePatch(String changeId) {
        ctx.deprecatePatch(changeId);
    }
}
