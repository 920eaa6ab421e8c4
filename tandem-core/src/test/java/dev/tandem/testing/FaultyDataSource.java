package dev.tandem.testing;

import java.io.PrintWriter;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.sql.SQLTransientConnectionException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.logging.Logger;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.postgresql.util.PSQLException;
import org.postgresql.util.PSQLState;
import org.postgresql.util.ServerErrorMessage;

/**
 * A {@code DataSource} that passes everything through to a real one, except the faults a test arms: a statement that
 * fails with a chosen SQLSTATE without running, a reply lost after the commit, connections refused. Connections and
 * statements are {@link Proxy java.lang.reflect.Proxy} objects, so every JDBC method not named here reaches the driver
 * unchanged ({@code unwrap(PGConnection.class)} too).
 *
 * <p>Each rule matches SQL text with a predicate ({@link #containing}, {@link #matching}) and fires a number of times
 * or, without a count, until {@link Rule#disarm()}. {@code Connection.commit()} is matched as the text
 * {@code COMMIT} and {@code rollback()} as {@code ROLLBACK}. The first armed rule that matches decides. Every rule
 * counts how often it fired, so a test can assert the fault really happened.
 *
 * <p>Put a pool <em>over</em> it, as the driver sits under a pool: HikariCP then sees the injected errors as it sees
 * the driver's, and evicts a connection that failed with SQLSTATE class 08.
 *
 * <pre>{@code
 * FaultyDataSource faulty = new FaultyDataSource(pgSimpleDataSource);
 * HikariConfig config = new HikariConfig();
 * config.setDataSource(faulty);
 * Rule standby = faulty.failStatement(FaultyDataSource.containing("LISTEN"), "25006"); // until disarmed
 * Rule lost = faulty.loseReplyAfterCommit(FaultyDataSource.containing("INSERT INTO tandem.steps"), 1);
 * ... run the engine over new HikariDataSource(config) ...
 * assertThat(standby.fired()).isPositive();
 * standby.disarm();
 * }</pre>
 */
public final class FaultyDataSource implements DataSource {
    /** How many times a rule fires when no count is given: until it is disarmed. */
    public static final int ALWAYS = -1;

    private enum Kind { FAIL, LOSE_REPLY_AFTER_COMMIT, DELAY_REPLY, OBSERVE }

    /** One armed fault. Thread-safe. */
    public static final class Rule {
        private final Kind kind;
        private final Predicate<String> match;
        private final String sqlState;
        private final AtomicInteger left;
        private final AtomicInteger fired = new AtomicInteger();
        private long delayMillis;

        private Rule(Kind kind, Predicate<String> match, String sqlState, int times) {
            this.kind = kind;
            this.match = match;
            this.sqlState = sqlState;
            this.left = new AtomicInteger(times);
        }

        /** How many times it fired (for an observer: how many matching statements ran without an error). */
        public int fired() {
            return fired.get();
        }

        /** Stops it firing; statements it would have matched run normally from now on. */
        public void disarm() {
            left.set(0);
        }

        public boolean armed() {
            return left.get() != 0;
        }

        /** Takes one firing if it is armed and matches. */
        private boolean take(String sql) {
            if (kind == Kind.OBSERVE || !match.test(sql)) {
                return false;
            }
            while (true) {
                int n = left.get();
                if (n == 0) {
                    return false;
                }
                if (n < 0 || left.compareAndSet(n, n - 1)) {
                    fired.incrementAndGet();
                    return true;
                }
            }
        }
    }

    private final DataSource target;
    private final List<Rule> rules = new CopyOnWriteArrayList<>();
    private volatile boolean refuseConnections;
    private final AtomicInteger connectionsRefused = new AtomicInteger();

    public FaultyDataSource(DataSource target) {
        this.target = target;
    }

    /** SQL that contains {@code text}, ignoring case. */
    public static Predicate<String> containing(String text) {
        String lower = text.toLowerCase(Locale.ROOT);
        return sql -> sql.toLowerCase(Locale.ROOT).contains(lower);
    }

    /** SQL in which the regular expression finds a match. */
    public static Predicate<String> matching(String regex) {
        return Pattern.compile(regex).asPredicate();
    }

    /** Matching statements throw a {@link PSQLException} with this SQLSTATE, without reaching the server, until disarmed. */
    public Rule failStatement(Predicate<String> match, String sqlState) {
        return failStatement(match, sqlState, ALWAYS);
    }

