package dev.tandem.test;

import javax.sql.DataSource;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * The JUnit 5 extension behind {@link TandemTest} (or {@code @ExtendWith(TandemExtension.class)}): a database per
 * test class, a {@link TandemKit} per test method, both closed by JUnit when their scope ends.
 */
public final class TandemExtension implements BeforeAllCallback, ParameterResolver {
    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(TandemExtension.class);

    @Override
    public void beforeAll(ExtensionContext context) {
        database(context);
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        Class<?> type = parameter.getParameter().getType();
        return type == TandemKit.class || type == TestClock.class || type == DataSource.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        Class<?> type = parameter.getParameter().getType();
        if (type == TestClock.class) {
            return database(context).clock();
        }
        if (type == DataSource.class) {
            return database(context).dataSource();
        }
        if (context.getTestMethod().isEmpty()) {
            throw new ParameterResolutionException("a TandemKit is given to test methods only (one per test), not to "
                    + "constructors or @BeforeAll methods; take it as a parameter of the @Test or @BeforeEach method");
        }
        return kit(context);
    }

    private static TandemKit kit(ExtensionContext context) {
        ExtensionContext.Store store = context.getStore(NAMESPACE);
        return store.getOrComputeIfAbsent("kit", k -> new ClosingKit(new TandemKit(database(context),
                executorId(context))), ClosingKit.class).kit;
    }

    private static String executorId(ExtensionContext context) {
        return "test-" + context.getRequiredTestClass().getSimpleName() + "-"
                + context.getTestMethod().map(m -> m.getName()).orElse("class");
    }

    /** The test class's database (see {@link TestDatabase#of}), released when the class's context closes. */
    private static TestDatabase database(ExtensionContext context) {
        ExtensionContext classContext = context;
        while (classContext.getTestMethod().isPresent() && classContext.getParent().isPresent()) {
            classContext = classContext.getParent().get();
        }
        Class<?> testClass = classContext.getRequiredTestClass();
        classContext.getStore(NAMESPACE).getOrComputeIfAbsent("database", k -> new ReleasingDatabase(testClass),
                ReleasingDatabase.class);
        return TestDatabase.of(testClass);
    }

    private record ClosingKit(TandemKit kit) implements ExtensionContext.Store.CloseableResource, AutoCloseable {
        @Override
        public void close() {
            kit.close();
        }
    }

    private record ReleasingDatabase(Class<?> testClass)
            implements ExtensionContext.Store.CloseableResource, AutoCloseable {
        @Override
        public void close() {
            TestDatabase.release(testClass);
        }
    }
}
