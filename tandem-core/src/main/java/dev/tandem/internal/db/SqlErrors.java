package dev.tandem.internal.db;

import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;

/** Which SQL errors the engine reacts to, by SQLSTATE. */
public final class SqlErrors {
    private SqlErrors() {}

    /** The connection broke or could not be made: the database may come back, so wait and retry. */
    public static boolean isConnectionError(Throwable t) {
        for (Throwable e = t; e != null; e = e.getCause()) {
            if (e instanceof SQLTransientConnectionException) {
                return true; // HikariCP: no connection available within the timeout
            }
            if (e instanceof SQLException sql) {
                String state = sql.getSQLState();
                // 08: connection exception; 57P01-57P03: admin shutdown, crash shutdown, cannot connect now.
                if (state != null && (state.startsWith("08") || state.startsWith("57P"))) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Serialization failure or deadlock: PostgreSQL aborted the transaction and it can safely be run again. */
    public static boolean isRetryableTransaction(Throwable t) {
        for (Throwable e = t; e != null; e = e.getCause()) {
            if (e instanceof SQLException sql) {
                String state = sql.getSQLState();
                if ("40001".equals(state) || "40P01".equals(state)) {
                    return true;
                }
            }
        }
        return false;
    }

    /** The workflow was cancelled or taken over while a transactional step ran (raised by tandem.check_owner). */
    public static boolean isNotOwner(Throwable t) {
        for (Throwable e = t; e != null; e = e.getCause()) {
            if (e instanceof SQLException sql && "TD001".equals(sql.getSQLState())) {
                return true;
            }
        }
        return false;
    }

    /** The step's position is already recorded: another execution of the same workflow committed it first. */
    public static boolean isCheckpointConflict(Throwable t) {
        for (Throwable e = t; e != null; e = e.getCause()) {
            if (e instanceof PSQLException psql && "23505".equals(psql.getSQLState())) {
                ServerErrorMessage m = psql.getServerErrorMessage();
                return m != null && "steps_pkey".equals(m.getConstraint()) && "tandem".equals(m.getSchema());
            }
        }
        return false;
    }
}
