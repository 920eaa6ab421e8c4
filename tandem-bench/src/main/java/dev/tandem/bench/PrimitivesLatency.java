package dev.tandem.bench;

import dev.tandem.StartOptions;
import dev.tandem.Tandem;
import dev.tandem.WorkflowHandle;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The send→recv and getEvent phases of {@link PrimitivesBench}: the same two loops on either
 * system, driven through a {@link Sender} (a Tandem engine, the DBOS instance, or a {@code
 * DBOSClient}).
 *
 * <ul>
 *   <li>{@link #sendRecv}: the receiver workflow loops on {@code recv}; the driver sends it one
 *       message at a time and waits until the workflow's step after {@code recv} has run. Latency:
 *       from just before the send to {@link System#nanoTime} in that step. Before each send the
 *       driver pauses {@value #GAP_MILLIS} ms, so that the workflow is already waiting in {@code
 *       recv}.
 *   <li>{@link #event}: the eventer workflow loops on {@code recv}, {@code setEvent("e<k>", k)} and
 *       a step that reads the time; the driver sends message {@code k} and at once blocks in {@code
 *       getEvent(id, "e<k>")}. Wake-up latency: from that step to {@code getEvent}'s return; round
 *       trip: from before the send to that return.
 * </ul>
 */
final class PrimitivesLatency {
  static final int WARMUP_RUNS = 100;
  /** Pause before each message, so that the receiver is already waiting. */
  static final int GAP_MILLIS = 10;

  /**
   * Rounds of getEvent through a DBOSClient: its getEvent returns about a second after the event
   * is set (DBOS's database poll interval, 1 s, not a notification), so a few rounds show it.
   */
  private static final int CLIENT_EVENT_WARMUP_RUNS = 3;

  private static final int CLIENT_EVENT_RUNS = 20;
  private static final Duration WAIT = Duration.ofSeconds(30);

  /** Latencies of one send→recv phase, in nanoseconds. */
  record Messages(Load.Latencies sendToRecv, Load.Latencies sendCall) {}

  /** Latencies of one getEvent phase, in nanoseconds. */
  record Events(Load.Latencies wake, Load.Latencies roundTrip) {}

  /**
   * One system's four phases: driven by the engine or instance that runs the workflows, and by
   * another one (remote); null where a phase failed or did not run.
   */
  record Results(Messages sendRecv, Events event, Messages remoteSendRecv, Events remoteEvent) {
    static final Results NONE = new Results(null, null, null, null);

    Load.Latencies sendToRecv() {
      return sendRecv == null ? null : sendRecv.sendToRecv();
    }

    Load.Latencies wake() {
      return event == null ? null : event.wake();
    }

    Load.Latencies roundTrip() {
      return event == null ? null : event.roundTrip();
    }

    Load.Latencies remoteSendToRecv() {
      return remoteSendRecv == null ? null : remoteSendRecv.sendToRecv();
    }

    Load.Latencies remoteWake() {
      return remoteEvent == null ? null : remoteEvent.wake();
    }

    Load.Latencies remoteRoundTrip() {
      return remoteEvent == null ? null : remoteEvent.roundTrip();
    }
  }

  /** A started workflow, to wait for at the end of a phase. */
  @FunctionalInterface
  interface Started {
    void await() throws Exception;
  }

  /** The system under test as the driver sees it: starts the workflows, sends, reads events. */
  abstract static class Sender {
    /** In the workflow ids. */
    private final String label;
    /** Start of the line that reports the send call alone. */
    private final String sendCallLabel;
    /** What the line that counts the getEvent rounds adds. */
    private final String roundsNote;
    /** Where the workflows' steps after {@code recv} report the time. */
    private final Marks marks;

    Sender(String label, String sendCallLabel, String roundsNote, Marks marks) {
      this.label = label;
      this.sendCallLabel = sendCallLabel;
      this.roundsNote = roundsNote;
      this.marks = marks;
    }

    abstract Started startReceiver(String id, int n);

    abstract Started startEventer(String id, int n);

    abstract void send(String id, String topic, int k);

    /** The value of event {@code key}, waiting up to {@code timeout}; null if none. */
    abstract Object getEvent(String id, String key, Duration timeout);

    /** What to add to the failure when round {@code k}'s getEvent came back empty. */
    String diagnosis(String id, int k, CompletableFuture<Long> set, long waitedNanos) {
      return "";
    }

    int eventWarmupRuns() {
      return WARMUP_RUNS;
    }

    int eventRuns(int latencyRuns) {
      return latencyRuns;
    }
  }

  private final int runs;
  private final String runId;

  /** Phases of {@code runs} timed rounds each, in workflows whose ids end in {@code runId}. */
  PrimitivesLatency(int runs, String runId) {
    this.runs = runs;
    this.runId = runId;
  }

  /** Times messages sent by {@code s} to a workflow waiting in {@code recv}. */
  Messages sendRecv(Sender s) throws Exception {
    int total = WARMUP_RUNS + runs;
    String id = "prim-recv-" + s.label + "-" + runId;
    Started handle = s.startReceiver(id, total);
    long[] latency = new long[runs];
    long[] call = new long[runs];
    for (int k = 0; k < total; k++) {
      CompletableFuture<Long> received = s.marks.expect(id, k);
      Thread.sleep(GAP_MILLIS);
      long t0 = System.nanoTime();
      s.send(id, TandemPrimitives.TOPIC, k);
      long t1 = System.nanoTime();
      long at = received.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
      if (k >= WARMUP_RUNS) {
        latency[k - WARMUP_RUNS] = at - t0;
        call[k - WARMUP_RUNS] = t1 - t0;
      }
    }
    handle.await();
    Messages m = new Messages(Load.Latencies.of(latency), Load.Latencies.of(call));
    System.out.printf(
        "  workflow %s: %d messages (%d warm-up), each sent after a %d ms pause%n",
        id, total, WARMUP_RUNS, GAP_MILLIS);
    System.out.println("  send -> step after recv:   " + stats(m.sendToRecv()));
    System.out.println(s.sendCallLabel + stats(m.sendCall()));
    return m;
  }

  /** Times events set by a workflow and read by {@code s}, which sends each round's message. */
  Events event(Sender s) throws Exception {
    int warmup = s.eventWarmupRuns();
    int timed = s.eventRuns(runs);
    int total = warmup + timed;
    String id = "prim-event-" + s.label + "-" + runId;
    Started handle = s.startEventer(id, total);
    long[] wake = new long[timed];
    long[] roundTrip = new long[timed];
    int early = 0;
    for (int k = 0; k < total; k++) {
      CompletableFuture<Long> set = s.marks.expect(id, k);
      Thread.sleep(GAP_MILLIS);
      long t0 = System.nanoTime();
      s.send(id, TandemPrimitives.GO, k);
      Object v = s.getEvent(id, "e" + k, WAIT);
      long t2 = System.nanoTime();
      if (!(v instanceof Number num) || num.intValue() != k) {
        throw new IllegalStateException(
            "getEvent(" + id + ", e" + k + ") returned " + v + s.diagnosis(id, k, set, t2 - t0));
      }
      long setAt = set.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
      if (k >= warmup) {
        wake[k - warmup] = t2 - setAt;
        roundTrip[k - warmup] = t2 - t0;
        if (t2 < setAt) {
          early++;
        }
      }
    }
    handle.await();
    Events e = new Events(Load.Latencies.of(wake), Load.Latencies.of(roundTrip));
    System.out.printf("  workflow %s: %d rounds (%d warm-up)%s%n", id, total, warmup, s.roundsNote);
    System.out.println("  setEvent returned -> getEvent returned: " + stats(e.wake()));
    System.out.println("  send -> getEvent returned:              " + stats(e.roundTrip()));
    if (early > 0) {
      System.out.println(
          "  note: in " + early + " rounds getEvent returned before the workflow read its clock");
    }
    return e;
  }

  /** p50, p99, mean and max in ms, and how many. */
  static String stats(Load.Latencies l) {
    return String.format(
        "%s mean=%.2f ms max=%.2f ms (n=%d)",
        l.p50p99(2), l.meanMillis(), l.maxMillis(), l.count());
  }

  // ---- the systems ------------------------------------------------------------------------------

  /**
   * Tandem: {@code prims} runs the workflows; {@code sender} sends the messages and {@code reader}
   * reads the events (that engine, or another one reached only by NOTIFY). {@code label} goes into
   * the workflow ids.
   */
  static Sender tandem(
      String url, TandemPrimitives prims, Tandem sender, Tandem reader, String label) {
    return new Sender(
        label,
        "  Tandem.send call alone:    ",
        " of send(go, k), recv, setEvent(e<k>), mark; the driver blocks in getEvent(e<k>) right"
            + " after its send",
        prims.marks()) {
      @Override
      Started startReceiver(String id, int n) {
        WorkflowHandle<Integer> handle = prims.receiver().start(n, StartOptions.withId(id));
        return () -> handle.result(WAIT);
      }

      @Override
      Started startEventer(String id, int n) {
        WorkflowHandle<Integer> handle = prims.eventer().start(n, StartOptions.withId(id));
        return () -> handle.result(WAIT);
      }

      @Override
      void send(String id, String topic, int k) {
        sender.send(id, topic, k, null);
      }

      @Override
      Object getEvent(String id, String key, Duration timeout) {
        return reader.getEvent(id, key, Integer.class, timeout);
      }

      @Override
      String diagnosis(String id, int k, CompletableFuture<Long> set, long waitedNanos) {
        return " after " + waitedNanos / 1_000_000 + " ms; " + eventDiagnosis(url, id, k, set);
      }
    };
  }

  /** DBOS Transact: {@code d} runs the workflows; {@code driver} sends and reads the events. */
  static Sender dbos(DbosPrimitives d, DbosPrimitives.Driver driver) {
    boolean client = driver == DbosPrimitives.Driver.CLIENT;
    return new Sender(
        "dbos-" + driver.name().toLowerCase(), "  send call alone:           ", "", d.marks()) {
      @Override
      Started startReceiver(String id, int n) {
        return d.startReceiver(id, n)::getResult;
      }

      @Override
      Started startEventer(String id, int n) {
        return d.startEventer(id, n)::getResult;
      }

      @Override
      void send(String id, String topic, int k) {
        d.send(driver, id, topic, k);
      }

      @Override
      Object getEvent(String id, String key, Duration timeout) {
        return d.getEvent(driver, id, key, timeout);
      }

      @Override
      int eventWarmupRuns() {
        return client ? CLIENT_EVENT_WARMUP_RUNS : WARMUP_RUNS;
      }

      @Override
      int eventRuns(int latencyRuns) {
        return client ? Math.min(latencyRuns, CLIENT_EVENT_RUNS) : latencyRuns;
      }
    };
  }

  /** What the database says about round {@code k} of an eventer whose getEvent came back empty. */
  private static String eventDiagnosis(
      String url, String id, int k, CompletableFuture<Long> set) {
    StringBuilder out = new StringBuilder();
    out.append("the workflow's step after setEvent ").append(set.isDone() ? "ran" : "did not run");
    try (Connection c = DriverManager.getConnection(url);
        Statement s = c.createStatement()) {
      String quoted = "'" + id.replace("'", "''") + "'";
      try (ResultSet rs =
          s.executeQuery(
              "SELECT status, executor_id, attempts FROM tandem.workflow_status WHERE workflow_id = "
                  + quoted)) {
        out.append("; status: ").append(rs.next() ? rs.getString(1) + " attempts=" + rs.getInt(3) : "none");
      }
      try (ResultSet rs =
          s.executeQuery(
              "SELECT value::text, updated_at FROM tandem.events WHERE workflow_id = " + quoted
                  + " AND key = 'e" + k + "'")) {
        out.append("; event e").append(k).append(": ")
            .append(rs.next() ? rs.getString(1) + " set at " + rs.getString(2) : "not set");
      }
      try (ResultSet rs =
          s.executeQuery(
              "SELECT message::text, consumed_at FROM tandem.messages WHERE workflow_id = " + quoted
                  + " ORDER BY seq DESC LIMIT 2")) {
        while (rs.next()) {
          out.append("; message ").append(rs.getString(1)).append(" consumed ")
              .append(rs.getString(2));
        }
      }
      try (ResultSet rs =
          s.executeQuery(
              "SELECT position, kind, name, output::text, finished_at FROM tandem.steps"
                  + " WHERE workflow_id = " + quoted + " ORDER BY position DESC LIMIT 5")) {
        while (rs.next()) {
          out.append("; step ").append(rs.getInt(1)).append(' ').append(rs.getString(2))
              .append(' ').append(rs.getString(3)).append(' ').append(rs.getString(4))
              .append(" at ").append(rs.getString(5));
        }
      }
    } catch (SQLException e) {
      out.append("; (could not read the database: ").append(e).append(')');
    }
    return out.toString();
  }
}
