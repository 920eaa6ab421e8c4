package dev.tandem.internal.db;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Collection;
import java.util.Map;
import java.util.Set;
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
        if (type == Integer.class || type == Long.class || type == Boolean.class) {
            return value.toString();
        }
        String json = type == String.class
                ? '"' + new String(JsonStringEncoder.getInstance().quoteAsString((String) value)) + '"'
                : mapper.writeValueAsString(value);
        if (hasNulCharacter(json)) {
            throw new UnstorableJsonException();
        }
        return json;
    }

    /**
     * Whether JSON text holds an escaped NUL character ({@code \u0000}), which PostgreSQL's jsonb refuses (SQLSTATE
     * 22P05). Refused here, before it is written, so the caller fails with a clear message instead of the database.
     */
    static boolean hasNulCharacter(String json) {
        for (int i = json.indexOf("\\u0000"); i >= 0; i = json.indexOf("\\u0000", i + 1)) {
            int backslashes = 0;
            for (int j = i - 1; j >= 0 && json.charAt(j) == '\\'; j--) {
                backslashes++;
            }
            if (backslashes % 2 == 0) { // not the escaped backslash of a literal "\u0000" text
                return true;
            }
        }
        return false;
    }

    /** A value whose JSON PostgreSQL cannot store. */
    static final class UnstorableJsonException extends JsonProcessingException {
        UnstorableJsonException() {
            super("text contains the NUL character (\\u0000), which PostgreSQL's jsonb cannot store");
        }
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
        if (typeName.indexOf('<') < 0) {
            return mapper.readValue(json, Class.forName(typeName, false, loader));
        }
        try {
            JavaType type = mapper.getTypeFactory().withClassLoader(loader).constructFromCanonical(typeName);
            return mapper.readValue(json, type);
        } catch (IllegalArgumentException e) {
            throw new ClassNotFoundException(typeName, e);
        }
    }

    /**
     * The type to rebuild {@code value} as, in Jackson's canonical form: its class, or for a collection or map a
     * constructible implementation with the element types found in it ({@code java.util.ArrayList<com.acme.Order>}),
     * so that a replayed {@code List<Order>} holds {@code Order}s rather than maps.
     */
    public static @Nullable String typeName(@Nullable Object value) {
        if (value == null) {
            return null;
        }
        if (value instanceof Set<?> set) {
            return "java.util.LinkedHashSet" + parameters(set);
        }
        if (value instanceof Collection<?> collection) {
            return "java.util.ArrayList" + parameters(collection);
        }
        if (value instanceof Map<?, ?> map) {
            String keys = common(map.keySet());
            String values = common(map.values());
            return "java.util.LinkedHashMap"
                    + (keys != null && values != null ? "<" + keys + "," + values + ">" : "");
        }
        return value.getClass().getName();
    }

    private static String parameters(Collection<?> elements) {
        String type = common(elements);
        return type != null ? "<" + type + ">" : "";
    }

    /** The one type of all non-null elements, or null if there is none or more than one. */
    private static @Nullable String common(Collection<?> elements) {
        String found = null;
        for (Object e : elements) {
            if (e == null) {
                continue;
            }
            String type = typeName(e);
            if (found == null) {
                found = type;
            } else if (!found.equals(type)) {
                return null;
            }
        }
        return found;
    }

    /** {@code {"type": ..., "message": ..., "stack": ...}} */
    public String error(Throwable error) {
        return error(error.getClass().getName(), safeMessage(error), stackTrace(error));
    }

    /** {@link Throwable#getMessage()}, or a note saying it failed: a failure must always be recordable. */
    public static @Nullable String safeMessage(Throwable error) {
        try {
            return error.getMessage();
        } catch (RuntimeException e) {
            return "(" + error.getClass().getName() + ".getMessage() threw " + e.getClass().getName() + ")";
        }
    }

    public String error(String type, @Nullable String message, @Nullable String stack) {
        ObjectNode node = mapper.createObjectNode();
        node.put("type", storable(type));
        node.put("message", storable(message));
        node.put("stack", storable(stack));
        return node.toString();
    }

    /** A failure must always be recordable: NUL characters (refused by jsonb) become U+FFFD. */
    private static @Nullable String storable(@Nullable String text) {
        return text == null || text.indexOf('\u0000') < 0 ? text : text.replace('\u0000', '\uFFFD');
    }

    /** {@code {"type": ..., "message": ..., "stack": ..., "status": ...}}: a workflow's failure and how it ended. */
    public String error(ErrorInfo error, String status) {
        ObjectNode node = mapper.createObjectNode();
        node.put("type", storable(error.type()));
        node.put("message", storable(error.message()));
        node.put("stack", storable(error.stack()));
        node.put("status", status);
        return node.toString();
    }

    /** The {@code status} of an error written by {@link #error(ErrorInfo, String)}; null if it has none. */
    public @Nullable String readStatus(String json) {
        try {
            return textOrNull(mapper.readTree(json).get("status"));
        } catch (JsonProcessingException e) {
            return null;
        }
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
        try {
            error.printStackTrace(new PrintWriter(out));
        } catch (RuntimeException e) {
            // printStackTrace calls toString(), which may throw: keep the frames at least.
            out.write(error.getClass().getName() + "\n");
            for (StackTraceElement frame : error.getStackTrace()) {
                out.write("\tat " + frame + "\n");
            }
        }
        return out.toString();
    }

    /** A recorded error. */
    public record ErrorInfo(String type, @Nullable String message, @Nullable String stack) {}
}
