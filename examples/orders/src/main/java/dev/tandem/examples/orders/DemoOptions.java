package dev.tandem.examples.orders;

/**
 * The demo's command line.
 *
 * @param databaseUrl the JDBC URL given with {@code --database-url}, or null
 * @param orders how many orders the batch has
 * @param crash whether to kill the first worker partway through (the default)
 * @param help whether to print the usage and stop
 * @param trace whether to trace the workers and print one interrupted order's trace
 */
record DemoOptions(String databaseUrl, int orders, boolean crash, boolean help, boolean trace) {

    DemoOptions(String databaseUrl, int orders, boolean crash, boolean help) {
        this(databaseUrl, orders, crash, help, false);
    }

    static final String USAGE = """
            Usage: java -jar orders.jar [--database-url URL] [--orders N] [--no-crash] [--trace]
                   java -jar orders.jar serve [--database-url URL]     (serve mode: see below)

            Tandem demo: a batch of orders is paid and the warehouse is notified, one durable
            workflow per order. The charge (payment row, account debit, order status) commits in
            one transaction together with Tandem's checkpoint; the warehouse notification is a
            plain step, so it runs at least once. A worker JVM processes the batch; the demo kills
            it with SIGKILL partway through, starts a new worker with the same executorId (which
            resumes the interrupted workflows from their checkpoints at start), waits until every
            workflow succeeded, and checks that every order was charged exactly once.
            Exit status: 0 if every exactly-once check holds, 1 if not, 2 on a usage error.

            Options:
              --database-url URL  PostgreSQL JDBC URL, e.g.
                                  jdbc:postgresql://127.0.0.1:5432/test?user=postgres
                                  Default: $TANDEM_DATABASE_URL, else an embedded PostgreSQL
                                  started for this run and stopped at the end.
                                  The demo creates and empties its own tables there, in schema
                                  crash_demo (accounts, orders, payments, warehouse_notifications),
                                  and Tandem's schema 'tandem' (from which it deletes its earlier
                                  crash_demo_order runs).
              --orders N          how many orders to process (default 200)
              --no-crash          do not kill the worker; one worker processes the whole batch
              --crash             kill the worker partway through (the default)
              --trace             trace the workers with OpenTelemetry and print the span tree of
                                  one order the crash interrupted
              -h, --help          print this help
            """;

    static final int DEFAULT_ORDERS = 200;

    /** A command line the demo cannot run; reported with exit status 2. */
    static final class UsageException extends Exception {
        UsageException(String message) {
            super(message);
        }
    }

    static DemoOptions parse(String[] args) throws UsageException {
        String databaseUrl = null;
        int orders = DEFAULT_ORDERS;
        boolean crash = true;
        boolean help = false;
        boolean trace = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--database-url" -> databaseUrl = value(args, ++i, "--database-url");
                case "--orders" -> orders = positiveInt(value(args, ++i, "--orders"), "--orders");
                case "--crash" -> crash = true;
                case "--no-crash" -> crash = false;
                case "--trace" -> trace = true;
                case "-h", "--help" -> help = true;
                default -> throw new UsageException("unknown argument '" + args[i] + "'");
            }
        }
        if (databaseUrl != null && !databaseUrl.startsWith("jdbc:postgresql:")) {
            throw new UsageException("--database-url must be a PostgreSQL JDBC URL starting with jdbc:postgresql:"
                    + " (was '" + databaseUrl + "')");
        }
        return new DemoOptions(databaseUrl, orders, crash, help, trace);
    }

    private static String value(String[] args, int index, String flag) throws UsageException {
        if (index >= args.length || args[index].startsWith("--")) {
            throw new UsageException(flag + " needs a value");
        }
        return args[index];
    }

    private static int positiveInt(String text, String flag) throws UsageException {
        try {
            int value = Integer.parseInt(text);
            if (value >= 1) {
                return value;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new UsageException(flag + " must be a whole number of at least 1 (was '" + text + "')");
    }
}
