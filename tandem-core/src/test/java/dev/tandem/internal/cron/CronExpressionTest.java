package dev.tandem.internal.cron;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Parsing and next-tick arithmetic of cron expressions, with no database. */
class CronExpressionTest {
    static final ZoneId UTC = ZoneOffset.UTC;
    static final ZoneId PARIS = ZoneId.of("Europe/Paris");
    static final ZoneId NEW_YORK = ZoneId.of("America/New_York");

    static Instant at(String iso) {
        return Instant.parse(iso);
    }

    static Instant next(String cron, String after) {
        return CronExpression.parse(cron).next(at(after), UTC);
    }

    /** The first {@code count} ticks after {@code after}. */
    static List<Instant> ticks(String cron, ZoneId zone, Instant after, int count) {
        CronExpression expression = CronExpression.parse(cron);
        List<Instant> ticks = new ArrayList<>();
        Instant t = after;
        for (int i = 0; i < count; i++) {
            t = expression.next(t, zone);
            ticks.add(t);
        }
        return ticks;
    }

    @ParameterizedTest(name = "{0} after {1} is {2}")
    @CsvSource(delimiter = '|', textBlock = """
            * * * * *                | 2026-11-28T10:00:30Z     | 2026-11-28T10:01:00Z
            * * * * *                | 2026-11-28T10:00:00Z     | 2026-11-28T10:01:00Z
            * * * * * *              | 2026-11-28T10:00:00Z     | 2026-11-28T10:00:01Z
            * * * * * *              | 2026-11-28T10:00:00.500Z | 2026-11-28T10:00:01Z
            */15 * * * * *           | 2026-11-28T10:00:00Z     | 2026-11-28T10:00:15Z
            */15 * * * * *           | 2026-11-28T10:00:45Z     | 2026-11-28T10:01:00Z
            0 9 * * *                | 2026-11-28T09:00:00Z     | 2026-11-29T09:00:00Z
            0 9 * * *                | 2026-11-28T08:59:59Z     | 2026-11-28T09:00:00Z
            30 23 31 12 *            | 2026-01-01T00:00:00Z     | 2026-12-31T23:30:00Z
            0 0 1 1 *                | 2026-12-31T23:59:59Z     | 2027-01-01T00:00:00Z
            0 9 * * MON-FRI          | 2026-11-27T09:00:00Z     | 2026-11-30T09:00:00Z
            0 9 * * 1-5              | 2026-11-28T12:00:00Z     | 2026-11-30T09:00:00Z
            0 12 * * SUN             | 2026-11-28T00:00:00Z     | 2026-11-29T12:00:00Z
            0 12 * * 0               | 2026-11-28T00:00:00Z     | 2026-11-29T12:00:00Z
            0 12 * * 7               | 2026-11-28T00:00:00Z     | 2026-11-29T12:00:00Z
            0 12 * * sat             | 2026-11-23T00:00:00Z     | 2026-11-28T12:00:00Z
            5,10,50 * * * *          | 2026-11-28T10:10:00Z     | 2026-11-28T10:50:00Z
            0-30/10 8 * * *          | 2026-11-28T08:20:00Z     | 2026-11-28T08:30:00Z
            0-30/10 8 * * *          | 2026-11-28T08:30:00Z     | 2026-11-29T08:00:00Z
            45/5 * * * *             | 2026-11-28T08:55:00Z     | 2026-11-28T09:45:00Z
            0 0 1 jan,Jul *          | 2026-02-01T00:00:00Z     | 2026-07-01T00:00:00Z
            0 0 1 MAR-MAY/2 *        | 2026-03-01T00:00:00Z     | 2026-05-01T00:00:00Z
            0 0 31 * *               | 2026-04-01T00:00:00Z     | 2026-05-31T00:00:00Z
            0 0 30 * *               | 2027-01-31T00:00:00Z     | 2027-03-30T00:00:00Z
            0 0 29 2 *               | 2025-03-01T00:00:00Z     | 2028-02-29T00:00:00Z
            0 0 29 2 *               | 2096-03-01T00:00:00Z     | 2104-02-29T00:00:00Z
            0 0 ? * MON              | 2026-11-28T00:00:00Z     | 2026-11-30T00:00:00Z
            0 0 0 ? * *              | 2026-11-28T00:00:00Z     | 2026-11-29T00:00:00Z
            @hourly                  | 2026-11-28T10:15:00Z     | 2026-11-28T11:00:00Z
            @daily                   | 2026-11-28T10:15:00Z     | 2026-11-29T00:00:00Z
            @midnight                | 2026-11-28T10:15:00Z     | 2026-11-29T00:00:00Z
            @weekly                  | 2026-11-28T10:15:00Z     | 2026-11-29T00:00:00Z
            @monthly                 | 2026-11-28T10:15:00Z     | 2026-12-01T00:00:00Z
            @YEARLY                  | 2026-11-28T10:15:00Z     | 2027-01-01T00:00:00Z
            @annually                | 2026-11-28T10:15:00Z     | 2027-01-01T00:00:00Z
            """)
    void nextTick(String cron, String after, String expected) {
        assertThat(next(cron, after)).isEqualTo(at(expected));
    }

