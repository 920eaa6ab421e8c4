package dev.tandem.spring;

import dev.tandem.AmbientTransaction;
import java.sql.Connection;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;
import org.springframework.jdbc.datasource.ConnectionHolder;
import org.springframework.jdbc.datasource.DataSourceUtils;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * The Spring transaction active on the calling thread, for {@code enqueue} and {@code send}: the connection that
 * {@code DataSourceUtils.getConnection(dataSource)} returns while a transaction of a {@code DataSourceTransactionManager}
 * or {@code JpaTransactionManager} on Tandem's DataSource is active (so with {@code @Transactional}, {@code
 * TransactionTemplate}, JdbcTemplate, JdbcClient, JPA). Without one, or when the active transaction is on another
 * resource (another DataSource, a JMS session), it returns null and those calls commit on their own.
 */
public final class SpringAmbientTransaction implements AmbientTransaction {
    private final DataSource dataSource;

    public SpringAmbientTransaction(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    @Override
    public @Nullable Connection connection() {
        if (!TransactionSynchronizationManager.isActualTransactionActive()
                || !(TransactionSynchronizationManager.getResource(dataSource) instanceof ConnectionHolder)) {
            return null;
        }
        return DataSourceUtils.getConnection(dataSource);
    }

    @Override
    public void release(Connection connection) {
        DataSourceUtils.releaseConnection(connection, dataSource);
    }
}
