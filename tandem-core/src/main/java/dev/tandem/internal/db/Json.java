package dev.tandem.internal.db;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.jspecify.annotations.Nullable;

/**
 * Inputs, outputs and errors as JSON, so SQL, other languages and people can read them. Outputs are stored with
 * their Java class name beside the JSON (not inside it), so a replay rebuilds the same type.
 */
public final class Json {
    private final ObjectMapper mapper;

    public Json(@Nullable ObjectMapper mapper) {
        this.mapper = mapper != null ? mapper : defaultMapper();
    }

    public static ObjectMapper defaultMapper() {
        return new ObjectMapper()
                .registerModule(new JavaTimeModule())
                .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
                .disable(DeserializationFeature.ADJUST_DATES_TO_CONTEXT_TIME_ZONE);
    }

    public ObjectMapper mapper() {
        return mapper;
    }

    /** Encodes {@code value}; {@code null} becomes JSON {@code null}. */
    public String write(@Nullable Object value) throws JsonProcessingException {
        // The common step outputs skip the mapper: this runs once per step on the hot path.
        if (value == null) {
            return "null";
        }
        Class<?> type = value.getClass();
        if (type == String.class) {
            return '"' + new String(JsonStringEncoder.getInstance().quoteAsString((String) value)) + '"';
        }
        if (type == Integer.class || type == Long.class || type == Boolean.class) {
            return value.toString();
        }
        return mapper.writeValueAsString(value);
    }

    public <T> T read(String json, Class<T> type) throws JsonProcessingException {
        return mapper.readValue(json, type);
    }

    /** Rebuilds a value recorded with {@link #typeName}; a null type name means the value was null. */
    public @Nullable Object read(@Nullable String json, @Nullable String typeName, ClassLoader loader)
            throws JsonProcessingException, ClassNotFoundException {
        if (json == null || typeName == null) {
            return null;
        }
        return mapper.readValue(json, Class.forName(typeName, false, loader));
    }

    public static @Nullable String typeName(@Nullable Object value) {
        return value == null ? null : value.getClass().getName();
    }

    /** {@code {"type": ..., "message": ..., "stack": ...}} */
    public String error(Throwable error) {
        return error(error.getClass().getName(), error.getMessage(), stackTrace(error));
    }

    public String error(String type, @Nullable String message, @Nullable String stack) {
        ObjectNode node = mapper.createObjectNode();
        node.put("type", type);
        node.put("message", message);
        node.put("stack", stack);
        return node.toString();
    }

    public ErrorInfo readError(@Nullable String json) {
        if (json == null) {
            return new ErrorInfo("unknown", null, null);
        }
        try {
            var node = mapper.readTree(json);
            return new ErrorInfo(
                    node.path("type").asText("unknown"), textOrNull(node.get("message")), textOrNull(node.get("stack")));
        } catch (JsonProcessingException e) {
            return new ErrorInfo("unknown", json, null);
        }
    }

    private static @Nullable String textOrNull(com.fasterxml.jackson.databind.@Nullable JsonNode node) {
        return node == null || node.isNull() ? null : node.asText();
    }

    public static String stackTrace(Throwable error) {
        StringWriter out = new StringWriter();
        error.printStackTrace(new PrintWriter(out));
        return out.toString();
    }

    /** A recorded error. */
    public record ErrorInfo(String type, @Nullable String message, @Nullable String stack) {}
}
