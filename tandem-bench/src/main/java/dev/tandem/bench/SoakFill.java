package dev.tandem.bench;

import dev.tandem.internal.db.Queries;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;

/**
 * Fills schema {@code tandem} of the soak database with set-based SQL ({@code fill} in {@code
 * soak.sql}): ended, failed, waiting and orphaned workflows with their checkpoints, in batches of
 * {@value #BATCH} workflows per statement, with every index present.
 *
 * <p>The kept workflows are spread evenly over the retention window: workflow {@code g} of {@code
 * total} was created {@code g / total} of the way from {@code retention - 1 h} ago to {@code 1 h}
 * ago, so that retention never deletes them and the newest are the ones the run itself writes.
 * Each point also gets a batch of <em>expired</em> workflows, created more than the retention age
 * ago, for the engine's retention to delete while the point is measured.
 */
final class SoakFill {
  private static final int BATCH = 100_000;
  private static final String KEPT = "soak-";

  private final Connection connection;
  private final Queries sql;
  private final long total;
  private final Duration retention;
  private final Instant origin;
  private final double spacingSeconds;
  private long kept;
  private int expiredBatches;

  SoakFill(Connection connection, Queries sql, long total, Duration retention) {
    this.connection = connection;
    this.sql = sql;
    this.total = total;
    this.retention = retention;
    Instant now = Instant.now();
    this.origin = now.minus(retention).plus(Duration.ofHours(1));
    this.spacingSeconds = (retention.toSeconds() - 2 * 3600) / (double) Math.max(1, total);
  }

  /** What one fill wrote and how long it took, the vacuum included. */
  record Filled(long workflows, long steps, double seconds, double vacuumSeconds) {
    @Override
    public String toString() {
      return String.format(
          "+%,d workflows and %,d checkpoints in %.1f s (%,.0f workflows/s), VACUUM ANALYZE and CHECKPOINT %.1f s",
          workflows, steps, seconds, workflows / Math.max(seconds, 1e-9), vacuumSeconds);
    }
  }

  /** Kept workflows written so far. */
  long kept() {
    return kept;
  }

  /**
   * Adds kept workflows until there are {@code target}, then {@code expired} workflows older than
   * the retention age, then runs {@code VACUUM ANALYZE} on the two tables (as a bulk load would be
   * followed by, and so that the visibility map and statistics are those of a settled table) and a
   * checkpoint.
   */
  Filled growTo(long target, long expired) throws SQLException {
    long t0 = System.nanoTime();
    long steps = 0;
    long added = 0;
    while (kept < target) {
      long last = Math.min(target, kept + BATCH);
      steps += insert(KEPT, kept, last - 1, origin.plusMillis(Math.round(kept * spacingSeconds * 1000)),
          spacingSeconds);
      added += last - kept;
      kept = last;
    }
    if (expired > 0) {
      // Created between retention + 1 day and retention + 1 hour ago: due for deletion at once.
      String prefix = "soak-expired-" + (++expiredBatches) + "-";
      Instant first = Instant.now().minus(retention).minus(Duration.ofDays(1));
      double spacing = (23 * 3600.0) / expired;
      for (long from = 0; from < expired; from += BATCH) {
        long to = Math.min(expired, from + BATCH) - 1;
        steps += insert(prefix, from, to, first.plusMillis(Math.round(from * spacing * 1000)), spacing);
      }
      added += expired;
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    long v0 = System.nanoTime();
    Sql.execute(connection, "VACUUM (ANALYZE) tandem.workflow_status, tandem.steps");
    Sql.execute(connection, sql.get("deadExecutor"));
    // The fill wrote gigabytes of WAL: checkpoint now, not during the measurement (as payments does before each run).
    Sql.execute(connection, "CHECKPOINT");
    return new Filled(added, steps, seconds, (System.nanoTime() - v0) / 1e9);
  }

  /** Inserts workflows {@code prefix first .. prefix last} and their checkpoints; returns the checkpoints. */
  private long insert(String prefix, long first, long last, Instant firstCreated, double spacing)
      throws SQLException {
    try (PreparedStatement ps = connection.prepareStatement(sql.get("fill"))) {
      ps.setString(1, prefix);
      ps.setString(2, prefix);
      ps.setObject(3, OffsetDateTime.ofInstant(firstCreated, ZoneOffset.UTC));
      ps.setLong(4, first);
      ps.setDouble(5, spacing);
      ps.setLong(6, first);
      ps.setLong(7, last);
      return ps.executeUpdate();
    }
  }

  /** The prefilled size the run ends at. */
  long total() {
    return total;
  }
}
