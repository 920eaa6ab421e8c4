package dev.tandem.admin.internal.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tandem.WorkflowStatus;
import dev.tandem.admin.WorkflowFilter;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * A request's parameters (the query string, or a bulk action's {@code filter} object) and their parsing into a
 * {@link WorkflowFilter}. Every bad value is an {@link IllegalArgumentException} naming the parameter, the value and
 * what it must be; unknown parameters are refused too, so a typo does not silently widen a filter.
 */
final class Params {
    static final Set<String> FILTER_KEYS = Set.of("status", "name", "queue", "executor", "created_after",
            "created_before", "since", "id_prefix", "parent", "input", "output");
    private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h|d)");

    private final Map<String, List<String>> values;

    private Params(Map<String, List<String>> values) {
        this.values = values;
    }

    static Params ofQuery(@Nullable String rawQuery) {
        Map<String, List<String>> values = new LinkedHashMap<>();
        if (rawQuery != null && !rawQuery.isEmpty()) {
            for (String pair : rawQuery.split("&")) {
                if (pair.isEmpty()) {
                    continue;
                }
                int eq = pair.indexOf('=');
                String key = decode(eq < 0 ? pair : pair.substring(0, eq));
                String value = eq < 0 ? "" : decode(pair.substring(eq + 1));
                values.computeIfAbsent(key, k -> new ArrayList<>()).add(value);
            }
        }
        return new Params(values);
    }

    /** A JSON object with the query parameters' names; arrays give several values, objects their JSON text. */
    static Params ofJson(@Nullable JsonNode object, ObjectMapper json) {
        Map<String, List<String>> values = new LinkedHashMap<>();
        if (object == null || object.isNull()) {
            return new Params(values);
        }
        if (!object.isObject()) {
            throw new IllegalArgumentException("filter must be a JSON object such as {\"status\": \"ERROR\"} (was "
                    + object + ")");
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = object.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            List<String> list = new ArrayList<>();
            JsonNode value = field.getValue();
            if (value.isNull()) {
                continue;
            }
            if (value.isArray() && !"input".equals(field.getKey()) && !"output".equals(field.getKey())) {
                value.forEach(v -> list.add(v.asText()));
            } else if (value.isContainerNode()) {
                try {
                    list.add(json.writeValueAsString(value));
                } catch (JsonProcessingException e) {
                    throw new IllegalArgumentException("filter " + field.getKey() + " cannot be written as JSON", e);
                }
            } else {
                list.add(value.asText());
            }
            values.put(field.getKey(), list);
        }
        return new Params(values);
    }

    void allowOnly(Set<String> allowed) {
        for (String key : values.keySet()) {
            if (!allowed.contains(key)) {
                throw new IllegalArgumentException("unknown parameter '" + key + "'; known: "
                        + String.join(", ", allowed.stream().sorted().toList()));
            }
        }
    }

    boolean has(String key) {
        return values.containsKey(key);
    }

    @Nullable String text(String key) {
        List<String> list = values.get(key);
        if (list == null) {
            return null;
        }
        if (list.size() > 1) {
            throw new IllegalArgumentException("parameter '" + key + "' is given " + list.size() + " times; give it"
                    + " once");
        }
        String value = list.get(0).strip();
        if (value.isEmpty()) {
            throw new IllegalArgumentException("parameter '" + key + "' is empty; leave it out for any");
        }
        return value;
    }

    int integer(String key, int defaultValue, int min, int max) {
        String text = text(key);
        if (text == null) {
            return defaultValue;
        }
        try {
            int value = Integer.parseInt(text);
            if (value < min || value > max) {
                throw new NumberFormatException();
            }
            return value;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("parameter '" + key + "' must be a whole number from " + min + " to "
                    + max + " (was '" + text + "')");
        }
    }

    @Nullable Instant instant(String key) {
        String text = text(key);
        if (text == null) {
            return null;
        }
        try {
            return Instant.parse(text);
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("parameter '" + key + "' must be an ISO-8601 instant such as"
                    + " 2026-11-30T09:00:00Z (was '" + text + "')");
        }
    }

    WorkflowFilter filter(ObjectMapper json) {
        Set<WorkflowStatus> statuses = EnumSet.noneOf(WorkflowStatus.class);
        for (String value : values.getOrDefault("status", List.of())) {
            for (String part : value.split(",")) {
                String name = part.strip().toUpperCase(Locale.ROOT);
                if (name.isEmpty()) {
                    continue;
                }
                try {
                    statuses.add(WorkflowStatus.valueOf(name));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("status '" + part.strip() + "' is not one of "
                            + List.of(WorkflowStatus.values()));
                }
            }
        }
        Instant after = instant("created_after");
        String since = text("since");
        if (since != null) {
            if (after != null) {
                throw new IllegalArgumentException("give either 'since' or 'created_after', not both");
            }
            after = Instant.now().minus(duration("since", since));
        }
        return new WorkflowFilter(statuses, text("name"), text("queue"), text("executor"), after,
                instant("created_before"), text("id_prefix"), text("parent"), jsonValue("input", json),
                jsonValue("output", json));
    }

    private @Nullable JsonNode jsonValue(String key, ObjectMapper json) {
        String text = text(key);
        if (text == null) {
            return null;
        }
        try {
            return json.readTree(text);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("parameter '" + key + "' must be JSON, such as {\"customer\":\"ada\"}"
                    + " (was '" + text + "': " + e.getOriginalMessage() + ")");
        }
    }

    /** A duration such as 90s, 15m, 1h or 7d. */
    static Duration duration(String key, String text) {
        Matcher m = DURATION.matcher(text);
        if (!m.matches()) {
            throw new IllegalArgumentException("parameter '" + key + "' must be a duration such as 90s, 15m, 1h or 7d"
                    + " (was '" + text + "')");
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            default -> Duration.ofDays(n);
        };
    }

    private static String decode(String text) {
        try {
            return URLDecoder.decode(text, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("the query string is not valid URL encoding: " + e.getMessage());
        }
    }
}
