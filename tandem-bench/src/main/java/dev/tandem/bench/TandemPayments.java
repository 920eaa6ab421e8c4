package dev.tandem.bench;

import dev.tandem.StartOptions;
import dev.tandem.Tandem;
import dev.tandem.TandemBuilder;
import dev.tandem.Workflow;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;
import java.util.function.UnaryOperator;

/**
 * The payments workload on Tandem: step {@code quote}, transactional step {@code charge} (the shared SQL plus its
 * checkpoint, one commit), step {@code receipt}. Each call of {@link #runOne} starts one workflow and waits for its
 * result, like a request handler would.
 */
public final class TandemPayments implements AutoCloseable {
  private final Tandem tandem;
  private final Workflow<Integer, String> payments;
  private final BenchTelemetry telemetry;
  private final String idPrefix = "pay-" + UUID.randomUUID().toString().substring(0, 8) + "-";

  public TandemPayments(String jdbcUrl, int concurrency, boolean telemetry) {
    this(jdbcUrl, concurrency, telemetry, UnaryOperator.identity());
  }

  /** As above, with {@code configure} applied to the builder last (the soak turns retention on with it). */
  public TandemPayments(
      String jdbcUrl, int concurrency, boolean telemetry, UnaryOperator<TandemBuilder> configure) {
    // One connection per client, plus the three the engine keeps open (group commit, two LISTENs).
    TandemBuilder builder = Tandem.builder().databaseUrl(jdbcUrl).maxPoolSize(concurrency + 3);
    if (telemetry) {
      this.telemetry = new BenchTelemetry();
      builder.openTelemetry(this.telemetry.openTelemetry()).meterRegistry(this.telemetry.registry());
    } else {
      this.telemetry = null;
    }
    tandem = configure.apply(builder).build();
    payments = tandem.register("payments", Integer.class, (ctx, i) -> {
      int cents = ctx.step("quote", () -> PaymentsWorkload.quote(i));
      ctx.transaction("charge", conn -> {
        PaymentsSchema.charge(conn, i, cents);
        return null;
      });
      return ctx.step("receipt", () -> PaymentsWorkload.receipt(i, cents));
    });
    tandem.start();
  }

  /** Empties Tandem's tables, so every phase starts from the same state. */
  public static void reset(Connection c) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.execute("DO $$ BEGIN IF to_regclass('tandem.workflow_status') IS NOT NULL THEN"
          + " TRUNCATE tandem.workflow_status, tandem.steps, tandem.executors; END IF; END $$");
    }
  }

  public void runOne(int i) {
    payments.run(i, StartOptions.withId(idPrefix + i));
  }

  @Override
  public void close() {
    tandem.close();
    if (telemetry != null) {
      telemetry.close();
    }
  }
}
