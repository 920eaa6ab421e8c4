package dev.tandem.bench;

import dev.tandem.Tandem;
import dev.tandem.Workflow;
import dev.tandem.WorkflowContext;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The primitives workload on Tandem: one engine with its default settings (pool of 16, virtual
 * threads when the JVM has them) and three workflows.
 *
 * <ul>
 *   <li>{@value #RECEIVER}{@code (n)}: {@code n} times, {@code recv} on topic {@value #TOPIC}, then a
 *       step that reads {@link System#nanoTime} and hands it to the waiter the driver registered for
 *       that message ({@link #marks}).
 *   <li>{@value #EVENTER}{@code (n)}: {@code n} times, {@code recv} on topic {@value #GO} (message
 *       {@code k}), {@code setEvent("e<k>", k)}, then the same kind of step, run as soon as {@code
 *       setEvent} has returned (its transaction committed).
 *   <li>{@value #SLEEPER}{@code (i)}: {@code sleep(S)}, then records when it woke ({@link
 *       #wokeMicros}) and ends.
 * </ul>
 */
final class TandemPrimitives implements AutoCloseable {
  static final String RECEIVER = "prim_receiver";
  static final String EVENTER = "prim_eventer";
  static final String SLEEPER = "prim_sleeper";
  static final String TOPIC = "ping";
  static final String GO = "go";
  static final Duration RECV_TIMEOUT = Duration.ofSeconds(60);

  private final Tandem tandem;
  private final Workflow<Integer, Integer> receiver;
  private final Workflow<Integer, Integer> eventer;
  private final Workflow<Integer, Integer> sleeper;
  private final Marks marks = new Marks();
  /** Epoch microseconds at which sleeper {@code i} woke; 0 until it did. */
  private volatile AtomicLongArray woke = new AtomicLongArray(0);

  TandemPrimitives(String jdbcUrl, Duration sleep) {
    tandem = Tandem.builder().databaseUrl(jdbcUrl).build();
    receiver =
        tandem.register(
            RECEIVER,
            Integer.class,
            (ctx, n) -> {
              for (int k = 0; k < n; k++) {
                int m = take(ctx, TOPIC, k);
                markStep(ctx, m);
              }
              return n;
            });
    eventer =
        tandem.register(
            EVENTER,
            Integer.class,
            (ctx, n) -> {
              for (int k = 0; k < n; k++) {
                int m = take(ctx, GO, k);
                ctx.setEvent("e" + m, m);
                markStep(ctx, m);
              }
              return n;
            });
    sleeper =
        tandem.register(
            SLEEPER,
            Integer.class,
            (ctx, i) -> {
              ctx.sleep(sleep);
              woke.set(i, epochMicros());
              return i;
            });
    tandem.start();
  }

  Tandem tandem() {
    return tandem;
  }

  Workflow<Integer, Integer> receiver() {
    return receiver;
  }

  Workflow<Integer, Integer> eventer() {
    return eventer;
  }

  Workflow<Integer, Integer> sleeper() {
    return sleeper;
  }

  /** A second engine with no workflows, standing for another process: it is reached by NOTIFY. */
  static Tandem client(String jdbcUrl) {
    Tandem client = Tandem.builder().databaseUrl(jdbcUrl).maxPoolSize(4).build();
    client.start();
    return client;
  }

  /** Where the driver waits for the time a workflow's step after {@code recv} read. */
  Marks marks() {
    return marks;
  }

  /** Message {@code k} on {@code topic}, waiting up to {@link #RECV_TIMEOUT}. */
  private static int take(WorkflowContext ctx, String topic, int k) {
    Integer m = ctx.recv(topic, Integer.class, RECV_TIMEOUT);
    if (m == null) {
      throw new IllegalStateException("no message " + k + " within " + RECV_TIMEOUT);
    }
    return m;
  }

  /** A step that reads the time and hands it to the driver waiting for message {@code m}. */
  private void markStep(WorkflowContext ctx, int m) {
    String id = ctx.workflowId();
    ctx.step("mark", () -> marks.mark(id, m, System.nanoTime()));
  }

  /** Makes room for {@code n} sleepers' wake-up times (allocated before the heap baseline). */
  void prepareSleepers(int n) {
    woke = new AtomicLongArray(n);
  }

  long wokeMicros(int i) {
    return woke.get(i);
  }

  static long epochMicros() {
    Instant now = Instant.now();
    return now.getEpochSecond() * 1_000_000L + now.getNano() / 1_000;
  }

  @Override
  public void close() {
    tandem.close();
  }
}
