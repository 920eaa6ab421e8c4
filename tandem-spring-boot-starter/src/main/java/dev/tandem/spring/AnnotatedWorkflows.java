package dev.tandem.spring;

import dev.tandem.ForwardingWorkflow;
import dev.tandem.Tandem;
import dev.tandem.WorkflowContext;
import dev.tandem.WorkflowFunction;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import org.springframework.util.ClassUtils;

/**
 * The workflows declared with {@link Workflow @Workflow} methods, by name: inject it where workflows are started.
 *
 * <pre>{@code
 * @Service
 * class Orders {
 *     private final Workflow<Long, String> processOrder;   // dev.tandem.Workflow
 *
 *     Orders(AnnotatedWorkflows workflows) {
 *         this.processOrder = workflows.get("process_order", Long.class, String.class);
 *     }
 *
 *     @Transactional
 *     public void place(long orderId) {
 *         processOrder.enqueue(orderId, EnqueueOptions.withId("order-" + orderId));   // joins this transaction
 *     }
 * }
 * }</pre>
 *
 * <p>The returned workflow behaves as a {@link WorkflowDefinition} bean does: {@code enqueue} joins the Spring
 * transaction active on the thread, {@code start} and {@code run} commit on their own, and calls before the context
 * has been refreshed throw {@link IllegalStateException}. Thread-safe.
 */
public final class AnnotatedWorkflows {
    private final Map<String, Entry> byName = new LinkedHashMap<>();
    /** Set once the engine registered them: every {@code @Workflow} method of the context is known. */
    private boolean registered;

    private record Entry(WorkflowDefinition<?, ?> definition, Class<?> inputType, Class<?> outputType, String where) {}

    AnnotatedWorkflows() {}

    /**
     * The workflow named {@code name}, typed: {@code inputType} must be the method's input type (a primitive as its
     * wrapper) and {@code outputType} a supertype of its return type ({@code Void} for {@code void}). Asked for while
     * the context is being created (in a constructor), before the bean of the method exists, it is looked up and
     * checked at its first use instead.
     *
     * @throws IllegalArgumentException if no {@code @Workflow} method has this name, or the types do not match it
     */
    public <I, O extends @Nullable Object> dev.tandem.Workflow<I, O> get(String name, Class<I> inputType,
            Class<O> outputType) {
        if (inputType == null || outputType == null) {
            throw new IllegalArgumentException("workflow '" + name + "': the input and output types must not be null");
        }
        synchronized (this) {
            if (!registered && !byName.containsKey(name)) {
                return new Pending<>(name, inputType, outputType); // its bean may not have been created yet
            }
        }
        return typed(name, inputType, outputType);
    }

    /**
     * The workflow named {@code name}, untyped (for {@code ctx.runChild}, or where the caller casts).
     *
     * @throws IllegalArgumentException if no {@code @Workflow} method has this name
     */
    @SuppressWarnings("unchecked")
    public <I, O extends @Nullable Object> dev.tandem.Workflow<I, O> get(String name) {
        return (dev.tandem.Workflow<I, O>) entry(name).definition;
    }

    @SuppressWarnings("unchecked")
    private <I, O extends @Nullable Object> dev.tandem.Workflow<I, O> typed(String name, Class<I> inputType,
            Class<O> outputType) {
        Entry entry = entry(name);
        if (inputType != entry.inputType || !outputType.isAssignableFrom(entry.outputType)) {
            throw new IllegalArgumentException("workflow '" + name + "' (" + entry.where + ") takes "
                    + entry.inputType.getName() + " and returns " + entry.outputType.getName() + ", not "
                    + inputType.getName() + " and " + outputType.getName());
        }
        return (dev.tandem.Workflow<I, O>) entry.definition;
    }

    /**
     * A workflow asked for while the context is being created, before the bean of its method: looked up (and its
     * types checked) at its first use, which can only be once the context has been refreshed.
     */
    private final class Pending<I, O extends @Nullable Object> extends ForwardingWorkflow<I, O> {
        private final String name;
        private final Class<I> inputType;
        private final Class<O> outputType;
        private volatile dev.tandem.@Nullable Workflow<I, O> resolved;

        Pending(String name, Class<I> inputType, Class<O> outputType) {
            this.name = name;
            this.inputType = inputType;
            this.outputType = outputType;
        }

        @Override
        protected dev.tandem.Workflow<I, O> delegate() {
            dev.tandem.Workflow<I, O> w = resolved;
            if (w == null) {
                w = typed(name, inputType, outputType);
                resolved = w;
            }
            return w;
        }

        @Override
        public String name() {
            return name;
        }
    }

    /** The names of the {@code @Workflow} methods found so far (all of them once the context has been refreshed). */
    public synchronized Set<String> names() {
        return Set.copyOf(byName.keySet());
    }

    /**
     * The context of the workflow running on the calling thread, for code that a {@code @Workflow} method calls
     * (in a step: {@code currentContext().orElseThrow().idempotencyKey()}); empty outside a workflow.
     */
    public static Optional<WorkflowContext> currentContext() {
        return Optional.ofNullable(AnnotationInterceptor.currentContext());
    }

    private synchronized Entry entry(String name) {
        Entry entry = byName.get(name);
        if (entry == null) {
            throw new IllegalArgumentException("no @Workflow method is named '" + name + "'; the annotated workflows"
                    + " found so far are " + byName.keySet() + " (all are known once the context has been refreshed;"
                    + " a WorkflowDefinition bean is injected as a bean instead)");
        }
        return entry;
    }

    /** Adds the workflow of {@code method}; called by the starter as each bean is created. */
    @SuppressWarnings({"unchecked", "rawtypes"})
    synchronized void add(String name, Method method, Class<?> inputType, WorkflowFunction<?, ?> function,
            String where) {
        Entry existing = byName.get(name);
        if (existing != null) {
            throw new IllegalStateException("workflow name '" + name + "' is declared twice, by " + existing.where
                    + " and by " + where + "; give one of them another name with @Workflow(name = \"...\")");
        }
        Class<?> output = ClassUtils.resolvePrimitiveIfNecessary(method.getReturnType());
        byName.put(name, new Entry(WorkflowDefinition.of(name, (Class) inputType, (WorkflowFunction) function),
                inputType, output == void.class ? Void.class : output, where));
    }

    /** Registers every annotated workflow with the engine; called once by {@link TandemLifecycle}, before it starts. */
    synchronized void registerWith(Tandem tandem) {
        List<WorkflowDefinition<?, ?>> definitions = new ArrayList<>();
        byName.values().forEach(e -> definitions.add(e.definition));
        definitions.forEach(d -> d.registerWith(tandem));
        registered = true;
    }
}
