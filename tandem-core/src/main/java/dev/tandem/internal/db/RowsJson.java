package dev.tandem.internal.db;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.tandem.internal.db.Rows.FinishRow;
import dev.tandem.internal.db.Rows.StartRow;
import dev.tandem.internal.db.Rows.StepRow;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Encodes a batch of rows as one JSON array for {@code jsonb_to_recordset}: one bind parameter for any number of rows
 * (cheaper than an array parameter per column), with inputs and outputs, which are JSON already, embedded raw.
 * A field that is null is left out, which the recordset reads as SQL NULL.
 */
final class RowsJson {
    private static final JsonFactory FACTORY = new JsonFactory();

    private RowsJson() {}

    static String starts(List<StartRow> rows) {
        return write(g -> {
            for (StartRow r : rows) {
                g.writeStartObject();
                g.writeStringField("workflow_id", r.workflowId());
                g.writeStringField("name", r.name());
                text(g, "queue_name", r.queueName());
                raw(g, "input", r.input());
                if (r.timeoutMillis() != null) {
                    g.writeNumberField("timeout_ms", r.timeoutMillis());
                }
                if (r.traceparent() != null) {
                    g.writeStringField("traceparent", r.traceparent());
                    text(g, "tracestate", r.tracestate());
                }
                if (r.createdAt() != null) {
                    g.writeStringField("created_at", r.createdAt().toString());
                }
                g.writeEndObject();
            }
        });
    }

    static String steps(List<StepRow> rows) {
        return write(g -> {
            for (StepRow r : rows) {
                g.writeStartObject();
                g.writeStringField("workflow_id", r.workflowId());
                g.writeNumberField("position", r.position());
                g.writeStringField("name", r.name());
                g.writeStringField("kind", r.kind());
                raw(g, "output", r.output());
                text(g, "output_type", r.outputType());
                raw(g, "error", r.error());
                g.writeStringField("started_at", r.startedAt().toString());
                g.writeNumberField("epoch", r.epoch());
                g.writeEndObject();
            }
        });
    }

    static String finishes(List<FinishRow> rows) {
        return write(g -> {
            for (FinishRow r : rows) {
                g.writeStartObject();
                g.writeStringField("workflow_id", r.workflowId());
                g.writeStringField("status", r.status());
                raw(g, "output", r.output());
                text(g, "output_type", r.outputType());
                raw(g, "error", r.error());
                g.writeNumberField("epoch", r.epoch());
                g.writeEndObject();
            }
        });
    }

    private interface Body {
        void write(JsonGenerator g) throws IOException;
    }

    private static String write(Body body) {
        StringWriter out = new StringWriter(256);
        try (JsonGenerator g = FACTORY.createGenerator(out)) {
            g.writeStartArray();
            body.write(g);
            g.writeEndArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a StringWriter does not fail
        }
        return out.toString();
    }

    private static void text(JsonGenerator g, String field, @Nullable String value) throws IOException {
        if (value != null) {
            g.writeStringField(field, value);
        }
    }

    private static void raw(JsonGenerator g, String field, @Nullable String json) throws IOException {
        if (json != null) {
            g.writeFieldName(field);
            g.writeRawValue(json);
        }
    }
}
