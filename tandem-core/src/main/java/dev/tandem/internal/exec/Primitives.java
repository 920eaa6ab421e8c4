package dev.tandem.internal.exec;

import static dev.tandem.internal.exec.CheckpointKinds.RECV;
import static dev.tandem.internal.exec.CheckpointKinds.SEND;
import static dev.tandem.internal.exec.CheckpointKinds.SET_EVENT;
import static dev.tandem.internal.exec.CheckpointKinds.SLEEP;
import static dev.tandem.internal.exec.CheckpointKinds.WRITE_STREAM;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.tandem.TandemException;
import dev.tandem.TransactionOptions;
import dev.tandem.internal.db.MessageStore.Taken;
import dev.tandem.internal.db.Rows.StepRow;
import dev.tandem.internal.db.SqlErrors;
import dev.tandem.internal.exec.ExecutionControl.Kind;
import dev.tandem.internal.exec.Waiters.Wakeup;
import dev.tandem.internal.observe.Telemetry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * The durable primitives of one execution: sleep, recv, send, setEvent, writeStream and closeStream. Each takes the
 * execution's next position(s) and leaves a checkpoint, so a replay sees the same history: a sleep and a receive
 * record their deadline before they wait; a received message is marked consumed in the statement that inserts its
 * checkpoint; a send, an event and a stream value commit in the transaction of their checkpoint.
 */
final class Primitives {
    private final WorkflowExecution<?, ?> x;

    Primitives(WorkflowExecution<?, ?> execution) {
        this.x = execution;
    }


    void sleep(Duration duration) {
        if (duration == null || duration.isNegative()) {
            throw new IllegalArgumentException("sleep duration must be zero or positive (was " + duration
                    + ") in workflow '" + x.workflowId + "'");
        }
        durableSleep(() -> x.engine.clock().now().plus(duration));
    }

    void sleepUntil(Instant wakeAt) {
        if (wakeAt == null) {
            throw new IllegalArgumentException("sleepUntil needs a wake-up time, not null (workflow '" + x.workflowId
                    + "')");
        }
        durableSleep(() -> wakeAt);
    }

    <T> @Nullable T recv(String topic, Class<T> type, Duration timeout) {
        if (topic == null) {
            throw new IllegalArgumentException("recv topic must not be null (workflow '" + x.workflowId
                    + "'); use recv(type, timeout) for the default topic");
        }
        return receive(topic, type, timeout);
    }

    <T> @Nullable T recv(Class<T> type, Duration timeout) {
        return receive("", type, timeout);
    }

    void send(String destinationId, String topic, Object message) {
        if (topic == null) {
            throw new IllegalArgumentException("send topic must not be null (workflow '" + x.workflowId
                    + "'); use send(workflowId, message) for the default topic");
        }
        sendMessage(destinationId, topic, message);
    }

    void send(String destinationId, Object message) {
        sendMessage(destinationId, "", message);
    }

    void setEvent(String key, Object value) {
        if (key == null) {
            throw new IllegalArgumentException("event key must not be null (workflow '" + x.workflowId + "')");
        }
        String json = encodeValue("value of event '" + key + "'", value);
        String name = "setEvent:" + key;
        int pos = x.begin("setEvent", name, this, this);
        StepRow previous = x.checkpoints.recorded.get(pos);
        if (previous != null) {
            x.checkpoints.replay(previous, SET_EVENT, name, pos);
            return;
        }
        x.transactional(SET_EVENT, name, pos, TransactionOptions.defaults(), conn -> {
            x.engine.db().messages().setEvent(conn, x.workflowId, pos, key, json);
            return null;
        });
        x.engine.waiters().signal(x.workflowId, Waiters.EVENT);
    }

    void writeStream(String key, Object value) {
        if (key == null) {
            throw new IllegalArgumentException("stream key must not be null (workflow '" + x.workflowId + "')");
        }
        String json = encodeValue("value for stream '" + key + "'", value);
        appendToStream(key, json, false);
    }

    void closeStream(String key) {
        if (key == null) {
            throw new IllegalArgumentException("stream key must not be null (workflow '" + x.workflowId + "')");
        }
        appendToStream(key, null, true);
    }


