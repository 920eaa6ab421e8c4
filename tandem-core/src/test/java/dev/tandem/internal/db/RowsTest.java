package dev.tandem.internal.db;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.testing.TestDatabase;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** How a claim's rows are read. */
class RowsTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    private static long queueWait(String waited) throws Exception {
        try (Connection c = DriverManager.getConnection(db.url());
                PreparedStatement ps = c.prepareStatement("SELECT 'wf-1', 'ok', '[1]', 1, 'q1', 2::bigint, NULL, NULL, "
                        + waited + "::float8")) {
            return Rows.claimed(ps).get(0).queueWaitMillis();
        }
    }

    @Test
    void aQueueClaimsWaitIsNeverNegativeAndNoWaitIsMinusOne() throws Exception {
        assertThat(queueWait("12.6")).isEqualTo(13);
        // The claim's transaction began a little before the enqueue's (it took its timestamp, then its snapshot, and
        // the enqueue committed in between): it waited no time, and it is still a queue claim.
        assertThat(queueWait("-1.7")).isZero();
        assertThat(queueWait("NULL")).isEqualTo(-1); // not a queue claim
    }
}
