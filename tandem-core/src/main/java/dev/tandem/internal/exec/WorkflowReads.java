package dev.tandem.internal.exec;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.tandem.TandemException;
import dev.tandem.internal.db.Json;
import dev.tandem.internal.db.Rows.WorkflowRow;
import dev.tandem.internal.db.SystemDatabase;
import java.sql.SQLException;
import org.jspecify.annotations.Nullable;

/**
 * Reads a workflow's row for handles and operators, and rebuilds the values it stores as JSON (outputs, events,
 * stream values) as the application's types.
 */
final class WorkflowReads {
    private final SystemDatabase db;
    private final Json json;
    private final ClassLoader classLoader;

    WorkflowReads(SystemDatabase db, Json json, ClassLoader classLoader) {
        this.db = db;
        this.json = json;
        this.classLoader = classLoader;
    }

    WorkflowRow loadWorkflow(String workflowId) {
        try {
            return db.workflows().loadWorkflow(workflowId).orElseThrow(() -> new IllegalArgumentException(
                    "no workflow with id '" + workflowId + "' exists"));
        } catch (SQLException e) {
            throw new TandemException("failed to read workflow '" + workflowId + "': " + e.getMessage(), e);
        }
    }

    @Nullable Object decodeOutput(WorkflowRow row) {
        try {
            return json.read(row.output(), row.outputType(), classLoader);
        } catch (JsonProcessingException | ClassNotFoundException e) {
            throw new TandemException("cannot rebuild the output of workflow '" + row.workflowId() + "' as "
                    + row.outputType() + ": " + e.getMessage(), e);
        }
    }

    <T> T decode(String json, Class<T> type, String what) {
        try {
            return json.equals("null") ? null : this.json.mapper().readValue(json, type);
        } catch (JsonProcessingException e) {
            throw new TandemException("the " + what + " does not bind to " + type.getName() + ": "
                    + e.getOriginalMessage() + "; it is " + json, e);
        }
    }
}
