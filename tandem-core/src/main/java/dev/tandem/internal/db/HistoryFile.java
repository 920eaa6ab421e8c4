package dev.tandem.internal.db;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.tandem.internal.db.AdminStore.RecordedCheckpoint;
import dev.tandem.internal.db.AdminStore.RecordedWorkflow;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The file of exported workflow histories (format {@value #FORMAT}, version {@value #VERSION}; docs/versioning.md):
 * one JSON object, {@code {"format", "version", "exportedAt", "workflows": [...]}}, one object per workflow with its
 * checkpoints in order. Stored JSON values (input, outputs, errors) are written as they are stored, not re-encoded, and
 * read back exactly (numbers keep every digit), so a replay rebuilds the same values as a recovery from the database.
 * A SQL NULL is an absent member, a JSON {@code null} a present one.
 */
public final class HistoryFile implements Closeable {
    public static final String FORMAT = "tandem-histories";
    public static final int VERSION = 1;

    private static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .disable(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES)
            .disable(JsonParser.Feature.AUTO_CLOSE_SOURCE)
            .disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET)
            .build();

    private final JsonGenerator out;

    private HistoryFile(JsonGenerator out) {
        this.out = out;
    }

    /** Starts a file on {@code stream} (left open by {@link #close}, which ends the JSON and flushes). */
    public static HistoryFile write(OutputStream stream, Instant exportedAt) throws IOException {
        JsonGenerator out = MAPPER.getFactory().createGenerator(stream, JsonEncoding.UTF8);
        out.writeStartObject();
        out.writeStringField("format", FORMAT);
        out.writeNumberField("version", VERSION);
        out.writeStringField("exportedAt", exportedAt.toString());
        out.writeArrayFieldStart("workflows");
        return new HistoryFile(out);
    }

    /** Appends one workflow. */
    public void add(RecordedWorkflow w) throws IOException {
        out.writeRaw('\n');
        out.writeStartObject();
        out.writeStringField("workflowId", w.workflowId());
        out.writeStringField("name", w.name());
        out.writeStringField("status", w.status());
        optionalString("queue", w.queueName());
        optionalString("parentWorkflowId", w.parentWorkflowId());
        optionalString("createdAt", w.createdAt() == null ? null : w.createdAt().toString());
        raw("input", w.input());
        raw("output", w.output());
        if (w.errorType() != null || w.errorMessage() != null) {
            out.writeObjectFieldStart("error");
            out.writeStringField("type", w.errorType());
            out.writeStringField("message", w.errorMessage());
            out.writeEndObject();
        }
        out.writeArrayFieldStart("checkpoints");
        for (RecordedCheckpoint c : w.checkpoints()) {
            out.writeStartObject();
            out.writeNumberField("position", c.position());
            out.writeStringField("name", c.name());
            out.writeStringField("kind", c.kind());
            raw("output", c.output());
            optionalString("outputType", c.outputType());
            raw("error", c.error());
            optionalString("childWorkflowId", c.childWorkflowId());
            out.writeEndObject();
        }
        out.writeEndArray();
        out.writeEndObject();
    }

    @Override
    public void close() throws IOException {
        out.writeRaw('\n');
        out.writeEndArray();
        out.writeEndObject();
        out.writeRaw('\n');
        out.close();
    }

    private void optionalString(String field, @Nullable String value) throws IOException {
        if (value != null) {
            out.writeStringField(field, value);
        }
    }

    private void raw(String field, @Nullable String json) throws IOException {
        if (json != null) {
            out.writeFieldName(field);
            out.writeRawValue(json);
        }
    }

    /**
     * Reads a whole file. {@code source} names it in messages.
     *
     * @throws IllegalArgumentException if it is not a histories file of a version this code reads, naming what is
     *     wrong and where
     */
    public static List<RecordedWorkflow> read(InputStream in, String source) throws IOException {
        JsonNode root;
        try {
            root = MAPPER.readTree(in);
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new IllegalArgumentException(source + " is not a Tandem histories file (not JSON: "
                    + e.getOriginalMessage() + ")", e);
        }
        if (root == null || !root.isObject() || !FORMAT.equals(root.path("format").asText(null))) {
            throw new IllegalArgumentException(source + " is not a Tandem histories file (its \"format\" is not \""
                    + FORMAT + "\"); write one with Tandem.exportHistories or 'tandem workflows export'");
        }
        int version = root.path("version").asInt(-1);
        if (version != VERSION) {
            throw new IllegalArgumentException(source + " has format version " + root.path("version") + "; this"
                    + " Tandem reads version " + VERSION);
        }
        JsonNode workflows = root.path("workflows");
        if (!workflows.isArray()) {
            throw new IllegalArgumentException(source + " has no \"workflows\" array");
        }
        List<RecordedWorkflow> result = new ArrayList<>();
        for (int i = 0; i < workflows.size(); i++) {
            result.add(workflow(workflows.get(i), source + ", workflows[" + i + "]"));
        }
        return result;
    }

    private static RecordedWorkflow workflow(JsonNode w, String where) throws IOException {
        String id = requiredText(w, "workflowId", where);
        where = where + " ('" + id + "')";
        JsonNode error = w.path("error");
        List<RecordedCheckpoint> checkpoints = new ArrayList<>();
        JsonNode list = w.path("checkpoints");
        if (!list.isMissingNode() && !list.isArray()) {
            throw new IllegalArgumentException(where + ": \"checkpoints\" must be an array");
        }
        for (int i = 0; i < list.size(); i++) {
            JsonNode c = list.get(i);
            String at = where + ", checkpoints[" + i + "]";
            if (!c.path("position").canConvertToInt() || c.path("position").asInt() < 1) {
                throw new IllegalArgumentException(at + ": \"position\" must be a number from 1");
            }
            checkpoints.add(new RecordedCheckpoint(c.get("position").asInt(), requiredText(c, "name", at),
                    requiredText(c, "kind", at), rawOrNull(c, "output"), textOrNull(c, "outputType"),
                    rawOrNull(c, "error"), textOrNull(c, "childWorkflowId")));
        }
        Instant createdAt = null;
        String created = textOrNull(w, "createdAt");
        if (created != null) {
            try {
                createdAt = Instant.parse(created);
            } catch (DateTimeParseException e) {
                throw new IllegalArgumentException(where + ": \"createdAt\" is not an instant (" + created + ")");
            }
        }
        return new RecordedWorkflow(id, requiredText(w, "name", where), requiredText(w, "status", where),
                textOrNull(w, "queue"), textOrNull(w, "parentWorkflowId"), createdAt, rawOrNull(w, "input"),
                rawOrNull(w, "output"), textOrNull(error, "type"), textOrNull(error, "message"), checkpoints);
    }

    private static String requiredText(JsonNode node, String field, String where) {
        String text = textOrNull(node, field);
        if (text == null || text.isEmpty()) {
            throw new IllegalArgumentException(where + ": \"" + field + "\" is missing");
        }
        return text;
    }

    private static @Nullable String textOrNull(JsonNode node, String field) {
        JsonNode value = node.get(field);
        return value == null || value.isNull() ? null : value.asText();
    }

    private static @Nullable String rawOrNull(JsonNode node, String field) throws IOException {
        JsonNode value = node.get(field);
        return value == null ? null : MAPPER.writeValueAsString(value);
    }
}
