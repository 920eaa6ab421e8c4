package dev.tandem.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.Locale;

/** How values read in a terminal: relative ages, short durations, one-line JSON, cut text. */
final class Text {
    static final String ELLIPSIS = "…";
    private static final DateTimeFormatter DATE = DateTimeFormatter.ofPattern("yyyy-MM-dd").withZone(ZoneOffset.UTC);
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'")
            .withZone(ZoneOffset.UTC);

    private Text() {}

    /** {@code text} cut to {@code max} characters, the last one an ellipsis when cut. */
    static String truncate(String text, int max) {
        if (text.length() <= max) {
            return text;
        }
        return max <= 1 ? ELLIPSIS : text.substring(0, max - 1) + ELLIPSIS;
    }

    /** Newlines and tabs as spaces, so a cell stays on its line. */
    static String oneLine(String text) {
        return text.replaceAll("[\\r\\n\\t]+", " ");
    }

    /** How long ago (or, for a future instant, in how long): {@code 12s ago}, {@code 3m ago}, {@code in 2h}. */
    static String age(Instant then, Instant now) {
        if (then == null) {
            return "";
        }
        Duration d = Duration.between(then, now);
        boolean future = d.isNegative();
        long s = Math.abs(d.getSeconds());
        if (s > 99 * 86_400L) {
            return DATE.format(then);
        }
        String span = s < 60 ? s + "s" : s < 3600 ? s / 60 + "m" : s < 86_400 ? s / 3600 + "h" : s / 86_400 + "d";
        return future ? "in " + span : span + " ago";
    }

    /** An instant for a detail view: {@code 2026-11-29 02:00:00 UTC (3m ago)}. */
    static String time(Instant at, Instant now) {
        return at == null ? "" : TIME.format(at.truncatedTo(ChronoUnit.SECONDS)) + " (" + age(at, now) + ")";
    }

    /** A duration in milliseconds, short: {@code 850 ms}, {@code 1.2 s}, {@code 3m 20s}, {@code 2h 05m}, {@code 3d 4h}. */
    static String millis(long ms) {
        if (ms < 1000) {
            return ms + " ms";
        }
        if (ms < 10_000) {
            return String.format(Locale.ROOT, "%.1f s", ms / 1000.0);
        }
        long s = ms / 1000;
        if (s < 60) {
            return s + " s";
        }
        if (s < 3600) {
            return s / 60 + "m " + String.format(Locale.ROOT, "%02ds", s % 60);
        }
        if (s < 86_400) {
            return s / 3600 + "h " + String.format(Locale.ROOT, "%02dm", s / 60 % 60);
        }
        return s / 86_400 + "d " + s / 3600 % 24 + "h";
    }

    /** A rate limit's period: {@code 1s}, {@code 1m}, {@code 90s}, {@code 1h}. */
    static String period(Double seconds) {
        if (seconds == null) {
            return "";
        }
        long ms = Math.round(seconds * 1000);
        if (ms % 1000 != 0) {
            return ms + "ms";
        }
        long s = ms / 1000;
        return s % 86_400 == 0 ? s / 86_400 + "d" : s % 3600 == 0 ? s / 3600 + "h" : s % 60 == 0 ? s / 60 + "m" : s + "s";
    }

    static String seconds(Double seconds) {
        return seconds == null ? "" : millis(Math.round(seconds * 1000));
    }

    /** A stored value as compact one-line JSON; empty for none. */
    static String json(JsonNode value) {
        return value == null || value.isMissingNode() ? "" : value.toString();
    }

    /** {@code 1 workflow} / {@code 3 workflows}. */
    static String count(long n, String noun) {
        return n + " " + noun + (n == 1 ? "" : "s");
    }
}
