package dev.tandem.bench;

import com.zaxxer.hikari.HikariDataSource;
import dev.dbos.transact.DBOS;
import dev.dbos.transact.DBOSClient;
import dev.dbos.transact.StartWorkflowOptions;
import dev.dbos.transact.workflow.Workflow;
import dev.dbos.transact.workflow.WorkflowHandle;
import java.time.Duration;
import java.util.Optional;

/**
 * The primitives workload on DBOS Transact: the same two message and event workflows as {@link
 * TandemPrimitives} ({@link DBOS#recv}, {@link DBOS#setEvent}, a {@link DBOS#runStep} that marks
 * the time), driven either by the same DBOS instance ({@link DBOS#send}, {@link DBOS#getEvent}) or
 * by a {@link DBOSClient} on a pool of its own, standing for another process.
 *
 * <p>DBOS keeps its system tables in schema {@value DbosPayments#SCHEMA} of the benchmark database,
 * as in {@link DbosPayments}, on a pool of {@value #POOL_SIZE} connections (Tandem's default pool
 * size).
 */
final class DbosPrimitives implements AutoCloseable {
  static final int POOL_SIZE = 16;
  static final int CLIENT_POOL_SIZE = 4;

  private final HikariDataSource systemPool;
  private final HikariDataSource clientPool;
  private final DBOS dbos;
  private final DBOSClient client;
  private final DbosPrimitivesWorkflow proxy;
  private final Marks marks = new Marks();

  DbosPrimitives(String jdbcUrl) {
    this.systemPool = Pools.fixed(jdbcUrl, "dbos-system", POOL_SIZE, true);
    HikariDataSource cp = null;
    try {
      this.dbos = new DBOS(DbosPayments.config("tandem-bench-primitives", systemPool));
      this.proxy = dbos.registerProxy(DbosPrimitivesWorkflow.class, new Impl(this));
      dbos.launch();
      cp = Pools.fixed(jdbcUrl, "dbos-client", CLIENT_POOL_SIZE, true);
      this.clientPool = cp;
      this.client = new DBOSClient(cp, DbosPayments.SCHEMA);
    } catch (RuntimeException e) {
      if (cp != null) {
        cp.close();
      }
      systemPool.close();
      throw e;
    }
  }

  /** Who drives the workflows: the DBOS instance that runs them, or a client. */
  enum Driver {
    SAME,
    CLIENT
  }

  WorkflowHandle<Integer, RuntimeException> startReceiver(String id, int n) {
    return dbos.startWorkflow(() -> proxy.receive(n), new StartWorkflowOptions(id));
  }

  WorkflowHandle<Integer, RuntimeException> startEventer(String id, int n) {
    return dbos.startWorkflow(() -> proxy.events(n), new StartWorkflowOptions(id));
  }

  void send(Driver driver, String id, String topic, int k) {
    if (driver == Driver.SAME) {
      dbos.send(id, k, topic);
    } else {
      client.send(id, k, topic, null);
    }
  }

  /** The value of event {@code key}, waiting up to {@code timeout}; null if none. */
  Object getEvent(Driver driver, String id, String key, Duration timeout) {
    Optional<Object> v =
        driver == Driver.SAME ? dbos.getEvent(id, key, timeout) : client.getEvent(id, key, timeout);
    return v.orElse(null);
  }

  /** Where the driver waits for the time a workflow's step after {@code recv} read. */
  Marks marks() {
    return marks;
  }

  @Override
  public void close() {
    try {
      client.close();
    } finally {
      try {
        dbos.shutdown();
      } finally {
        clientPool.close();
        systemPool.close();
      }
    }
  }

  /** The workflow implementation that DBOS proxies. */
  static final class Impl implements DbosPrimitivesWorkflow {
    private final DbosPrimitives owner;

    Impl(DbosPrimitives owner) {
      this.owner = owner;
    }

    @Override
    @Workflow(name = "prim_receive")
    public int receive(int n) {
      DBOS dbos = owner.dbos;
      for (int k = 0; k < n; k++) {
        markStep(dbos, take(dbos, TandemPrimitives.TOPIC, k));
      }
      return n;
    }

    @Override
    @Workflow(name = "prim_events")
    public int events(int n) {
      DBOS dbos = owner.dbos;
      for (int k = 0; k < n; k++) {
        int m = take(dbos, TandemPrimitives.GO, k);
        dbos.setEvent("e" + m, m);
        markStep(dbos, m);
      }
      return n;
    }

    /** A step that reads the time and hands it to the driver waiting for message {@code m}. */
    private void markStep(DBOS dbos, int m) {
      String id = DBOS.workflowId();
      dbos.runStep(() -> owner.marks.mark(id, m, System.nanoTime()), "mark");
    }

    private static int take(DBOS dbos, String topic, int k) {
      Optional<Object> m = dbos.recv(topic, TandemPrimitives.RECV_TIMEOUT);
      if (m.isEmpty()) {
        throw new IllegalStateException(
            "no message " + k + " within " + TandemPrimitives.RECV_TIMEOUT);
      }
      return ((Number) m.get()).intValue();
    }
  }
}
