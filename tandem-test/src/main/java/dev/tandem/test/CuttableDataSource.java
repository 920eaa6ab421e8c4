package dev.tandem.test;

import java.io.PrintWriter;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Logger;
import javax.sql.DataSource;

/**
 * One engine's way to the test database, which {@link #cut} ends the way a killed process does: every connection it
 * handed out is aborted (the server rolls back what was open), and every later call fails as a lost connection. The
 * engine takes all its connections from here (a plain DataSource, so it does not open its own pool beside it).
 */
final class CuttableDataSource implements DataSource {
    private static final String LOST = "08006"; // connection_failure: the engine treats it as a database outage

    private final DataSource target;
    private final Set<Connection> open = ConcurrentHashMap.newKeySet();
    private volatile boolean cut;

    CuttableDataSource(DataSource target) {
        this.target = target;
    }

    /** From now on nothing this data source gave out reaches the database. */
    void cut() {
        cut = true;
        for (Connection c : open) {
            try {
                c.abort(Runnable::run);
            } catch (SQLException | RuntimeException ignored) {
                // already gone
            }
        }
    }

    boolean isCut() {
        return cut;
    }

    @Override
    public Connection getConnection() throws SQLException {
        if (cut) {
            throw lost();
        }
        Connection physical = target.getConnection();
        open.add(physical);
        return (Connection) Proxy.newProxyInstance(Connection.class.getClassLoader(), new Class<?>[] {Connection.class},
                new Guard(physical));
    }

    @Override
    public Connection getConnection(String username, String password) throws SQLException {
        return getConnection();
    }

    private static SQLException lost() {
        return new SQLException("the executor was crashed by the test (tandem-test): no database access", LOST);
    }

    /** Passes calls through until the cut; closing always goes through, so the pool gets its connection back. */
    private final class Guard implements InvocationHandler {
        private final Connection physical;

        Guard(Connection physical) {
            this.physical = physical;
        }

        @Override
        public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
            String name = method.getName();
            if (name.equals("close")) {
                open.remove(physical);
            } else if (cut && !name.equals("isClosed") && !name.equals("abort")) {
                throw lost();
            }
            try {
                return method.invoke(physical, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        }
    }

    @Override
    public PrintWriter getLogWriter() throws SQLException {
        return target.getLogWriter();
    }

    @Override
    public void setLogWriter(PrintWriter out) throws SQLException {
        target.setLogWriter(out);
    }

    @Override
    public void setLoginTimeout(int seconds) throws SQLException {
        target.setLoginTimeout(seconds);
    }

    @Override
    public int getLoginTimeout() throws SQLException {
        return target.getLoginTimeout();
    }

    @Override
    public Logger getParentLogger() throws SQLFeatureNotSupportedException {
        return target.getParentLogger();
    }

    @Override
    public <T> T unwrap(Class<T> iface) throws SQLException {
        throw new SQLException("not a wrapper for " + iface);
    }

    @Override
    public boolean isWrapperFor(Class<?> iface) {
        return false;
    }
}