    private void durableSleep(Supplier<Instant> wakeAtIfNew) {
        int pos = x.begin("sleep", "sleep", this, this);
        Instant wakeAt = wakeUpTime(pos, "sleep", wakeAtIfNew);
        if (!wakeAt.isAfter(x.engine.clock().now()) || x.history.waitEnded(x, pos)) {
            return; // due, or over in the replayed history
        }
        Wakeup wakeup = x.engine.waiters().register(x.workflowId, Waiters.CANCEL);
        Telemetry.Observation waiting = Telemetry.Observation.NONE; // a replay of a sleep that has passed waits not
        try {
            while (true) {
                long left = Duration.between(x.engine.clock().now(), wakeAt).toNanos();
                if (left <= 0) {
                    return;
                }
                if (waiting == Telemetry.Observation.NONE) {
                    waiting = x.engine.telemetry().await("sleep", x.name(), x.workflowId, pos, SLEEP);
                }
                long due = System.nanoTime() + left; // before the write, which would otherwise make it late
                x.checkpoints.write(); // the wake-up time is durable before the wait: a recovery sleeps what is left
                x.waits.await(wakeup, due, true);
                x.waits.afterWakeUp(wakeup);
            }
        } finally {
            x.waits.release(wakeup);
            waiting.close();
        }
    }

    /** The wake-up time recorded at {@code pos}, or a new one, recorded now (durable with the next write). */
    private Instant wakeUpTime(int pos, String name, Supplier<Instant> fresh) {
        StepRow previous = x.checkpoints.recorded.get(pos);
        if (previous != null) {
            x.checkpoints.checkRecorded(previous, SLEEP, name, pos);
            return Instant.ofEpochMilli(Long.parseLong(Objects.requireNonNull(previous.output())));
        }
        Instant wakeAt = fresh.get();
        x.checkpoints.record(x.checkpoint(pos, name, SLEEP, Long.toString(wakeAt.toEpochMilli()), "java.lang.Long",
                null, x.engine.clock().now()));
        return wakeAt;
    }

    /**
     * Takes two positions: the deadline (a SLEEP checkpoint, so a recovered workflow waits only for what was left)
     * and the message (a RECV checkpoint, committed with the message's deletion).
     */
    private <T> @Nullable T receive(String topic, Class<T> type, Duration timeout) {
        if (type == null) {
            throw new IllegalArgumentException("recv needs the message type, not null (workflow '" + x.workflowId + "')");
        }
        if (timeout == null || timeout.isNegative()) {
            throw new IllegalArgumentException("recv timeout must be zero or positive (was " + timeout
                    + ") in workflow '" + x.workflowId + "'");
        }
        String name = topic.isEmpty() ? "recv" : "recv:" + topic;
        int deadlinePos = x.begin("recv", name, this, this);
        Instant deadline = wakeUpTime(deadlinePos, name, () -> x.engine.clock().now().plus(timeout));
        int pos = x.begin("recv", name, this, this);
        StepRow previous = x.checkpoints.recorded.get(pos);
        if (previous != null) {
            x.checkpoints.checkRecorded(previous, RECV, name, pos);
            return decodeMessage(previous.output(), type, name, pos);
        }
        Instant startedAt = x.engine.clock().now();
        Wakeup wakeup = x.engine.waiters().register(x.workflowId, Waiters.MESSAGE | Waiters.CANCEL);
        Telemetry.Observation waiting = x.engine.telemetry().await("recv", x.name(), x.workflowId, pos, RECV);
        try {
            long heldBackoffMillis = 5;
            while (true) {
                Taken taken = takeMessage(topic, name, pos, type, startedAt);
                if (taken.message() != null) {
                    return decodeMessage(taken.message(), type, name, pos);
                }
                long left = Duration.between(x.engine.clock().now(), deadline).toNanos();
                if (taken.heldElsewhere() && left > 0) {
                    // A message is there, locked by another transaction (a zombie execution of this workflow whose
                    // take the fence will roll back): look again soon; its rollback sends no notification.
                    x.checkpoints.write(); // the deadline is durable before any wait
                    x.waits.block(wakeup,
                            System.nanoTime() + Math.min(left, TimeUnit.MILLISECONDS.toNanos(heldBackoffMillis)));
                    heldBackoffMillis = Math.min(heldBackoffMillis * 2, 500);
                    x.waits.afterWakeUp(wakeup);
                    continue;
                }
                heldBackoffMillis = 5;
                if (left <= 0) {
                    x.checkpoints.record(x.checkpoint(pos, name, RECV, "null", null, null, startedAt));
                    return null;
                }
                long due = System.nanoTime() + left;
                x.checkpoints.write(); // the deadline is durable before the wait
                x.waits.await(wakeup, due, false);
                x.waits.afterWakeUp(wakeup);
            }
        } finally {
            x.waits.release(wakeup);
            waiting.close();
        }
    }

