package dev.tandem.examples.orders;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.pool.HikariPool;
import dev.tandem.Tandem;
import dev.tandem.TandemException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;

/**
 * {@code orders.jar serve}: a Tandem worker that runs until stopped, processing every order that anyone inserts into
 * table {@code orders}. A trigger (in {@code serve.sql}) enqueues workflow {@code process_order}
 * ({@link ServeWorkflow}) in the inserting transaction, and its NOTIFY wakes this worker at commit.
 */
final class Serve {
    static final String COMMAND = "serve";

    static final String USAGE = """
            Usage: java -jar orders.jar serve [--database-url URL]

            Serve mode: a Tandem worker that runs until stopped (Ctrl-C or SIGTERM: it closes
            Tandem and exits with status 0). Every row inserted into table orders, by any
            program, starts workflow process_order for that order: a trigger calls
            tandem.enqueue_workflow in the inserting transaction, whose commit wakes the worker.
              charge (transaction: one payments row, status PAID, committed with the checkpoint)
              -> notify-warehouse (step, at least once) -> ship (transaction: status SHIPPED)
            It prints a line per shipped order. Try, from another terminal:
              psql ... -c "INSERT INTO orders (customer, amount_cents) VALUES ('ada', 1250)"
              psql ... -c "SELECT * FROM orders ORDER BY id DESC LIMIT 5"

            At start it creates, if missing, in the database's current schema:
              orders(id bigserial primary key, customer text, amount_cents int, status text)
              payments(order_id bigint, amount_cents int)
              warehouse_notifications(order_id, idempotency_key, sent_at)
            and the trigger orders_process_order (serve.sql in the jar; idempotent, deletes
            nothing), and Tandem's schema 'tandem'. Tables of those names that do not fit
            are reported and left alone.
            Exit status: 0 after a clean stop, 1 on an error, 2 on a usage error.

            Options:
              --database-url URL  PostgreSQL JDBC URL, e.g.
                                  jdbc:postgresql://127.0.0.1:5432/test?user=postgres
                                  Default: $TANDEM_DATABASE_URL, else an embedded PostgreSQL
                                  (it prints a psql command for it; its data is deleted at stop).
              -h, --help          print this help
            """;

    private static final String INSERT_EXAMPLE = "INSERT INTO orders (customer, amount_cents) VALUES ('ada', 1250)";
    private static final int POOL_SIZE = 24;

    private Serve() {}

