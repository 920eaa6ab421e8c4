package dev.tandem.spring;

import dev.tandem.StepOptions;
import dev.tandem.TransactionOptions;
import dev.tandem.TransactionRunner;
import dev.tandem.WorkflowContext;
import dev.tandem.WorkflowFunction;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.aopalliance.intercept.MethodInterceptor;
import org.aopalliance.intercept.MethodInvocation;
import org.jspecify.annotations.Nullable;
import org.springframework.aop.support.AopUtils;
import org.springframework.core.BridgeMethodResolver;
import org.springframework.core.annotation.AnnotatedElementUtils;

/**
 * The advice of beans with {@link Workflow @Workflow}, {@link Step @Step} and {@link TransactionalStep
 * TransactionalStep} methods. A workflow function registered by the starter runs its method with a {@link Frame} on the
 * thread: the context of the execution (so does a {@link WorkflowDefinition}'s function). A step method called through
 * the proxy on that thread becomes {@code ctx.step} or {@code ctx.transaction}; with no frame (outside any workflow) it
 * runs as a plain call (a transactional step in a transaction of its own); inside a step it runs as part of that step,
 * since steps cannot be nested. A {@code @Workflow} method is entered only by its registered function: a direct call
 * throws.
 */
final class AnnotationInterceptor implements MethodInterceptor {
    /** The workflow execution running on this thread, if any; saved and restored around nested {@code run} calls. */
    private static final ThreadLocal<@Nullable Frame> FRAME = new ThreadLocal<>();

    private final Supplier<TransactionRunner> transactionRunner;
    private final Map<Method, Kind> kinds = new ConcurrentHashMap<>();

    /** The transaction runner is looked up at the first call: a BeanPostProcessor must not create beans early. */
    AnnotationInterceptor(Supplier<TransactionRunner> transactionRunner) {
        this.transactionRunner = transactionRunner;
    }

    /** What a running workflow's thread knows about its execution. */
    static final class Frame {
        final WorkflowContext ctx;
        /** Set until the registered function's own call of the {@code @Workflow} method passes the proxy. */
        boolean entering;
        /** How many step methods are running on this thread (steps run inside a step are part of it). */
        int stepDepth;

        Frame(WorkflowContext ctx, boolean entering) {
            this.ctx = ctx;
            this.entering = entering;
        }
    }

    /** The context of the workflow running on this thread, or null. */
    static @Nullable WorkflowContext currentContext() {
        Frame frame = FRAME.get();
        return frame == null ? null : frame.ctx;
    }

    /** Runs a {@code @Workflow} method as the body of execution {@code ctx}: the registered workflow function. */
    static @Nullable Object runWorkflow(WorkflowContext ctx, Object bean, Method method, @Nullable Object[] args)
            throws Exception {
        return inFrame(new Frame(ctx, true), () -> {
            try {
                return method.invoke(bean, args);
            } catch (InvocationTargetException e) {
                throw rethrow(e.getCause());
            }
        });
    }

    /** Runs a {@link WorkflowDefinition}'s function with its context on the thread: its step method calls count. */
    static <I, O extends @Nullable Object> WorkflowFunction<I, O> withFrame(WorkflowFunction<I, O> function) {
        return (ctx, input) -> inFrame(new Frame(ctx, false), () -> function.run(ctx, input));
    }

    private static <T extends @Nullable Object> T inFrame(Frame frame, Callable<T> body) throws Exception {
        Frame previous = FRAME.get(); // a workflow run (Workflow.run) from inside another one, on its thread
        FRAME.set(frame);
        try {
            return body.call();
        } finally {
            if (previous == null) {
                FRAME.remove();
            } else {
                FRAME.set(previous);
            }
        }
    }

