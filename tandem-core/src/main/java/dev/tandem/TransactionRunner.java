package dev.tandem;

import java.sql.Connection;
import org.jspecify.annotations.Nullable;

/**
 * Runs the transaction of a {@linkplain WorkflowContext#transaction transactional step} for Tandem, for applications
 * whose transactions are managed by a framework (the Spring Boot starter runs it with the application's {@code
 * PlatformTransactionManager}, so that JdbcTemplate, JPA or jOOQ inside the step join it). Set with {@link
 * TandemBuilder#transactionRunner}; without one, Tandem opens the transaction itself on its DataSource.
 *
 * <p>The contract, which is what keeps a transactional step exactly once:
 *
 * <ul>
 *   <li>begin a <b>new</b> transaction at {@code isolation}, never joining one already active on the thread, on a
 *       connection to the database Tandem uses (autocommit off);
 *   <li>call {@code work} once with that connection. Tandem runs the step's function and inserts its checkpoint on it,
 *       but does not commit;
 *   <li>if {@code work} returns, commit (everything the step wrote on that transaction, by any means, and the
 *       checkpoint: one commit) and return its result; if it throws, roll back and throw what it threw;
 *   <li>let a failed commit or rollback surface as an exception whose cause chain holds the driver's {@code
 *       SQLException}, so that Tandem can tell a serialization failure or deadlock ({@code 40001}, {@code 40P01}:
 *       it runs the step again) and a lost connection (outcome unknown: it looks for the checkpoint, which exists if
 *       and only if the transaction committed) from a failure of the step.
 * </ul>
 *
 * <p>Tandem keeps its retries and its resolution of an unknown commit outcome around whatever the runner does. The
 * engine's own writing primitives (send, setEvent, writeStream, startChild) do not use the runner. Thread-safe.
 */
public interface TransactionRunner {

    <T extends @Nullable Object> T inTransaction(IsolationLevel isolation, ConnectionWork<T> work) throws Exception;

    /** What Tandem does inside a {@link TransactionRunner}'s transaction. */
    @FunctionalInterface
    interface ConnectionWork<T extends @Nullable Object> {
        T run(Connection connection) throws Exception;
    }
}