    @Test
    void bothDayFieldsRestrictedMatchEitherLikeClassicCron() {
        // The 13th of every month, and every Friday (13 October 2026 is a Tuesday).
        List<Instant> ticks = ticks("0 0 13 * FRI", UTC, at("2026-10-01T00:00:00Z"), 4);
        assertThat(ticks).containsExactly(at("2026-10-02T00:00:00Z"), at("2026-10-09T00:00:00Z"),
                at("2026-10-13T00:00:00Z"), at("2026-10-16T00:00:00Z"));
        // 30 February can never happen, but with a day of week it fires on the days of week.
        assertThat(next("0 0 30 2 MON", "2027-01-01T00:00:00Z")).isEqualTo(at("2027-02-01T00:00:00Z"));
    }

    @Test
    void aDayFieldStartingWithAStarMustMatchToo() {
        // */2 is "restricted" only by its step: classic cron then requires both (odd days that are Mondays).
        assertThat(ticks("0 0 */2 * MON", UTC, at("2026-11-01T00:00:00Z"), 3)).containsExactly(
                at("2026-11-09T00:00:00Z"), at("2026-11-23T00:00:00Z"), at("2026-12-07T00:00:00Z"));
    }

    @Test
    void fiveFieldsHaveSecondZeroAndSixFieldsStartWithSeconds() {
        assertThat(next("30 * * * *", "2026-11-28T10:00:00Z")).isEqualTo(at("2026-11-28T10:30:00Z"));
        assertThat(next("30 * * * * *", "2026-11-28T10:00:00Z")).isEqualTo(at("2026-11-28T10:00:30Z"));
    }

    @Test
    void nextIsStrictlyAfterAndTicksAreWholeSeconds() {
        CronExpression every = CronExpression.parse("* * * * * *");
        Instant t = at("2026-11-28T10:00:00.123456Z");
        for (int i = 0; i < 100; i++) {
            Instant n = every.next(t, UTC);
            assertThat(n).isAfter(t);
            assertThat(n.getNano()).isZero();
            assertThat(Duration.between(t, n)).isLessThanOrEqualTo(Duration.ofSeconds(1));
            t = n;
        }
    }

    @Test
    void agreesWithABruteForceScanInUtc() {
        String[] expressions = {"*/7 3-5 * * *", "0 0 1,15 * 3", "15 10 * 2-4 MON,FRI", "0 22 * * 1-5",
            "59 23 31 12 *", "0 0 29 2 *", "*/20 */6 10-20/5 * *", "0 12 1 */3 *", "0 0 * * 6,0"};
        Instant start = at("2026-01-01T00:00:00Z");
        for (String cron : expressions) {
            CronExpression expression = CronExpression.parse(cron);
            Instant after = start;
            for (int i = 0; i < 5; i++) {
                Instant expected = bruteForceNext(cron, after);
                assertThat(expression.next(after, UTC)).as(cron + " after " + after).isEqualTo(expected);
                after = expected.plusSeconds(17); // not on a tick
            }
        }
    }

    /**
     * Day by day, then minute by minute, in UTC, each field checked on its own (5-field expressions only): slow and
     * obviously right.
     */
    private static Instant bruteForceNext(String cron, Instant after) {
        String[] f = cron.split(" ");
        boolean bothRestricted = !f[2].startsWith("*") && !f[4].startsWith("*");
        LocalDateTime start = LocalDateTime.ofInstant(after, UTC).truncatedTo(ChronoUnit.MINUTES).plusMinutes(1);
        for (LocalDate day = start.toLocalDate(); day.getYear() < start.getYear() + 10; day = day.plusDays(1)) {
            boolean dom = matches(f[2], day.getDayOfMonth(), 1, 31);
            boolean dow = matches(f[4], day.getDayOfWeek().getValue() % 7, 0, 6);
            if (!matches(f[3], day.getMonthValue(), 1, 12) || !(bothRestricted ? dom || dow : dom && dow)) {
                continue;
            }
            for (LocalDateTime t = day.atStartOfDay(); t.toLocalDate().equals(day); t = t.plusMinutes(1)) {
                if (!t.isBefore(start) && matches(f[0], t.getMinute(), 0, 59) && matches(f[1], t.getHour(), 0, 23)) {
                    return t.toInstant(ZoneOffset.UTC);
                }
            }
        }
        throw new AssertionError("no tick for " + cron);
    }