    /** Like {@link #failStatement(Predicate, String)}, {@code times} times. */
    public Rule failStatement(Predicate<String> match, String sqlState, int times) {
        return add(new Rule(Kind.FAIL, match, sqlState, times));
    }

    /**
     * Matching statements run on the server and commit (an autocommit statement, a simple query that ends with
     * COMMIT, or {@code commit()}), then the physical connection is aborted and the caller gets SQLSTATE 08006, as
     * when the reply is lost after the commit. A matching statement inside an open transaction is rolled back by the
     * abort instead (the connection was lost before the commit). Until disarmed.
     */
    public Rule loseReplyAfterCommit(Predicate<String> match) {
        return loseReplyAfterCommit(match, ALWAYS);
    }

    /** Like {@link #loseReplyAfterCommit(Predicate)}, {@code times} times. */
    public Rule loseReplyAfterCommit(Predicate<String> match, int times) {
        return add(new Rule(Kind.LOSE_REPLY_AFTER_COMMIT, match, PSQLState.CONNECTION_FAILURE.getState(), times));
    }

    /**
     * The next {@code times} matching statements run (and, in autocommit, commit) at once, but their reply reaches the
     * caller only {@code delay} later: a slow network, or a process that stalls right after the commit.
     */
    public Rule delayReplyAfter(Predicate<String> match, java.time.Duration delay, int times) {
        Rule rule = new Rule(Kind.DELAY_REPLY, match, "", times);
        rule.delayMillis = delay.toMillis();
        return add(rule);
    }

    /** Counts matching statements that ran without an error; changes nothing. */
    public Rule observe(Predicate<String> match) {
        return add(new Rule(Kind.OBSERVE, match, "", ALWAYS));
    }

    private Rule add(Rule rule) {
        rules.add(rule);
        return rule;
    }

    /** While on, {@code getConnection()} throws {@link SQLTransientConnectionException} with SQLSTATE 08001. */
    public void failConnections(boolean refuse) {
        refuseConnections = refuse;
    }

    public int connectionsRefused() {
        return connectionsRefused.get();
    }

    /** Disarms every rule and accepts connections again. */
    public void disarmAll() {
        rules.forEach(Rule::disarm);
        refuseConnections = false;
    }

    @Override
    public Connection getConnection() throws SQLException {
        refuseIfAsked();
        return wrap(target.getConnection());
    }

    @Override
    public Connection getConnection(String username, String password) throws SQLException {
        refuseIfAsked();
        return wrap(target.getConnection(username, password));
    }

    private void refuseIfAsked() throws SQLException {
        if (refuseConnections) {
            connectionsRefused.incrementAndGet();
            throw new SQLTransientConnectionException("injected: connection refused (FaultyDataSource)", "08001");
        }
    }

    private Connection wrap(Connection real) {
        return (Connection) Proxy.newProxyInstance(FaultyDataSource.class.getClassLoader(),
                new Class<?>[] {Connection.class}, new ConnectionHandler(real));
    }

    /** The rule that fires for {@code sql}, or null. */
    private Rule firing(String sql) {
        for (Rule rule : rules) {
            if (rule.take(sql)) {
                return rule;
            }
        }
        return null;
    }

    private void observed(String sql) {
        for (Rule rule : rules) {
            if (rule.kind == Kind.OBSERVE && rule.match.test(sql)) {
                rule.fired.incrementAndGet();
            }
        }
    }

    /**
     * Runs {@code call} (the real statement or commit) unless a rule fires for {@code sql}; {@code real} is the
     * physical connection it runs on.
     */
    private Object run(Connection real, String sql, Call call) throws Throwable {
        Rule rule = firing(sql);
        if (rule == null) {
            Object result = call.run();
            observed(sql);
            return result;
        }
        if (rule.kind == Kind.FAIL) {
            throw serverError(rule.sqlState, "injected failure of: " + abbreviate(sql));
        }
        if (rule.kind == Kind.DELAY_REPLY) {
            Object result = call.run();
            Thread.sleep(rule.delayMillis);
            return result;
        }
        call.run(); // it commits on the server ...
        try {
            real.abort(Runnable::run); // ... and the reply never arrives
        } catch (SQLException | SecurityException ignored) {
            // closed already: the caller sees the same error
        }
        throw new PSQLException("An I/O error occurred while sending to the backend (injected: reply lost after the"
                + " commit of: " + abbreviate(sql) + ")", PSQLState.CONNECTION_FAILURE);
    }

    /** An error as the server sends it, so {@code getServerErrorMessage()} works as for a real one. */
    private static PSQLException serverError(String sqlState, String message) {
        return new PSQLException(new ServerErrorMessage("SERROR\0VERROR\0C" + sqlState + "\0M" + message + "\0"));
    }

