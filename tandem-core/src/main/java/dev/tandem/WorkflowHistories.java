package dev.tandem;

import dev.tandem.internal.db.AdminStore;
import dev.tandem.internal.db.HistoryFile;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Instant;
import javax.sql.DataSource;

/**
 * Exports recorded workflow histories from a database to a file, for {@link WorkflowReplayer}: the pre-deploy check
 * that new code still follows the histories of the executions in flight. The format (JSON, {@code "format":
 * "tandem-histories"}, version 1) is described in docs/versioning.md.
 *
 * <pre>{@code
 * WorkflowHistories.export(dataSource, Path.of("histories.json"), WorkflowHistories.inFlight());
 * }</pre>
 *
 * <p>Also {@link Tandem#exportHistories} and {@code tandem workflows export}. Reads only: one read-only REPEATABLE
 * READ transaction, so every history is complete as of one instant, whatever runs meanwhile.
 */
public final class WorkflowHistories {
    private WorkflowHistories() {}

    /** The workflows that have not ended ({@code ENQUEUED}, {@code DELAYED}, {@code RUNNING}): what a deploy meets. */
    public static WorkflowQuery inFlight() {
        return WorkflowQuery.all().statuses(WorkflowStatus.ENQUEUED, WorkflowStatus.DELAYED, WorkflowStatus.RUNNING);
    }

    /**
     * Writes the histories of every workflow that the filters of {@code query} match (oldest first; its limit, offset
     * and order are not used) to {@code file}, replacing it; returns how many were written.
     *
     * @throws TandemException if the database cannot be read or the file written, saying which
     */
    public static int export(DataSource dataSource, Path file, WorkflowQuery query) {
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(file))) {
            return export(dataSource, out, query);
        } catch (IOException e) {
            throw new TandemException("failed to write workflow histories to " + file + ": " + e, e);
        }
    }

    /** Like {@link #export(DataSource, Path, WorkflowQuery)}, to a stream, which is flushed and left open. */
    public static int export(DataSource dataSource, OutputStream out, WorkflowQuery query) {
        if (dataSource == null || out == null || query == null) {
            throw new IllegalArgumentException("export needs a data source, an output and a query, not null");
        }
        try {
            HistoryFile file = HistoryFile.write(out, Instant.now());
            int count = new AdminStore(dataSource).exportHistories(query, file::add);
            file.close();
            return count;
        } catch (SQLException e) {
            throw new TandemException("failed to export workflow histories: " + AdminStore.reason(e), e);
        } catch (IOException e) {
            throw new TandemException("failed to write workflow histories: " + e, e);
        }
    }
}