    /**
     * Consumes the oldest message and commits its checkpoint with it (one round trip); no message if there is none,
     * or if the only ones are locked by another transaction.
     */
    private Taken takeMessage(String topic, String name, int pos, Class<?> type, Instant startedAt) {
        long backoff = 10;
        while (true) {
            try {
                // Earlier checkpoints commit with this one.
                List<StepRow> rows = new ArrayList<>(x.checkpoints.unwritten);
                rows.add(x.checkpoint(pos, name, RECV, null, type.getName(), null, startedAt));
                Taken taken = x.engine.db().messages().takeMessage(x.workflowId, topic, rows, pos,
                        x.engine.executorId(), x.epoch);
                if (taken.message() != null) {
                    x.checkpoints.unwritten.clear();
                    x.checkpoints.recorded.put(pos, x.checkpoint(pos, name, RECV, taken.message(), type.getName(), null,
                            startedAt));
                }
                return taken;
            } catch (Exception e) {
                SqlErrors.Kind failure = SqlErrors.classify(e);
                if (failure == SqlErrors.Kind.NOT_OWNER || failure == SqlErrors.Kind.CHECKPOINT_CONFLICT) {
                    throw new ExecutionControl(Kind.RESTART, "workflow '" + x.workflowId + "' was cancelled, taken over"
                            + " or replayed elsewhere while receiving (#" + pos + "); the message stays queued", e);
                }
                if (failure == SqlErrors.Kind.DATA) {
                    throw x.checkpoints.unstorable(e);
                }
                if (failure != SqlErrors.Kind.CONNECTION) {
                    throw x.transientFailure("receive a message (#" + pos + ")", e);
                }
                if (x.engine.isStopping()) {
                    throw new ExecutionControl(Kind.STOP, "engine stopping", e);
                }
                // The commit may or may not have happened: the checkpoint says which.
                x.pause(backoff);
                backoff = Math.min(backoff * 2, 2000);
                Optional<StepRow> found = x.checkpoints.committedCheckpoint(pos);
                if (found.isPresent()) {
                    return new Taken(found.get().output(), false);
                }
            }
        }
    }

    private <T> @Nullable T decodeMessage(@Nullable String json, Class<T> type, String name, int pos) {
        if (json == null || json.equals("null")) {
            return null;
        }
        try {
            return x.engine.json().mapper().readValue(json, type);
        } catch (JsonProcessingException e) {
            throw new TandemException("the message received by " + name + " (#" + pos + ") of workflow '" + x.workflowId
                    + "' does not bind to " + type.getName() + ": " + e.getOriginalMessage() + "; message was "
                    + json, e);
        }
    }

    private void sendMessage(String destinationId, String topic, Object message) {
        if (destinationId == null || destinationId.isBlank()) {
            throw new IllegalArgumentException("send needs the id of the receiving workflow (workflow '" + x.workflowId
                    + "')");
        }
        String json = encodeValue("message to workflow '" + destinationId + "'", message);
        String name = topic.isEmpty() ? "send" : "send:" + topic;
        int pos = x.begin("send", name, this, this);
        StepRow previous = x.checkpoints.recorded.get(pos);
        if (previous != null) {
            x.checkpoints.replay(previous, SEND, name, pos);
            return;
        }
        String idempotencyKey = x.workflowId + ":" + pos; // a replay that re-sends is a no-op
        x.transactional(SEND, name, pos, TransactionOptions.defaults(), conn -> {
            x.engine.db().messages().sendMessage(conn, destinationId, json, topic.isEmpty() ? null : topic,
                    idempotencyKey);
            return null;
        });
        x.engine.waiters().signal(destinationId, Waiters.MESSAGE); // a receiver here need not wait for the NOTIFY
    }

    private void appendToStream(String key, @Nullable String json, boolean close) {
        if (x.closedStreams.contains(key)) {
            throw new IllegalArgumentException("stream '" + key + "' of workflow '" + x.workflowId + "' is closed; "
                    + (close ? "it cannot be closed twice" : "nothing more can be written to it"));
        }
        String name = (close ? "closeStream:" : "writeStream:") + key;
        int pos = x.begin("writeStream", name, this, this);
        StepRow previous = x.checkpoints.recorded.get(pos);
        if (previous != null) {
            x.checkpoints.replay(previous, WRITE_STREAM, name, pos);
        } else {
            x.transactional(WRITE_STREAM, name, pos, TransactionOptions.defaults(), conn -> {
                x.engine.db().messages().writeStream(conn, x.workflowId, key, pos, json, close);
                return null;
            });
            x.engine.waiters().signal(x.workflowId, Waiters.STREAM);
        }
        if (close) {
            x.closedStreams.add(key);
        }
    }

    private String encodeValue(String what, @Nullable Object value) {
        try {
            return x.engine.json().write(value);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("the " + what + " cannot be stored as JSON: " + e.getOriginalMessage()
                    + " (workflow '" + x.workflowId + "'); pass a value Jackson can serialize", e);
        }
    }
}
