package dev.tandem.spring;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.springframework.core.annotation.AliasFor;

/**
 * Marks a method of a Spring bean as a durable workflow; the starter registers it with the engine when the context
 * has been refreshed, under {@link #name()} (by default the method's name).
 *
 * <pre>{@code
 * @Service
 * class OrderWorkflow {
 *     private final OrderSteps steps;                  // another bean: its calls go through its proxy
 *
 *     @Workflow("process_order")
 *     public String process(Long orderId) {
 *         int cents = steps.quote(orderId);            // @Step: at least once, recorded
 *         steps.charge(orderId, cents);                // @TransactionalStep: its SQL and checkpoint, one commit
 *         return "PAID";
 *     }
 * }
 *
 * Workflow<Long, String> process = workflows.get("process_order", Long.class, String.class); // AnnotatedWorkflows
 * process.enqueue(42L, EnqueueOptions.withId("order-42"));
 * }</pre>
 *
 * <p>The method takes the input, {@code (I input)}, or the context and the input, {@code (WorkflowContext ctx, I
 * input)}; the input's class is what its JSON is rebuilt as on recovery. It must not be private, final or static (a
 * proxy runs it). Like a functional workflow it must be deterministic apart from its steps: on recovery it runs again
 * from the top, and each step that completed returns its recorded output.
 *
 * <p>Start it through {@link AnnotatedWorkflows}, never by calling the method: a direct call would run it without
 * durability, so it throws {@link IllegalStateException}. Its {@link Step @Step} and {@link TransactionalStep
 * TransactionalStep} calls must go through the steps' bean proxies: calling them through {@code this} is refused at
 * startup (see docs/spring.md, "the self-invocation rule").
 */
@Target(ElementType.METHOD)
@Retention(RetentionPolicy.RUNTIME)
@Documented
public @interface Workflow {
    /** Alias for {@link #name()}. */
    @AliasFor("name")
    String value() default "";

    /**
     * The workflow's name, stored with each execution; by default the method's name. Renaming it (or, without a name,
     * the method) orphans the executions in flight: they wait for an executor that registered the old name.
     */
    @AliasFor("value")
    String name() default "";
}
