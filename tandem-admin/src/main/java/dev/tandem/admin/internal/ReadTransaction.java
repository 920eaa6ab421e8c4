package dev.tandem.admin.internal;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * How the operators' reads run: in a transaction of their own whose first statement is {@code read.settings} from
 * {@code ops.sql} ({@code SET LOCAL jit = off}), so the connection, which may be the application's, keeps its own
 * settings. The reads are short index scans, but PostgreSQL's cost estimates grow with the tables (and assume 810 rows
 * in a small table it never analyzed, such as {@code tandem.queues}), pass {@code jit_above_cost}, and compiling then
 * took 0.2 to 2 s of reads that run in milliseconds: measured by {@code tandem-bench soak} (docs/scaling.md, "Soak").
 */
public final class ReadTransaction {
    /** The work of one read, on the transaction's connection. */
    @FunctionalInterface
    public interface Work<T> {
        T run(Connection conn) throws SQLException;
    }

    private ReadTransaction() {}

    /** Runs {@code work} on {@code conn} as described above; commits, or rolls back if it fails. */
    public static <T> T run(Connection conn, OpsStore store, Work<T> work) throws SQLException {
        boolean autoCommit = conn.getAutoCommit();
        if (autoCommit) {
            conn.setAutoCommit(false);
        }
        try {
            try (Statement s = conn.createStatement()) {
                s.execute(store.sql("read.settings"));
            }
            T result = work.run(conn);
            conn.commit();
            return result;
        } catch (SQLException | RuntimeException e) {
            try {
                conn.rollback();
            } catch (SQLException rollback) {
                e.addSuppressed(rollback);
            }
            throw e;
        } finally {
            if (autoCommit) {
                conn.setAutoCommit(true);
            }
        }
    }
}
