package dev.tandem.bench;

import dev.tandem.StartOptions;
import dev.tandem.Tandem;
import dev.tandem.WorkflowHandle;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * {@code java -jar tandem-bench.jar primitives --database-url URL [--sleepers N] [--sleep-seconds S]
 * [--latency-runs L] [--systems tandem,dbos]}: the durable primitives, in phases on one database,
 * one after the other.
 *
 * <ol>
 *   <li><b>floor</b>: what one round trip costs here, on a plain JDBC connection: {@code SELECT 1},
 *       and a one-row {@code INSERT} committed in autocommit mode (one durable commit).
 *   <li><b>send→recv</b> (Tandem): a workflow loops on {@code recv}; the driver, in the same JVM,
 *       sends it one message at a time with {@code Tandem.send} and waits until the workflow's step
 *       after {@code recv} has run. Latency: from just before {@code send} to {@link
 *       System#nanoTime} in that step. Before each send the driver pauses {@value #GAP_MILLIS} ms,
 *       so that the workflow is already waiting in {@code recv} (the case that matters: a workflow
 *       waiting for a reply).
 *   <li><b>getEvent</b> (Tandem): a workflow loops on {@code recv}, {@code setEvent("e<k>", k)} and
 *       a step that reads the time as soon as {@code setEvent} has returned; the driver sends
 *       message {@code k} and at once blocks in {@code getEvent(id, "e<k>")}. Wake-up latency: from
 *       that step to {@code getEvent}'s return; round trip: from before the send to that return.
 *   <li>The same two, driven by a second Tandem engine in the same JVM (standing for another
 *       process): its sends and the setEvent reach the other engine only by LISTEN/NOTIFY.
 *   <li><b>sleepers</b> (Tandem): {@code N} workflows that each sleep {@code S} seconds and end,
 *       started from {@value #STARTER_THREADS} threads. Once {@code tandem.steps} holds {@code N}
 *       {@code SLEEP} checkpoints (every one of them is waiting), measured: heap used after {@link
 *       System#gc} minus the same before they started, live threads ({@link ThreadMXBean}; on Java
 *       21+ also the virtual threads, from a thread dump), and this database's client connections
 *       in {@code pg_stat_activity} other than the monitoring one. Then, as they wake: lateness of
 *       the body (its clock after {@code sleep} returned minus the recorded wake-up time) and of the
 *       durable end ({@code updated_at} of the {@code SUCCESS} row minus the wake-up time); also
 *       how long after {@code sleep()} was called its checkpoint's insert ran (the engine computes
 *       the wait before writing that checkpoint, so a slow write makes the wake-up late by as much),
 *       and the median lateness in each tenth of the wake-up order (a backlog would make it grow).
 *   <li><b>dbos</b>: send→recv and getEvent on DBOS Transact ({@link DbosPrimitives}), driven by
 *       the DBOS instance itself and by a {@code DBOSClient}.
 * </ol>
 *
 * <p>Schema {@code tandem} is dropped and recreated at the start (the database is expendable), and
 * so is DBOS's schema before its phase. The last line printed is {@code primitives: sleepers=<n>
 * heap_mb=<MB> threads=<n> connections=<n> send_recv_p50_ms=<ms> send_recv_p99_ms=<ms>
 * get_event_p50_ms=<ms> get_event_p99_ms=<ms>}, after a {@code primitives-dbos: ...} line when
 * DBOS ran. Exit status 1 if a phase failed; a getEvent that comes back empty fails its phase, with
 * what the database says about that round (event set or not, message consumed or not, last
 * checkpoints).
 */
final class PrimitivesBench {
  private static final int WARMUP_RUNS = 100;
  private static final int FLOOR_RUNS = 500;
  /** Pause before each message, so that the receiver is already waiting. */
  static final int GAP_MILLIS = 10;

  private static final int STARTER_THREADS = 64;
  /**
   * Rounds of getEvent through a DBOSClient: its getEvent returns about a second after the event
   * is set (DBOS's database poll interval, 1 s, not a notification), so a few rounds show it.
   */
  private static final int CLIENT_EVENT_WARMUP_RUNS = 3;

  private static final int CLIENT_EVENT_RUNS = 20;
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final String MONITOR_APP = "tandem-bench-monitor";

  /** Latencies of one driver, in nanoseconds. */
  private record MessageLatency(Load.Latencies sendToRecv, Load.Latencies sendCall) {}

  private record EventLatency(Load.Latencies wake, Load.Latencies roundTrip) {}

  /** What the sleepers phase measured. */
  private record Sleepers(
      int n,
      double startSeconds,
      double allSleepingSeconds,
      double heapMb,
      int threads,
      int threadsBaseline,
      long virtualThreads,
      int connections,
      int connectionsNotIdle,
      int connectionsMax,
      Load.Latencies bodyLateness,
      Load.Latencies successLateness,
      double dueSpanSeconds) {}

