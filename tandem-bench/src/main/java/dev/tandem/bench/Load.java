package dev.tandem.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/** Drives a task with a fixed number of runs in flight, or one run at a time for latency. */
final class Load {
  /** One run of a workload, identified by its index. */
  @FunctionalInterface
  interface IndexedTask {
    void run(int i) throws Exception;
  }

  private Load() {}

  /**
   * Runs {@code task} for indices {@code first .. first + n - 1} on {@code concurrency} threads,
   * each taking the next index as soon as its previous run is done. Stops at the first failure
   * and rethrows it.
   *
   * @return elapsed wall time in nanoseconds
   */
  static long concurrently(String name, int n, int concurrency, int first, IndexedTask task)
      throws Exception {
    AtomicInteger next = new AtomicInteger(0);
    AtomicReference<Throwable> failure = new AtomicReference<>();
    List<Thread> threads = new ArrayList<>(concurrency);
    for (int t = 0; t < concurrency; t++) {
      Thread thread =
          new Thread(
              () -> {
                while (failure.get() == null) {
                  int k = next.getAndIncrement();
                  if (k >= n) {
                    return;
                  }
                  try {
                    task.run(first + k);
                  } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                    return;
                  }
                }
              },
              name + "-" + t);
      thread.setDaemon(true);
      threads.add(thread);
    }
    long start = System.nanoTime();
    for (Thread thread : threads) {
      thread.start();
    }
    for (Thread thread : threads) {
      thread.join();
    }
    long elapsed = System.nanoTime() - start;
    Throwable e = failure.get();
    if (e instanceof Exception ex) {
      throw ex;
    }
    if (e instanceof Error err) {
      throw err;
    }
    return elapsed;
  }

  /**
   * Starts run {@code first + k} at {@code k / rate} seconds (an open loop: a slow run does not
   * delay the next start) on a pool of {@code threads}, and returns each run's time from when it
   * was due to when it ended, so that a backlog counts as latency. Stops at the first failure.
   */
  static Latencies atRate(String name, int n, double rate, int threads, int first, IndexedTask task)
      throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    });
    long[] nanos = new long[n];
    AtomicReference<Throwable> failure = new AtomicReference<>();
    CountDownLatch done = new CountDownLatch(n);
    long start = System.nanoTime() + 10_000_000;
    try {
      for (int k = 0; k < n && failure.get() == null; k++) {
        long due = start + Math.round(k * 1e9 / rate);
        for (long wait = due - System.nanoTime(); wait > 0; wait = due - System.nanoTime()) {
          LockSupport.parkNanos(wait);
        }
        int index = k;
        pool.execute(() -> {
          try {
            task.run(first + index);
            nanos[index] = System.nanoTime() - due;
          } catch (Throwable e) {
            failure.compareAndSet(null, e);
          } finally {
            done.countDown();
          }
        });
      }
      if (failure.get() == null) {
        done.await();
      }
    } finally {
      pool.shutdownNow();
    }
    Throwable e = failure.get();
    if (e instanceof Exception ex) {
      throw ex;
    }
    if (e instanceof Error err) {
      throw err;
    }
    return Latencies.of(nanos);
  }

  /** Runs {@code task} {@code n} times in a row and returns each run's time, sorted. */
  static Latencies sequentially(int n, int first, IndexedTask task) throws Exception {
    long[] nanos = new long[n];
    for (int k = 0; k < n; k++) {
      long start = System.nanoTime();
      task.run(first + k);
      nanos[k] = System.nanoTime() - start;
    }
    return Latencies.of(nanos);
  }

  /** Sorted run times in nanoseconds. */
  record Latencies(long[] sortedNanos) {
    /** The times in {@code nanos} (left as they are), sorted. */
    static Latencies of(long[] nanos) {
      long[] copy = nanos.clone();
      Arrays.sort(copy);
      return new Latencies(copy);
    }

    /** Nearest-rank percentile in milliseconds, {@code p} in (0, 1]. */
    double percentileMillis(double p) {
      int n = sortedNanos.length;
      int rank = (int) Math.ceil(p * n);
      return sortedNanos[Math.min(n, Math.max(1, rank)) - 1] / 1e6;
    }

    double maxMillis() {
      return percentileMillis(1.0);
    }

    double minMillis() {
      return sortedNanos[0] / 1e6;
    }

    double meanMillis() {
      return Arrays.stream(sortedNanos).average().orElse(0) / 1e6;
    }

    int count() {
      return sortedNanos.length;
    }

    /** {@code p50=<ms> ms p99=<ms> ms}, with {@code decimals} decimals. */
    String p50p99(int decimals) {
      String f = "%." + decimals + "f";
      return String.format(
          "p50=" + f + " ms p99=" + f + " ms", percentileMillis(0.50), percentileMillis(0.99));
    }

    @Override
    public String toString() {
      return p50p99(2) + " (" + count() + " sequential runs)";
    }
  }

  /** Runs per second for {@code n} runs in {@code nanos}. */
  static double perSecond(int n, long nanos) {
    return n / (nanos / 1e9);
  }
}