    private static String abbreviate(String sql) {
        String oneLine = sql.replaceAll("\\s+", " ").strip();
        return oneLine.length() <= 120 ? oneLine : oneLine.substring(0, 117) + "...";
    }

    @FunctionalInterface
    private interface Call {
        Object run() throws Throwable;
    }

    private static Object forward(Object target, Method method, Object[] args) throws Throwable {
        try {
            return method.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    /** equals, hashCode and toString of a proxy, by identity; null if {@code method} is none of them. */
    private static Object objectMethod(Object proxy, Object real, Method method, Object[] args) {
        return switch (method.getName()) {
            case "equals" -> method.getParameterCount() == 1 ? (Object) (proxy == args[0]) : null;
            case "hashCode" -> method.getParameterCount() == 0 ? (Object) System.identityHashCode(proxy) : null;
            case "toString" -> method.getParameterCount() == 0 ? "Faulty(" + real + ")" : null;
            default -> null;
        };
    }

    private static final Set<String> PREPARING = Set.of("prepareStatement", "prepareCall");

    private final class ConnectionHandler implements InvocationHandler {
        private final Connection real;

        ConnectionHandler(Connection real) {
            this.real = real;
        }

        @Override
        public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
            Object own = objectMethod(proxy, real, method, args);
            if (own != null) {
                return own;
            }
            String name = method.getName();
            if (name.equals("commit") && method.getParameterCount() == 0) {
                return run(real, "COMMIT", () -> forward(real, method, args));
            }
            if (name.equals("rollback") && method.getParameterCount() == 0) {
                return run(real, "ROLLBACK", () -> forward(real, method, args));
            }
            Object result = forward(real, method, args);
            if (result instanceof Statement statement && method.getReturnType().isInterface()) {
                String sql = PREPARING.contains(name) ? (String) args[0] : null;
                return Proxy.newProxyInstance(FaultyDataSource.class.getClassLoader(),
                        new Class<?>[] {method.getReturnType()},
                        new StatementHandler(real, (Connection) proxy, statement, sql));
            }
            return result;
        }
    }

    private final class StatementHandler implements InvocationHandler {
        private final Connection real;
        private final Connection connectionProxy;
        private final Statement statement;
        private final String preparedSql;
        private final List<String> batch = new ArrayList<>();

        StatementHandler(Connection real, Connection connectionProxy, Statement statement, String preparedSql) {
            this.real = real;
            this.connectionProxy = connectionProxy;
            this.statement = statement;
            this.preparedSql = preparedSql;
        }

        @Override
        public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
            Object own = objectMethod(proxy, statement, method, args);
            if (own != null) {
                return own;
            }
            String name = method.getName();
            if (name.equals("getConnection")) {
                return connectionProxy;
            }
            if (name.equals("addBatch") && args != null && args.length == 1 && args[0] instanceof String sql) {
                batch.add(sql);
            } else if (name.equals("clearBatch")) {
                batch.clear();
            }
            if (name.startsWith("execute")) {
                String sql;
                if (args != null && args.length > 0 && args[0] instanceof String text) {
                    sql = text;
                } else if (name.equals("executeBatch") || name.equals("executeLargeBatch")) {
                    sql = preparedSql != null ? preparedSql : String.join(";\n", batch);
                    batch.clear();
                } else {
                    sql = preparedSql != null ? preparedSql : "";
                }
                return run(real, sql, () -> forward(statement, method, args));
            }
            return forward(statement, method, args);
        }
    }

    // ---- the rest of DataSource, passed through ----

    @Override
    public PrintWriter getLogWriter() throws SQLException {
        return target.getLogWriter();
    }

    @Override
    public void setLogWriter(PrintWriter out) throws SQLException {
        target.setLogWriter(out);
    }

    @Override
    public void setLoginTimeout(int seconds) throws SQLException {
        target.setLoginTimeout(seconds);
    }

    @Override
    public int getLoginTimeout() throws SQLException {
        return target.getLoginTimeout();
    }

    @Override
    public Logger getParentLogger() throws SQLFeatureNotSupportedException {
        return target.getParentLogger();
    }

    @Override
    public <T> T unwrap(Class<T> iface) throws SQLException {
        return iface.isInstance(this) ? iface.cast(this) : target.unwrap(iface);
    }

    @Override
    public boolean isWrapperFor(Class<?> iface) throws SQLException {
        return iface.isInstance(this) || target.isWrapperFor(iface);
    }
}
