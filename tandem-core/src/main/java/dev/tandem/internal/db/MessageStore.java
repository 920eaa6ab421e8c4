package dev.tandem.internal.db;

import dev.tandem.internal.db.Rows.StepRow;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;

/**
 * Messages, events and streams, the durable primitives' data (SQL in {@code primitives.sql}; {@code sendMessage} in
 * {@code queries.sql}). Writes run on the caller's transaction; reads, and a receive, on the application's pool.
 */
public final class MessageStore {
    private final Queries queries;
    private final DataSource dataSource;

    MessageStore(Queries queries, DataSource dataSource) {
        this.queries = queries;
        this.dataSource = dataSource;
        queries.require("takeMessage", "sendMessage", "setEvent", "getEvent", "writeStream",
                "readStream");
    }

    /**
     * Receives: consumes the oldest message of {@code topic} and commits it with {@code checkpoints} (the RECV one at
     * {@code recvPosition} gets the message as its output) in one autocommitted statement; null, and nothing
     * written, if there is no message.
     */
    public Taken takeMessage(String workflowId, String topic, List<StepRow> checkpoints, int recvPosition,
            String executorId, long epoch) throws SQLException {
        try (Connection conn = dataSource.getConnection();
                PreparedStatement ps = conn.prepareStatement(queries.get("takeMessage"))) {
            ps.setString(1, workflowId);
            ps.setString(2, topic);
            ps.setString(3, RowsJson.steps(checkpoints));
            ps.setInt(4, recvPosition);
            ps.setString(5, executorId);
            ps.setLong(6, epoch);
            ps.setString(7, workflowId);
            ps.setString(8, topic);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Taken.NOTHING;
                }
                return rs.getBoolean(2) ? Taken.HELD_ELSEWHERE : new Taken(rs.getString(1), false);
            }
        }
    }

    /**
     * What a receive found: the message it took (committed with its checkpoint), or none; {@code heldElsewhere} when
     * a waiting message is locked by another transaction, which may roll back and leave it there.
     */
    public record Taken(@Nullable String message, boolean heldElsewhere) {
        static final Taken NOTHING = new Taken(null, false);
        static final Taken HELD_ELSEWHERE = new Taken(null, true);
    }

    /** Sends a message on the caller's transaction (through {@code tandem.send_message}). */
    public void sendMessage(Connection conn, String workflowId, String messageJson, @Nullable String topic,
            @Nullable String idempotencyKey) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement(queries.get("sendMessage"))) {
            ps.setString(1, workflowId);
            ps.setString(2, messageJson);
            ps.setString(3, topic);
            ps.setString(4, idempotencyKey);
            ps.execute();
        }
    }

    public void setEvent(Connection conn, String workflowId, int position, String key, String valueJson)
            throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement(queries.get("setEvent"))) {
            ps.setString(1, workflowId);
            ps.setInt(2, position);
            ps.setString(3, key);
            ps.setString(4, valueJson);
            ps.execute();
        }
    }

    /** The last value of an event, as JSON; empty if it was never set. */
    public Optional<String> getEvent(String workflowId, String key) throws SQLException {
        try (Connection conn = dataSource.getConnection();
                PreparedStatement ps = conn.prepareStatement(queries.get("getEvent"))) {
            ps.setString(1, workflowId);
            ps.setString(2, key);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(rs.getString(1)) : Optional.empty();
            }
        }
    }

    public void writeStream(Connection conn, String workflowId, String key, int position, @Nullable String valueJson,
            boolean closed) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement(queries.get("writeStream"))) {
            ps.setString(1, workflowId);
            ps.setString(2, key);
            ps.setInt(3, position);
            ps.setString(4, valueJson);
            ps.setBoolean(5, closed);
            ps.execute();
        }
    }

    /** A value of a stream; the closing row has {@code closed} set and no value. */
    public record StreamRow(int position, @Nullable String valueJson, boolean closed) {}

    public List<StreamRow> readStream(String workflowId, String key, int afterPosition, int limit)
            throws SQLException {
        try (Connection conn = dataSource.getConnection();
                PreparedStatement ps = conn.prepareStatement(queries.get("readStream"))) {
            ps.setString(1, workflowId);
            ps.setString(2, key);
            ps.setInt(3, afterPosition);
            ps.setInt(4, limit);
            List<StreamRow> rows = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    rows.add(new StreamRow(rs.getInt(1), rs.getString(2), rs.getBoolean(3)));
                }
            }
            return rows;
        }
    }
}
