package dev.tandem.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.tandem.admin.Operations;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** The value types of the CLI's options, and their picocli converters (whose messages picocli shows as bad input). */
final class Args {
    private Args() {}

    private static final Pattern DURATION_PART = Pattern.compile("(\\d{1,9})(ms|s|m|h|d|w)");

    /**
     * {@code 90s}, {@code 30m}, {@code 1h}, {@code 30d}, {@code 2w}, or several together ({@code 1h30m}); units ms,
     * s, m, h, d (24 h) and w (7 d).
     */
    static Duration parseDuration(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        Matcher m = DURATION_PART.matcher(t);
        Duration total = Duration.ZERO;
        int at = 0;
        while (at < t.length() && m.region(at, t.length()).lookingAt()) {
            long n = Long.parseLong(m.group(1));
            total = total.plus(switch (m.group(2)) {
                case "ms" -> Duration.ofMillis(n);
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                case "h" -> Duration.ofHours(n);
                case "d" -> Duration.ofDays(n);
                default -> Duration.ofDays(7 * n);
            });
            at = m.end();
        }
        if (t.isEmpty() || at != t.length()) {
            throw new TypeConversionException("'" + text + "' is not a duration: write a number and a unit (s, m, h, d"
                    + " or w), such as 90s, 30m, 1h, 30d or 1h30m");
        }
        return total;
    }

    static final class DurationConverter implements ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            return parseDuration(value);
        }
    }

    /** A point in time given on the command line: a duration ago ({@code 1h}), or an absolute instant. */
    record TimeArg(@Nullable Duration ago, @Nullable Instant at, String text) {
        Instant resolve(Instant now) {
            return at != null ? at : now.minus(ago);
        }

        @Override
        public String toString() {
            return text;
        }
    }

    /**
     * {@code 1h} (an hour ago), {@code 2026-11-29T02:00:00Z} (or with an offset, {@code +01:00}), or
     * {@code 2026-11-29} (midnight UTC).
     */
    static final class TimeConverter implements ITypeConverter<TimeArg> {
        @Override
        public TimeArg convert(String value) {
            String t = value.trim();
            if (!t.isEmpty() && Character.isDigit(t.charAt(0)) && t.contains("-")) {
                try {
                    if (t.length() == 10) {
                        return new TimeArg(null, LocalDate.parse(t).atStartOfDay(ZoneOffset.UTC).toInstant(), value);
                    }
                    return new TimeArg(null, OffsetDateTime.parse(t).toInstant(), value);
                } catch (DateTimeParseException e) {
                    throw new TypeConversionException("'" + value + "' is not a time: write an ISO-8601 instant with"
                            + " its zone (2026-11-29T02:00:00Z, 2026-11-29T03:00:00+01:00), a date (2026-11-29, midnight"
                            + " UTC) or a duration ago (1h, 30d)");
                }
            }
            try {
                return new TimeArg(parseDuration(t), null, value);
            } catch (TypeConversionException e) {
                throw new TypeConversionException("'" + value + "' is neither a duration ago (90s, 30m, 1h, 30d) nor"
                        + " a time (2026-11-29T02:00:00Z, 2026-11-29)");
            }
        }
    }

    /** A JSON value, as the HTTP API would take it: {@code '{"customer":"ada"}'}. */
    static final class JsonConverter implements ITypeConverter<JsonNode> {
        @Override
        public JsonNode convert(String value) {
            try {
                JsonNode node = Operations.jsonMapper().readTree(value);
                if (node == null || node.isMissingNode()) {
                    throw new TypeConversionException("no JSON value given: write one such as '{\"customer\":\"ada\"}'");
                }
                return node;
            } catch (JsonProcessingException e) {
                throw new TypeConversionException("'" + Text.truncate(value, 60) + "' is not valid JSON ("
                        + e.getOriginalMessage() + "); quote it for the shell, such as '{\"customer\":\"ada\"}'");
            }
        }
    }
}