  private final Options options;
  private final String url;
  private final String runId = UUID.randomUUID().toString().substring(0, 8);
  private boolean failed;

  PrimitivesBench(Options options) {
    this.options = options;
    this.url = options.databaseUrl();
  }

  int run() throws Exception {
    boolean tandem = options.systems().contains("tandem");
    boolean dbos = options.systems().contains("dbos");
    try (Connection c = DriverManager.getConnection(url)) {
      c.setAutoCommit(true);
      execute(c, "SET application_name = '" + MONITOR_APP + "'");
      printHeader(c);

      phase("floor (plain JDBC, one connection)", () -> floor(c));

      MessageLatency sendRecv = null;
      EventLatency event = null;
      MessageLatency sendRecvRemote = null;
      EventLatency eventRemote = null;
      Sleepers sleepers = null;
      MessageLatency dbosSendRecv = null;
      EventLatency dbosEvent = null;
      MessageLatency dbosSendRecvClient = null;
      EventLatency dbosEventClient = null;

      if (tandem) {
        execute(c, "DROP SCHEMA IF EXISTS tandem CASCADE");
        Duration sleep = Duration.ofSeconds(options.sleepSeconds());
        try (TandemPrimitives prims = new TandemPrimitives(url, sleep)) {
          Tandem t = prims.tandem();
          sendRecv =
              phase("send->recv: tandem, same engine", () -> tandemSendRecv(prims, t, "same"));
          event = phase("getEvent: tandem, same engine", () -> tandemEvent(prims, t, t, "same"));
          try (Tandem other = TandemPrimitives.client(url)) {
            sendRecvRemote =
                phase(
                    "send->recv: tandem, sent by another engine (NOTIFY)",
                    () -> tandemSendRecv(prims, other, "other"));
            eventRemote =
                phase(
                    "getEvent: tandem, sent and read by another engine (NOTIFY)",
                    () -> tandemEvent(prims, other, other, "other"));
          }
          if (options.sleepers() > 0) {
            sleepers =
                phase(
                    String.format(
                        "sleepers: %,d workflows sleeping %d s at once (tandem)",
                        options.sleepers(), options.sleepSeconds()),
                    () -> sleepers(c, prims));
          }
        }
      }
      if (dbos) {
        DbosPayments.dropState(c);
        try (DbosPrimitives d = new DbosPrimitives(url)) {
          dbosSendRecv =
              phase("send->recv: dbos, same instance", () -> dbosSendRecv(d, DbosPrimitives.Driver.SAME));
          dbosEvent =
              phase("getEvent: dbos, same instance", () -> dbosEvent(d, DbosPrimitives.Driver.SAME));
          dbosSendRecvClient =
              phase(
                  "send->recv: dbos, sent by a DBOSClient",
                  () -> dbosSendRecv(d, DbosPrimitives.Driver.CLIENT));
          dbosEventClient =
              phase(
                  "getEvent: dbos, sent and read by a DBOSClient",
                  () -> dbosEvent(d, DbosPrimitives.Driver.CLIENT));

        }
      }

      System.out.println();
      System.out.printf(
          "summary (latency: %d sequential runs after %d warm-up, %d ms pause before each):%n",
          options.latencyRuns(), WARMUP_RUNS, GAP_MILLIS);
      if (tandem) {
        if (sendRecv != null) {
          System.out.printf(
              "  tandem send->recv:       %s (target p50 <= 5 ms: %s)%n",
              stats(sendRecv.sendToRecv()),
              sendRecv.sendToRecv().percentileMillis(0.5) <= 5 ? "met" : "NOT met");
        }
        if (event != null) {
          System.out.println("  tandem getEvent wake-up: " + stats(event.wake()));
          System.out.println("  tandem send->getEvent:   " + stats(event.roundTrip()));
        }
        if (sendRecvRemote != null) {
          System.out.println("  tandem, other engine: send->recv " + stats(sendRecvRemote.sendToRecv()));
        }
        if (eventRemote != null) {
          System.out.println("  tandem, other engine: getEvent wake-up " + stats(eventRemote.wake())
              + "; send->getEvent " + stats(eventRemote.roundTrip()));
        }
        if (sleepers != null) {
          Sleepers s = sleepers;
          System.out.printf(
              "  tandem sleepers: %,d sleeping at once: heap +%.1f MB (%.2f KB each), %d live"
                  + " threads (%d before)%s, %d connections (%d not idle; max %d while starting);"
                  + " started in %.1f s (%.0f/s); wake-up lateness %s; durable end %s%n",
              s.n(),
              s.heapMb(),
              s.heapMb() * 1024 / s.n(),
              s.threads(),
              s.threadsBaseline(),
              s.virtualThreads() >= 0 ? ", " + s.virtualThreads() + " virtual" : "",
              s.connections(),
              s.connectionsNotIdle(),
              s.connectionsMax(),
              s.startSeconds(),
              s.n() / s.startSeconds(),
              p50p99(s.bodyLateness()),
              p50p99(s.successLateness()));
        }
      }
      if (dbos) {
        if (dbosSendRecv != null) {
          System.out.println("  dbos send->recv:         " + stats(dbosSendRecv.sendToRecv()));
        }
        if (dbosEvent != null) {
          System.out.println("  dbos getEvent wake-up:   " + stats(dbosEvent.wake()));
          System.out.println("  dbos send->getEvent:     " + stats(dbosEvent.roundTrip()));
        }
        if (dbosSendRecvClient != null) {
          System.out.println("  dbos, DBOSClient: send->recv " + stats(dbosSendRecvClient.sendToRecv()));
        }
        if (dbosEventClient != null) {
          System.out.println("  dbos, DBOSClient: getEvent wake-up " + stats(dbosEventClient.wake())
              + "; send->getEvent " + stats(dbosEventClient.roundTrip()));
        }
        if (tandem) {
          System.out.printf(
              "  dbos/tandem p50: send->recv %s, getEvent wake-up %s, send->getEvent %s;"
                  + " other process: send->recv %s, getEvent wake-up %s%n",
              ratio(
                  dbosSendRecv == null ? null : dbosSendRecv.sendToRecv(),
                  sendRecv == null ? null : sendRecv.sendToRecv()),
              ratio(dbosEvent == null ? null : dbosEvent.wake(), event == null ? null : event.wake()),
              ratio(
                  dbosEvent == null ? null : dbosEvent.roundTrip(),
                  event == null ? null : event.roundTrip()),
              ratio(
                  dbosSendRecvClient == null ? null : dbosSendRecvClient.sendToRecv(),
                  sendRecvRemote == null ? null : sendRecvRemote.sendToRecv()),
              ratio(
                  dbosEventClient == null ? null : dbosEventClient.wake(),
                  eventRemote == null ? null : eventRemote.wake()));
        }
        System.out.printf(
            "primitives-dbos: send_recv_p50_ms=%s send_recv_p99_ms=%s get_event_p50_ms=%s"
                + " get_event_p99_ms=%s%n",
            ms(dbosSendRecv == null ? null : dbosSendRecv.sendToRecv(), 0.5),
            ms(dbosSendRecv == null ? null : dbosSendRecv.sendToRecv(), 0.99),
            ms(dbosEvent == null ? null : dbosEvent.wake(), 0.5),
            ms(dbosEvent == null ? null : dbosEvent.wake(), 0.99));
      }
      System.out.printf(
          "primitives: sleepers=%d heap_mb=%s threads=%s connections=%s send_recv_p50_ms=%s"
              + " send_recv_p99_ms=%s get_event_p50_ms=%s get_event_p99_ms=%s%n",
          sleepers == null ? 0 : sleepers.n(),
          sleepers == null ? "n/a" : String.format("%.1f", sleepers.heapMb()),
          sleepers == null ? "n/a" : String.valueOf(sleepers.threads()),
          sleepers == null ? "n/a" : String.valueOf(sleepers.connections()),
          ms(sendRecv == null ? null : sendRecv.sendToRecv(), 0.5),
          ms(sendRecv == null ? null : sendRecv.sendToRecv(), 0.99),
          ms(event == null ? null : event.wake(), 0.5),
          ms(event == null ? null : event.wake(), 0.99));
    }
    return failed ? 1 : 0;
  }

