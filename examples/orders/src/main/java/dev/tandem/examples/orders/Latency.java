package dev.tandem.examples.orders;

import java.util.concurrent.ThreadLocalRandom;

/** Simulated network latency, so that a batch takes long enough for the crash to land in the middle of it. */
final class Latency {
    private Latency() {}

    static void pause(int minMillis, int maxMillis) throws InterruptedException {
        Thread.sleep(ThreadLocalRandom.current().nextInt(minMillis, maxMillis + 1));
    }
}
