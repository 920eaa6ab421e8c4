package dev.tandem;

import java.time.Duration;
import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * What a running workflow uses to make durable progress. Each call to {@link #step} or {@link #transaction} takes the
 * next position (1, 2, 3, ...) in the workflow; on replay the call at a position returns what was recorded there,
 * and a different name at a recorded position fails the workflow with {@link NonDeterministicWorkflowException}.
 *
 * <p>Every other call here (sleep, recv, send, setEvent, writeStream, startChild) takes a position too and is
 * checkpointed the same way, so a workflow replayed after a crash sleeps only for what was left, receives the same
 * messages, and re-attaches to the same children.
 *
 * <p>A context belongs to one execution and must only be used by the thread running that workflow's function, while
 * it runs; steps cannot be nested.
 */
public interface WorkflowContext {

    /** The id of the running workflow. */
    String workflowId();

    /**
     * A key that is stable across retries and replays of the step currently running: {@code "<workflowId>:<position>"}.
     * Pass it to external APIs that deduplicate requests (payment providers, e-mail services) to turn an
     * at-least-once step into an effectively-once one. Outside a step it names the next step's position.
     */
    String idempotencyKey();

    /**
     * Runs {@code fn} as a step, at least once, with no retries. Once its checkpoint is committed the step never runs
     * again for this workflow; a replay returns the recorded output (rebuilt from JSON as its recorded class).
     *
     * @throws StepFailedException if {@code fn} threw (now or, recorded, in an earlier run)
     */
    <T extends @Nullable Object> T step(String name, StepFunction<T> fn);

    /** Like {@link #step(String, StepFunction)}, retrying failures as {@code options} says. */
    <T extends @Nullable Object> T step(String name, StepOptions options, StepFunction<T> fn);

    /**
     * Runs {@code fn} exactly once: in one database transaction on the engine's database that also inserts this
     * step's checkpoint, committed once. If the transaction fails it rolls back entirely (application rows and
     * checkpoint) and may be run again; once committed, a replay returns the recorded output without running it.
     *
     * @throws StepFailedException if {@code fn} threw (its transaction rolled back) now or in an earlier run
     */
    <T extends @Nullable Object> T transaction(String name, TransactionFunction<T> fn);

    /** Like {@link #transaction(String, TransactionFunction)}, with the given isolation level and retry count. */
    <T extends @Nullable Object> T transaction(String name, TransactionOptions options, TransactionFunction<T> fn);

    /**
     * Sleeps durably: the wake-up time ({@code now + duration}) is recorded once, so a workflow recovered after a
     * restart sleeps only for what is left. A sleeping workflow holds no connection, and no thread (on Java 21+ it
     * waits on a virtual thread; otherwise it is parked and replayed from its checkpoints when it is due).
     *
     * @throws IllegalArgumentException if {@code duration} is null or negative
     */
    void sleep(Duration duration);

    /** Like {@link #sleep}, until {@code wakeAt} (a time in the past does not wait). */
    void sleepUntil(Instant wakeAt);

    /**
     * Receives the oldest message sent to this workflow on {@code topic}, waiting up to {@code timeout} for one.
     * Exactly once: the message is consumed in the same transaction that records it here, so a replay returns the
     * same message and no message is received twice. Messages sent before the workflow waits are kept for it.
     *
     * @return the message bound to {@code type}, or {@code null} if none arrived within the timeout
     * @throws IllegalArgumentException if an argument is null or the timeout negative
     */
    <T> @Nullable T recv(String topic, Class<T> type, Duration timeout);

    /** Like {@link #recv(String, Class, Duration)}, on the default topic (messages sent without one). */
    <T> @Nullable T recv(Class<T> type, Duration timeout);

    /**
     * Sends a message to workflow {@code workflowId} on {@code topic}, exactly once: the send commits with this
     * call's checkpoint (see {@link Tandem#send}).
     *
     * @throws StepFailedException if there is no such workflow (recorded, like a failed step)
     */
    void send(String workflowId, String topic, Object message);

    /** Like {@link #send(String, String, Object)}, on the default topic. */
    void send(String workflowId, Object message);

    /**
     * Sets event {@code key} of this workflow to {@code value}, durably and exactly once: the last value wins for
     * {@link Tandem#getEvent}, and every value is kept in {@code tandem.event_history}.
     *
     * @throws IllegalArgumentException if the key is null or the value cannot be stored as JSON (nothing written)
     */
    void setEvent(String key, Object value);

    /**
     * Appends {@code value} to stream {@code key} of this workflow, exactly once; readers
     * ({@link Tandem#readStream}) see the values in the order written.
     *
     * @throws IllegalArgumentException if the key is null, the stream is closed, or the value cannot be stored as JSON
     */
    void writeStream(String key, Object value);

    /** Closes stream {@code key}: its readers end after the last value. A stream also ends with its workflow. */
    void closeStream(String key);

    /**
     * Starts a child workflow and returns a handle to it. The child's id ({@code "<this id>-<position>"}, unless
     * {@code options} names one) is recorded with this call, in the same transaction that creates the child, so a
     * replay re-attaches to the same child instead of starting a second one. The child records this workflow as its
     * parent, and inherits its deadline (the earlier of the two applies).
     *
     * @throws IllegalArgumentException if the workflow is not registered here or the input is not valid
     */
    <I, O extends @Nullable Object> WorkflowHandle<O> startChild(Workflow<I, O> workflow, I input,
            StartOptions options);

    /** {@link #startChild(Workflow, Object, StartOptions)} with default options. */
    <I, O extends @Nullable Object> WorkflowHandle<O> startChild(Workflow<I, O> workflow, I input);

    /**
     * Starts a child workflow and waits for its output.
     *
     * @throws WorkflowFailedException if the child ended {@code ERROR}, {@code CANCELLED} or {@code RETRIES_EXCEEDED}
     */
    <I, O extends @Nullable Object> O runChild(Workflow<I, O> workflow, I input);

    /**
     * Whether this execution runs the new code of change {@code changeId}: lets a workflow's code change while
     * executions of the old code are in flight. Like every decision it is recorded, so a replay always answers the
     * same:
     *
     * <ul>
     *   <li>{@code true} for an execution that reaches this point on the new code (a {@code PATCH} checkpoint named
     *       {@code changeId} is recorded here, taking a position), and for every replay of it;
     *   <li>{@code false} for a replay of an execution that passed this point before the change: its history has
     *       another checkpoint here, which the old code's next call then meets (no position is taken).
     * </ul>
     *
     * <pre>{@code
     * if (ctx.patched("fee-before-charge")) {
     *     ctx.step("fee", () -> fees.compute(order));   // the new code
     * }
     * ctx.transaction("charge", conn -> charge(conn, order));
     * }</pre>
     *
     * Once no execution from before the change is in flight, replace the call by {@link #deprecatePatch} and remove the
     * old branch; once none from before that is, remove that call too. The whole life of a change, and the pre-deploy
     * check that tells when each step is safe: docs/versioning.md.
     *
     * @throws IllegalArgumentException if {@code changeId} is null or blank
     */
    boolean patched(String changeId);

    /**
     * The cleanup phase of change {@code changeId}, once no execution from before it is in flight: the code keeps only
     * the new branch, and this call consumes the {@code PATCH} checkpoint that executions which ran
     * {@link #patched} recorded here. Executions that did not record one (started after this code was deployed) go on
     * to their next call; nothing is recorded.
     *
     * @throws IllegalArgumentException if {@code changeId} is null or blank
     */
    void deprecatePatch(String changeId);
}
