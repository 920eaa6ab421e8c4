package dev.tandem.bench;

/**
 * The pure parts of the payments workflow, shared by every system so that each one does the same
 * work. Workflow {@code i} quotes an amount, charges it to account {@code i % 100}, and returns a
 * receipt.
 */
public final class PaymentsWorkload {
  private PaymentsWorkload() {}

  /** Step {@code quote}: the amount in cents for payment {@code i}, between 100 and 99_999. */
  public static int quote(int i) {
    // A little integer mixing, so the step is real (if cheap) computation.
    int h = i * 0x9E3779B1;
    h ^= h >>> 15;
    h *= 0x85EBCA77;
    h ^= h >>> 13;
    return 100 + Math.floorMod(h, 99_900);
  }

  /** The account that payment {@code i} is charged to. */
  public static int account(int i) {
    return Math.floorMod(i, PaymentsSchema.ACCOUNTS);
  }

  /** The reference stored with payment {@code i}. */
  public static String ref(int i) {
    return "pay-" + i;
  }

  /** Step {@code receipt}: a human-readable receipt for payment {@code i}. */
  public static String receipt(int i, int cents) {
    return "receipt " + ref(i) + ": " + (cents / 100) + "." + String.format("%02d", cents % 100)
        + " charged to account " + account(i);
  }

  /** The receipt as a JSON string, for the systems that store it without a JSON library (it holds no quote,
   * backslash or control character). */
  static String receiptJson(int i, int cents) {
    return '"' + receipt(i, cents) + '"';
  }
}
