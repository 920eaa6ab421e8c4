package dev.tandem.spring;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.springframework.core.annotation.AliasFor;

/**
 * Marks a method of a Spring bean as a workflow step: called through the bean's proxy from a running {@link Workflow
 * workflow}, it runs as {@code ctx.step(name, options, ...)} does: at least once, retried as the attributes say, its
 * output (or its final failure, thrown as {@code StepFailedException}) checkpointed; a replay returns the recorded
 * output without running the method. The arguments are not recorded: a step is identified by its position and name.
 *
 * <pre>{@code
 * @Step(maxAttempts = 5, retryOn = IOException.class)
 * public Receipt sendReceipt(long paymentId) throws IOException { ... }
 * }</pre>
 *
 * <p>Outside a workflow the method runs as a plain method call (no checkpoint, no retries); inside another step it
 * runs as part of that step. The method must not be private, final or static, and the workflow must call it through
 * the bean's proxy: through {@code this} it would run without a checkpoint, so that is refused at startup.
 */
@Target(ElementType.METHOD)
@Retention(RetentionPolicy.RUNTIME)
@Documented
public @interface Step {
    /** Alias for {@link #name()}. */
    @AliasFor("name")
    String value() default "";

    /** The step's name, checked on replay; by default the method's name. */
    @AliasFor("value")
    String name() default "";

    /** {@code StepOptions.maxAttempts}: attempts before the step fails (1: no retries). */
    int maxAttempts() default 1;

    /** {@code StepOptions.initialBackoff}, in milliseconds: the wait before the second attempt. */
    long initialBackoffMillis() default 100;

    /** {@code StepOptions.backoffMultiplier}: the wait is multiplied by this after each attempt. */
    double backoffMultiplier() default 2.0;

    /** {@code StepOptions.maxBackoff}, in milliseconds: the longest wait between two attempts. */
    long maxBackoffMillis() default 10_000;

    /** {@code StepOptions.retryOn}: only failures of these types are retried. */
    Class<? extends Throwable>[] retryOn() default Exception.class;
}