  /** A phase's body. */
  @FunctionalInterface
  private interface Body<T> {
    T run() throws Exception;
  }

  /** Runs a phase; on failure prints why, marks the run failed, and returns null. */
  private <T> T phase(String name, Body<T> body) {
    System.out.println();
    System.out.println("== " + name + " ==");
    long t0 = System.nanoTime();
    try {
      T result = body.run();
      System.out.printf("  phase took %.1f s%n", (System.nanoTime() - t0) / 1e9);
      return result;
    } catch (Throwable e) {
      failed = true;
      System.out.println("  failed: " + e);
      for (Throwable cause = e.getCause(); cause != null; cause = cause.getCause()) {
        System.out.println("  caused by: " + cause);
      }
      if (e instanceof Error && !(e instanceof LinkageError) && !(e instanceof AssertionError)) {
        throw (Error) e;
      }
      return null;
    }
  }

  // ---- floor ------------------------------------------------------------------------------------

  private Void floor(Connection c) throws Exception {
    execute(
        c,
        "CREATE TABLE IF NOT EXISTS bench_primitives_floor (id bigserial PRIMARY KEY, k int NOT NULL)");
    execute(c, "TRUNCATE bench_primitives_floor");
    long[] select = new long[FLOOR_RUNS];
    long[] commit = new long[FLOOR_RUNS];
    try (PreparedStatement one = c.prepareStatement("SELECT 1");
        PreparedStatement insert =
            c.prepareStatement("INSERT INTO bench_primitives_floor (k) VALUES (?)")) {
      for (int k = -WARMUP_RUNS; k < FLOOR_RUNS; k++) {
        long t0 = System.nanoTime();
        try (ResultSet rs = one.executeQuery()) {
          rs.next();
        }
        long t1 = System.nanoTime();
        insert.setInt(1, k);
        insert.executeUpdate();
        long t2 = System.nanoTime();
        if (k >= 0) {
          select[k] = t1 - t0;
          commit[k] = t2 - t1;
        }
      }
    }
    System.out.println("  SELECT 1 round trip:               " + stats(sorted(select)));
    System.out.println("  INSERT + COMMIT (autocommit):      " + stats(sorted(commit)));
    return null;
  }

