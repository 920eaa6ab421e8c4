package dev.tandem.admin.browser;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tandem.EnqueueOptions;
import dev.tandem.QueueOptions;
import dev.tandem.ScheduleOptions;
import dev.tandem.StartOptions;
import dev.tandem.Tandem;
import dev.tandem.Workflow;
import dev.tandem.WorkflowFailedException;
import dev.tandem.WorkflowHandle;
import dev.tandem.admin.TandemAdmin;
import dev.tandem.testing.TestDatabase;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.ExpectedConditions;

/**
 * The dashboard in headless Chromium, over a real engine's workflows: succeeded, failed with a stack trace,
 * sleeping, waiting for a message, queued behind a busy queue, delayed, cancelled, with children, of an unknown name.
 * The tests run in order: later ones see what earlier ones changed (a cancel, a resume).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DashboardBrowserTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    static final String OPERATOR = "operator-token-0123456789abcdef";
    static final String VIEWER = "viewer-token-0123456789abcdef";
    static final Duration WAIT = Duration.ofSeconds(15);
    static final AtomicBoolean cardFixed = new AtomicBoolean();
    static final CountDownLatch releaseExport = new CountDownLatch(1);

    record Purchase(String customer, int amount) {}

    record Receipt(boolean paid, int cents) {}

    static Tandem tandem;
    static TandemAdmin admin;
    static Browser browser;

    @BeforeAll
    static void setUp() throws Exception {
        Browser.assumeAvailable(); // before building anything
        db.execute("CREATE TABLE payments (customer text, cents int)");
        tandem = Tandem.builder().dataSource(db.dataSource()).executorId("worker-1")
                .pollInterval(Duration.ofMillis(200))
                .queue("serial", QueueOptions.unlimited().concurrency(1))
                .build();
        Workflow<Purchase, Receipt> pay = tandem.register("pay", Purchase.class, (ctx, order) -> {
            int cents = ctx.step("quote", () -> order.amount() * 100);
            ctx.transaction("charge", conn -> {
                try (var ps = conn.prepareStatement("INSERT INTO payments VALUES (?, ?)")) {
                    ps.setString(1, order.customer());
                    ps.setInt(2, cents);
                    ps.executeUpdate();
                }
                return null;
            });
            ctx.sleep(Duration.ofMillis(120));
            ctx.setEvent("receipt", "r-" + order.customer());
            ctx.writeStream("progress", "charged");
            ctx.closeStream("progress");
            return ctx.step("notify", () -> new Receipt(true, cents));
        });
        Workflow<Purchase, String> capture = tandem.register("capture", Purchase.class, (ctx, order) -> {
            ctx.step("reserve", () -> "reserved " + order.amount());
            ctx.step("charge-card", () -> {
                if (!cardFixed.get()) {
                    throw new IllegalStateException("card declined: the issuer did not answer");
                }
                return "captured";
            });
            return ctx.step("receipt", () -> "receipt for " + order.customer());
        });
        Workflow<String, String> approval = tandem.register("approval", String.class, (ctx, what) -> {
            ctx.step("request", () -> "asked for " + what);
            String answer = ctx.recv("approval", String.class, Duration.ofHours(1));
            return ctx.step("apply", () -> "answer: " + answer);
        });
        Workflow<String, String> reminder = tandem.register("reminder", String.class, (ctx, who) -> {
            ctx.step("prepare", () -> "remind " + who);
            ctx.sleep(Duration.ofHours(1));
            return ctx.step("send", () -> "sent");
        });
        Workflow<String, String> export = tandem.register("export", String.class, (ctx, what) ->
                ctx.step("write-file", () -> {
                    releaseExport.await(60, TimeUnit.SECONDS);
                    return what + ".csv";
                }));
        Workflow<String, Integer> batch = tandem.register("batch", String.class, (ctx, day) -> {
            Receipt a = ctx.runChild(pay, new Purchase("alan", 7));
            Receipt b = ctx.runChild(pay, new Purchase("edsger", 9));
            return ctx.step("total", () -> a.cents() + b.cents());
        });
        Workflow<Instant, String> nightly = tandem.register("nightly-report", Instant.class,
                (ctx, tick) -> ctx.step("build", () -> "report of " + tick));
        tandem.start();
        tandem.schedules().create("nightly-report", nightly, "0 2 * * *", ScheduleOptions.defaults());

        List<String> customers = List.of("ada", "grace", "linus", "barbara", "ken", "margaret");
        for (int i = 0; i < customers.size(); i++) {
            pay.start(new Purchase(customers.get(i), 10 + 5 * i), StartOptions.withId("order-" + customers.get(i)))
                    .result(WAIT);
        }
        WorkflowHandle<String> failed = capture.start(new Purchase("dennis", 42), StartOptions.withId("capture-dennis"));
        assertThatThrownBy(() -> failed.result(WAIT)).isInstanceOf(WorkflowFailedException.class);
        batch.start("2026-11-30", StartOptions.withId("batch-2026-11-30")).result(WAIT);
        approval.start("refund #881", StartOptions.withId("approval-881"));
        tandem.send("approval-881", "comment", "customer called twice");
        reminder.start("bob", StartOptions.withId("reminder-bob"));
        reminder.start("eve", StartOptions.withId("reminder-eve"));
        export.enqueue("invoices", EnqueueOptions.withId("export-invoices").queue("serial"));
        export.enqueue("payments", EnqueueOptions.withId("export-payments").queue("serial"));
        pay.enqueue(new Purchase("joan", 12), EnqueueOptions.withId("order-joan").delay(Duration.ofHours(2)));
        db.execute("SELECT tandem.enqueue_workflow('retired-report', '[\"q3\"]', workflow_id => 'retired-report-q3')");
        awaitStatus("approval-881", "RUNNING");
        awaitStatus("reminder-eve", "RUNNING");
        tandem.cancel("reminder-eve");
        awaitStatus("reminder-eve", "CANCELLED");
        awaitStatus("export-invoices", "RUNNING");

        admin = TandemAdmin.create(tandem).port(0).tokens(OPERATOR, VIEWER).start();
        browser = Browser.start();
    }

    @AfterAll
    static void tearDown() {
        releaseExport.countDown();
        if (browser != null) {
            browser.close();
        }
        if (admin != null) {
            admin.close();
        }
        if (tandem != null) {
            tandem.close();
        }
    }

    @Test
    @Order(1)
    void aWrongTokenIsRefusedWithTheApisMessage() {
        signIn("not-a-valid-token-at-all");
        WebElement error = browser.waitFor(By.id("login-error"));
        assertThat(error.getText()).contains("invalid token");
        assertThat(browser.driver.findElements(By.id("role"))).isEmpty();
        browser.screenshot("login-error");
    }

    @Test
    @Order(2)
    void theListFiltersByStatusAndByInputContainment() {
        signInAs(OPERATOR, "operator");
        go("#/workflows");
        waitForRows(rows -> rows.size() >= 12);
        waitForText(By.cssSelector(".chip[data-status=ERROR] .count"), "1");
        waitForText(By.cssSelector(".chip[data-status=SUCCESS] .count"), "9");
        browser.screenshot("list-light");

        browser.driver.findElement(By.id("theme-toggle")).click();
        browser.wait.until(d -> "dark".equals(browser.js("return document.documentElement.dataset.theme")));
        browser.screenshot("list-dark");
        browser.driver.findElement(By.id("theme-toggle")).click();

        browser.driver.findElement(By.cssSelector(".chip[data-status=ERROR]")).click();
        browser.wait.until(ExpectedConditions.urlContains("status=ERROR"));
        List<WebElement> errors = waitForRows(rows -> rows.size() == 1);
        assertThat(errors.get(0).getAttribute("data-id")).isEqualTo("capture-dennis");
        assertThat(errors.get(0).getText()).contains("card declined");

        go("#/workflows");
        waitForRows(rows -> rows.size() >= 12);
        WebElement input = browser.driver.findElement(By.cssSelector("#filters input[name=input]"));
        input.sendKeys("{\"customer\": \"grace\"}");
        browser.driver.findElement(By.id("apply-filters")).click();
        List<WebElement> grace = waitForRows(rows -> rows.size() == 1);
        assertThat(grace.get(0).getAttribute("data-id")).isEqualTo("order-grace");
        assertThat(browser.driver.getCurrentUrl()).contains("input=");
        browser.screenshot("list-filtered");
    }

    @Test
    @Order(3)
    void aWorkflowsTimelineShowsEveryStep() {
        go("#/workflow/order-ada");
        browser.waitFor(By.id("timeline"));
        long steps = db.queryLong("SELECT count(*) FROM tandem.steps WHERE workflow_id = 'order-ada'");
        assertThat(steps).isGreaterThanOrEqualTo(6);
        assertThat(browser.driver.findElements(By.cssSelector("#timeline .tl-row .tl-bar"))).hasSize((int) steps);
        assertThat(browser.driver.findElements(By.cssSelector("#timeline .tl-row .tl-bar.wait"))).hasSize(1);
        assertThat(browser.driver.findElement(By.id("wf-status")).getText()).isEqualTo("SUCCESS");
        String slept = browser.driver.findElement(By.cssSelector("#timeline .tl-row[data-position='3'] .tl-dur")).getText();
        assertThat(Integer.parseInt(slept.replace(" ms", ""))).as("the 120 ms sleep's bar").isBetween(100, 999);
        browser.driver.findElement(By.cssSelector("#timeline .tl-row[data-position='2']")).click();
        assertThat(browser.waitFor(By.id("step-detail")).getText()).contains("TRANSACTION").contains("charge");
        assertThat(browser.driver.findElement(By.id("events")).getText()).contains("receipt").contains("r-ada");
        assertThat(browser.driver.findElement(By.id("streams")).getText()).contains("progress");
        browser.screenshot("workflow");

        go("#/workflow/batch-2026-11-30");
        browser.waitFor(By.id("children"));
        assertThat(browser.driver.findElements(By.cssSelector("#children tbody tr"))).hasSize(2);
        long batchSteps = db.queryLong("SELECT count(*) FROM tandem.steps WHERE workflow_id = 'batch-2026-11-30'");
        assertThat(browser.driver.findElements(By.cssSelector("#timeline .tl-row .tl-bar"))).hasSize((int) batchSteps);
        browser.screenshot("workflow-children");

        go("#/workflow/capture-dennis");
        browser.waitFor(By.cssSelector("#timeline .tl-row .tl-bar.failed"));
        assertThat(browser.driver.findElement(By.cssSelector(".error-view")).getText())
                .contains("card declined");
        assertThat(browser.driver.findElement(By.cssSelector(".error-view pre.stack")).getAttribute("textContent"))
                .contains("DashboardBrowserTest");
        browser.screenshot("workflow-failed");
    }

    @Test
    @Order(4)
    void anOperatorCancelsAWorkflowAndSeesItsStatusChange() {
        go("#/workflow/approval-881");
        browser.waitFor(By.id("timeline"));
        assertThat(browser.driver.findElement(By.id("wf-status")).getText()).isEqualTo("RUNNING");
        assertThat(browser.driver.findElement(By.id("messages")).getText()).contains("customer called twice");
        browser.driver.findElement(By.cssSelector("#actions [data-action=cancel]")).click();
        browser.waitFor(By.id("dialog-ok")).click();
        waitForText(By.id("wf-status"), "CANCELLED");
        assertThat(browser.waitFor(By.id("action-result")).getText()).contains("cancelled");
        assertThat(status("approval-881")).isEqualTo("CANCELLED");
        assertThat(db.queryLong("SELECT count(*) FROM tandem.audit_log WHERE action = 'workflow.cancel'"
                + " AND target = 'approval-881' AND actor = 'operator-token'")).isEqualTo(1);
    }

    @Test
    @Order(5)
    void anOperatorResumesAFailedWorkflowAndItSucceeds() {
        cardFixed.set(true);
        go("#/workflow/capture-dennis");
        browser.waitFor(By.cssSelector("#actions [data-action=resume]")).click();
        browser.waitFor(By.id("dialog-ok")).click();
        browser.waitFor(By.id("action-result"));
        waitForText(By.id("wf-status"), "SUCCESS");
        assertThat(status("capture-dennis")).isEqualTo("SUCCESS");
    }

    @Test
    @Order(6)
    void bulkCancelShowsADryRunFirst() {
        go("#/workflows?status=DELAYED");
        waitForRows(rows -> rows.size() == 1);
        browser.driver.findElement(By.id("bulk-cancel")).click();
        assertThat(browser.waitFor(By.id("bulk-summary")).getText()).contains("Dry run: 1 workflow");
        assertThat(status("order-joan")).as("a dry run changes nothing").isEqualTo("DELAYED");
        browser.driver.findElement(By.id("dialog-ok")).click();
        browser.wait.until(d -> status("order-joan").equals("CANCELLED"));
        waitForText(By.cssSelector(".chip[data-status=DELAYED] .count"), "0");
    }

    @Test
    @Order(7)
    void theOtherPagesShowQueuesExecutorsSchedulesStuckWorkflowsAndTheAuditLog() {
        go("#/queues");
        WebElement queues = browser.waitFor(By.id("queue-table"));
        assertThat(queues.getText()).contains("serial").contains("default");
        browser.screenshot("queues");

        go("#/executors");
        assertThat(browser.waitFor(By.id("executor-table")).getText()).contains("worker-1").contains("live");
        browser.screenshot("executors");

        go("#/schedules");
        assertThat(browser.waitFor(By.id("schedule-table")).getText()).contains("nightly-report").contains("0 2 * * *");
        browser.driver.findElement(By.cssSelector("[data-schedule=nightly-report] [data-action=pause]")).click();
        browser.waitFor(By.id("dialog-ok")).click();
        browser.wait.until(d -> d.findElement(By.id("schedule-table")).getText().contains("paused"));
        browser.screenshot("schedules");

        go("#/stuck");
        WebElement stuck = browser.waitFor(By.id("stuck-table"));
        assertThat(stuck.getText()).contains("UNKNOWN_WORKFLOW").contains("retired-report-q3");
        browser.screenshot("stuck");

        go("#/audit");
        assertThat(browser.waitFor(By.id("audit-table")).getText()).contains("workflow.cancel").contains("approval-881")
                .contains("schedule.pause");
        browser.screenshot("audit");
    }

    @Test
    @Order(8)
    void aViewerSeesNoActionButtons() {
        signInAs(VIEWER, "viewer");
        go("#/workflows");
        waitForRows(rows -> rows.size() >= 12);
        assertThat(browser.driver.findElements(By.id("bulk-cancel"))).isEmpty();
        go("#/workflow/reminder-bob");
        browser.waitFor(By.id("timeline"));
        assertThat(browser.driver.findElements(By.id("actions"))).isEmpty();
        assertThat(browser.driver.findElements(By.cssSelector("[data-action]"))).isEmpty();
        go("#/schedules");
        browser.waitFor(By.id("schedule-table"));
        assertThat(browser.driver.findElements(By.cssSelector("[data-action]"))).isEmpty();
    }

    @Test
    @Order(9)
    void withoutAuthenticationItGoesStraightInAndItsSameOriginActionsAreAccepted() {
        try (TandemAdmin open = TandemAdmin.create(tandem).port(0).noAuth().start()) {
            browser.driver.get(open.url() + "#/workflow/reminder-bob");
            waitForText(By.id("role"), "operator");
            assertThat(browser.driver.findElements(By.id("login-token"))).isEmpty();
            assertThat(browser.driver.findElement(By.id("sign-out")).isDisplayed()).isFalse();
            browser.waitFor(By.cssSelector("#actions [data-action=send]")).click();
            browser.waitFor(By.id("send-topic")).sendKeys("nudge");
            browser.driver.findElement(By.id("dialog-ok")).click();
            assertThat(browser.waitFor(By.id("action-result")).getText()).contains("sent on topic 'nudge'");
            assertThat(browser.driver.findElement(By.id("messages")).getText()).contains("nudge");
        }
    }

    // ------------------------------------------------------------------------------------------------------ helpers

    static void signIn(String token) {
        browser.driver.get(admin.url());
        browser.js("sessionStorage.clear()");
        browser.driver.navigate().refresh();
        WebElement input = browser.waitFor(By.id("login-token"));
        input.sendKeys(token);
        browser.driver.findElement(By.id("login-submit")).click();
    }

    static void signInAs(String token, String role) {
        signIn(token);
        waitForText(By.id("role"), role);
    }

    static void go(String hash) {
        browser.open(admin.url(), hash);
    }

    static List<WebElement> waitForRows(java.util.function.Predicate<List<WebElement>> ok) {
        return browser.wait.until(d -> {
            List<WebElement> rows = d.findElements(By.cssSelector("#workflow-table tbody tr.wf-row"));
            return ok.test(rows) ? rows : null;
        });
    }

    static void waitForText(By by, String text) {
        browser.wait.until(ExpectedConditions.textToBe(by, text));
    }

    static String status(String id) {
        return db.queryString("SELECT status FROM tandem.workflow_status WHERE workflow_id = '" + id + "'");
    }

    static void awaitStatus(String id, String expected) {
        Awaitility.await(id + " " + expected).atMost(WAIT).pollInterval(Duration.ofMillis(20))
                .until(() -> expected.equals(status(id)));
    }
}
