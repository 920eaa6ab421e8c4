package dev.tandem.bench;

import com.zaxxer.hikari.HikariDataSource;
import dev.dbos.transact.DBOS;
import dev.dbos.transact.config.DBOSConfig;
import dev.dbos.transact.txstep.JdbcStepFactory;
import dev.dbos.transact.workflow.Workflow;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * The payments workload on DBOS Transact (Java, {@code dev.dbos:transact}).
 *
 * <p>DBOS keeps its system tables in schema {@value #SCHEMA} of the benchmark database itself
 * ({@link DBOSConfig#withDatabaseSchema}), reached through its own pool handed over with {@link
 * DBOSConfig#withDataSource}; {@code charge} runs through DBOS's {@link JdbcStepFactory} on a
 * second pool over the same database, which records the step's output in {@code
 * dbos.tx_step_outputs} inside the application's own transaction. {@code quote} and {@code
 * receipt} are ordinary {@link DBOS#runStep} steps. Workflows are started by calling the proxy
 * directly from the benchmark's threads, each call blocking until its workflow is done.
 */
final class DbosPayments implements AutoCloseable {
  static final String SCHEMA = "dbos";

  private final HikariDataSource systemPool;
  private final HikariDataSource appPool;
  private final DBOS dbos;
  private final DbosPaymentsWorkflow workflow;

  DbosPayments(String jdbcUrl, int concurrency) {
    // DBOS's own pool defaults to 10 connections; one of them is held by its LISTEN connection.
    // Give it room for every workflow in flight, as the application pool has.
    this.systemPool = Pools.fixed(jdbcUrl, "dbos-system", concurrency + 2, true);
    this.appPool = Pools.fixed(jdbcUrl, "dbos-app", concurrency, true);
    try {
      this.dbos = new DBOS(config("tandem-bench-payments", systemPool));
      JdbcStepFactory tx = new JdbcStepFactory(dbos, appPool);
      this.workflow = dbos.registerProxy(DbosPaymentsWorkflow.class, new Impl(dbos, tx));
      dbos.launch();
    } catch (RuntimeException e) {
      appPool.close();
      systemPool.close();
      throw e;
    }
  }

  /**
   * The configuration of DBOS application {@code app}: system tables in schema {@value #SCHEMA},
   * created if missing, reached through {@code systemPool}.
   */
  static DBOSConfig config(String app, HikariDataSource systemPool) {
    return DBOSConfig.defaults(app)
        .withDataSource(systemPool)
        .withDatabaseSchema(SCHEMA)
        .withMigrate(true);
  }

  /** Drops every DBOS table, so that each benchmark run starts from an empty system database. */
  static void dropState(Connection c) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.execute("DROP SCHEMA IF EXISTS " + SCHEMA + " CASCADE");
    }
  }

  /** Runs payment {@code i} as a DBOS workflow, start to finish. */
  void runOne(int i) throws SQLException {
    String receipt = workflow.pay(i);
    if (receipt == null || !receipt.startsWith("receipt ")) {
      throw new IllegalStateException("DBOS workflow " + i + " returned " + receipt);
    }
  }

  @Override
  public void close() {
    try {
      dbos.shutdown();
    } finally {
      appPool.close();
      systemPool.close();
    }
  }

  /** The workflow implementation that DBOS proxies. */
  static final class Impl implements DbosPaymentsWorkflow {
    private final DBOS dbos;
    private final JdbcStepFactory tx;

    Impl(DBOS dbos, JdbcStepFactory tx) {
      this.dbos = dbos;
      this.tx = tx;
    }

    @Override
    @Workflow(name = "payments")
    public String pay(int i) throws SQLException {
      int cents = dbos.runStep(() -> PaymentsWorkload.quote(i), "quote");
      // An explicitly typed lambda: with "c -> ..." javac finds txStep's overloads ambiguous.
      tx.txStep((Connection c) -> PaymentsSchema.charge(c, i, cents), "charge");
      return dbos.runStep(() -> PaymentsWorkload.receipt(i, cents), "receipt");
    }
  }
}
