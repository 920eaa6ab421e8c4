package dev.tandem.internal.db;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Collection;
import java.util.HashSet;
import java.util.Set;

/**
 * The statement of the periodic look for wake-ups no notification announced (SQL in {@code wakeups.sql}). Runs on the
 * connection it is given (the listening one); holds none. Thread-safe.
 */
public final class WakeupStore {
    /** What the look found: workflows with an unconsumed message, and workflows this executor no longer runs. */
    public record Due(Set<String> messaged, Set<String> ended) {
        public static final Due NOTHING = new Due(Set.of(), Set.of());
    }

    /** Answers the look for the given workflows, in one statement. */
    @FunctionalInterface
    public interface Lookup {
        Due due(Collection<String> workflowIds, String executorId) throws SQLException;
    }

    private final String sql;

    WakeupStore() {
        this.sql = Queries.load().get("wakeups.due");
    }

    Due due(Connection conn, Collection<String> workflowIds, String executorId) throws SQLException {
        if (workflowIds.isEmpty()) {
            return Due.NOTHING;
        }
        Set<String> messaged = new HashSet<>();
        Set<String> ended = new HashSet<>();
        try (PreparedStatement ps = conn.prepareStatement(sql)) {
            Array ids = conn.createArrayOf("text", workflowIds.toArray());
            ps.setString(1, executorId);
            ps.setArray(2, ids);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    if (rs.getBoolean(2)) {
                        messaged.add(rs.getString(1));
                    }
                    if (rs.getBoolean(3)) {
                        ended.add(rs.getString(1));
                    }
                }
            }
        }
        return new Due(messaged, ended);
    }
}
