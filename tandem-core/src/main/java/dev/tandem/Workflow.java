package dev.tandem;

import org.jspecify.annotations.Nullable;

/** A registered workflow type, returned by {@link Tandem#register}. Thread-safe. */
public interface Workflow<I, O extends @Nullable Object> {

    String name();

    /**
     * Starts an execution with a generated id and returns once its start is durably committed.
     *
     * @throws IllegalArgumentException if {@code input} is null or cannot be stored as JSON (nothing is written)
     * @throws IllegalStateException if the engine is not {@linkplain Tandem#start() started}
     */
    WorkflowHandle<O> start(I input);

    /**
     * Starts an execution. If {@code options} names an id that already exists, returns a handle to that execution and
     * starts nothing: the id is the idempotency key, and one id never runs twice at once, across processes too.
     *
     * @throws WorkflowConflictException if the id exists for a different workflow name
     */
    WorkflowHandle<O> start(I input, StartOptions options);

    /**
     * Runs an execution to the end on the calling thread, like a method call. If the id already exists, runs nothing
     * and waits for that execution. Otherwise the start is durable from the workflow's first durable write on: it
     * commits in the transaction of the first transactional step (saving a commit), or alone just before any other
     * durable call or write (a second plain step, a sleep, a send, a child, the end), whichever comes first; from
     * then on, if this process dies, the execution is recovered from its checkpoints. Before that point nothing is
     * recorded, and two processes running the same new id at the same moment may both run the code before it (plain
     * steps are at least once); the transactional step commits once, and the other call returns its outcome. With a
     * {@link StartOptions#timeout timeout}, the start is written before the body runs.
     *
     * @throws WorkflowFailedException if the workflow ends in any status but {@code SUCCESS}
     */
    O run(I input, StartOptions options);

    /**
     * Enqueues an execution on the application's open transaction {@code tx} (the transactional outbox): it becomes
     * visible to workers when {@code tx} commits, and never existed if it rolls back. Works with any library that
     * exposes the JDBC connection (plain JDBC, JDBI, jOOQ, Spring's {@code DataSourceUtils}). Calls the SQL function
     * {@code tandem.enqueue_workflow}, so it behaves exactly as the SQL API does. Neither commits nor closes {@code tx}.
     *
     * @return a handle; it can report status only once {@code tx} has committed
     * @throws WorkflowConflictException if the deduplication id is in use by an active workflow of the queue
     * @throws IllegalArgumentException for an input that cannot be stored as JSON or a queue that does not exist
     */
    WorkflowHandle<O> enqueue(java.sql.Connection tx, I input, EnqueueOptions options);

    /** Enqueues an execution in its own transaction, committed when this returns. */
    WorkflowHandle<O> enqueue(I input, EnqueueOptions options);
}
