package dev.tandem.internal.db;

import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;

/**
 * Which SQL errors the engine reacts to, by SQLSTATE. The one classification every write path uses: a failure is
 * either about the data (the same write will fail again: fail the step or workflow), about ownership (stop, the
 * database has the truth), or transient (back off and try again, within a budget).
 */
public final class SqlErrors {
    private SqlErrors() {}

    /** What to do about a failed statement. */
    public enum Kind {
        /** The connection broke or could not be made: the outcome of a commit in flight is unknown; read it. */
        CONNECTION,
        /** The workflow was cancelled or taken over (TD001, raised by tandem.check_owner). */
        NOT_OWNER,
        /** The checkpoint's position is already recorded: another execution of the workflow committed it first. */
        CHECKPOINT_CONFLICT,
        /**
         * PostgreSQL refuses the values (class 22 data exception, 23 integrity violation, 54 program limit exceeded):
         * writing them again fails again.
         */
        DATA,
        /** Anything else (lock or statement timeout, serialization failure, resources, privileges): try again later. */
        TRANSIENT
    }

    public static Kind classify(Throwable t) {
        if (isNotOwner(t)) {
            return Kind.NOT_OWNER;
        }
        if (isCheckpointConflict(t)) {
            return Kind.CHECKPOINT_CONFLICT;
        }
        if (isConnectionError(t)) {
            return Kind.CONNECTION;
        }
        String state = sqlState(t);
        if (state != null && (state.startsWith("22") || state.startsWith("23") || state.startsWith("54"))) {
            return Kind.DATA;
        }
        return Kind.TRANSIENT;
    }

    /** The SQLSTATE of the first SQLException in the cause chain, or null. */
    public static String sqlState(Throwable t) {
        for (Throwable e = t; e != null; e = e.getCause()) {
            if (e instanceof SQLException sql && sql.getSQLState() != null) {
                return sql.getSQLState();
            }
        }
        return null;
    }

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
        String state = sqlState(t);
        return "40001".equals(state) || "40P01".equals(state);
    }

    /** A lock could not be had within lock_timeout (55P03): another transaction holds the row. */
    public static boolean isLockTimeout(Throwable t) {
        return "55P03".equals(sqlState(t));
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

    /**
     * The workflow id exists: a start written with the workflow's first transactional step (Workflow.run) found that
     * another start of the same id committed first.
     */
    public static boolean isStartConflict(Throwable t) {
        for (Throwable e = t; e != null; e = e.getCause()) {
            if (e instanceof PSQLException psql && "23505".equals(psql.getSQLState())) {
                ServerErrorMessage m = psql.getServerErrorMessage();
                return m != null && "workflow_status_pkey".equals(m.getConstraint())
                        && "tandem".equals(m.getSchema());
            }
        }
        return false;
    }
}
