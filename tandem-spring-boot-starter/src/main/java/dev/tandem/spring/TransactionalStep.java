package dev.tandem.spring;

import dev.tandem.IsolationLevel;
import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.springframework.core.annotation.AliasFor;

/**
 * Marks a method of a Spring bean as a transactional step: called through the bean's proxy from a running {@link
 * Workflow workflow}, it runs as {@code ctx.transaction(name, options, ...)} does, exactly once: in a new transaction
 * of the application's {@code PlatformTransactionManager}, which JdbcTemplate, {@code JdbcClient}, JPA and jOOQ (on
 * Boot's {@code DSLContext}) join, and in which the step's checkpoint is inserted; one commit writes both. A replay
 * returns the recorded output without running the method.
 *
 * <pre>{@code
 * @TransactionalStep
 * public int charge(long orderId) {
 *     jdbc.update("INSERT INTO payments (order_id, amount_cents) VALUES (?, 100)", orderId);
 *     return jdbc.update("UPDATE orders SET status = 'PAID' WHERE id = ?", orderId);
 * }
 * }</pre>
 *
 * <p>Outside a workflow the method runs in a new transaction of the same transaction manager, at its isolation level,
 * without a checkpoint or retries; inside another step it runs as part of that step (in its transaction, if it is a
 * transactional step). The method must not be private, final or static, and the workflow must call it through the
 * bean's proxy: through {@code this} it would run without a checkpoint, so that is refused at startup.
 */
@Target(ElementType.METHOD)
@Retention(RetentionPolicy.RUNTIME)
@Documented
public @interface TransactionalStep {
    /** Alias for {@link #name()}. */
    @AliasFor("name")
    String value() default "";

    /** The step's name, checked on replay; by default the method's name. */
    @AliasFor("value")
    String name() default "";

    /** {@code TransactionOptions.isolation}. */
    IsolationLevel isolation() default IsolationLevel.READ_COMMITTED;

    /** {@code TransactionOptions.maxAttempts}: runs on serialization failures and deadlocks before the step fails. */
    int maxAttempts() default 10;
}
