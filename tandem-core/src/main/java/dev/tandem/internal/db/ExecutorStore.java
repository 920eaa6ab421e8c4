package dev.tandem.internal.db;

import dev.tandem.internal.db.Rows.ClaimedRow;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;

/**
 * Executors and who owns what: registration and heartbeats, recovery of dead executors' workflows, reconciliation of
 * an executor's own rows, and the maintenance statements every executor runs (deadlines, unknown workflows). All on
 * the engine's own pool; statements that touch workflow rows skip rows another transaction holds.
 */
public final class ExecutorStore {
    private final Queries queries;
    private final DataSource engine;

    ExecutorStore(Queries queries, DataSource engine) {
        this.queries = queries;
        this.engine = engine;
        queries.require("registerExecutor", "registerNames", "heartbeat", "expireExecutor", "claimOrphans",
                "ownedRunning", "reclaimOwned", "forgetDeadExecutors", "failUnknownWorkflows", "unknownWaiting",
                "expireDeadlines", "strandedCount", "claimOrphansOfSilent");
    }

    /** Registers this process (its host name and pid) as executor {@code executorId}, incarnation {@code incarnation}. */
    public void registerExecutor(String executorId, UUID incarnation, List<String> names, AppVersion version)
            throws SQLException {
        try (Connection conn = engine.getConnection();
                PreparedStatement ps = conn.prepareStatement(queries.get("registerExecutor"))) {
            ps.setString(1, executorId);
            ps.setString(2, incarnation.toString());
            ps.setString(3, hostname());
            ps.setLong(4, ProcessHandle.current().pid());
            ps.setArray(5, conn.createArrayOf("text", names.toArray()));
            ps.setString(6, version.version());
            ps.setArray(7, conn.createArrayOf("text", version.likePatterns()));
            ps.executeUpdate();
        }
        registerNames(names);
    }

    /** Records that {@code names} are registered by a live executor now (see {@code tandem.workflow_names}). */
    public void registerNames(List<String> names) throws SQLException {
        if (names.isEmpty()) {
            return;
        }
        try (Connection conn = engine.getConnection();
                PreparedStatement ps = conn.prepareStatement(queries.get("registerNames"))) {
            ps.setArray(1, conn.createArrayOf("text", names.toArray()));
            ps.executeUpdate();
        }
    }

    /** Returns false if this incarnation no longer owns the executor row (another process took the same id). */
    public boolean heartbeat(String executorId, UUID incarnation) throws SQLException {
        return updateExecutor("heartbeat", executorId, incarnation);
    }

    public void expireExecutor(String executorId, UUID incarnation) throws SQLException {
        try (Connection conn = engine.getConnection();
                PreparedStatement ps = conn.prepareStatement(queries.get("expireExecutor"))) {
            conn.setNetworkTimeout(Runnable::run, 2000); // the last word of close(): a dead socket must not hold it up
            ps.setString(1, executorId);
            ps.setString(2, incarnation.toString());
            ps.setString(3, executorId);
            ps.setString(4, incarnation.toString());
            ps.executeUpdate();
        }
    }

    private boolean updateExecutor(String query, String executorId, UUID incarnation) throws SQLException {
        try (Connection conn = engine.getConnection();
                PreparedStatement ps = conn.prepareStatement(queries.get(query))) {
            ps.setString(1, executorId);
            ps.setString(2, incarnation.toString());
            return ps.executeUpdate() == 1;
        }
    }

    /**
     * Claims orphaned RUNNING workflows of the given names for {@code executorId}.
     *
     * @param previousIncarnation this executor's id when recovering its own previous incarnation (at start), else null
     */
    /**
     * Claims orphaned RUNNING workflows. {@code everyRow}: also those of a forgotten executor or of an executor id
     * restarted since (a scan of every RUNNING row); else only those of silent executors, through the index.
     */
    public List<ClaimedRow> claimOrphans(String executorId, UUID incarnation, List<String> names,
            @Nullable String previousIncarnation, Duration executorTimeout, AppVersion version, int limit,
            boolean everyRow) throws SQLException {
        try (Connection conn = engine.getConnection();
                PreparedStatement ps = conn.prepareStatement(queries.get(everyRow ? "claimOrphans"
                        : "claimOrphansOfSilent"))) {
            ps.setString(1, executorId);
            ps.setString(2, incarnation.toString());
            ps.setString(3, version.version());
            if (everyRow) {
                ps.setArray(4, conn.createArrayOf("text", names.toArray()));
                ps.setString(5, previousIncarnation);
                ps.setString(6, executorId);
                ps.setString(7, interval(executorTimeout));
                ps.setString(8, version.version());
                ps.setArray(9, conn.createArrayOf("text", version.likePatterns()));
                ps.setInt(10, limit);
            } else {
                ps.setArray(4, conn.createArrayOf("text", names.toArray()));
                ps.setString(5, version.version());
                ps.setArray(6, conn.createArrayOf("text", version.likePatterns()));
                ps.setInt(7, limit);
                ps.setString(8, previousIncarnation);
                ps.setString(9, executorId);
                ps.setString(10, interval(executorTimeout));
                ps.setInt(11, limit);
            }
            return Rows.claimed(ps);
        }
    }

