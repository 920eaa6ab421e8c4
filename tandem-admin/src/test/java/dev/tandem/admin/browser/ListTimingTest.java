package dev.tandem.admin.browser;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.Tandem;
import dev.tandem.admin.TandemAdmin;
import dev.tandem.testing.TestDatabase;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * "A workflow list of 100,000 rows opens in under 300 ms": 100,000 workflow rows (and 60,000 steps) written by SQL,
 * then the list page loaded in Chromium five times per filter. The time is the dashboard's own mark
 * {@code tandem:list-rendered} (set when the first page of rows is in the DOM), counted by the browser from the start
 * of the navigation: the HTML, script and stylesheet, {@code /api/v1/me} and the first page of the list. The medians
 * are printed and written to {@code target/screenshots/list-timing.txt}; the test fails only above a generous bound
 * (a loaded CI machine must not make it flaky); the README reports the measured numbers.
 */
class ListTimingTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    static final String OPERATOR = "operator-token-0123456789abcdef";
    static final int ROWS = 100_000;
    static final int RUNS = 5;
    static final double BOUND_MILLIS = 2_000;

    static TandemAdmin admin;
    static Browser browser;

    @BeforeAll
    static void setUp() {
        Browser.assumeAvailable(); // before building anything
        try (Tandem tandem = Tandem.builder().dataSource(db.dataSource()).build()) {
            tandem.start(); // creates schema tandem
        }
        // 2% ERROR, ~1% CANCELLED, 20 RUNNING, the rest SUCCESS; one every 2 seconds, the newest now; 1,000 customers.
        db.execute("""
                INSERT INTO tandem.workflow_status (workflow_id, name, status, queue_name, input, output, error,
                                                    attempts, executor_id, created_at, updated_at, started_at)
                SELECT 'wf-' || lpad(g::text, 6, '0'),
                       (ARRAY['pay', 'capture', 'export', 'reminder', 'batch'])[1 + g % 5],
                       CASE WHEN g % 50 = 0 THEN 'ERROR' WHEN g % 97 = 0 THEN 'CANCELLED'
                            WHEN g > 100000 - 20 THEN 'RUNNING' ELSE 'SUCCESS' END,
                       CASE WHEN g % 3 = 0 THEN 'serial' ELSE 'default' END,
                       jsonb_build_object('customer', 'c' || (g % 1000), 'amount', g % 500,
                                          'items', jsonb_build_array(g % 7, g % 11)),
                       CASE WHEN g % 50 <> 0 AND g % 97 <> 0 AND g <= 100000 - 20
                            THEN jsonb_build_object('paid', true, 'cents', (g % 500) * 100) END,
                       CASE WHEN g % 50 = 0 THEN jsonb_build_object('type', 'java.lang.IllegalStateException',
                            'message', 'card declined', 'stack', 'java.lang.IllegalStateException: card declined') END,
                       1, 'worker-' || (g % 4),
                       now() - (100000 - g) * interval '2 seconds',
                       now() - (100000 - g) * interval '2 seconds' + interval '180 milliseconds',
                       now() - (100000 - g) * interval '2 seconds'
                  FROM generate_series(1, 100000) g
                """);
        db.execute("""
                INSERT INTO tandem.steps (workflow_id, position, name, kind, output, started_at, finished_at)
                SELECT w.workflow_id, p, (ARRAY['quote', 'charge', 'notify'])[p], CASE p WHEN 2 THEN 'TRANSACTION' ELSE 'STEP' END,
                       '1', w.created_at + p * interval '40 milliseconds', w.created_at + p * interval '40 milliseconds' + interval '25 milliseconds'
                  FROM tandem.workflow_status w, generate_series(1, 3) p
                 WHERE w.workflow_id >= 'wf-080001'
                """);
        db.execute("ANALYZE tandem.workflow_status");
        db.execute("ANALYZE tandem.steps");
        assertThat(db.queryLong("SELECT count(*) FROM tandem.workflow_status")).isEqualTo(ROWS);
        admin = TandemAdmin.create(db.dataSource()).port(0).tokens(OPERATOR, null).start();
        browser = Browser.start();
    }

    @AfterAll
    static void tearDown() {
        if (browser != null) {
            browser.close();
        }
        if (admin != null) {
            admin.close();
        }
    }

    @Test
    void theListOf100000WorkflowsRendersItsFirstPageQuickly() throws IOException {
        browser.driver.get(admin.url() + "ui/favicon.svg");
        browser.js("sessionStorage.setItem('tandem.token', arguments[0])", OPERATOR);

        Map<String, String> views = new LinkedHashMap<>();
        views.put("no filter", "#/workflows");
        views.put("status=ERROR", "#/workflows?status=ERROR");
        views.put("input contains {\"customer\":\"c42\"}", "#/workflows?input=%7B%22customer%22%3A%22c42%22%7D");
        StringBuilder report = new StringBuilder("list page of " + ROWS + " workflows, first page (50 rows) rendered,"
                + " ms from navigation start; median of " + RUNS + " (after one warm-up load)\n");
        List<Double> medians = new ArrayList<>();
        for (Map.Entry<String, String> view : views.entrySet()) {
            double first = load(view.getValue())[0];
            List<Double> rendered = new ArrayList<>();
            List<Double> api = new ArrayList<>();
            for (int i = 0; i < RUNS; i++) {
                double[] t = load(view.getValue());
                rendered.add(t[0]);
                api.add(t[1]);
            }
            String breakdown = String.valueOf(browser.js("return performance.getEntriesByType('resource')"
                    + ".map(r => r.name.replace(/^https?:\\/\\/[^/]+/, '').replace(/\\?.*$/, '?…') + ' '"
                    + " + Math.round(r.startTime) + '+' + Math.round(r.duration)).join(', ')"));
            double median = median(rendered);
            medians.add(median);
            report.append(String.format("%-40s rendered %6.0f ms (runs %s; warm-up %.0f ms); GET /api/v1/workflows %5.0f ms%n",
                    view.getKey(), median, rendered.stream().map(d -> String.valueOf(Math.round(d))).toList(), first,
                    median(api)));
            report.append("    last load, each request's start+duration in ms: ").append(breakdown).append('\n');
        }
        // The API alone, warm, one request at a time (fetch from the page: the same connection and headers).
        for (String path : List.of("me", "workflows?limit=50", "workflows?limit=50&status=ERROR",
                "workflows?limit=50&input=%7B%22customer%22%3A%22c42%22%7D", "workflows/counts")) {
            Object ms = browser.driver.executeAsyncScript("""
                    const done = arguments[arguments.length - 1];
                    const path = arguments[0];
                    const headers = {Authorization: 'Bearer ' + sessionStorage.getItem('tandem.token')};
                    (async () => {
                      const times = [];
                      for (let i = 0; i < 7; i++) {
                        const t0 = performance.now();
                        await (await fetch('/api/v1/' + path, {headers})).text();
                        times.push(performance.now() - t0);
                      }
                      times.sort((a, b) => a - b);
                      done(times[3]);
                    })();
                    """, path);
            report.append(String.format("GET /api/v1/%-55s median of 7 sequential fetches %5.1f ms%n", path,
                    ((Number) ms).doubleValue()));
        }
        System.out.print(report);
        Files.createDirectories(Browser.SCREENSHOTS);
        Files.writeString(Browser.SCREENSHOTS.resolve("list-timing.txt"), report);
        browser.screenshot("list-100k");
        assertThat(medians).allSatisfy(m -> assertThat(m).isLessThan(BOUND_MILLIS));
    }

    /** One full page load: the time of the dashboard's rendered mark, and the list request's duration. */
    private static double[] load(String hash) {
        browser.driver.get("about:blank");
        browser.driver.get(admin.url() + hash);
        browser.wait.until(d -> Boolean.TRUE.equals(browser.js(
                "return performance.getEntriesByName('tandem:list-rendered').length > 0")));
        Number rendered = (Number) browser.js("return performance.getEntriesByName('tandem:list-rendered')[0].startTime");
        Number api = (Number) browser.js("var e = performance.getEntriesByType('resource')"
                + ".filter(r => r.name.indexOf('/api/v1/workflows?') > 0)[0]; return e ? e.duration : -1");
        assertThat(browser.driver.findElements(org.openqa.selenium.By.cssSelector("#workflow-table tr.wf-row")))
                .hasSize(50);
        return new double[] {rendered.doubleValue(), api.doubleValue()};
    }

    private static double median(List<Double> values) {
        List<Double> sorted = values.stream().sorted().toList();
        return sorted.get(sorted.size() / 2);
    }
}
