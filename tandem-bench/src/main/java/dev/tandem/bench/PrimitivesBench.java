package dev.tandem.bench;

import dev.tandem.Tandem;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.UUID;

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
 *       System#nanoTime} in that step. Before each send the driver pauses {@value
 *       PrimitivesLatency#GAP_MILLIS} ms, so that the workflow is already waiting in {@code recv}
 *       (the case that matters: a workflow waiting for a reply).
 *   <li><b>getEvent</b> (Tandem): a workflow loops on {@code recv}, {@code setEvent("e<k>", k)} and
 *       a step that reads the time as soon as {@code setEvent} has returned; the driver sends
 *       message {@code k} and at once blocks in {@code getEvent(id, "e<k>")}. Wake-up latency: from
 *       that step to {@code getEvent}'s return; round trip: from before the send to that return.
 *   <li>The same two, driven by a second Tandem engine in the same JVM (standing for another
 *       process): its sends and the setEvent reach the other engine only by LISTEN/NOTIFY.
 *   <li><b>sleepers</b> (Tandem): {@code N} workflows that each sleep {@code S} seconds and end:
 *       heap, live threads and client connections while all of them sleep, then how late they wake
 *       ({@link Sleepers}).
 *   <li><b>dbos</b>: send→recv and getEvent on DBOS Transact ({@link DbosPrimitives}), driven by
 *       the DBOS instance itself and by a {@code DBOSClient}.
 * </ol>
 *
 * <p>The send→recv and getEvent loops are {@link PrimitivesLatency}'s, the same for both systems.
 * Schema {@code tandem} is dropped and recreated at the start (the database is expendable), and so
 * is DBOS's schema before its phase. The last line printed is {@code primitives: sleepers=<n>
 * heap_mb=<MB> threads=<n> connections=<n> send_recv_p50_ms=<ms> send_recv_p99_ms=<ms>
 * get_event_p50_ms=<ms> get_event_p99_ms=<ms>}, after a {@code primitives-dbos: ...} line when
 * DBOS ran. Exit status 1 if a phase failed; a getEvent that comes back empty fails its phase, with
 * what the database says about that round (event set or not, message consumed or not, last
 * checkpoints).
 */
final class PrimitivesBench {
  private static final int FLOOR_RUNS = 500;

  private final Options options;
  private final String url;
  private final String runId = UUID.randomUUID().toString().substring(0, 8);
  private final Phases phases = new Phases();

  PrimitivesBench(Options options) {
    this.options = options;
    this.url = options.databaseUrl();
  }

