package dev.tandem.test;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/** The crash asked for by crashAfterStep: armed for a step name, taken by the first workflow that ends it. */
final class CrashPoint {
    private @Nullable String armed;
    private CountDownLatch done = new CountDownLatch(1);

    synchronized void arm(String stepName) {
        armed = stepName;
        done = new CountDownLatch(1);
    }

    synchronized void disarm() {
        armed = null;
    }

    synchronized @Nullable String armedStep() {
        return armed;
    }

    synchronized boolean take(String stepName) {
        if (stepName.equals(armed)) {
            armed = null;
            return true;
        }
        return false;
    }

    void happened() {
        latch().countDown();
    }

    boolean await(Duration timeout) {
        try {
            return latch().await(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private synchronized CountDownLatch latch() {
        return done;
    }
}