    private static boolean matches(String field, int value, int min, int max) {
        for (String item : field.split(",")) {
            String range = item;
            int step = 1;
            if (item.contains("/")) {
                range = item.substring(0, item.indexOf('/'));
                step = Integer.parseInt(item.substring(item.indexOf('/') + 1));
            }
            int lo = min;
            int hi = max;
            if (!range.equals("*")) {
                String[] ends = range.split("-");
                lo = day(ends[0]);
                hi = ends.length > 1 ? day(ends[1]) : lo;
            }
            if (value >= lo && value <= hi && (value - lo) % step == 0) {
                return true;
            }
        }
        return false;
    }

    private static int day(String token) {
        return switch (token) {
            case "MON" -> 1;
            case "FRI" -> 5;
            default -> Integer.parseInt(token);
        };
    }

    // ---- daylight saving time ----

    @Test
    void aLocalTimeSkippedWhenClocksGoForwardFiresWhenTheyJump() {
        // Paris, 29 March 2026: 02:00 CET becomes 03:00 CEST (01:00 UTC); 02:30 does not exist that day.
        List<Instant> ticks = ticks("0 30 2 * * *", PARIS, at("2026-03-27T12:00:00Z"), 3);
        assertThat(ticks).containsExactly(
                at("2026-03-28T01:30:00Z"), // 02:30 CET
                at("2026-03-29T01:00:00Z"), // the jump, 03:00 CEST
                at("2026-03-30T00:30:00Z")); // 02:30 CEST
        // New York, 8 March 2026: 02:00 EST becomes 03:00 EDT (07:00 UTC).
        assertThat(ticks("30 2 * * *", NEW_YORK, at("2026-03-07T12:00:00Z"), 2))
                .containsExactly(at("2026-03-08T07:00:00Z"), at("2026-03-09T06:30:00Z"));
    }

    @Test
    void anIntervalScheduleFiresOnceForTheWholeSkippedHour() {
        List<Instant> ticks = ticks("0 */15 * * * *", PARIS, at("2026-03-29T00:30:00Z"), 4);
        assertThat(ticks).containsExactly(at("2026-03-29T00:45:00Z"), // 01:45 CET
                at("2026-03-29T01:00:00Z"), // 03:00 CEST (02:00-02:45 do not exist)
                at("2026-03-29T01:15:00Z"), at("2026-03-29T01:30:00Z"));
    }

    @Test
    void aLocalTimeRepeatedWhenClocksGoBackFiresOnce() {
        // Paris, 25 October 2026: 03:00 CEST becomes 02:00 CET; 02:30 happens at 00:30 and again at 01:30 UTC.
        List<Instant> ticks = ticks("0 30 2 * * *", PARIS, at("2026-10-24T12:00:00Z"), 2);
        assertThat(ticks).containsExactly(at("2026-10-25T00:30:00Z"), at("2026-10-26T01:30:00Z"));
        // Starting inside the second pass: 02:30 has fired already.
        assertThat(CronExpression.parse("0 30 2 * * *").next(at("2026-10-25T01:10:00Z"), PARIS))
                .isEqualTo(at("2026-10-26T01:30:00Z"));
        // New York, 1 November 2026: 02:00 EDT becomes 01:00 EST; 01:30 is at 05:30 and 06:30 UTC.
        assertThat(ticks("30 1 * * *", NEW_YORK, at("2026-10-31T12:00:00Z"), 2))
                .containsExactly(at("2026-11-01T05:30:00Z"), at("2026-11-02T06:30:00Z"));
    }

    @Test
    void anEveryHourScheduleKeepsItsPaceThroughTheRepeatedHour() {
        List<Instant> ticks = ticks("0 */30 * * * *", PARIS, at("2026-10-24T23:00:00Z"), 6);
        assertThat(ticks).containsExactly(
                at("2026-10-24T23:30:00Z"), // 01:30 CEST
                at("2026-10-25T00:00:00Z"), // 02:00 CEST
                at("2026-10-25T00:30:00Z"), // 02:30 CEST
                at("2026-10-25T01:00:00Z"), // 02:00 CET
                at("2026-10-25T01:30:00Z"), // 02:30 CET
                at("2026-10-25T02:00:00Z")); // 03:00 CET
        // From inside the second pass, too.
        assertThat(CronExpression.parse("0 */30 * * * *").next(at("2026-10-25T01:10:00Z"), PARIS))
                .isEqualTo(at("2026-10-25T01:30:00Z"));
    }

