package dev.tandem.bench;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;

/** HikariCP pools of a fixed size, filled before they are used for measuring. */
final class Pools {
  private Pools() {}

  static HikariDataSource fixed(String jdbcUrl, String name, int size, boolean autoCommit) {
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(jdbcUrl);
    config.setPoolName(name);
    config.setMaximumPoolSize(size);
    config.setMinimumIdle(size);
    config.setAutoCommit(autoCommit);
    config.setConnectionTimeout(30_000);
    HikariDataSource ds = new HikariDataSource(config);
    awaitFilled(ds, size);
    return ds;
  }

  /** Waits (up to 10 s) until the pool has opened all its connections. */
  static void awaitFilled(HikariDataSource ds, int size) {
    long deadline = System.currentTimeMillis() + 10_000;
    while (ds.getHikariPoolMXBean().getTotalConnections() < size
        && System.currentTimeMillis() < deadline) {
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }
}
