package dev.tandem.bench;

import com.zaxxer.hikari.HikariDataSource;
import dev.dbos.transact.DBOS;
import dev.dbos.transact.DBOSClient;
import dev.dbos.transact.workflow.Queue;
import dev.dbos.transact.workflow.Workflow;

/**
 * The queue workload on DBOS Transact (Java, {@code dev.dbos:transact}): one DBOS worker that
 * drains queue {@value #QUEUE}, and a {@link DBOSClient} that enqueues into it.
 *
 * <p>DBOS keeps its system tables in schema {@value DbosPayments#SCHEMA} of the benchmark
 * database, as in {@link DbosPayments}. The queue is declared with {@link DBOS#registerQueue} before
 * launch, with DBOS's default polling interval ({@link Queue#DEFAULT_POLLING_INTERVAL}): DBOS
 * queues are polled, not woken by a notification. The client enqueues with {@link
 * DBOSClient#enqueueWorkflow}, one transaction per workflow, naming the workflow, its class and
 * the queue, as any process without the workflow code would.
 */
final class DbosQueue implements AutoCloseable {
  static final String QUEUE = "queue_bench";
  static final String WORKFLOW = "queue_bench";

  private final HikariDataSource systemPool;
  private final DBOS dbos;

  /**
   * Launches a worker.
   *
   * @param workerConcurrency how many workflows of the queue it runs at once; 0 for DBOS's
   *     default (no limit)
   */
  DbosQueue(String jdbcUrl, int poolSize, int workerConcurrency) {
    this.systemPool = Pools.fixed(jdbcUrl, "dbos-system", poolSize, true);
    try {
      this.dbos = new DBOS(DbosPayments.config("tandem-bench-queue", systemPool));
      Queue queue = new Queue(QUEUE);
      if (workerConcurrency > 0) {
        queue = queue.withWorkerConcurrency(workerConcurrency);
      }
      dbos.registerQueue(queue);
      dbos.registerProxy(DbosQueueWorkflow.class, new Impl(dbos));
      dbos.launch();
    } catch (RuntimeException e) {
      systemPool.close();
      throw e;
    }
  }

  @Override
  public void close() {
    try {
      dbos.shutdown();
    } finally {
      systemPool.close();
    }
  }

  /** Enqueues workflows from outside the worker, as another service would. */
  static final class Client implements AutoCloseable {
    private final HikariDataSource pool;
    private final DBOSClient client;

    Client(String jdbcUrl, int poolSize) {
      this.pool = Pools.fixed(jdbcUrl, "dbos-client", poolSize, true);
      try {
        this.client = new DBOSClient(pool, DbosPayments.SCHEMA);
      } catch (RuntimeException e) {
        pool.close();
        throw e;
      }
    }

    /** Enqueues workflow {@code id} with input {@code i}; committed when this returns. */
    void enqueue(String id, int i) {
      client.enqueueWorkflow(
          new DBOSClient.EnqueueOptions(WORKFLOW, Impl.class.getName(), QUEUE).withWorkflowId(id),
          new Object[] {i});
    }

    @Override
    public void close() {
      try {
        client.close();
      } finally {
        pool.close();
      }
    }
  }

  /** The workflow implementation that DBOS proxies. */
  static final class Impl implements DbosQueueWorkflow {
    private final DBOS dbos;

    Impl(DBOS dbos) {
      this.dbos = dbos;
    }

    @Override
    @Workflow(name = WORKFLOW)
    public int addOne(int i) {
      return dbos.runStep(() -> i + 1, "add-one");
    }
  }
}