  // ---- send -> recv -----------------------------------------------------------------------------

  private MessageLatency tandemSendRecv(TandemPrimitives prims, Tandem sender, String label)
      throws Exception {
    int runs = options.latencyRuns();
    int total = WARMUP_RUNS + runs;
    String id = "prim-recv-" + label + "-" + runId;
    WorkflowHandle<Integer> handle = prims.receiver().start(total, StartOptions.withId(id));
    long[] latency = new long[runs];
    long[] call = new long[runs];
    for (int k = 0; k < total; k++) {
      CompletableFuture<Long> received = prims.expect(id, k);
      Thread.sleep(GAP_MILLIS);
      long t0 = System.nanoTime();
      sender.send(id, TandemPrimitives.TOPIC, k, null);
      long t1 = System.nanoTime();
      long at = received.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
      if (k >= WARMUP_RUNS) {
        latency[k - WARMUP_RUNS] = at - t0;
        call[k - WARMUP_RUNS] = t1 - t0;
      }
    }
    handle.result(WAIT);
    MessageLatency m = new MessageLatency(sorted(latency), sorted(call));
    System.out.printf(
        "  workflow %s: %d messages (%d warm-up), each sent after a %d ms pause%n",
        id, total, WARMUP_RUNS, GAP_MILLIS);
    System.out.println("  send -> step after recv:   " + stats(m.sendToRecv()));
    System.out.println("  Tandem.send call alone:    " + stats(m.sendCall()));
    return m;
  }

  // ---- getEvent ---------------------------------------------------------------------------------

  private EventLatency tandemEvent(
      TandemPrimitives prims, Tandem sender, Tandem reader, String label) throws Exception {
    int runs = options.latencyRuns();
    int total = WARMUP_RUNS + runs;
    String id = "prim-event-" + label + "-" + runId;
    WorkflowHandle<Integer> handle = prims.eventer().start(total, StartOptions.withId(id));
    long[] wake = new long[runs];
    long[] roundTrip = new long[runs];
    int early = 0;
    for (int k = 0; k < total; k++) {
      CompletableFuture<Long> set = prims.expect(id, k);
      Thread.sleep(GAP_MILLIS);
      long t0 = System.nanoTime();
      sender.send(id, TandemPrimitives.GO, k, null);
      Integer v = reader.getEvent(id, "e" + k, Integer.class, WAIT);
      long t2 = System.nanoTime();
      if (v == null || v != k) {
        throw new IllegalStateException(
            "getEvent(" + id + ", e" + k + ") returned " + v + " after "
                + (t2 - t0) / 1_000_000 + " ms; " + eventDiagnosis(id, k, set));
      }
      long setAt = set.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
      if (k >= WARMUP_RUNS) {
        wake[k - WARMUP_RUNS] = t2 - setAt;
        roundTrip[k - WARMUP_RUNS] = t2 - t0;
        if (t2 < setAt) {
          early++;
        }
      }
    }
    handle.result(WAIT);
    EventLatency e = new EventLatency(sorted(wake), sorted(roundTrip));
    System.out.printf(
        "  workflow %s: %d rounds (%d warm-up) of send(go, k), recv, setEvent(e<k>), mark; the driver"
            + " blocks in getEvent(e<k>) right after its send%n",
        id, total, WARMUP_RUNS);
    System.out.println("  setEvent returned -> getEvent returned: " + stats(e.wake()));
    System.out.println("  send -> getEvent returned:              " + stats(e.roundTrip()));
    if (early > 0) {
      System.out.println(
          "  note: in " + early + " rounds getEvent returned before the workflow read its clock");
    }
    return e;
  }

