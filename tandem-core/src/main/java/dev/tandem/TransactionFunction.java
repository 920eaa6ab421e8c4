package dev.tandem;

import java.sql.Connection;
import org.jspecify.annotations.Nullable;

/**
 * The body of a transactional step. It runs the application's SQL on {@code conn}, which is inside a transaction
 * that Tandem opens, commits together with the step's checkpoint, or rolls back. Do not commit, roll back or close
 * {@code conn} yourself.
 */
@FunctionalInterface
public interface TransactionFunction<T extends @Nullable Object> {
    T run(Connection conn) throws Exception;
}
