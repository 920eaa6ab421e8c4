package dev.tandem.admin.internal;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tandem.admin.Actor;
import dev.tandem.admin.OperationException;
import dev.tandem.admin.OperationException.Kind;
import dev.tandem.admin.WorkflowFilter;
import dev.tandem.admin.model.ActionResult;
import dev.tandem.admin.model.BulkResult;
import dev.tandem.internal.db.AdminStore;
import dev.tandem.internal.db.SqlErrors;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;

/**
 * The operators' actions on workflows: each is one transaction that locks the workflow's row, calls the public SQL
 * function, and writes its audit row, so an action is in the audit log if and only if it happened. Repeating an
 * action that took effect changes nothing and says so.
 */
public final class OpsActions {
    /** How long an action waits for a row another transaction holds (an application's open transaction). */
    private static final String LOCK_TIMEOUT = "5s";
    static final Set<String> CANCELLABLE = Set.of("ENQUEUED", "DELAYED", "RUNNING");
    static final Set<String> RESUMABLE = Set.of("CANCELLED", "ERROR", "RETRIES_EXCEEDED");
    /** Workflows per transaction of a bulk action: each batch commits with its own audit row. */
    static final int BULK_BATCH = 500;

    private final DataSource dataSource;
    private final OpsStore store;

    public OpsActions(DataSource dataSource, OpsStore store) {
        this.dataSource = dataSource;
        this.store = store;
    }

    public ActionResult cancel(String id, boolean withChildren, Actor actor) {
        return inTransaction("cancel workflow '" + id + "'", conn -> {
            String before = lock(conn, id).status;
            call(conn, "action.cancel", id, withChildren);
            boolean changed = CANCELLABLE.contains(before);
            String outcome = changed ? "cancelled" : "already ended (" + before + "); nothing to cancel";
            if (withChildren) {
                outcome += ", with its children";
            }
            return finish(conn, actor, "workflow.cancel", id, Map.of("with_children", withChildren),
                    new ActionResult("cancel", id, changed, outcome, status(conn, id), null));
        });
    }

    public ActionResult resume(String id, Actor actor) {
        return inTransaction("resume workflow '" + id + "'", conn -> {
            String before = lock(conn, id).status;
            if ("SUCCESS".equals(before)) {
                throw new OperationException(Kind.CONFLICT, "workflow '" + id + "' already succeeded; there is"
                        + " nothing to resume (fork it to run it again)");
            }
            call(conn, "action.resume", id);
            boolean changed = RESUMABLE.contains(before);
            String outcome = changed ? "resumed: queued to run again from its last checkpoint"
                    : "not ended (" + before + "); nothing to resume";
            return finish(conn, actor, "workflow.resume", id, Map.of(),
                    new ActionResult("resume", id, changed, outcome, status(conn, id), null));
        });
    }

