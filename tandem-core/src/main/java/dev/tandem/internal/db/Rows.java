package dev.tandem.internal.db;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/** The rows the engine reads and writes, as plain values. */
public final class Rows {
    private Rows() {}

    /**
     * A workflow start for the group committer; with the start's trace context when tracing is on, and when it began
     * if it is written after the workflow began running ({@code Workflow.run}; null: when it is written).
     */
    public record StartRow(String workflowId, String name, @Nullable String queueName, String input,
            @Nullable Long timeoutMillis, @Nullable String traceparent, @Nullable String tracestate,
            java.time.@Nullable Instant createdAt) {}

    /**
     * A step checkpoint. Output or error is set, never both. {@code epoch} is the ownership epoch of the execution
     * that writes it (the write is refused if the row has another); it is 0 in rows read back.
     */
    public record StepRow(
            String workflowId,
            int position,
            String name,
            String kind,
            @Nullable String output,
            @Nullable String outputType,
            @Nullable String error,
            Instant startedAt,
            long epoch) {}

    /** A final status for the group committer, written only while the row carries ownership epoch {@code epoch}. */
    public record FinishRow(
            String workflowId,
            String status,
            @Nullable String output,
            @Nullable String outputType,
            @Nullable String error,
            long epoch) {}

    /** A workflow as stored. */
    public record WorkflowRow(
            String workflowId,
            String name,
            String status,
            @Nullable String input,
            @Nullable String output,
            @Nullable String outputType,
            @Nullable String error,
            int attempts,
            @Nullable String executorId,
            long epoch,
            @Nullable String incarnation) {}

    /**
     * A workflow taken by recovery, reconciliation or from a queue, with the ownership epoch it now has, the trace
     * context it was started in (or null), and for a queue claim how long it waited since it could run (else -1).
     */
    public record ClaimedRow(String workflowId, String name, @Nullable String input, int attempts,
            @Nullable String queueName, long epoch, @Nullable String traceparent, @Nullable String tracestate,
            long queueWaitMillis) {}

    /**
     * Reads the rows a claim returns: workflow id, name, input, attempts, queue, ownership epoch, traceparent,
     * tracestate, queue wait in milliseconds (NULL if not a queue claim).
     */
    static List<ClaimedRow> claimed(PreparedStatement ps) throws SQLException {
        List<ClaimedRow> rows = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                double waited = rs.getDouble(9);
                // Read before another column. A claim's clock (its transaction's start) can be a little before the
                // enqueue's: it took its timestamp, then its snapshot, and the enqueue committed in between. Waited 0.
                long waitedMillis = rs.wasNull() ? -1 : Math.max(0, Math.round(waited));
                rows.add(new ClaimedRow(rs.getString(1), rs.getString(2), rs.getString(3), rs.getInt(4), rs.getString(5),
                        rs.getLong(6), rs.getString(7), rs.getString(8), waitedMillis));
            }
        }
        return rows;
    }
}