  int run() throws Exception {
    boolean tandem = options.systems().contains("tandem");
    boolean dbos = options.systems().contains("dbos");
    PrimitivesLatency latency = new PrimitivesLatency(options.latencyRuns(), runId);
    try (Connection c = DriverManager.getConnection(url)) {
      c.setAutoCommit(true);
      Sql.execute(c, "SET application_name = '" + Sleepers.MONITOR_APP + "'");
      printHeader(c);

      phases.run("floor (plain JDBC, one connection)", () -> floor(c));

      PrimitivesLatency.Results tandemLatency = PrimitivesLatency.Results.NONE;
      PrimitivesLatency.Results dbosLatency = PrimitivesLatency.Results.NONE;
      Sleepers.Result sleepers = null;

      if (tandem) {
        Sql.execute(c, "DROP SCHEMA IF EXISTS tandem CASCADE");
        Duration sleep = Duration.ofSeconds(options.sleepSeconds());
        try (TandemPrimitives prims = new TandemPrimitives(url, sleep)) {
          Tandem t = prims.tandem();
          PrimitivesLatency.Sender same = PrimitivesLatency.tandem(url, prims, t, t, "same");
          PrimitivesLatency.Messages sendRecv =
              phases.run("send->recv: tandem, same engine", () -> latency.sendRecv(same));
          PrimitivesLatency.Events event =
              phases.run("getEvent: tandem, same engine", () -> latency.event(same));
          try (Tandem other = TandemPrimitives.client(url)) {
            PrimitivesLatency.Sender remote =
                PrimitivesLatency.tandem(url, prims, other, other, "other");
            tandemLatency =
                new PrimitivesLatency.Results(
                    sendRecv,
                    event,
                    phases.run(
                        "send->recv: tandem, sent by another engine (NOTIFY)",
                        () -> latency.sendRecv(remote)),
                    phases.run(
                        "getEvent: tandem, sent and read by another engine (NOTIFY)",
                        () -> latency.event(remote)));
          }
          if (options.sleepers() > 0) {
            Sleepers s = new Sleepers(options.sleepers(), sleep, url, runId);
            sleepers =
                phases.run(
                    String.format(
                        "sleepers: %,d workflows sleeping %d s at once (tandem)",
                        options.sleepers(), options.sleepSeconds()),
                    () -> s.run(c, prims));
          }
        }
      }
      if (dbos) {
        DbosPayments.dropState(c);
        try (DbosPrimitives d = new DbosPrimitives(url)) {
          PrimitivesLatency.Sender same = PrimitivesLatency.dbos(d, DbosPrimitives.Driver.SAME);
          PrimitivesLatency.Sender client = PrimitivesLatency.dbos(d, DbosPrimitives.Driver.CLIENT);
          dbosLatency =
              new PrimitivesLatency.Results(
                  phases.run("send->recv: dbos, same instance", () -> latency.sendRecv(same)),
                  phases.run("getEvent: dbos, same instance", () -> latency.event(same)),
                  phases.run(
                      "send->recv: dbos, sent by a DBOSClient", () -> latency.sendRecv(client)),
                  phases.run(
                      "getEvent: dbos, sent and read by a DBOSClient",
                      () -> latency.event(client)));
        }
      }

      System.out.println();
      System.out.printf(
          "summary (latency: %d sequential runs after %d warm-up, %d ms pause before each):%n",
          options.latencyRuns(), PrimitivesLatency.WARMUP_RUNS, PrimitivesLatency.GAP_MILLIS);
      if (tandem) {
        printLatencies("tandem", "other engine", tandemLatency, true);
        if (sleepers != null) {
          printSleepers(sleepers);
        }
      }
      if (dbos) {
        printLatencies("dbos", "DBOSClient", dbosLatency, false);
        if (tandem) {
          System.out.printf(
              "  dbos/tandem p50: send->recv %s, getEvent wake-up %s, send->getEvent %s;"
                  + " other process: send->recv %s, getEvent wake-up %s%n",
              ratio(dbosLatency.sendToRecv(), tandemLatency.sendToRecv()),
              ratio(dbosLatency.wake(), tandemLatency.wake()),
              ratio(dbosLatency.roundTrip(), tandemLatency.roundTrip()),
              ratio(dbosLatency.remoteSendToRecv(), tandemLatency.remoteSendToRecv()),
              ratio(dbosLatency.remoteWake(), tandemLatency.remoteWake()));
        }
        System.out.printf(
            "primitives-dbos: send_recv_p50_ms=%s send_recv_p99_ms=%s get_event_p50_ms=%s"
                + " get_event_p99_ms=%s%n",
            ms(dbosLatency.sendToRecv(), 0.5),
            ms(dbosLatency.sendToRecv(), 0.99),
            ms(dbosLatency.wake(), 0.5),
            ms(dbosLatency.wake(), 0.99));
      }
      System.out.printf(
          "primitives: sleepers=%d heap_mb=%s threads=%s connections=%s send_recv_p50_ms=%s"
              + " send_recv_p99_ms=%s get_event_p50_ms=%s get_event_p99_ms=%s%n",
          sleepers == null ? 0 : sleepers.n(),
          sleepers == null ? "n/a" : String.format("%.1f", sleepers.heapMb()),
          sleepers == null ? "n/a" : String.valueOf(sleepers.threads()),
          sleepers == null ? "n/a" : String.valueOf(sleepers.connections()),
          ms(tandemLatency.sendToRecv(), 0.5),
          ms(tandemLatency.sendToRecv(), 0.99),
          ms(tandemLatency.wake(), 0.5),
          ms(tandemLatency.wake(), 0.99));
    }
    return phases.failed() ? 1 : 0;
  }

