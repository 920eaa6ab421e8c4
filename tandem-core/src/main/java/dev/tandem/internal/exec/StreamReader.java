package dev.tandem.internal.exec;

import dev.tandem.TandemException;
import dev.tandem.WorkflowStatus;
import dev.tandem.internal.db.MessageStore.StreamRow;
import dev.tandem.internal.db.WorkflowStore.WorkflowState;
import java.sql.SQLException;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * Reads a stream of a workflow as it is written: a blocking iterator that ends after the stream's closing row, or
 * once the workflow has ended and every value it wrote was read. Woken by the NOTIFY of each write's commit; it also
 * looks every second, in case a notification was lost or the workflow ended without closing the stream.
 */
final class StreamReader<T> implements Iterator<T>, AutoCloseable {
    private static final int BATCH = 500;
    private static final long RECHECK_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final Engine engine;
    private final String workflowId;
    private final String key;
    private final Class<T> type;
    private final ArrayDeque<@Nullable String> buffered = new ArrayDeque<>();
    private final Waiters.Wakeup wakeup;
    private int lastPosition;
    private boolean ended;

    StreamReader(Engine engine, String workflowId, String key, Class<T> type) {
        this.engine = engine;
        this.workflowId = workflowId;
        this.key = key;
        this.type = type;
        this.wakeup = engine.waiters().register(workflowId, Waiters.STREAM);
    }

    @Override
    public boolean hasNext() {
        while (buffered.isEmpty() && !ended) {
            if (fetch() > 0 || ended) {
                continue;
            }
            if (workflowEnded()) {
                // Values committed before the final status are visible now: read them, then stop.
                if (fetch() == 0) {
                    end();
                }
                continue;
            }
            try {
                wakeup.await(System.nanoTime() + RECHECK_NANOS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                end();
                throw new TandemException("interrupted while reading stream '" + key + "' of workflow '" + workflowId
                        + "'", e);
            }
            wakeup.reset();
        }
        return !buffered.isEmpty();
    }

    @Override
    public T next() {
        if (!hasNext()) {
            throw new NoSuchElementException("stream '" + key + "' of workflow '" + workflowId + "' has ended");
        }
        String json = buffered.poll();
        return json == null ? null : engine.reads().decode(json, type, "value of stream '" + key + "' of workflow '"
                + workflowId + "'");
    }

    /** Reads the next rows into the buffer; returns how many values it read. */
    private int fetch() {
        List<StreamRow> rows;
        try {
            rows = engine.db().messages().readStream(workflowId, key, lastPosition, BATCH);
        } catch (SQLException e) {
            throw new TandemException("failed to read stream '" + key + "' of workflow '" + workflowId + "': "
                    + e.getMessage(), e);
        }
        int values = 0;
        for (StreamRow row : rows) {
            lastPosition = row.position();
            if (row.closed()) {
                end();
                break;
            }
            buffered.add(row.valueJson());
            values++;
        }
        return values;
    }

    private boolean workflowEnded() {
        try {
            Optional<WorkflowState> state = engine.db().workflows().workflowState(workflowId);
            return state.isEmpty() || WorkflowStatus.valueOf(state.get().status()).isFinal();
        } catch (SQLException e) {
            throw new TandemException("failed to read the status of workflow '" + workflowId + "': " + e.getMessage(),
                    e);
        }
    }

    private void end() {
        ended = true;
        wakeup.unregister();
    }

    @Override
    public void close() {
        end();
    }
}
