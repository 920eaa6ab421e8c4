package dev.tandem.internal.exec;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.tandem.AmbientTransaction;
import dev.tandem.TandemException;
import dev.tandem.internal.db.SystemDatabase;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * What callers do to workflows from outside them: cancel, resume, send a message, read an event or a stream
 * ({@code Tandem}'s methods of the same names). Each goes through the public SQL function where there is one, so SQL
 * and Java callers share one code path, and maps its errors to exceptions that say what was wrong.
 */
public final class Control {
    private final Engine engine;
    private final SystemDatabase db;

    Control(Engine engine, SystemDatabase db) {
        this.engine = engine;
        this.db = db;
    }

    /** Runs one of the control functions (cancel, resume) for {@code workflowId}, mapping its errors. */
    public void control(String query, String action, String workflowId) {
        if (workflowId == null || workflowId.isBlank()) {
            throw new IllegalArgumentException("workflowId must not be null or blank");
        }
        try {
            db.workflows().control(query, workflowId);
        } catch (SQLException e) {
            throw controlFailure(action, workflowId, e);
        }
    }

    /** Moves a workflow to another application version, or to none (any version may run it). */
    public void setVersion(String workflowId, @Nullable String appVersion) {
        if (workflowId == null || workflowId.isBlank()) {
            throw new IllegalArgumentException("workflowId must not be null or blank");
        }
        if (appVersion != null && appVersion.isBlank()) {
            throw new IllegalArgumentException("appVersion must not be blank; pass null to let any version run it");
        }
        try {
            db.workflows().control("setWorkflowVersion", workflowId, appVersion);
        } catch (SQLException e) {
            throw controlFailure("set the version of", workflowId, e);
        }
    }

    public void send(String workflowId, @Nullable String topic, Object message, @Nullable String idempotencyKey) {
        if (workflowId == null || workflowId.isBlank()) {
            throw new IllegalArgumentException("workflowId must not be null or blank");
        }
        if (topic != null && topic.isEmpty()) {
            throw new IllegalArgumentException("topic must not be empty; pass null for the default topic");
        }
        String messageJson;
        try {
            messageJson = engine.json().write(message);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("the message to workflow '" + workflowId + "' cannot be stored as JSON: "
                    + e.getOriginalMessage(), e);
        }
        AmbientTransaction ambient = engine.hooks().ambientTransaction();
        Connection joined = ambient == null ? null : ambient.connection();
        try {
            if (joined != null) {
                // The application's transaction: the message exists if and only if it commits. Its NOTIFY, delivered
                // at that commit, wakes the receiver; a signal now would find nothing.
                db.workflows().control(joined, "sendMessage", workflowId, messageJson, topic, idempotencyKey);
                return;
            }
            db.workflows().control("sendMessage", workflowId, messageJson, topic, idempotencyKey);
        } catch (SQLException e) {
            throw controlFailure("send a message to", workflowId, e);
        } finally {
            if (joined != null) {
                ambient.release(joined);
            }
        }
        Waiters w = engine.waitersIfStarted();
        if (w != null) {
            w.signal(workflowId, Waiters.MESSAGE); // a receiver in this process need not wait for the NOTIFY
        }
    }

    /** Cancels a workflow and, with {@code includeChildren}, its descendants. */
    public void cancel(String workflowId, boolean includeChildren) {
        if (workflowId == null || workflowId.isBlank()) {
            throw new IllegalArgumentException("workflowId must not be null or blank");
        }
        try {
            db.workflows().control("cancelWorkflowTree", workflowId, includeChildren);
        } catch (SQLException e) {
            throw controlFailure("cancel", workflowId, e);
        }
    }

    /**
     * The last value of event {@code key} of a workflow, waiting up to {@code timeout} for it to be set; null if it
     * is not set by then. Woken by the NOTIFY of the setEvent's commit, without polling.
     */
    public <T> @Nullable T getEvent(String workflowId, String key, Class<T> type, Duration timeout) {
        if (workflowId == null || workflowId.isBlank()) {
            throw new IllegalArgumentException("workflowId must not be null or blank");
        }
        if (key == null) {
            throw new IllegalArgumentException("event key must not be null");
        }
        if (type == null) {
            throw new IllegalArgumentException("the event's type must not be null");
        }
        if (timeout == null || timeout.isNegative()) {
            throw new IllegalArgumentException("timeout must be zero or positive (was " + timeout + ")");
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        Waiters.Wakeup wakeup = engine.waiters().register(workflowId, Waiters.EVENT);
        try {
            while (true) {
                java.util.Optional<String> value;
                try {
                    value = db.messages().getEvent(workflowId, key);
                } catch (SQLException e) {
                    throw new TandemException("failed to read event '" + key + "' of workflow '" + workflowId + "': "
                            + e.getMessage(), e);
                }
                if (value.isPresent()) {
                    return engine.reads().decode(value.get(), type, "event '" + key + "' of workflow '" + workflowId + "'");
                }
                if (!wakeup.await(deadline)) {
                    return null;
                }
                wakeup.reset();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TandemException("interrupted while waiting for event '" + key + "' of workflow '" + workflowId
                    + "'", e);
        } finally {
            wakeup.unregister();
        }
    }

    /** The values of stream {@code key} of a workflow, as they arrive; see {@code Tandem.readStream}. */
    public <T> java.util.stream.Stream<T> readStream(String workflowId, String key, Class<T> type) {
        if (workflowId == null || workflowId.isBlank()) {
            throw new IllegalArgumentException("workflowId must not be null or blank");
        }
        if (key == null) {
            throw new IllegalArgumentException("stream key must not be null");
        }
        if (type == null) {
            throw new IllegalArgumentException("the stream's value type must not be null");
        }
        engine.reads().loadWorkflow(workflowId); // an unknown id fails now, clearly
        StreamReader<T> reader = new StreamReader<>(engine, workflowId, key, type);
        return java.util.stream.StreamSupport.stream(
                java.util.Spliterators.spliteratorUnknownSize(reader, java.util.Spliterator.ORDERED), false)
                .onClose(reader::close);
    }

    private static RuntimeException controlFailure(String action, String workflowId, SQLException e) {
        String state = e.getSQLState();
        if ("P0002".equals(state) || "22023".equals(state)) { // no_data_found, invalid_parameter_value
            return new IllegalArgumentException(e.getMessage(), e);
        }
        return new TandemException("failed to " + action + " workflow '" + workflowId + "': " + e.getMessage(), e);
    }
}