    static int run(String[] args) throws Exception {
        String urlOption = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--database-url" -> {
                    if (++i >= args.length || args[i].startsWith("--")) {
                        throw new DemoOptions.UsageException("--database-url needs a value");
                    }
                    urlOption = args[i];
                    if (!urlOption.startsWith("jdbc:postgresql:")) {
                        throw new DemoOptions.UsageException("--database-url must be a PostgreSQL JDBC URL starting"
                                + " with jdbc:postgresql: (was '" + DemoDatabase.withoutPassword(urlOption) + "')");
                    }
                }
                case "-h", "--help" -> {
                    System.out.print(USAGE);
                    return 0;
                }
                default -> throw new DemoOptions.UsageException("unknown argument '" + args[i] + "' for serve");
            }
        }

        DemoDatabase database = DemoDatabase.open(urlOption, false);
        // Registered at once, so that a Ctrl-C during start-up stops an embedded PostgreSQL too.
        Running running = new Running(database);
        Thread shutdownHook = new Thread(running::stopAndHalt, "serve-shutdown");
        Runtime.getRuntime().addShutdownHook(shutdownHook);
        try {
            running.start();
            new CountDownLatch(1).await(); // until the JVM stops: the shutdown hook closes everything
            return 0;
        } catch (SQLException | TandemException | ServeSetupException | HikariPool.PoolInitializationException e) {
            System.err.println("serve: " + e.getMessage());
            closeAfterFailure(shutdownHook, running);
            return 1;
        } catch (Exception | Error e) {
            closeAfterFailure(shutdownHook, running);
            throw e;
        }
    }

    /**
     * Starts serve mode in this JVM on the database at {@code url}, without a shutdown hook and without waiting: the
     * caller stops it with {@link Running#close()}. For tests; the command line goes through {@link #run}.
     */
    static Running start(String url) throws Exception {
        Running running = new Running(DemoDatabase.open(url, false));
        try {
            running.start();
            return running;
        } catch (Exception | Error e) {
            running.close();
            throw e;
        }
    }

    /** Closes what was opened, unless the JVM is stopping already (then the shutdown hook does it). */
    private static void closeAfterFailure(Thread shutdownHook, Running running) {
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException stopping) {
            return;
        }
        running.close();
    }

    /**
     * Applies {@code serve.sql} and checks, in the same transaction, that tables that already existed fit: nothing is
     * left behind if they do not.
     */
    private static void createTablesAndTrigger(HikariDataSource pool) throws SQLException, IOException {
        String sql;
        try (InputStream in = Serve.class.getResourceAsStream("/serve.sql")) {
            if (in == null) {
                throw new IOException("serve.sql is missing from the jar");
            }
            sql = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        try (Connection conn = pool.getConnection(); Statement st = conn.createStatement()) {
            conn.setAutoCommit(false);
            try {
                st.execute(sql);
                List<String> problems = new ArrayList<>();
                // Columns that an INSERT leaves out must be nullable or have a default.
                problems.addAll(misfits(conn, "orders", Map.of("id", "bigint", "customer", "text",
                        "amount_cents", "integer", "status", "text"), Set.of("customer", "amount_cents")));
                problems.addAll(misfits(conn, "payments", Map.of("order_id", "bigint", "amount_cents", "integer"),
                        Set.of("order_id", "amount_cents")));
                problems.addAll(misfits(conn, "warehouse_notifications", Map.of("order_id", "bigint",
                        "idempotency_key", "text"), Set.of("order_id", "idempotency_key")));
                if (!problems.isEmpty()) {
                    throw new ServeSetupException("existing tables do not fit serve mode: "
                            + String.join("; ", problems) + ". Serve mode needs orders(id bigserial primary key,"
                            + " customer text, amount_cents int, status text) and payments(order_id bigint,"
                            + " amount_cents int). If they were left by an earlier version of the crash demo (which"
                            + " kept its tables in schema public; now in schema crash_demo), drop them: DROP TABLE"
                            + " orders, payments, accounts, warehouse_notifications; else use another database"
                            + " (--database-url).");
                }
                conn.commit();
            } catch (SQLException | RuntimeException e) {
                conn.rollback();
                throw e;
            }
        }
        System.out.println("serve: tables orders, payments, warehouse_notifications and trigger orders_process_order"
                + " are ready (serve.sql)");
    }

    /** What keeps {@code table} from working with serve mode; empty if nothing. */
    private static List<String> misfits(Connection conn, String table, Map<String, String> types, Set<String> written)
            throws SQLException {
        List<String> problems = new ArrayList<>();
        Map<String, String> found = new java.util.HashMap<>();
        try (PreparedStatement ps = conn.prepareStatement("SELECT a.attname, format_type(a.atttypid, a.atttypmod),"
                + " a.attnotnull AND NOT a.atthasdef AND a.attidentity = ''"
                + " FROM pg_attribute a WHERE a.attrelid = ?::regclass AND a.attnum > 0 AND NOT a.attisdropped"
                + " ORDER BY a.attnum")) {
            ps.setString(1, table);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String column = rs.getString(1);
                    found.put(column, rs.getString(2));
                    if (rs.getBoolean(3) && !written.contains(column)) {
                        problems.add(table + "." + column + " is NOT NULL without a default");
                    }
                }
            }
        }
        types.forEach((column, type) -> {
            if (!found.containsKey(column)) {
                problems.add(table + " has no column " + column);
            } else if (!found.get(column).equals(type)) {
                problems.add(table + "." + column + " is " + found.get(column) + ", not " + type);
            }
        });
        return problems;
    }

    /**
     * Workflow ids are idempotency keys, and Tandem keeps finished workflows. If {@code orders} was dropped and created
     * again, its ids start over at 1, and an order whose id {@code order-N} is taken would silently get no workflow of
     * its own. So new orders get ids above the highest {@code order-N} in use. Only moves the sequence forward.
     */
    private static void skipUsedWorkflowIds(HikariDataSource pool) throws SQLException {
        try (Connection conn = pool.getConnection();
                Statement st = conn.createStatement();
                ResultSet rs = st.executeQuery("SELECT setval(seq, used.max_id) + 1"
                        + " FROM (SELECT pg_get_serial_sequence('orders', 'id')::regclass AS seq) s,"
                        + " (SELECT max(substr(workflow_id, 7)::bigint) AS max_id FROM tandem.workflows"
                        + "  WHERE workflow_id ~ '^order-[0-9]{1,18}$') used"
                        + " WHERE seq IS NOT NULL AND used.max_id > coalesce(pg_sequence_last_value(seq), 0)")) {
            if (rs.next()) {
                System.out.println("serve: workflows up to order-" + (rs.getLong(1) - 1) + " exist already (earlier"
                        + " runs); new orders get ids from " + rs.getLong(1) + ", so that each gets a workflow of its"
                        + " own");
            }
        }
    }

    /** What serve mode has opened, closed in reverse order by the shutdown hook (or by a test). */
    static final class Running {
        final DemoDatabase database;
        volatile HikariDataSource pool;
        volatile Tandem tandem;
        volatile ServeWorkflow workflow;

        Running(DemoDatabase database) {
            this.database = database;
        }

        /** Opens the pool, creates the tables and trigger, starts Tandem: new orders are processed from then on. */
        void start() throws Exception {
            System.out.println("serve: database " + database.description());
            if (database.psqlCommand() != null) {
                System.out.println("serve: connect with   " + database.psqlCommand());
            }
            HikariConfig poolConfig = new HikariConfig();
            poolConfig.setJdbcUrl(database.url());
            poolConfig.setMaximumPoolSize(POOL_SIZE);
            poolConfig.setPoolName("orders-serve");
            HikariDataSource pool = new HikariDataSource(poolConfig);
            this.pool = pool;

            createTablesAndTrigger(pool);
            // One pool for the application and Tandem: transactional steps run on a connection from it.
            Tandem tandem = Tandem.builder().dataSource(pool).shutdownTimeout(Duration.ofSeconds(5)).build();
            this.tandem = tandem;
            ServeWorkflow workflow = new ServeWorkflow(pool);
            this.workflow = workflow;
            tandem.register(ServeWorkflow.NAME, Long.class, workflow);
            tandem.start(); // also runs what was enqueued while no worker ran
            skipUsedWorkflowIds(pool);

            System.out.println("serve: executor '" + tandem.executorId() + "' runs workflow " + ServeWorkflow.NAME
                    + " for every new order; stop with Ctrl-C or SIGTERM");
            System.out.println("serve: ready; try   " + (database.psqlCommand() != null ? database.psqlCommand()
                    : "psql ...") + " -c \"" + INSERT_EXAMPLE + "\"");
        }

        /** How many orders this process shipped so far. */
        long shipped() {
            ServeWorkflow workflow = this.workflow;
            return workflow == null ? 0 : workflow.shipped();
        }

        /** Closes Tandem, the pool, and an embedded PostgreSQL; returns 0 if all went well, else 1. */
        int close() {
            int status = 0;
            try {
                if (tandem != null) {
                    tandem.close(); // waits up to 5 s for running workflows; others resume from checkpoints later
                }
            } catch (RuntimeException e) {
                System.err.println("serve: closing Tandem failed: " + e);
                status = 1;
            }
            if (pool != null) {
                pool.close();
            }
            try {
                database.close();
            } catch (IOException | RuntimeException e) {
                System.err.println("serve: stopping the embedded PostgreSQL failed: " + e);
                status = 1;
            }
            return status;
        }

        /** The shutdown hook (Ctrl-C, SIGTERM): closes everything, then ends the JVM. */
        void stopAndHalt() {
            System.out.println("serve: stopping...");
            int status = close();
            System.out.println("serve: stopped; " + shipped() + " orders shipped by this process");
            System.out.flush();
            System.err.flush();
            // A JVM stopped by a signal exits with 128 + its number (143 for SIGTERM) unless a hook says otherwise,
            // and this was a clean stop. The hooks that matter have run: the embedded PostgreSQL registered none.
            Runtime.getRuntime().halt(status);
        }
    }

    /** Tables in the way: reported without a stack trace. */
    static final class ServeSetupException extends RuntimeException {
        ServeSetupException(String message) {
            super(message);
        }
    }
}