    /** Forks (from step {@code fromStep}) or, with {@code fromStep} 1 and action "restart", runs it again anew. */
    public ActionResult fork(String action, String id, int fromStep, @Nullable String newId, @Nullable String queue,
            Actor actor) {
        return inTransaction(action + " workflow '" + id + "'", conn -> {
            lock(conn, id);
            if (newId != null) {
                Locked existing = find(conn, newId);
                if (existing != null) {
                    if (!id.equals(existing.forkedFrom)) {
                        throw new OperationException(Kind.CONFLICT, "workflow id '" + newId + "' is already used"
                                + " by another workflow; choose another new id");
                    }
                    return new ActionResult(action, id, false, "already done: workflow '" + newId + "' is its fork",
                            existing.status, newId);
                }
            }
            String created;
            try (PreparedStatement ps = conn.prepareStatement(store.sql("action.fork"))) {
                ps.setString(1, id);
                ps.setInt(2, fromStep);
                ps.setString(3, newId);
                ps.setString(4, queue);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    created = rs.getString(1);
                }
            }
            Map<String, Object> details = new LinkedHashMap<>();
            details.put("from_step", fromStep);
            details.put("new_workflow_id", created);
            if (queue != null) {
                details.put("queue", queue);
            }
            String outcome = "fork".equals(action) ? "forked from step " + fromStep + " as '" + created + "'"
                    : "restarted as '" + created + "'";
            return finish(conn, actor, "workflow." + action, id, details,
                    new ActionResult(action, id, true, outcome, status(conn, created), created));
        });
    }

    /** Moves a workflow to another application version (null: any); a no-op when it has that version already. */
    public ActionResult setVersion(String id, @Nullable String version, Actor actor) {
        return inTransaction("set the version of workflow '" + id + "'", conn -> {
            String status = lock(conn, id).status;
            String before;
            try (PreparedStatement ps = conn.prepareStatement(store.sql("action.version"))) {
                ps.setString(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    before = rs.getString(1);
                }
            }
            if (java.util.Objects.equals(before, version)) {
                return new ActionResult("set-version", id, false, "already at version " + describe(version), status,
                        null);
            }
            call(conn, "action.setVersion", id, version);
            Map<String, Object> details = new LinkedHashMap<>();
            details.put("from", before);
            details.put("to", version);
            return finish(conn, actor, "workflow.set-version", id, details, new ActionResult("set-version", id, true,
                    "moved from version " + describe(before) + " to " + describe(version), status, null));
        });
    }

    private static String describe(@Nullable String version) {
        return version == null ? "(any)" : version;
    }

    public ActionResult send(String id, @Nullable String topic, JsonNode message, @Nullable String idempotencyKey,
            Actor actor) {
        return inTransaction("send a message to workflow '" + id + "'", conn -> {
            String status = lock(conn, id).status;
            if (idempotencyKey != null) {
                try (PreparedStatement ps = conn.prepareStatement(store.sql("action.messageExists"))) {
                    ps.setString(1, id);
                    ps.setString(2, idempotencyKey);
                    try (ResultSet rs = ps.executeQuery()) {
                        if (rs.next()) {
                            return new ActionResult("send", id, false, "already sent with idempotency key '"
                                    + idempotencyKey + "'", status, null);
                        }
                    }
                }
            }
            call(conn, "action.send", id, store.text(message), topic, idempotencyKey);
            Map<String, Object> details = new LinkedHashMap<>();
            details.put("topic", topic);
            details.put("idempotency_key", idempotencyKey);
            return finish(conn, actor, "workflow.send", id, details,
                    new ActionResult("send", id, true, "sent" + (topic == null ? "" : " on topic '" + topic + "'"),
                            status, null));
        });
    }

    /** Cancels or resumes every matching workflow the action applies to, in batches; or counts them (dry run). */
    public BulkResult bulk(String action, WorkflowFilter filter, boolean dryRun, Actor actor) {
        boolean cancel = "cancel".equals(action);
        Set<String> applicable = cancel ? CANCELLABLE : RESUMABLE;
        if (dryRun) {
            return inTransaction("count the workflows a bulk " + action + " would affect", conn -> {
                long matched = store.bulkCount(conn, filter, applicable);
                List<String> sample = store.bulkIds(conn, filter, applicable, null, BulkResult.SAMPLE);
                return new BulkResult(action, true, matched, 0, sample);
            });
        }
        long affected = 0;
        List<String> sample = new ArrayList<>();
        String after = null;
        Batch batch;
        do {
            batch = bulkBatch(cancel, filter, applicable, after, actor);
            after = batch.lastId();
            affected += batch.changed().size();
            for (String id : batch.changed()) {
                if (sample.size() < BulkResult.SAMPLE) {
                    sample.add(id);
                }
            }
        } while (batch.size() == BULK_BATCH);
        return new BulkResult(action, false, affected, affected, sample);
    }

    /** One batch of a bulk action: how many ids it looked at, the last of them, and those it changed. */
    private record Batch(int size, @Nullable String lastId, List<String> changed) {}

    private Batch bulkBatch(boolean cancel, WorkflowFilter filter, Set<String> applicable, @Nullable String after,
            Actor actor) {
        String action = cancel ? "cancel" : "resume";
        return inTransaction("bulk " + action, conn -> {
            List<String> ids = store.bulkIds(conn, filter, applicable, after, BULK_BATCH);
            List<String> changed = new ArrayList<>();
            for (String id : ids) {
                Locked row = find(conn, id); // changed meanwhile by another action, or deleted: skipped
                if (row == null || !applicable.contains(row.status)) {
                    continue;
                }
                if (cancel) {
                    call(conn, "action.cancel", id, false);
                } else {
                    call(conn, "action.resume", id);
                }
                changed.add(id);
            }
            if (!changed.isEmpty()) {
                Map<String, Object> details = new LinkedHashMap<>();
                details.put("filter", filter);
                details.put("workflow_ids", changed);
                store.audit(conn, actor.name(), actor.source(), "workflows.bulk-" + action, null, details,
                        changed.size() + " " + (cancel ? "cancelled" : "resumed"));
            }
            return new Batch(ids.size(), ids.isEmpty() ? after : ids.get(ids.size() - 1), changed);
        });
    }

    /**
     * Retention: deletes, in batches of {@code batchSize} (each one transaction with its audit row), the workflows
     * that ended more than {@code olderThan} ago; or, as a dry run, counts them and names the oldest.
     */
    public BulkResult deleteWorkflows(Duration olderThan, int batchSize, boolean dryRun, Actor actor) {
        String interval = OpsStore.interval(olderThan);
        if (dryRun) {
            return inTransaction("count the workflows older than " + olderThan + " to delete", conn -> {
                long matched;
                try (PreparedStatement ps = conn.prepareStatement(store.sql("retention.count"))) {
                    ps.setString(1, interval);
                    ps.setString(2, interval);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        matched = rs.getLong(1);
                    }
                }
                List<String> sample = new ArrayList<>();
                try (PreparedStatement ps = conn.prepareStatement(store.sql("retention.sample"))) {
                    ps.setString(1, interval);
                    ps.setString(2, interval);
                    ps.setInt(3, BulkResult.SAMPLE);
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            sample.add(rs.getString(1));
                        }
                    }
                }
                return new BulkResult("delete", true, matched, 0, List.copyOf(sample));
            });
        }
        long deleted = 0;
        int batch;
        do {
            batch = inTransaction("delete workflows older than " + olderThan, conn -> {
                int n;
                try (PreparedStatement ps = conn.prepareStatement(store.sql("retention.delete"))) {
                    ps.setString(1, interval);
                    ps.setInt(2, batchSize);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        n = rs.getInt(1);
                    }
                }
                if (n > 0) {
                    store.audit(conn, actor.name(), actor.source(), "workflows.delete", null,
                            Map.of("older_than", interval, "batch_size", batchSize), n + " deleted");
                }
                return n;
            });
            deleted += batch;
        } while (batch == batchSize);
        return new BulkResult("delete", false, deleted, deleted, List.of());
    }

    /** Writes the audit row of an action in its transaction and returns its result. */
    private ActionResult finish(Connection conn, Actor actor, String action, String target, Map<String, ?> details,
            ActionResult result) throws SQLException {
        if (result.changed()) {
            store.audit(conn, actor.name(), actor.source(), action, target, details, result.outcome());
        }
        return result;
    }

    private record Locked(String status, @Nullable String forkedFrom) {}

    private Locked lock(Connection conn, String id) throws SQLException {
        Locked row = find(conn, id);
        if (row == null) {
            throw new OperationException(Kind.NOT_FOUND, "no workflow with id '" + id + "' exists");
        }
        return row;
    }

    private @Nullable Locked find(Connection conn, String id) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement(store.sql("action.lock"))) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? new Locked(rs.getString(1), rs.getString(2)) : null;
            }
        }
    }

    private @Nullable String status(Connection conn, String id) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement(store.sql("action.status"))) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    private void call(Connection conn, String query, Object... args) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement(store.sql(query))) {
            for (int i = 0; i < args.length; i++) {
                ps.setObject(i + 1, args[i]);
            }
            ps.executeQuery().close();
        }
    }

    interface Work<T> {
        T run(Connection conn) throws SQLException;
    }

    <T> T inTransaction(String what, Work<T> work) {
        try (Connection conn = dataSource.getConnection()) {
            boolean autoCommit = conn.getAutoCommit();
            conn.setAutoCommit(false);
            try {
                try (Statement st = conn.createStatement()) {
                    st.execute("SET LOCAL lock_timeout = '" + LOCK_TIMEOUT + "'");
                }
                T result = work.run(conn);
                conn.commit();
                return result;
            } catch (SQLException | RuntimeException e) {
                try {
                    conn.rollback();
                } catch (SQLException suppressed) {
                    e.addSuppressed(suppressed);
                }
                throw e;
            } finally {
                try {
                    conn.setAutoCommit(autoCommit);
                } catch (SQLException ignored) {
                    // the connection is broken; the pool will drop it
                }
            }
        } catch (SQLException e) {
            throw failure(what, e);
        }
    }

    /** Turns PostgreSQL's error into the kind of failure the caller can act on. */
    public static RuntimeException failure(String what, SQLException e) {
        String state = String.valueOf(e.getSQLState());
        String reason = AdminStore.reason(e);
        if (SqlErrors.isConnectionError(e)) {
            return new OperationException(Kind.UNAVAILABLE, "failed to " + what + ": the database could not be"
                    + " reached (" + reason + "); nothing was changed, try again", e);
        }
        return switch (state) {
            case "55P03" -> new OperationException(Kind.UNAVAILABLE, "failed to " + what + ": its row is locked by"
                    + " another transaction (an application's open transaction?); nothing was changed, try again", e);
            case "P0002" -> new OperationException(Kind.NOT_FOUND, reason, e);
            case "23505" -> new OperationException(Kind.CONFLICT, reason, e);
            case "22023", "22P02", "22007", "22008" -> new IllegalArgumentException(reason, e);
            default -> new OperationException(Kind.UNAVAILABLE, "failed to " + what + ": " + reason, e);
        };
    }
}