    @Test
    void ticksThroughAYearOfDstStayStrictlyIncreasingAndOnTime() {
        for (ZoneId zone : List.of(PARIS, NEW_YORK)) {
            CronExpression every10 = CronExpression.parse("*/10 * * * *");
            Instant t = at("2026-01-01T00:00:00Z");
            int count = 0;
            while (t.isBefore(at("2027-01-01T00:00:00Z"))) {
                Instant n = every10.next(t, zone);
                assertThat(Duration.between(t, n)).as(zone + " after " + t).isEqualTo(Duration.ofMinutes(10));
                t = n;
                count++;
            }
            assertThat(count).isEqualTo(365 * 24 * 6);
            // A daily local time: once per day, 23, 24 or 25 hours apart.
            CronExpression daily = CronExpression.parse("0 2 * * *");
            t = at("2026-01-01T00:00:00Z");
            for (int day = 0; day < 365; day++) {
                Instant n = daily.next(t, zone);
                if (day > 0) {
                    assertThat(Duration.between(t, n).toHours()).as(zone + " after " + t).isBetween(23L, 25L);
                }
                ZonedDateTime local = n.atZone(zone);
                assertThat(local.getHour()).as(zone + " " + local).isIn(2, 3);
                t = n;
            }
        }
    }

    @Test
    void staysFastForRareExpressions() {
        CronExpression leapDay = CronExpression.parse("59 59 23 29 2 *");
        long t0 = System.nanoTime();
        Instant t = at("2000-01-01T00:00:00Z");
        for (int i = 0; i < 200; i++) {
            t = leapDay.next(t, PARIS);
        }
        assertThat(t.atZone(PARIS).getYear()).isGreaterThan(2700);
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(2));
    }

    // ---- invalid input ----

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
            61 * * * *           | minute field '61': '61' is out of range (allowed: 0-59)
            * 24 * * *           | hour field '24': '24' is out of range (allowed: 0-23)
            * * 0 * *            | day-of-month field '0': '0' is out of range (allowed: 1-31)
            * * * 13 *           | month field '13': '13' is out of range (allowed: 1-12 or JAN-DEC)
            * * * FOO *          | month field 'FOO': 'FOO' is not a valid value (allowed: 1-12 or JAN-DEC)
            * * * * 8            | day-of-week field '8': '8' is out of range (allowed: 0-7 or SUN-SAT, 0 and 7
            * * * * MON-FUN      | day-of-week field 'MON-FUN': 'FUN' is not a valid value
            60 * * * * *         | second field '60': '60' is out of range (allowed: 0-59)
            */0 * * * *          | minute field '*/0': step '0' in '*/0' must be a number from 1 to 60
            */x * * * *          | minute field '*/x': step 'x' in '*/x' must be a number from 1 to 60
            5-1 * * * *          | minute field '5-1': range '5-1' goes backwards
            1,,2 * * * *         | minute field '1,,2': has an empty list element
            * * L * *            | L, W and # are not supported
            * * * * 5#3          | L, W and # are not supported
            -1 * * * *           | minute field '-1': '-1' is not a valid value
            ? * * * *            | minute field '?': '?' is not a valid value
            * * * *              | expected 5 fields (minute hour day-of-month month day-of-week) or 6
            * * * * * * *        | found 7
            @reboot              | unknown macro; allowed are @yearly
            0 0 30 2 *           | it never fires
            0 0 31 4,6,9,11 *    | it never fires
            """)
    void invalidExpressionsSayWhatIsWrong(String cron, String message) {
        assertThatThrownBy(() -> CronExpression.parse(cron))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("invalid cron expression '" + cron.strip() + "': ")
                .hasMessageContaining(message);
    }

    @Test
    void blankOrNullExpressionsAreRejected() {
        for (String blank : new String[] {null, "", "   "}) {
            assertThatThrownBy(() -> CronExpression.parse(blank))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("must not be null or blank");
        }
    }

    @Test
    void leapDayAloneIsPossible() {
        assertThat(CronExpression.parse("0 0 29 2 *").toString()).isEqualTo("0 0 29 2 *");
        assertThat(CronExpression.parse("  */5 * * * *  ").toString()).isEqualTo("*/5 * * * *");
    }
}
