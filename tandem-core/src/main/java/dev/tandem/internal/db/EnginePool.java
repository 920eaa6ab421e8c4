package dev.tandem.internal.db;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.util.Properties;
import java.util.logging.Logger;
import javax.sql.DataSource;
import org.postgresql.ds.common.BaseDataSource;

/**
 * The engine's own small connection pool, apart from the application's: the group committer, the heartbeat, the
 * listening connections, queue claims and maintenance use it, so an application that exhausts its own pool cannot
 * make a live executor look dead (its heartbeat starved, its workflows taken over and their plain steps run twice).
 *
 * <p>Its connections are guarded: a statement timeout and a lock timeout (an engine statement never waits forever
 * on an application's lock) and a socket timeout (a connection whose peer vanished, behind a NAT or load balancer
 * that dropped it silently, fails instead of hanging). When the application's {@link DataSource} tells how it
 * connects (a HikariCP pool with a JDBC URL, or PostgreSQL's own data source), the engine opens its own physical
 * connections the same way, on sockets that tell the queue's listener when a notification arrives (unless the
 * application chose a socket factory: {@link ArrivalSocketFactory}); otherwise it takes them from the application's
 * data source and holds them.
 */
public final class EnginePool {
    /** Every engine user at once: committer, heartbeat, two listeners, queue worker, maintenance; and spares. */
    static final int SIZE = 8;
    static final String STATEMENT_TIMEOUT = "60s";
    static final String LOCK_TIMEOUT = "5s";
    /** Seconds; longer than the statement timeout, so the server's timeout speaks first. */
    static final int SOCKET_TIMEOUT_SECONDS = 90;

    private EnginePool() {}

    public static HikariDataSource create(DataSource application, String executorId) {
        HikariConfig config = new HikariConfig();
        config.setPoolName("tandem-engine-" + executorId);
        config.setMaximumPoolSize(SIZE);
        config.setMinimumIdle(2);
        config.setConnectionTimeout(2_000); // each user retries on its own schedule
        config.setValidationTimeout(2_000);
        config.setConnectionInitSql("SET statement_timeout = '" + STATEMENT_TIMEOUT + "'; SET lock_timeout = '"
                + LOCK_TIMEOUT + "'; SET application_name = 'tandem engine'");
        // Connections are opened lazily: a pool that cannot connect at once must not fail the engine's construction.
        config.setInitializationFailTimeout(-1);
        if (application instanceof HikariDataSource hikari && hikari.getJdbcUrl() != null) {
            config.setJdbcUrl(hikari.getJdbcUrl());
            config.setUsername(hikari.getUsername());
            config.setPassword(hikari.getPassword());
            if (hikari.getDriverClassName() != null) {
                config.setDriverClassName(hikari.getDriverClassName());
            }
            Properties properties = new Properties();
            properties.putAll(hikari.getDataSourceProperties());
            properties.setProperty("socketTimeout", Integer.toString(SOCKET_TIMEOUT_SECONDS));
            if (!properties.containsKey(ArrivalSocketFactory.PROPERTY) && !namesSocketFactory(hikari.getJdbcUrl())
                    && ArrivalSocketFactory.visibleToDriver()) {
                properties.setProperty(ArrivalSocketFactory.PROPERTY, ArrivalSocketFactory.class.getName());
            }
            config.setDataSourceProperties(properties);
        } else if (application instanceof BaseDataSource pg) {
            config.setJdbcUrl(pg.getUrl());
            config.setUsername(pg.getUser());
            config.setPassword(pg.getPassword());
            config.addDataSourceProperty("socketTimeout", Integer.toString(SOCKET_TIMEOUT_SECONDS));
            if (pg.getSocketFactory() == null && !namesSocketFactory(pg.getUrl())
                    && ArrivalSocketFactory.visibleToDriver()) {
                config.addDataSourceProperty(ArrivalSocketFactory.PROPERTY, ArrivalSocketFactory.class.getName());
            }
        } else {
            config.setDataSource(new NetworkTimeoutDataSource(application));
        }
        if (application instanceof NoDatabase) {
            config.setMinimumIdle(0); // nothing to keep open: no connection is ever asked for
        }
        return new HikariDataSource(config);
    }

    /** Whether a JDBC URL chooses its own socket factory (a cloud connector's, say): then it is left alone. */
    static boolean namesSocketFactory(String jdbcUrl) {
        return jdbcUrl.contains(ArrivalSocketFactory.PROPERTY + "=");
    }

    /** Connections from another data source, with the socket timeout set on each. */
    private static final class NetworkTimeoutDataSource implements DataSource {
        private final DataSource delegate;

        NetworkTimeoutDataSource(DataSource delegate) {
            this.delegate = delegate;
        }

        @Override
        public Connection getConnection() throws SQLException {
            return guarded(delegate.getConnection());
        }

        @Override
        public Connection getConnection(String username, String password) throws SQLException {
            return guarded(delegate.getConnection(username, password));
        }

        private static Connection guarded(Connection c) throws SQLException {
            try {
                c.setNetworkTimeout(Runnable::run, SOCKET_TIMEOUT_SECONDS * 1000);
            } catch (SQLFeatureNotSupportedException ignored) {
                // a driver without it: the statement timeout still bounds what the server does
            }
            return c;
        }

        @Override
        public PrintWriter getLogWriter() throws SQLException {
            return delegate.getLogWriter();
        }

        @Override
        public void setLogWriter(PrintWriter out) throws SQLException {
            delegate.setLogWriter(out);
        }

        @Override
        public void setLoginTimeout(int seconds) throws SQLException {
            delegate.setLoginTimeout(seconds);
        }

        @Override
        public int getLoginTimeout() throws SQLException {
            return delegate.getLoginTimeout();
        }

        @Override
        public Logger getParentLogger() throws SQLFeatureNotSupportedException {
            return delegate.getParentLogger();
        }

        @Override
        public <T> T unwrap(Class<T> iface) throws SQLException {
            return delegate.unwrap(iface);
        }

        @Override
        public boolean isWrapperFor(Class<?> iface) throws SQLException {
            return delegate.isWrapperFor(iface);
        }
    }
}
