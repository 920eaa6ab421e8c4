package dev.tandem.internal.db;

import dev.tandem.internal.db.Rows.ClaimedRow;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;

/**
 * Queues: enqueueing (through {@code tandem.enqueue_workflow}, on the caller's connection), the queues' limits, and
 * claims. A claim of a queue with global limits locks the queue's row in a statement of its own, then counts and
 * claims in a second one, skipping rows locked elsewhere.
 */
public final class QueueStore {
    private final Queries queries;
    private final DataSource engine;

    QueueStore(Queries queries, DataSource engine) {
        this.queries = queries;
        this.engine = engine;
        queries.require("enqueueWorkflow", "setTimeout", "upsertQueue", "loadQueues", "claimQueued",
                "lockQueue", "claimQueuedLimited", "claimQueuedPartitioned", "nextDelayed", "queueSizes");
    }

    /** Calls {@code tandem.enqueue_workflow} on the caller's connection (its transaction); returns the id. */
    public String enqueue(Connection conn, String name, String argsJson, @Nullable String workflowId, String queue,
            int priority, @Nullable String deduplicationId, @Nullable String partitionKey, @Nullable Duration delay,
            @Nullable String traceparent, @Nullable String tracestate) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement(queries.get("enqueueWorkflow"))) {
            ps.setString(1, name);
            ps.setString(2, argsJson);
            ps.setString(3, queue);
            ps.setString(4, workflowId);
            ps.setInt(5, priority);
            ps.setString(6, deduplicationId);
            ps.setString(7, partitionKey);
            ps.setString(8, delay == null ? null : interval(delay));
            ps.setString(9, traceparent);
            ps.setString(10, tracestate);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getString(1);
            }
        }
    }

    /** A queue's limits; null means none. */
    public record QueueRow(String name, @Nullable Integer concurrency, @Nullable Integer workerConcurrency,
            @Nullable Integer rateLimit, @Nullable Duration ratePeriod, @Nullable Integer partitionConcurrency) {

        /** Whether a dequeue must serialize with other executors' dequeues of this queue. */
        boolean limitedGlobally() {
            return concurrency != null || rateLimit != null || partitionConcurrency != null;
        }
    }

    public void upsertQueue(QueueRow queue) throws SQLException {
        try (Connection conn = engine.getConnection();
                PreparedStatement ps = conn.prepareStatement(queries.get("upsertQueue"))) {
            ps.setString(1, queue.name());
            ps.setObject(2, queue.concurrency(), java.sql.Types.INTEGER);
            ps.setObject(3, queue.workerConcurrency(), java.sql.Types.INTEGER);
            ps.setObject(4, queue.rateLimit(), java.sql.Types.INTEGER);
            ps.setString(5, queue.ratePeriod() == null ? null : interval(queue.ratePeriod()));
            ps.setObject(6, queue.partitionConcurrency(), java.sql.Types.INTEGER);
            ps.executeUpdate();
        }
    }

    /** Per queue: {waiting, running} across executors (for the queue gauges; one query on the engine's pool). */
    public java.util.Map<String, long[]> queueSizes() throws SQLException {
        try (Connection conn = engine.getConnection();
                PreparedStatement ps = conn.prepareStatement(queries.get("queueSizes"));
                ResultSet rs = ps.executeQuery()) {
            java.util.Map<String, long[]> sizes = new java.util.HashMap<>();
            while (rs.next()) {
                sizes.put(rs.getString(1), new long[] {rs.getLong(2), rs.getLong(3)});
            }
            return sizes;
        }
    }

    public List<QueueRow> loadQueues() throws SQLException {
        try (Connection conn = engine.getConnection();
                PreparedStatement ps = conn.prepareStatement(queries.get("loadQueues"));
                ResultSet rs = ps.executeQuery()) {
            List<QueueRow> rows = new ArrayList<>();
            while (rs.next()) {
                Long periodMillis = (Long) rs.getObject(5);
                rows.add(new QueueRow(rs.getString(1), (Integer) rs.getObject(2), (Integer) rs.getObject(3),
                        (Integer) rs.getObject(4), periodMillis == null ? null : Duration.ofMillis(periodMillis),
                        (Integer) rs.getObject(6)));
            }
            return rows;
        }
    }

    /** Moves up to {@code limit} waiting workflows of {@code queue} to RUNNING under {@code executorId}. */
    public List<ClaimedRow> claimQueued(String executorId, UUID incarnation, QueueRow queue, List<String> names,
            AppVersion version, int limit) throws SQLException {
        try (Connection conn = engine.getConnection()) {
            Array nameArray = conn.createArrayOf("text", names.toArray());
            Array compatible = conn.createArrayOf("text", version.likePatterns());
            if (!queue.limitedGlobally()) {
                try (PreparedStatement ps = conn.prepareStatement(queries.get("claimQueued"))) {
                    ps.setString(1, executorId);
                    ps.setString(2, incarnation.toString());
                    ps.setString(3, version.version());
                    ps.setString(4, queue.name());
                    ps.setArray(5, nameArray);
                    ps.setString(6, version.version());
                    ps.setArray(7, compatible);
                    ps.setInt(8, limit);
                    return Rows.claimed(ps);
                }
            }
            conn.setAutoCommit(false);
            try {
                // The row's current limits win over the ones this executor loaded a moment ago.
                Integer concurrency = null;
                Integer rateLimit = null;
                String ratePeriod = null;
                Integer partitionConcurrency = null;
                try (PreparedStatement lock = conn.prepareStatement(queries.get("lockQueue"))) {
                    lock.setString(1, queue.name());
                    try (ResultSet rs = lock.executeQuery()) {
                        if (rs.next()) {
                            concurrency = (Integer) rs.getObject(1);
                            rateLimit = (Integer) rs.getObject(2);
                            ratePeriod = rs.getString(3);
                            partitionConcurrency = (Integer) rs.getObject(4);
                        }
                    }
                }
                List<ClaimedRow> rows;
                String claim = partitionConcurrency != null ? "claimQueuedPartitioned" : "claimQueuedLimited";
                try (PreparedStatement ps = conn.prepareStatement(queries.get(claim))) {
                    ps.setString(1, queue.name());
                    ps.setArray(2, nameArray);
                    ps.setInt(3, limit);
                    ps.setObject(4, concurrency, java.sql.Types.INTEGER);
                    ps.setObject(5, rateLimit, java.sql.Types.INTEGER);
                    ps.setString(6, ratePeriod);
                    ps.setObject(7, partitionConcurrency, java.sql.Types.INTEGER);
                    ps.setString(8, version.version());
                    ps.setArray(9, compatible);
                    ps.setString(10, executorId);
                    ps.setString(11, incarnation.toString());
                    rows = Rows.claimed(ps);
                }
                conn.commit();
                return rows;
            } catch (SQLException | RuntimeException e) {
                conn.rollback();
                throw e;
            } finally {
                conn.setAutoCommit(true);
            }
        }
    }

    /** When the next DELAYED workflow of these names is due, or null if none is waiting. */
    public java.time.@Nullable Instant nextDelayed(List<String> names) throws SQLException {
        try (Connection conn = engine.getConnection();
                PreparedStatement ps = conn.prepareStatement(queries.get("nextDelayed"))) {
            ps.setArray(1, conn.createArrayOf("text", names.toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                Timestamp t = rs.getTimestamp(1);
                return t == null ? null : t.toInstant();
            }
        }
    }

    public void setTimeout(Connection conn, String workflowId, long timeoutMillis) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement(queries.get("setTimeout"))) {
            ps.setLong(1, timeoutMillis);
            ps.setString(2, workflowId);
            ps.executeUpdate();
        }
    }

    private static String interval(Duration d) {
        return SystemDatabase.interval(d);
    }
}
