package dev.tandem.bench;

import dev.tandem.StartOptions;
import dev.tandem.Tandem;
import dev.tandem.Workflow;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code java -jar tandem-bench.jar failover}: Tandem through two failovers of its PostgreSQL,
 * on a pg_auto_failover formation the command starts itself ({@link AutoFailoverCluster}: a
 * monitor, a primary and a synchronous standby on this machine), reached by a multi-host JDBC URL
 * with {@code targetServerType=primary}. One engine in this JVM runs:
 *
 * <ul>
 *   <li>the payments workload ({@link PaymentsSchema}) from {@value #CLIENTS} client threads, each
 *       one workflow at a time; a client whose call fails calls again with the same workflow id,
 *       which only waits for the existing execution;
 *   <li>before each failover, {@value #WAITERS} workflows waiting in {@code recv} (woken by
 *       messages sent after the failover, so LISTEN must have moved to the new primary) and
 *       {@value #WAITERS} sleeping 3 s across it; each ends with a transactional step that inserts
 *       a row.
 * </ul>
 *
 * <p>Round 1 is {@code pg_autoctl perform failover}; round 2, once the old primary is a standby
 * again, kills the primary node (its postgres and its keeper) with SIGKILL. Then every workflow
 * must be {@code SUCCESS}, each payment and each waiter's row exactly once. The stall of a round
 * is the longest gap between consecutive payment completions from 5 s before its failover to
 * the end of the round. The last line is {@code failover: workflows=<n> lost=<n> duplicated=<n>
 * stall_ms=<ms>} (the longer round's stall).
 */
final class FailoverBench {
  static final int CLIENTS = 8;
  static final int WAITERS = 20;
  private static final Duration BEFORE = Duration.ofSeconds(5);
  private static final Duration AFTER = Duration.ofSeconds(10);

  private final ConcurrentLinkedQueue<long[]> completions = new ConcurrentLinkedQueue<>();
  private final AtomicInteger next = new AtomicInteger();
  private final AtomicInteger clientRetries = new AtomicInteger();
  private final List<String> waiterIds = Collections.synchronizedList(new ArrayList<>());
  private final List<String> sleeperIds = Collections.synchronizedList(new ArrayList<>());
  private volatile boolean stopping;
  private Workflow<Integer, String> payments;
  private Workflow<Integer, String> waiter;
  private Workflow<Integer, String> sleeper;

  private FailoverBench() {}

  static int main(String[] args) throws Exception {
    if (args.length > 1) {
      System.err.println("usage: java -jar tandem-bench.jar failover (starts its own servers)");
      return 2;
    }
    if (!AutoFailoverCluster.available()) {
      System.out.println(
          "failover: pg_autoctl not found (apt-get install postgresql-15-auto-failover)");
      return 1;
    }
    return new FailoverBench().run();
  }

  private int run() throws Exception {
    System.out.println("tandem-bench failover: starting a pg_auto_failover formation (monitor,"
        + " primary, synchronous standby) in a temporary directory");
    long t0 = System.nanoTime();
    try (AutoFailoverCluster cluster = AutoFailoverCluster.start()) {
      String url = cluster.url();
      System.out.printf("  formation up in %.1f s: %s%n  %s%n", (System.nanoTime() - t0) / 1e9,
          cluster.states(), url);
      try (Connection c = DriverManager.getConnection(url)) {
        System.out.println("  " + Sql.environment(c));
        PaymentsSchema.create(c);
        PaymentsSchema.reset(c);
        Sql.execute(c, "CREATE TABLE IF NOT EXISTS bench_failover_woken (workflow_id text NOT NULL,"
            + " kind text NOT NULL)");
      }
      Tandem tandem = Tandem.builder().databaseUrl(url).maxPoolSize(CLIENTS + 2 * WAITERS + 4)
          .build();
      register(tandem);
      tandem.start();
      List<Thread> clients = startClients();
      long[] stall = new long[2];
      try {
        stall[0] = round(cluster, tandem, 1, url);
        Phases.heading("waiting for the old primary to be a synchronous standby again");
        long w = System.nanoTime();
        cluster.awaitHealthy(300);
        System.out.printf("  healthy again after %.1f s: %s%n", (System.nanoTime() - w) / 1e9,
            cluster.states());
        stall[1] = round(cluster, tandem, 2, url);
      } finally {
        stopping = true;
        for (Thread t : clients) {
          t.join(120_000);
        }
        tandem.close();
      }
      return check(url, stall);
    }
  }

  private void register(Tandem tandem) {
    payments = tandem.register("payments", Integer.class, (ctx, i) -> {
      int cents = ctx.step("quote", () -> PaymentsWorkload.quote(i));
      ctx.transaction("charge", conn -> {
        PaymentsSchema.charge(conn, i, cents);
        return null;
      });
      return ctx.step("receipt", () -> PaymentsWorkload.receipt(i, cents));
    });
    waiter = tandem.register("failover_waiter", Integer.class, (ctx, i) -> {
      String m = ctx.recv("go", String.class, Duration.ofMinutes(5));
      woken(ctx.workflowId(), "waiter", ctx);
      return m;
    });
    sleeper = tandem.register("failover_sleeper", Integer.class, (ctx, i) -> {
      ctx.sleep(Duration.ofSeconds(3));
      woken(ctx.workflowId(), "sleeper", ctx);
      return "slept";
    });
  }

  private static void woken(String id, String kind, dev.tandem.WorkflowContext ctx) {
    ctx.transaction("woken", conn -> {
      try (PreparedStatement ps =
          conn.prepareStatement("INSERT INTO bench_failover_woken VALUES (?, ?)")) {
        ps.setString(1, id);
        ps.setString(2, kind);
        ps.executeUpdate();
      }
      return null;
    });
  }

  private List<Thread> startClients() {
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < CLIENTS; t++) {
      Thread thread = new Thread(this::client, "failover-client-" + t);
      thread.setDaemon(true);
      thread.start();
      threads.add(thread);
    }
    return threads;
  }

  /** Runs payments one at a time until stopped; a failed call is repeated with the same id. */
  private void client() {
    while (!stopping) {
      int i = next.getAndIncrement();
      while (true) {
        try {
          payments.run(i, StartOptions.withId("pay-" + i));
          completions.add(new long[] {System.nanoTime(), i});
          break;
        } catch (RuntimeException e) {
          clientRetries.incrementAndGet();
          sleep(100);
        }
      }
    }
  }

  /** One failover under load; returns its stall in ms. */
  private long round(AutoFailoverCluster cluster, Tandem tandem, int round, String url)
      throws Exception {
    Phases.heading("round " + round + ": " + (round == 1 ? "pg_autoctl perform failover"
        : "SIGKILL of the primary node (postgres and its keeper)"));
    sleep(BEFORE.toMillis());
    List<String> waiters = new ArrayList<>();
    for (int k = 0; k < WAITERS; k++) {
      String id = "wait-" + round + "-" + k;
      waiter.start(k, StartOptions.withId(id));
      sleeper.start(k, StartOptions.withId("sleep-" + round + "-" + k));
      waiters.add(id);
      sleeperIds.add("sleep-" + round + "-" + k);
    }
    waiterIds.addAll(waiters);
    sleep(500); // the waiters are waiting in recv now
    String old = cluster.primaryName();
    int before = completions.size();
    long failAt = System.nanoTime();
    if (round == 1) {
      cluster.performFailover();
    } else {
      cluster.killPrimary();
    }
    String now = cluster.awaitNewPrimary(old, 120);
    long promoted = System.nanoTime();
    System.out.printf("  %s -> %s: new primary writable %.2f s after the %s; %d payments done"
        + " before%n", old, now, (promoted - failAt) / 1e9, round == 1 ? "command" : "kill",
        before);
    // Messages sent after the failover: only a LISTEN on the new primary (or the 5 s look) wakes.
    long sent = System.nanoTime();
    for (int k = 0; k < waiters.size(); k++) {
      while (true) {
        try {
          tandem.send(waiters.get(k), "go", "paid", "go-" + waiters.get(k));
          break;
        } catch (RuntimeException e) {
          sleep(100);
        }
      }
    }
    for (String id : waiters) {
      tandem.handle(id).result(Duration.ofSeconds(120));
    }
    System.out.printf("  %d waiters woken by messages sent after the failover, all done %.2f s"
        + " after the first send%n", waiters.size(), (System.nanoTime() - sent) / 1e9);
    sleep(AFTER.toMillis());
    long stall = stall(failAt - BEFORE.toNanos(), System.nanoTime());
    System.out.printf("  payments: %d done so far (client calls repeated: %d); longest gap"
        + " between completions around the failover: %d ms%n",
        completions.size(), clientRetries.get(), stall);
    return stall;
  }

  private long stall(long from, long to) {
    List<Long> times = new ArrayList<>();
    for (long[] c : completions) {
      if (c[0] >= from && c[0] <= to) {
        times.add(c[0]);
      }
    }
    Collections.sort(times);
    long gap = 0;
    long previous = from;
    for (long t : times) {
      gap = Math.max(gap, t - previous);
      previous = t;
    }
    return Math.max(gap, to - previous) / 1_000_000;
  }

  private int check(String url, long[] stall) throws Exception {
    Phases.heading("check");
    try (Connection c = DriverManager.getConnection(url)) {
      long started = next.get();
      long done = completions.size();
      long workflows = Sql.count(c, "SELECT count(*) FROM tandem.workflow_status");
      long success = Sql.count(c, "SELECT count(*) FROM tandem.workflow_status"
          + " WHERE status = 'SUCCESS'");
      long paymentsRows = Sql.count(c, "SELECT count(*) FROM tandem.workflow_status"
          + " WHERE name = 'payments'");
      PaymentsSchema.Totals totals = PaymentsSchema.totals(c);
      long duplicatedPayments = Sql.count(c, "SELECT count(*) FROM (SELECT ref FROM bench_payments"
          + " GROUP BY ref HAVING count(*) > 1) d");
      long duplicatedWoken = Sql.count(c, "SELECT count(*) FROM (SELECT workflow_id FROM"
          + " bench_failover_woken GROUP BY workflow_id HAVING count(*) > 1) d");
      long woken = Sql.count(c, "SELECT count(DISTINCT workflow_id) FROM bench_failover_woken");
      long expected = done + waiterIds.size() + sleeperIds.size();
      // Lost: a workflow whose start returned (or whose run completed) that is not SUCCESS now.
      long lost = (done - Math.min(done, Sql.count(c, "SELECT count(*) FROM tandem.workflow_status"
          + " WHERE name = 'payments' AND status = 'SUCCESS'")))
          + (waiterIds.size() + sleeperIds.size() - woken)
          + (workflows - success);
      long duplicated = duplicatedPayments + duplicatedWoken;
      System.out.printf("  payments: %d started by clients, %d completed, %d rows in"
          + " tandem.workflow_status; %s; consistent: %s%n", started, done, paymentsRows, totals,
          totals.consistent(paymentsRows) ? "yes" : "NO");
      System.out.printf("  waiters and sleepers: %d started, %d woke and wrote their row once%n",
          waiterIds.size() + sleeperIds.size(), woken);
      System.out.printf("  workflows: %d rows, %d SUCCESS (expected at least %d); lost %d,"
          + " duplicated %d; stall per round: %d ms, %d ms%n", workflows, success, expected, lost,
          duplicated, stall[0], stall[1]);
      System.out.printf("failover: workflows=%d lost=%d duplicated=%d stall_ms=%d%n", workflows,
          lost, duplicated, Math.max(stall[0], stall[1]));
      return lost == 0 && duplicated == 0 && totals.consistent(paymentsRows) ? 0 : 1;
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
