package dev.tandem.spring;

import dev.tandem.EnqueueOptions;
import dev.tandem.ForwardingWorkflow;
import dev.tandem.Tandem;
import dev.tandem.Workflow;
import dev.tandem.WorkflowFunction;
import org.jspecify.annotations.Nullable;

/**
 * A workflow declared as a bean; the starter registers every such bean with the engine before starting it, and the
 * bean is itself the {@link Workflow} to inject where workflows are started.
 *
 * <pre>{@code
 * @Bean
 * WorkflowDefinition<Long, String> processOrder(JdbcTemplate jdbc) {
 *     return WorkflowDefinition.of("process_order", Long.class, (ctx, orderId) -> {
 *         ctx.transaction("pay", conn -> jdbc.update("INSERT INTO payments ..."));   // joins the step's transaction
 *         return "shipped";
 *     });
 * }
 *
 * @Service
 * class Orders {
 *     Orders(Workflow<Long, String> processOrder) { ... }   // the bean above, by type or name
 * }
 * }</pre>
 *
 * <p>Calls on it before the engine registered it (while the context is being created) throw {@link
 * IllegalStateException}. {@link #enqueue(Object, EnqueueOptions)} joins the Spring transaction active on the thread,
 * if any (see {@code docs/spring.md}). Thread-safe.
 */
public final class WorkflowDefinition<I, O extends @Nullable Object> extends ForwardingWorkflow<I, O> {
    private final String name;
    private final Class<I> inputType;
    private final WorkflowFunction<I, O> function;
    private volatile @Nullable Workflow<I, O> registered;

    private WorkflowDefinition(String name, Class<I> inputType, WorkflowFunction<I, O> function) {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("workflow name must not be null or blank");
        }
        if (inputType == null || function == null) {
            throw new IllegalArgumentException("workflow '" + name + "' needs a non-null input type and function");
        }
        this.name = name;
        this.inputType = inputType;
        this.function = function;
    }

    /**
     * A workflow named {@code name} (stable: it is stored with each execution) with input {@code inputType} (rebuilt
     * from JSON on recovery).
     */
    public static <I, O extends @Nullable Object> WorkflowDefinition<I, O> of(String name, Class<I> inputType,
            WorkflowFunction<I, O> function) {
        return new WorkflowDefinition<>(name, inputType, function);
    }

    /** Registers this workflow with {@code tandem} (before it starts); called once by the starter. */
    synchronized void registerWith(Tandem tandem) {
        if (registered != null) {
            throw new IllegalStateException("workflow '" + name + "' is already registered");
        }
        // With the context on the thread, the function's calls of @Step methods are steps too.
        registered = tandem.register(name, inputType, AnnotationInterceptor.withFrame(function));
    }

    @Override
    protected Workflow<I, O> delegate() {
        Workflow<I, O> w = registered;
        if (w == null) {
            throw new IllegalStateException("workflow '" + name + "' is not registered with the Tandem engine yet:"
                    + " the starter registers workflows when the application context has been refreshed");
        }
        return w;
    }

    @Override
    public String name() {
        return name;
    }

    public Class<I> inputType() {
        return inputType;
    }
}