    /** A RUNNING workflow this process owns, with its ownership epoch. */
    public record OwnedRow(String workflowId, long epoch) {}

    /** The RUNNING workflows this process (executor id and incarnation) took more than {@code grace} ago. */
    public List<OwnedRow> ownedRunning(String executorId, UUID incarnation, Duration grace) throws SQLException {
        try (Connection conn = engine.getConnection();
                PreparedStatement ps = conn.prepareStatement(queries.get("ownedRunning"))) {
            ps.setString(1, executorId);
            ps.setString(2, incarnation.toString());
            ps.setString(3, interval(grace));
            List<OwnedRow> rows = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    rows.add(new OwnedRow(rs.getString(1), rs.getLong(2)));
                }
            }
            return rows;
        }
    }

    /** Takes {@code rows} again with new ownership epochs, those that nothing changed since they were read. */
    public List<ClaimedRow> reclaimOwned(String executorId, UUID incarnation, List<OwnedRow> rows)
            throws SQLException {
        try (Connection conn = engine.getConnection();
                PreparedStatement ps = conn.prepareStatement(queries.get("reclaimOwned"))) {
            ps.setArray(1, conn.createArrayOf("text", rows.stream().map(OwnedRow::workflowId).toArray()));
            ps.setArray(2, conn.createArrayOf("bigint", rows.stream().map(OwnedRow::epoch).toArray()));
            ps.setString(3, executorId);
            ps.setString(4, incarnation.toString());
            return Rows.claimed(ps);
        }
    }

    public int forgetDeadExecutors(Duration silentFor) throws SQLException {
        try (Connection conn = engine.getConnection();
                PreparedStatement ps = conn.prepareStatement(queries.get("forgetDeadExecutors"))) {
            ps.setString(1, interval(silentFor));
            return ps.executeUpdate();
        }
    }

    /** Fails workflows waiting longer than {@code timeout} for a name no executor alive within {@code alive} runs. */
    public List<String> failUnknownWorkflows(Duration timeout, Duration alive) throws SQLException {
        try (Connection conn = engine.getConnection();
                PreparedStatement ps = conn.prepareStatement(queries.get("failUnknownWorkflows"))) {
            ps.setString(1, timeout.toString());
            ps.setString(2, interval(timeout));
            ps.setString(3, interval(timeout));
            ps.setString(4, interval(alive));
            List<String> failed = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    failed.add(rs.getString(1) + " (" + rs.getString(2) + ")");
                }
            }
            return failed;
        }
    }

    /** Waiting workflows per name that no executor alive within {@code alive} runs. */
    /** How many workflows no live executor can run (view tandem.stranded), and their names; 0 and null if none. */
    public record Stranded(long count, @Nullable String names) {}

    public Stranded stranded() throws SQLException {
        try (Connection conn = engine.getConnection();
                PreparedStatement ps = conn.prepareStatement(queries.get("strandedCount"));
                ResultSet rs = ps.executeQuery()) {
            rs.next();
            return new Stranded(rs.getLong(1), rs.getString(2));
        }
    }

    public java.util.Map<String, Long> unknownWaiting(Duration alive) throws SQLException {
        try (Connection conn = engine.getConnection();
                PreparedStatement ps = conn.prepareStatement(queries.get("unknownWaiting"))) {
            ps.setString(1, interval(alive));
            java.util.Map<String, Long> waiting = new java.util.TreeMap<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    waiting.put(rs.getString(1), rs.getLong(2));
                }
            }
            return waiting;
        }
    }

    /** Cancels the workflows whose deadline passed; returns their ids. */
    public List<String> expireDeadlines() throws SQLException {
        try (Connection conn = engine.getConnection();
                PreparedStatement ps = conn.prepareStatement(queries.get("expireDeadlines"));
                ResultSet rs = ps.executeQuery()) {
            List<String> ids = new ArrayList<>();
            while (rs.next()) {
                ids.add(rs.getString(1));
            }
            return ids;
        }
    }

    private static String interval(Duration d) {
        return SystemDatabase.interval(d);
    }

    private static String hostname() {
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (Exception e) {
            return "unknown";
        }
    }
}