  /**
   * The summary lines of one system's latency phases that ran; {@code remote} names what drove the
   * remote ones, {@code target} adds whether send->recv met its target.
   */
  private static void printLatencies(
      String system, String remote, PrimitivesLatency.Results r, boolean target) {
    if (r.sendRecv() != null) {
      System.out.println(
          label(system + " send->recv:") + PrimitivesLatency.stats(r.sendToRecv())
              + (target
                  ? " (target p50 <= 5 ms: "
                      + (r.sendToRecv().percentileMillis(0.5) <= 5 ? "met" : "NOT met") + ")"
                  : ""));
    }
    if (r.event() != null) {
      System.out.println(label(system + " getEvent wake-up:") + PrimitivesLatency.stats(r.wake()));
      System.out.println(
          label(system + " send->getEvent:") + PrimitivesLatency.stats(r.roundTrip()));
    }
    String prefix = "  " + system + ", " + remote + ": ";
    if (r.remoteSendRecv() != null) {
      System.out.println(prefix + "send->recv " + PrimitivesLatency.stats(r.remoteSendToRecv()));
    }
    if (r.remoteEvent() != null) {
      System.out.println(
          prefix + "getEvent wake-up " + PrimitivesLatency.stats(r.remoteWake())
              + "; send->getEvent " + PrimitivesLatency.stats(r.remoteRoundTrip()));
    }
  }

  /** {@code text}, indented and padded so that what follows it lines up. */
  private static String label(String text) {
    return String.format("  %-25s", text);
  }

  private static void printSleepers(Sleepers.Result s) {
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
        s.bodyLateness().p50p99(1),
        s.successLateness().p50p99(1));
  }

  // ---- floor ------------------------------------------------------------------------------------

  private static Void floor(Connection c) throws Exception {
    Sql.execute(
        c,
        "CREATE TABLE IF NOT EXISTS bench_primitives_floor (id bigserial PRIMARY KEY, k int NOT NULL)");
    Sql.execute(c, "TRUNCATE bench_primitives_floor");
    long[] select = new long[FLOOR_RUNS];
    long[] commit = new long[FLOOR_RUNS];
    try (PreparedStatement one = c.prepareStatement("SELECT 1");
        PreparedStatement insert =
            c.prepareStatement("INSERT INTO bench_primitives_floor (k) VALUES (?)")) {
      for (int k = -PrimitivesLatency.WARMUP_RUNS; k < FLOOR_RUNS; k++) {
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
    System.out.println(
        "  SELECT 1 round trip:               "
            + PrimitivesLatency.stats(Load.Latencies.of(select)));
    System.out.println(
        "  INSERT + COMMIT (autocommit):      "
            + PrimitivesLatency.stats(Load.Latencies.of(commit)));
    return null;
  }

  // ---- helpers ----------------------------------------------------------------------------------

  private static String ms(Load.Latencies l, double p) {
    return l == null ? "n/a" : String.format("%.2f", l.percentileMillis(p));
  }

  private static String ratio(Load.Latencies a, Load.Latencies b) {
    if (a == null || b == null || b.percentileMillis(0.5) <= 0) {
      return "n/a";
    }
    return String.format("%.1fx", a.percentileMillis(0.5) / b.percentileMillis(0.5));
  }

  private void printHeader(Connection c) throws SQLException {
    String environment = Sql.environment(c);
    System.out.printf(
        "tandem-bench primitives: sleepers=%d sleep=%d s latency-runs=%d (+%d warm-up) systems=%s%n",
        options.sleepers(),
        options.sleepSeconds(),
        options.latencyRuns(),
        PrimitivesLatency.WARMUP_RUNS,
        String.join(
            ",",
            Options.ALL_SYSTEMS.stream()
                .filter(s -> (s.equals("tandem") || s.equals("dbos")) && options.systems().contains(s))
                .toList()));
    System.out.printf(
        "  %s, max heap %d MB; workflows on %s%n",
        environment,
        Runtime.getRuntime().maxMemory() / 1048576,
        Runtime.version().feature() >= 21
            ? "virtual threads (long waits block them)"
            : "a pool of platform threads (long waits park the execution)");
    if (options.systems().contains("dbos")) {
      System.out.printf(
          "  dbos: DBOS Transact %s, pool %d, tables in schema %s; tandem: default engine (pool 16)%n",
          dev.dbos.transact.DBOS.version(), DbosPrimitives.POOL_SIZE, DbosPayments.SCHEMA);
    }
  }
}
