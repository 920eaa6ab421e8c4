package dev.tandem.bench;

/**
 * Runs a benchmark's phases one after the other: each under a heading ({@code == name ==}), timed,
 * and on failure reported (with its causes) so that the next phase still runs. Remembers whether
 * any phase failed.
 */
final class Phases {
  /** A phase's body. */
  @FunctionalInterface
  interface Body<T> {
    T run() throws Exception;
  }

  private boolean failed;

  /** Runs a phase; on failure prints why, marks the run failed, and returns null. */
  <T> T run(String name, Body<T> body) {
    heading(name);
    long t0 = System.nanoTime();
    try {
      T result = body.run();
      took(t0);
      return result;
    } catch (Throwable e) {
      failed = true;
      report("  failed: ", e);
      return null;
    }
  }

  /** Marks the run failed, for a phase that ended but found something wrong. */
  void fail() {
    failed = true;
  }

  boolean failed() {
    return failed;
  }

  /** Prints a phase's heading, after an empty line. */
  static void heading(String name) {
    System.out.println();
    System.out.println("== " + name + " ==");
  }

  /** Prints how long a phase that started at {@code t0} ({@link System#nanoTime}) took. */
  static void took(long t0) {
    System.out.printf("  phase took %.1f s%n", (System.nanoTime() - t0) / 1e9);
  }

  /**
   * Prints {@code prefix} and the failure, then its causes; rethrows an {@link Error} other than a
   * {@link LinkageError} or an {@link AssertionError}, as nothing should run after it.
   */
  static void report(String prefix, Throwable e) {
    System.out.println(prefix + e);
    for (Throwable cause = e.getCause(); cause != null; cause = cause.getCause()) {
      System.out.println("  caused by: " + cause);
    }
    if (e instanceof Error && !(e instanceof LinkageError) && !(e instanceof AssertionError)) {
      throw (Error) e;
    }
  }
}
