package dev.tandem.internal.db;

import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.util.logging.Logger;
import javax.sql.DataSource;

/**
 * The data source of an engine that must never reach a database (the workflow replayer's): every connection is
 * refused, saying why, so code that would read or write during a replay fails there instead of touching anything.
 * The engine's own pool over it opens no connection in advance ({@link EnginePool}).
 */
public final class NoDatabase implements DataSource {
    private final String why;

    public NoDatabase(String why) {
        this.why = why;
    }

    @Override
    public Connection getConnection() throws SQLException {
        throw new SQLException(why);
    }

    @Override
    public Connection getConnection(String username, String password) throws SQLException {
        throw new SQLException(why);
    }

    @Override
    public PrintWriter getLogWriter() {
        return new PrintWriter(PrintWriter.nullWriter());
    }

    @Override
    public void setLogWriter(PrintWriter out) {}

    @Override
    public void setLoginTimeout(int seconds) {}

    @Override
    public int getLoginTimeout() {
        return 0;
    }

    @Override
    public Logger getParentLogger() throws SQLFeatureNotSupportedException {
        throw new SQLFeatureNotSupportedException();
    }

    @Override
    public <T> T unwrap(Class<T> iface) throws SQLException {
        throw new SQLException("not a wrapper");
    }

    @Override
    public boolean isWrapperFor(Class<?> iface) {
        return false;
    }
}