    @Override
    public @Nullable Object invoke(MethodInvocation invocation) throws Throwable {
        Method method = invocation.getMethod();
        Object target = invocation.getThis();
        Class<?> targetClass = target == null ? method.getDeclaringClass() : AopUtils.getTargetClass(target);
        Kind kind = kinds.computeIfAbsent(BridgeMethodResolver.findBridgedMethod(
                AopUtils.getMostSpecificMethod(method, targetClass)), AnnotationInterceptor::kind);
        Frame frame = FRAME.get();
        if (kind.workflow != null) {
            if (frame == null || !frame.entering) {
                throw new IllegalStateException("@Workflow method " + kind.where + " was called directly, which would"
                        + " run it without durability; start it with AnnotatedWorkflows: workflows.get(\""
                        + kind.name + "\", ...).start(input) (or enqueue or run), or from a workflow with"
                        + " ctx.runChild(workflows.get(\"" + kind.name + "\"), input)");
            }
            frame.entering = false;
            return invocation.proceed();
        }
        if (kind.step == null && kind.transaction == null) {
            return invocation.proceed(); // another method of an advised bean
        }
        if (frame == null) {
            return kind.transaction == null ? invocation.proceed() : outsideWorkflow(kind, invocation);
        }
        if (frame.stepDepth > 0) {
            return invocation.proceed();
        }
        if (kind.step != null) {
            return frame.ctx.step(kind.name, kind.step, () -> proceedAsStep(frame, invocation));
        }
        return frame.ctx.transaction(kind.name, kind.transaction, conn -> proceedAsStep(frame, invocation));
    }

    /** A transactional step called outside a workflow: a transaction of the same manager, no checkpoint. */
    private @Nullable Object outsideWorkflow(Kind kind, MethodInvocation invocation) throws Exception {
        return transactionRunner.get().inTransaction(kind.transaction.isolation(), conn -> proceed(invocation));
    }

    private static @Nullable Object proceedAsStep(Frame frame, MethodInvocation invocation) throws Exception {
        frame.stepDepth++;
        try {
            return proceed(invocation);
        } finally {
            frame.stepDepth--;
        }
    }

    private static @Nullable Object proceed(MethodInvocation invocation) throws Exception {
        try {
            return invocation.proceed();
        } catch (Exception | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    private static Exception rethrow(@Nullable Throwable cause) {
        if (cause instanceof Error error) {
            throw error;
        }
        if (cause instanceof Exception exception) {
            return exception;
        }
        return new IllegalStateException(cause);
    }

    /** What a method is: a workflow, a step, a transactional step, or none of them; with its name and options. */
    record Kind(@Nullable Workflow workflow, @Nullable StepOptions step, @Nullable TransactionOptions transaction,
            String name, String where) {}

    static Kind kind(Method method) {
        String where = method.getDeclaringClass().getName() + "." + method.getName();
        Workflow workflow = AnnotatedElementUtils.findMergedAnnotation(method, Workflow.class);
        Step step = AnnotatedElementUtils.findMergedAnnotation(method, Step.class);
        TransactionalStep transaction = AnnotatedElementUtils.findMergedAnnotation(method, TransactionalStep.class);
        int annotations = (workflow != null ? 1 : 0) + (step != null ? 1 : 0) + (transaction != null ? 1 : 0);
        if (annotations > 1) {
            throw new IllegalStateException(where + " has more than one of @Workflow, @Step and @TransactionalStep;"
                    + " keep one");
        }
        if (workflow != null) {
            return new Kind(workflow, null, null, nameOr(workflow.name(), method), where);
        }
        if (step != null) {
            StepOptions options;
            try {
                options = StepOptions.retries(step.maxAttempts()).withBackoff(
                        Duration.ofMillis(step.initialBackoffMillis()), step.backoffMultiplier(),
                        Duration.ofMillis(step.maxBackoffMillis())).retryOn(step.retryOn());
            } catch (IllegalArgumentException e) {
                throw new IllegalStateException("@Step of " + where + ": " + e.getMessage(), e);
            }
            return new Kind(null, options, null, nameOr(step.name(), method), where);
        }
        if (transaction != null) {
            TransactionOptions options;
            try {
                options = TransactionOptions.isolation(transaction.isolation())
                        .withMaxAttempts(transaction.maxAttempts());
            } catch (IllegalArgumentException e) {
                throw new IllegalStateException("@TransactionalStep of " + where + ": " + e.getMessage(), e);
            }
            return new Kind(null, null, options, nameOr(transaction.name(), method), where);
        }
        return new Kind(null, null, null, method.getName(), where);
    }

    private static String nameOr(String name, Method method) {
        return name.isBlank() ? method.getName() : name;
    }
}
