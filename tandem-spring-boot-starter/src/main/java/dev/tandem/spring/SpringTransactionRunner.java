package dev.tandem.spring;

import dev.tandem.IsolationLevel;
import dev.tandem.TransactionRunner;
import java.sql.Connection;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;
import org.springframework.jdbc.datasource.ConnectionHolder;
import org.springframework.jdbc.datasource.DataSourceUtils;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.TransactionStatus;
import org.springframework.transaction.support.DefaultTransactionDefinition;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * Runs a transactional step in a new transaction of the application's {@link PlatformTransactionManager} (a {@code
 * DataSourceTransactionManager} or a {@code JpaTransactionManager} on Tandem's DataSource), so that JdbcTemplate,
 * JdbcClient, JPA repositories and {@code @Transactional} services called inside the step join it. Tandem inserts the
 * step's checkpoint on that transaction's connection; the manager's commit then commits the step's writes and the
 * checkpoint at once. Always {@code PROPAGATION_REQUIRES_NEW}: a step never joins a transaction of its caller.
 */
public final class SpringTransactionRunner implements TransactionRunner {
    private final PlatformTransactionManager transactionManager;
    private final DataSource dataSource;

    public SpringTransactionRunner(PlatformTransactionManager transactionManager, DataSource dataSource) {
        this.transactionManager = transactionManager;
        this.dataSource = dataSource;
    }

    @Override
    public <T extends @Nullable Object> T inTransaction(IsolationLevel isolation, ConnectionWork<T> work)
            throws Exception {
        DefaultTransactionDefinition definition =
                new DefaultTransactionDefinition(TransactionDefinition.PROPAGATION_REQUIRES_NEW);
        definition.setName("tandem transactional step");
        definition.setIsolationLevel(switch (isolation) {
            case READ_COMMITTED -> TransactionDefinition.ISOLATION_DEFAULT; // PostgreSQL's default; no round trip
            case REPEATABLE_READ -> TransactionDefinition.ISOLATION_REPEATABLE_READ;
            case SERIALIZABLE -> TransactionDefinition.ISOLATION_SERIALIZABLE;
        });
        TransactionStatus status = transactionManager.getTransaction(definition);
        T result;
        try {
            // Checked before DataSourceUtils, which would otherwise hand out a connection of its own, outside the
            // transaction: the step's writes and its checkpoint would then commit apart.
            if (!(TransactionSynchronizationManager.getResource(dataSource) instanceof ConnectionHolder)) {
                throw new IllegalStateException("the transaction manager " + transactionManager.getClass().getName()
                        + " does not manage Tandem's DataSource, so a transactional step cannot commit its writes and"
                        + " its checkpoint together; give Tandem the DataSource of that transaction manager, or a"
                        + " TransactionRunner of your own (TandemCustomizer)");
            }
            Connection connection = DataSourceUtils.getConnection(dataSource);
            try {
                result = work.run(connection);
            } finally {
                DataSourceUtils.releaseConnection(connection, dataSource);
            }
        } catch (Exception | Error e) {
            try {
                transactionManager.rollback(status);
            } catch (RuntimeException | Error rollbackFailure) {
                e.addSuppressed(rollbackFailure);
            }
            throw e;
        }
        // A failed commit surfaces as a DataAccessException or TransactionException whose cause is the driver's
        // SQLException: Tandem reads its SQLSTATE (retry, or look for the checkpoint if the outcome is unknown).
        transactionManager.commit(status);
        return result;
    }
}
