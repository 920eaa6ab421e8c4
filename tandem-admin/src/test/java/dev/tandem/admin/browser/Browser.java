package dev.tandem.admin.browser;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import org.junit.jupiter.api.Assumptions;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * Headless Chromium for the dashboard's tests: the system's browser and driver (Debian's {@code chromium} and
 * {@code chromium-driver}), given by path so that Selenium Manager never runs and nothing is downloaded. When they
 * are not installed, the tests are skipped with a message saying how to install them.
 */
final class Browser implements AutoCloseable {
    static final String CHROMIUM = System.getProperty("tandem.chromium", "/usr/bin/chromium");
    static final String CHROMEDRIVER = System.getProperty("tandem.chromedriver", "/usr/bin/chromedriver");
    static final Path SCREENSHOTS = Path.of("target", "screenshots");
    static final Duration WAIT = Duration.ofSeconds(15);

    final ChromeDriver driver;
    final WebDriverWait wait;
    private final Path profile;

    private Browser(ChromeDriver driver, Path profile) {
        this.driver = driver;
        this.profile = profile;
        this.wait = new WebDriverWait(driver, WAIT);
        wait.ignoring(StaleElementReferenceException.class);
    }

    /** Skips the test class, saying why, when Chromium or its driver is missing. */
    static void assumeAvailable() {
        boolean available = new File(CHROMIUM).canExecute() && new File(CHROMEDRIVER).canExecute();
        String why = "browser tests skipped: " + CHROMIUM + " or " + CHROMEDRIVER + " is missing (on Debian/Ubuntu:"
                + " apt-get install -y chromium chromium-driver; .ci/run does this)";
        if (!available) {
            System.err.println("WARNING: " + why); // surefire counts a skipped class as 0 tests, without the reason
        }
        Assumptions.assumeTrue(available, why);
    }

    /** Starts a browser, or skips the test class when Chromium or its driver is missing. */
    static Browser start() {
        assumeAvailable();
        Path profile;
        try {
            profile = Files.createTempDirectory("tandem-chromium-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM);
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--window-size=1366,900", "--user-data-dir=" + profile.toAbsolutePath(), "--force-color-profile=srgb",
                "--hide-scrollbars");
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(new File(CHROMEDRIVER))
                .usingAnyFreePort()
                .build();
        ChromeDriver driver = new ChromeDriver(service, options);
        return new Browser(driver, profile);
    }

    WebElement waitFor(By by) {
        return wait.until(ExpectedConditions.visibilityOfElementLocated(by));
    }

    /**
     * Opens a page of the dashboard by its hash route and waits until the dashboard has drawn that route (it marks
     * {@code #app} with the route and the render's number), so no element of the previous page is found.
     */
    void open(String baseUrl, String hash) {
        String target = baseUrl + hash;
        if (target.equals(driver.getCurrentUrl())) {
            driver.navigate().refresh();
        } else {
            js("var app = document.getElementById('app'); if (app) { app.dataset.seq = 'old'; }");
            driver.get(target);
        }
        wait.until(d -> Boolean.TRUE.equals(js("var app = document.getElementById('app');"
                + " return !!app && app.dataset.route === location.hash && !!app.dataset.seq"
                + " && app.dataset.seq !== 'old';")));
    }

    Object js(String script, Object... args) {
        return ((JavascriptExecutor) driver).executeScript(script, args);
    }

    /** Sets the viewport's size (the window of headless Chromium has no frame). */
    void viewport(int width, int height) {
        driver.manage().window().setSize(new org.openqa.selenium.Dimension(width, height));
    }

    Path screenshot(String name) {
        try {
            Files.createDirectories(SCREENSHOTS);
            Path target = SCREENSHOTS.resolve(name + ".png");
            Files.copy(driver.getScreenshotAs(OutputType.FILE).toPath(), target, StandardCopyOption.REPLACE_EXISTING);
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    WebDriver driver() {
        return driver;
    }

    @Override
    public void close() {
        try {
            driver.quit();
        } finally {
            deleteQuietly(profile);
        }
    }

    private static void deleteQuietly(Path dir) {
        try (var walk = Files.walk(dir)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException | UncheckedIOException e) {
            // a temporary profile left behind is harmless
        }
    }
}
