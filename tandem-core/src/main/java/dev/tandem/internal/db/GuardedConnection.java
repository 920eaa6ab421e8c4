package dev.tandem.internal.db;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The connection a transactional step's code gets: the application's connection, with the calls that would break the
 * step's one commit refused. Its transaction belongs to Tandem, which commits it together with the step's checkpoint
 * (or rolls both back); a {@code commit()} in the step's code would commit its writes without the checkpoint, and a
 * crash after it would run them again. Savepoints, statements and everything else pass through.
 */
public final class GuardedConnection implements InvocationHandler {
    /** Methods that end, or change the shape of, the step's transaction. */
    private static final Set<String> REFUSED = Set.of("commit", "setAutoCommit", "close", "abort",
            "setTransactionIsolation");

    private final Connection delegate;
    private final Supplier<String> step;

    private GuardedConnection(Connection delegate, Supplier<String> step) {
        this.delegate = delegate;
        this.step = step;
    }

    /**
     * Wraps {@code connection} for the code of {@code step} (a description such as {@code "transaction 'charge' (#2)
     * of workflow 'order-42'"}, built only for an error).
     */
    public static Connection wrap(Connection connection, Supplier<String> step) {
        return (Connection) Proxy.newProxyInstance(GuardedConnection.class.getClassLoader(),
                new Class<?>[] {Connection.class}, new GuardedConnection(connection, step));
    }

    @Override
    public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
        String name = method.getName();
        if (REFUSED.contains(name) || (name.equals("rollback") && method.getParameterCount() == 0)) {
            throw new IllegalStateException("the connection of " + step.get() + " belongs to Tandem: its transaction"
                    + " commits together with the step's checkpoint, in one commit, or rolls back with it; do not call "
                    + name + "() on it. Throw an exception to roll the step back, or use a savepoint to undo part of"
                    + " it.");
        }
        if (name.equals("unwrap") || name.equals("isWrapperFor")) {
            Class<?> type = (Class<?>) args[0];
            if (type.isInstance(proxy) && name.equals("unwrap")) {
                return proxy;
            }
        }
        if (name.equals("toString") && method.getParameterCount() == 0) {
            return "guarded connection of " + step.get() + " (" + delegate + ")";
        }
        try {
            return method.invoke(delegate, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }
}