  /** What the database says about round {@code k} of an eventer whose getEvent came back empty. */
  private String eventDiagnosis(String id, int k, CompletableFuture<Long> set) {
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

  // ---- sleepers ---------------------------------------------------------------------------------

  private Sleepers sleepers(Connection c, TandemPrimitives prims) throws Exception {
    int n = options.sleepers();
    Duration sleep = Duration.ofSeconds(options.sleepSeconds());
    String prefix = "prim-sleep-" + runId + "-";
    prims.prepareSleepers(n);
    MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();

    int connectionsBefore = connections(c)[0];
    long heapBefore = heapAfterGc(memory);
    int threadsBefore = threads.getThreadCount();
    threads.resetPeakThreadCount();
    System.out.printf(
        "  before: heap used %.1f MB (after GC), %d live threads, %d connections to this database%n",
        heapBefore / 1048576.0, threadsBefore, connectionsBefore);

    ConnectionSampler sampler = new ConnectionSampler(url);
    long t0 = System.nanoTime();
    double startSeconds;
    int connectionsMax;
    try (sampler) {
      Load.concurrently(
          "starter",
          n,
          STARTER_THREADS,
          0,
          i -> prims.sleeper().start(i, StartOptions.withId(prefix + i)));
      startSeconds = (System.nanoTime() - t0) / 1e9;
      System.out.printf(
          "  started %,d from %d threads in %.2f s (%.0f/s; each start returns once its row is"
              + " committed)%n",
          n, STARTER_THREADS, startSeconds, n / startSeconds);

      // Every sleeper has written its SLEEP checkpoint (the wake-up time) before it waits.
      long deadline = t0 + sleep.toNanos();
      while (true) {
        long sleeping =
            count(
                c,
                "SELECT count(*) FROM tandem.steps WHERE kind = 'SLEEP' AND workflow_id LIKE '"
                    + prefix + "%'");
        if (sleeping >= n) {
          break;
        }
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException(
              "only " + sleeping + " of " + n + " sleeping after " + sleep.toSeconds()
                  + " s, when the first are due; use a larger --sleep-seconds");
        }
        Thread.sleep(50);
      }
    } finally {
      connectionsMax = Math.max(connectionsBefore, sampler.max());
    }
    long allSleeping = System.nanoTime();
    double allSleepingSeconds = (allSleeping - t0) / 1e9;
    System.out.printf(
        "  all %,d sleeping (SLEEP checkpoints in tandem.steps) %.2f s after the first start%n",
        n, allSleepingSeconds);

    Thread.sleep(500); // let the last ones finish parking or blocking
    long heapAfter = heapAfterGc(memory);
    int threadsNow = threads.getThreadCount();
    int peak = threads.getPeakThreadCount();
    int[] conns = connections(c);
    for (int k = 0; k < 4; k++) { // a few samples: the pool may open or close one meanwhile
      Thread.sleep(100);
      int[] again = connections(c);
      conns[0] = Math.max(conns[0], again[0]);
      conns[1] = Math.max(conns[1], again[1]);
    }
    long woken = 0;
    for (int i = 0; i < n; i++) {
      if (prims.wokeMicros(i) != 0) {
        woken++;
      }
    }
    Map<String, Long> states = statuses(c, prefix);
    long virtual = virtualThreads();
    long measured = System.nanoTime();
    double heapMb = (heapAfter - heapBefore) / 1048576.0;
    System.out.printf(
        "  while all sleep: heap used %.1f MB after GC (+%.1f MB, %.2f KB per sleeper), %d live"
            + " threads (+%d; peak %d)%s%n",
        heapAfter / 1048576.0,
        heapMb,
        heapMb * 1024 / n,
        threadsNow,
        threadsNow - threadsBefore,
        peak,
        virtual >= 0 ? ", " + virtual + " virtual threads (thread dump)" : "");
    System.out.printf(
        "  connections to this database (pg_stat_activity, monitor excluded): %d, of which %d not"
            + " idle; at most %d while starting%n",
        conns[0], conns[1], connectionsMax);
    System.out.println("  workflow statuses: " + states + (woken > 0
        ? "; WARNING: " + woken + " had already woken when measured (use a larger --sleep-seconds)"
        : ""));
    System.out.printf("  measuring took %.2f s%n", (measured - allSleeping) / 1e9);

    // Wait for every one to wake and end.
    awaitSuccess(c, prefix, n, sleep.plus(Duration.ofSeconds(120)));
    long done = System.nanoTime();
    // Wake-up times as recorded (epoch ms in the SLEEP checkpoint), and when SUCCESS was written.
    long[] body = new long[n];
    long[] success = new long[n];
    long[] written = new long[n];
    long sleepMicros = sleep.toNanos() / 1000;
    long[] dues = new long[n];
    long firstDue = Long.MAX_VALUE;
    long lastDue = Long.MIN_VALUE;
    try (Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT w.workflow_id, (st.output::text)::bigint,"
                    + " (extract(epoch FROM w.updated_at) * 1e6)::bigint,"
                    + " (extract(epoch FROM st.finished_at) * 1e6)::bigint"
                    + " FROM tandem.workflow_status w JOIN tandem.steps st"
                    + " ON st.workflow_id = w.workflow_id AND st.kind = 'SLEEP'"
                    + " WHERE w.workflow_id LIKE '" + prefix + "%'")) {
      int rows = 0;
      while (rs.next()) {
        int i = Integer.parseInt(rs.getString(1).substring(prefix.length()));
        long dueMicros = rs.getLong(2) * 1000;
        dues[i] = dueMicros;
        firstDue = Math.min(firstDue, dueMicros);
        lastDue = Math.max(lastDue, dueMicros);
        body[i] = (prims.wokeMicros(i) - dueMicros) * 1000;
        success[i] = (rs.getLong(3) - dueMicros) * 1000;
        // When the SLEEP checkpoint's insert ran (now() of the group commit that wrote it), from
        // when sleep() was called (its wake-up time minus the duration).
        written[i] = (rs.getLong(4) - (dueMicros - sleepMicros)) * 1000;
        rows++;
      }
      if (rows != n) {
        throw new IllegalStateException(rows + " sleepers with a SLEEP checkpoint, expected " + n);
      }
    }
    Load.Latencies bodyLateness = sorted(body);
    Load.Latencies successLateness = sorted(success);
    double dueSpan = (lastDue - firstDue) / 1e6;
    System.out.printf(
        "  all ended SUCCESS %.1f s after the first start; wake-up times span %.2f s%n",
        (done - t0) / 1e9, dueSpan);
    System.out.println("  lateness, body resumed after sleep:   " + lateness(bodyLateness));
    System.out.println("  lateness, SUCCESS row (updated_at):   " + lateness(successLateness));
    System.out.println(
        "  sleep() called -> its SLEEP checkpoint's insert (steps.finished_at): "
            + lateness(sorted(written)));
    System.out.println(
        "  body lateness p50 by tenth of the wake-up order (ms): " + byTenth(dues, body));
    return new Sleepers(
        n,
        startSeconds,
        allSleepingSeconds,
        heapMb,
        threadsNow,
        threadsBefore,
        virtual,
        conns[0],
        conns[1],
        connectionsMax,
        bodyLateness,
        successLateness,
        dueSpan);
  }

  /** The median of {@code values} in each tenth of the order of {@code keys}, in ms. */
  private static String byTenth(long[] keys, long[] values) {
    Integer[] order = new Integer[keys.length];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    Arrays.sort(order, (a, b) -> Long.compare(keys[a], keys[b]));
    StringBuilder out = new StringBuilder();
    for (int t = 0; t < 10; t++) {
      int from = order.length * t / 10;
      int to = order.length * (t + 1) / 10;
      if (to <= from) {
        continue;
      }
      long[] part = new long[to - from];
      for (int k = from; k < to; k++) {
        part[k - from] = values[order[k]];
      }
      out.append(out.length() == 0 ? "" : " ")
          .append(String.format("%.0f", sorted(part).percentileMillis(0.5)));
    }
    return out.toString();
  }

  private static long heapAfterGc(MemoryMXBean memory) throws InterruptedException {
    for (int k = 0; k < 3; k++) {
      System.gc();
      Thread.sleep(100);
    }
    return memory.getHeapMemoryUsage().getUsed();
  }

  /** {total, not idle} client connections to this database, the monitoring ones excluded. */
  private static int[] connections(Connection c) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT count(*), count(*) FILTER (WHERE state <> 'idle') FROM pg_stat_activity"
                    + " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    + " AND backend_type = 'client backend'"
                    + " AND application_name IS DISTINCT FROM '" + MONITOR_APP + "'")) {
      rs.next();
      return new int[] {rs.getInt(1), rs.getInt(2)};
    }
  }

  /** Samples the connection count every 20 ms on a monitoring connection of its own. */
  private static final class ConnectionSampler implements AutoCloseable {
    private final Connection conn;
    private final Thread thread;
    private volatile boolean stop;
    private volatile int max;

    ConnectionSampler(String url) throws SQLException {
      conn = DriverManager.getConnection(url);
      conn.setAutoCommit(true);
      execute(conn, "SET application_name = '" + MONITOR_APP + "'");
      thread =
          new Thread(
              () -> {
                while (!stop) {
                  try {
                    max = Math.max(max, connections(conn)[0]);
                    Thread.sleep(20);
                  } catch (SQLException | InterruptedException e) {
                    return;
                  }
                }
              },
              "connection-sampler");
      thread.setDaemon(true);
      thread.start();
    }

    int max() {
      return max;
    }

    @Override
    public void close() throws SQLException {
      stop = true;
      try {
        thread.join(1000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      conn.close();
    }
  }

  private static Map<String, Long> statuses(Connection c, String prefix) throws SQLException {
    Map<String, Long> out = new HashMap<>();
    try (Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT status, count(*) FROM tandem.workflow_status WHERE workflow_id LIKE '"
                    + prefix + "%' GROUP BY status ORDER BY status")) {
      while (rs.next()) {
        out.put(rs.getString(1), rs.getLong(2));
      }
    }
    return out;
  }

  /**
   * Virtual threads alive now, counted in a JSON thread dump (Java 21+; -1 before). The dump is
   * taken after the heap and thread counts, as it allocates.
   */
  private static long virtualThreads() {
    if (Runtime.version().feature() < 21) {
      return -1;
    }
    Path file = null;
    try {
      Class<?> bean = Class.forName("com.sun.management.HotSpotDiagnosticMXBean");
      Class<?> format = Class.forName("com.sun.management.HotSpotDiagnosticMXBean$ThreadDumpFormat");
      @SuppressWarnings({"unchecked", "rawtypes"})
      Object json = Enum.valueOf((Class) format, "JSON");
      Object mx = ManagementFactory.getPlatformMXBean((Class) bean);
      file = Files.createTempFile("tandem-bench-threads", ".json");
      Files.delete(file); // dumpThreads refuses an existing file
      bean.getMethod("dumpThreads", String.class, format).invoke(mx, file.toString(), json);
      long count = 0;
      try (var lines = Files.lines(file)) {
        count = lines.filter(l -> l.contains("\"virtual\": true")).count();
      }
      return count;
    } catch (ReflectiveOperationException | IOException | RuntimeException e) {
      System.out.println("  (could not count virtual threads: " + e + ")");
      return -1;
    } finally {
      if (file != null) {
        try {
          Files.deleteIfExists(file);
        } catch (IOException ignored) {
          // a temporary file
        }
      }
    }
  }

  private static void awaitSuccess(Connection c, String prefix, long n, Duration timeout)
      throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      long success;
      long bad;
      try (Statement s = c.createStatement();
          ResultSet rs =
              s.executeQuery(
                  "SELECT count(*) FILTER (WHERE status = 'SUCCESS'),"
                      + " count(*) FILTER (WHERE status IN ('ERROR', 'CANCELLED', 'RETRIES_EXCEEDED'))"
                      + " FROM tandem.workflow_status WHERE workflow_id LIKE '" + prefix + "%'")) {
        rs.next();
        success = rs.getLong(1);
        bad = rs.getLong(2);
      }
      if (bad > 0) {
        throw new IllegalStateException(bad + " sleepers ended in failure");
      }
      if (success >= n) {
        return;
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "after " + timeout.toSeconds() + " s, " + success + " of " + n + " sleepers are SUCCESS");
      }
      Thread.sleep(100);
    }
  }

  // ---- DBOS -------------------------------------------------------------------------------------

  private MessageLatency dbosSendRecv(DbosPrimitives d, DbosPrimitives.Driver driver)
      throws Exception {
    int runs = options.latencyRuns();
    int total = WARMUP_RUNS + runs;
    String id = "prim-recv-dbos-" + driver.name().toLowerCase() + "-" + runId;
    var handle = d.startReceiver(id, total);
    long[] latency = new long[runs];
    long[] call = new long[runs];
    for (int k = 0; k < total; k++) {
      CompletableFuture<Long> received = d.expect(id, k);
      Thread.sleep(GAP_MILLIS);
      long t0 = System.nanoTime();
      d.send(driver, id, TandemPrimitives.TOPIC, k);
      long t1 = System.nanoTime();
      long at = received.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
      if (k >= WARMUP_RUNS) {
        latency[k - WARMUP_RUNS] = at - t0;
        call[k - WARMUP_RUNS] = t1 - t0;
      }
    }
    handle.getResult();
    MessageLatency m = new MessageLatency(sorted(latency), sorted(call));
    System.out.printf(
        "  workflow %s: %d messages (%d warm-up), each sent after a %d ms pause%n",
        id, total, WARMUP_RUNS, GAP_MILLIS);
    System.out.println("  send -> step after recv:   " + stats(m.sendToRecv()));
    System.out.println("  send call alone:           " + stats(m.sendCall()));
    return m;
  }

  private EventLatency dbosEvent(DbosPrimitives d, DbosPrimitives.Driver driver) throws Exception {
    boolean client = driver == DbosPrimitives.Driver.CLIENT;
    int warmup = client ? CLIENT_EVENT_WARMUP_RUNS : WARMUP_RUNS;
    int runs = client ? Math.min(options.latencyRuns(), CLIENT_EVENT_RUNS) : options.latencyRuns();
    int total = warmup + runs;
    String id = "prim-event-dbos-" + driver.name().toLowerCase() + "-" + runId;
    var handle = d.startEventer(id, total);
    long[] wake = new long[runs];
    long[] roundTrip = new long[runs];
    int early = 0;
    for (int k = 0; k < total; k++) {
      CompletableFuture<Long> set = d.expect(id, k);
      Thread.sleep(GAP_MILLIS);
      long t0 = System.nanoTime();
      d.send(driver, id, TandemPrimitives.GO, k);
      Object v = d.getEvent(driver, id, "e" + k, WAIT);
      long t2 = System.nanoTime();
      if (!(v instanceof Number num) || num.intValue() != k) {
        throw new IllegalStateException("getEvent(" + id + ", e" + k + ") returned " + v);
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
    handle.getResult();
    EventLatency e = new EventLatency(sorted(wake), sorted(roundTrip));
    System.out.printf("  workflow %s: %d rounds (%d warm-up)%n", id, total, warmup);
    System.out.println("  setEvent returned -> getEvent returned: " + stats(e.wake()));
    System.out.println("  send -> getEvent returned:              " + stats(e.roundTrip()));
    if (early > 0) {
      System.out.println(
          "  note: in " + early + " rounds getEvent returned before the workflow read its clock");
    }
    return e;
  }

  // ---- helpers ----------------------------------------------------------------------------------

  private static Load.Latencies sorted(long[] nanos) {
    long[] copy = nanos.clone();
    Arrays.sort(copy);
    return new Load.Latencies(copy);
  }

  private static String stats(Load.Latencies l) {
    long[] v = l.sortedNanos();
    double mean = Arrays.stream(v).average().orElse(0) / 1e6;
    return String.format(
        "p50=%.2f ms p99=%.2f ms mean=%.2f ms max=%.2f ms (n=%d)",
        l.percentileMillis(0.50), l.percentileMillis(0.99), mean, l.percentileMillis(1.0), v.length);
  }

  private static String lateness(Load.Latencies l) {
    return String.format(
        "p50=%.1f ms p99=%.1f ms max=%.1f ms min=%.1f ms",
        l.percentileMillis(0.50),
        l.percentileMillis(0.99),
        l.percentileMillis(1.0),
        l.sortedNanos()[0] / 1e6);
  }

  private static String p50p99(Load.Latencies l) {
    return String.format("p50=%.1f ms p99=%.1f ms", l.percentileMillis(0.5), l.percentileMillis(0.99));
  }

  private static String ms(Load.Latencies l, double p) {
    return l == null ? "n/a" : String.format("%.2f", l.percentileMillis(p));
  }

  private static String ratio(Load.Latencies a, Load.Latencies b) {
    if (a == null || b == null || b.percentileMillis(0.5) <= 0) {
      return "n/a";
    }
    return String.format("%.1fx", a.percentileMillis(0.5) / b.percentileMillis(0.5));
  }

  private static long count(Connection c, String sql) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static void execute(Connection c, String sql) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }

  private void printHeader(Connection c) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT current_setting('server_version'), current_database(),"
                    + " current_setting('synchronous_commit'), current_setting('fsync')")) {
      rs.next();
      System.out.printf(
          "tandem-bench primitives: sleepers=%d sleep=%d s latency-runs=%d (+%d warm-up) systems=%s%n",
          options.sleepers(),
          options.sleepSeconds(),
          options.latencyRuns(),
          WARMUP_RUNS,
          String.join(
              ",",
              Options.ALL_SYSTEMS.stream()
                  .filter(s2 -> !s2.equals("baseline") && options.systems().contains(s2))
                  .toList()));
      System.out.printf(
          "  PostgreSQL %s, database %s, synchronous_commit=%s fsync=%s; JVM %s, %d cores, max heap"
              + " %d MB; workflows on %s%n",
          rs.getString(1),
          rs.getString(2),
          rs.getString(3),
          rs.getString(4),
          System.getProperty("java.version"),
          Runtime.getRuntime().availableProcessors(),
          Runtime.getRuntime().maxMemory() / 1048576,
          Runtime.version().feature() >= 21
              ? "virtual threads (long waits block them)"
              : "a pool of platform threads (long waits park the execution)");
    }
    if (options.systems().contains("dbos")) {
      System.out.printf(
          "  dbos: DBOS Transact %s, pool %d, tables in schema %s; tandem: default engine (pool 16)%n",
          dev.dbos.transact.DBOS.version(), DbosPrimitives.POOL_SIZE, DbosPayments.SCHEMA);
    }
  }
}
