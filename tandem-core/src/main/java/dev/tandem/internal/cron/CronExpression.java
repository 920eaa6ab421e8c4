package dev.tandem.internal.cron;

import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.time.zone.ZoneOffsetTransition;
import java.time.zone.ZoneRules;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * A cron expression: 5 fields ({@code minute hour day-of-month month day-of-week}) or 6 with seconds first (Spring
 * style), or a macro ({@code @yearly @annually @monthly @weekly @daily @midnight @hourly}). A field is {@code *},
 * a value, a range {@code a-b}, a step {@code *}{@code /n}, {@code a-b/n} or {@code a/n} (from a to the field's
 * maximum), or a comma-separated list of those. Months may be written {@code JAN}-{@code DEC}, days of the week
 * {@code SUN}-{@code SAT} (0 and 7 are both Sunday); {@code ?} means {@code *} in the two day fields.
 *
 * <p>Days follow classic cron: when both day-of-month and day-of-week are restricted (neither starts with {@code *}
 * or {@code ?}), a day matches if <em>either</em> does; otherwise both must.
 *
 * <p>Daylight saving time, in {@link #next}: a local time that does not exist (clocks go forward over it) fires
 * once, at the instant the clocks jump; a local time that occurs twice (clocks go back) fires at its first
 * occurrence only, unless the hour field matches every hour, in which case it fires at both (an "every N minutes"
 * schedule keeps its pace through the repeated hour).
 *
 * <p>Immutable and thread-safe. {@link #parse} rejects an expression that can never fire (such as 30 February).
 */
public final class CronExpression {
    /** Far enough to find 29 February from any year (at most 8 years apart); {@link #next} gives up beyond. */
    private static final int SEARCH_YEARS = 30;
    private static final long ALL_HOURS = (1L << 24) - 1;

    private static final Map<String, String> MACROS = Map.of(
            "@yearly", "0 0 1 1 *",
            "@annually", "0 0 1 1 *",
            "@monthly", "0 0 1 * *",
            "@weekly", "0 0 * * 0",
            "@daily", "0 0 * * *",
            "@midnight", "0 0 * * *",
            "@hourly", "0 * * * *");
    private static final List<String> MONTH_NAMES =
            List.of("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC");
    private static final List<String> DAY_NAMES = List.of("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT");

    private enum Field {
        SECOND("second", 0, 59, null),
        MINUTE("minute", 0, 59, null),
        HOUR("hour", 0, 23, null),
        DAY_OF_MONTH("day-of-month", 1, 31, null),
        MONTH("month", 1, 12, MONTH_NAMES),
        DAY_OF_WEEK("day-of-week", 0, 7, DAY_NAMES);

        final String label;
        final int min;
        final int max;
        final @Nullable List<String> names; // names.get(i) stands for min + i

        Field(String label, int min, int max, @Nullable List<String> names) {
            this.label = label;
            this.min = min;
            this.max = max;
            this.names = names;
        }

        String allowed() {
            String range = min + "-" + max;
            if (this == MONTH) {
                return range + " or JAN-DEC";
            }
            if (this == DAY_OF_WEEK) {
                return range + " or SUN-SAT, 0 and 7 being Sunday";
            }
            return range;
        }
    }

    private final String text;
    // One bit per allowed value: bit v set means value v matches. Day of week uses 0-6 (Sunday 0).
    private final long seconds;
    private final long minutes;
    private final long hours;
    private final long daysOfMonth;
    private final long months;
    private final long daysOfWeek;
    private final boolean dayOfMonthRestricted;
    private final boolean dayOfWeekRestricted;

    private CronExpression(String text, long[] bits, boolean dayOfMonthRestricted, boolean dayOfWeekRestricted) {
        this.text = text;
        this.seconds = bits[0];
        this.minutes = bits[1];
        this.hours = bits[2];
        this.daysOfMonth = bits[3];
        this.months = bits[4];
        this.daysOfWeek = bits[5];
        this.dayOfMonthRestricted = dayOfMonthRestricted;
        this.dayOfWeekRestricted = dayOfWeekRestricted;
    }

    /**
     * Parses an expression.
     *
     * @throws IllegalArgumentException naming the field, the token that is wrong and what is allowed, or saying why
     *     the expression can never fire
     */
    public static CronExpression parse(String expression) {
        if (expression == null || expression.isBlank()) {
            throw new IllegalArgumentException("cron expression must not be null or blank; write 5 fields (minute"
                    + " hour day-of-month month day-of-week), 6 with seconds first, or a macro such as @daily");
        }
        String text = expression.strip();
        String expanded = text;
        if (text.startsWith("@")) {
            expanded = MACROS.get(text.toLowerCase(Locale.ROOT));
            if (expanded == null) {
                throw new IllegalArgumentException("invalid cron expression '" + text + "': unknown macro; allowed"
                        + " are @yearly, @annually, @monthly, @weekly, @daily, @midnight and @hourly");
            }
        }
        String[] parts = expanded.split("\\s+");
        if (parts.length != 5 && parts.length != 6) {
            throw new IllegalArgumentException("invalid cron expression '" + text + "': expected 5 fields (minute hour"
                    + " day-of-month month day-of-week) or 6 (second minute hour day-of-month month day-of-week),"
                    + " found " + parts.length);
        }
        int offset = parts.length == 6 ? 0 : 1; // 5 fields: no seconds field, second 0
        long[] bits = new long[6];
        bits[0] = 1L; // second 0
        Field[] fields = Field.values();
        for (int i = offset; i < fields.length; i++) {
            bits[i] = parseField(text, fields[i], parts[i - offset]);
        }
        if ((bits[5] & (1L << 7)) != 0) {
            bits[5] = (bits[5] & ~(1L << 7)) | 1L; // 7 is Sunday, like 0
        }
        boolean domRestricted = restricted(parts[3 - offset]);
        boolean dowRestricted = restricted(parts[5 - offset]);
        CronExpression cron = new CronExpression(text, bits, domRestricted, dowRestricted);
        cron.checkCanFire();
        return cron;
    }

    private static boolean restricted(String field) {
        return !(field.startsWith("*") || field.startsWith("?"));
    }

    private static long parseField(String text, Field field, String value) {
        long bits = 0;
        for (String item : value.split(",", -1)) {
            if (item.isEmpty()) {
                throw invalid(text, field, value, "has an empty list element");
            }
            String range = item;
            int step = 1;
            boolean stepped = false;
            int slash = item.indexOf('/');
            if (slash >= 0) {
                range = item.substring(0, slash);
                String stepText = item.substring(slash + 1);
                int maxStep = field.max - field.min + 1;
                Integer parsed = number(stepText);
                if (parsed == null || parsed < 1 || parsed > maxStep) {
                    throw invalid(text, field, value, "step '" + stepText + "' in '" + item
                            + "' must be a number from 1 to " + maxStep);
                }
                step = parsed;
                stepped = true;
            }
            int low;
            int high;
            if (range.equals("*") || (range.equals("?") && isDayField(field))) {
                low = field.min;
                high = field == Field.DAY_OF_WEEK ? 6 : field.max;
            } else {
                int dash = range.indexOf('-', 1);
                if (dash >= 0) {
                    low = value(text, field, value, range.substring(0, dash));
                    high = value(text, field, value, range.substring(dash + 1));
                    if (low > high) {
                        throw invalid(text, field, value, "range '" + range + "' goes backwards; write it from the"
                                + " lower to the higher value, or as two ranges");
                    }
                } else {
                    low = value(text, field, value, range);
                    high = !stepped ? low : field == Field.DAY_OF_WEEK ? 6 : field.max; // a/n: from a to the end
                }
            }
            for (int v = low; v <= high; v += step) {
                bits |= 1L << v;
            }
        }
        return bits;
    }

    private static boolean isDayField(Field field) {
        return field == Field.DAY_OF_MONTH || field == Field.DAY_OF_WEEK;
    }

    private static int value(String text, Field field, String fieldText, String token) {
        Integer n = number(token);
        if (n == null && field.names != null) {
            int index = field.names.indexOf(token.toUpperCase(Locale.ROOT));
            if (index >= 0) {
                n = field.min + index;
            }
        }
        if (n == null) {
            String hint = token.matches(".*[LW#].*") && isDayField(field) ? "; L, W and # are not supported" : "";
            throw invalid(text, field, fieldText, "'" + token + "' is not a valid value (allowed: " + field.allowed()
                    + ")" + hint);
        }
        if (n < field.min || n > field.max) {
            throw invalid(text, field, fieldText, "'" + token + "' is out of range (allowed: " + field.allowed() + ")");
        }
        return n;
    }

    /** A plain decimal number (no sign), or null. */
    private static @Nullable Integer number(String token) {
        if (token.isEmpty() || token.length() > 9) {
            return null;
        }
        for (int i = 0; i < token.length(); i++) {
            if (token.charAt(i) < '0' || token.charAt(i) > '9') {
                return null;
            }
        }
        return Integer.parseInt(token);
    }

    private static IllegalArgumentException invalid(String text, Field field, String fieldText, String problem) {
        return new IllegalArgumentException("invalid cron expression '" + text + "': " + field.label + " field '"
                + fieldText + "': " + problem);
    }

    /**
     * Without a day-of-week restriction (which any month has), some allowed month must have some allowed day;
     * otherwise (30 February, 31 April) the expression would never fire.
     */
    private void checkCanFire() {
        if (dayOfWeekRestricted && dayOfMonthRestricted) {
            return; // either day field may match, and every month has every day of the week
        }
        if (!dayOfMonthRestricted) {
            return; // day 1 is always allowed: a star field with a step starts at 1
        }
        for (int month = 1; month <= 12; month++) {
            int length = java.time.Month.of(month).maxLength(); // 29 for February: leap years count
            if ((months & (1L << month)) != 0 && (daysOfMonth & (((1L << length) - 1) << 1)) != 0) {
                return;
            }
        }
        throw new IllegalArgumentException("invalid cron expression '" + text + "': it never fires, because no month"
                + " in the month field has a day listed in the day-of-month field (like 30 February)");
    }

    /**
     * The first tick strictly after {@code after}, computed in {@code zone} (see the class comment for daylight
     * saving time). Ticks fall on whole seconds. Returns null only if there is none within 30 years.
     */
    public @Nullable Instant next(Instant after, ZoneId zone) {
        ZoneRules rules = zone.getRules();
        ZonedDateTime at = after.atZone(zone);
        Instant best = null;
        if (hours == ALL_HOURS) {
            // In the first pass of a repeated hour, the local clock will come back: the second pass has ticks that
            // come before the ticks after the repeated hour.
            ZoneOffsetTransition t = rules.getTransition(at.toLocalDateTime());
            if (t != null && t.isOverlap() && at.getOffset().equals(t.getOffsetBefore())) {
                LocalDateTime second = nextLocal(t.getDateTimeAfter().minusSeconds(1));
                if (second != null && second.isBefore(t.getDateTimeBefore())) {
                    best = second.toInstant(t.getOffsetAfter());
                }
            }
        }
        LocalDateTime cursor = at.toLocalDateTime();
        while (true) {
            LocalDateTime candidate = nextLocal(cursor);
            if (candidate == null) {
                return best;
            }
            Instant tick;
            List<ZoneOffset> offsets = rules.getValidOffsets(candidate);
            if (offsets.size() == 1) {
                tick = candidate.toInstant(offsets.get(0));
            } else if (offsets.isEmpty()) {
                tick = rules.getTransition(candidate).getInstant(); // a skipped local time fires when clocks jump
            } else {
                Instant first = candidate.toInstant(offsets.get(0));
                if (first.isAfter(after)) {
                    tick = first;
                } else if (hours == ALL_HOURS) {
                    tick = candidate.toInstant(offsets.get(1));
                } else {
                    // Already fired in the first pass of this repeated hour: go on after it.
                    cursor = rules.getTransition(candidate).getDateTimeBefore().minusSeconds(1);
                    continue;
                }
            }
            if (tick.isAfter(after)) {
                return best != null && best.isBefore(tick) ? best : tick;
            }
            cursor = candidate;
        }
    }

    /** The first matching local date-time strictly after {@code cursor}, skipping field by field. */
    private @Nullable LocalDateTime nextLocal(LocalDateTime cursor) {
        LocalDateTime t = cursor.truncatedTo(ChronoUnit.SECONDS).plusSeconds(1);
        int lastYear = t.getYear() + SEARCH_YEARS;
        while (t.getYear() <= lastYear) {
            int month = nextBit(months, t.getMonthValue());
            if (month < 0) {
                t = LocalDateTime.of(t.getYear() + 1, 1, 1, 0, 0);
                continue;
            }
            if (month != t.getMonthValue()) {
                t = LocalDateTime.of(t.getYear(), month, 1, 0, 0);
                continue;
            }
            if (!dayMatches(t.toLocalDate())) {
                t = t.toLocalDate().plusDays(1).atStartOfDay();
                continue;
            }
            int hour = nextBit(hours, t.getHour());
            if (hour < 0) {
                t = t.toLocalDate().plusDays(1).atStartOfDay();
                continue;
            }
            if (hour != t.getHour()) {
                t = t.toLocalDate().atTime(hour, 0);
                continue;
            }
            int minute = nextBit(minutes, t.getMinute());
            if (minute < 0) {
                t = t.truncatedTo(ChronoUnit.HOURS).plusHours(1);
                continue;
            }
            if (minute != t.getMinute()) {
                t = t.truncatedTo(ChronoUnit.HOURS).withMinute(minute);
                continue;
            }
            int second = nextBit(seconds, t.getSecond());
            if (second < 0) {
                t = t.truncatedTo(ChronoUnit.MINUTES).plusMinutes(1);
                continue;
            }
            return t.withSecond(second);
        }
        return null;
    }

    private boolean dayMatches(LocalDate date) {
        boolean dom = (daysOfMonth & (1L << date.getDayOfMonth())) != 0;
        boolean dow = (daysOfWeek & (1L << (date.getDayOfWeek().getValue() % 7))) != 0;
        return dayOfMonthRestricted && dayOfWeekRestricted ? dom || dow : dom && dow;
    }

    /** The smallest set bit at or above {@code from}, or -1. */
    private static int nextBit(long bits, int from) {
        long rest = bits & (-1L << from);
        return rest == 0 ? -1 : Long.numberOfTrailingZeros(rest);
    }

    /** The expression as given (stripped of surrounding blanks). */
    @Override
    public String toString() {
        return text;
    }
}
