package dev.tandem.internal.exec;

import dev.tandem.TandemException;
import dev.tandem.internal.db.Migrator;
import dev.tandem.internal.db.SystemDatabase;
import java.sql.Connection;
import java.sql.SQLException;

/**
 * What {@link Engine#start()} checks before it starts any part: that the database answers, and that schema
 * {@code tandem} is at this version. Each fails fast, with a message that says what to fix.
 */
final class StartupChecks {
    private StartupChecks() {
    }

    static void checkReachable(SystemDatabase db) {
        try (Connection conn = db.connectShared()) {
            conn.isValid(5);
        } catch (SQLException e) {
            Throwable root = e;
            while (root.getCause() != null && root.getCause() != root) {
                root = root.getCause();
            }
            throw new TandemException("cannot connect to the database: " + e.getMessage()
                    + (root != e ? " (" + root.getMessage() + ")" : "")
                    + "; check that PostgreSQL is running and that the URL, user and password are right", e);
        }
    }

    /** Migrates schema {@code tandem} to this version, or, if the application migrates it itself, verifies it. */
    static void checkSchema(EngineConfig config, SystemDatabase db) {
        if (config.migrate()) {
            Migrator.migrate(db.dataSource());
        } else {
            Migrator.verify(db.dataSource());
        }
    }
}
