package dev.tandem.spring;

import dev.tandem.test.TandemTest;
import dev.tandem.test.TestClock;
import dev.tandem.test.TestDatabase;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.core.annotation.AnnotatedElementUtils;
import org.springframework.core.env.MapPropertySource;
import org.springframework.test.context.ContextConfigurationAttributes;
import org.springframework.test.context.ContextCustomizer;
import org.springframework.test.context.ContextCustomizerFactory;
import org.springframework.test.context.MergedContextConfiguration;
import org.springframework.util.ClassUtils;

/**
 * {@code @TandemTest} on a {@code @SpringBootTest}: the application context runs on the test class's database
 * ({@code spring.datasource.url}, above every other property source) and its engine on that database's
 * {@link TestClock}, which is also a bean. So the test moves the application's workflows through time, and the
 * {@code TandemKit} parameter asserts on them. Registered in {@code META-INF/spring.factories}; does nothing unless
 * {@code tandem-test} is on the class path and the test class carries {@code @TandemTest}.
 */
public final class TandemTestContextCustomizerFactory implements ContextCustomizerFactory {
    private static final boolean KIT_PRESENT = ClassUtils.isPresent("dev.tandem.test.TandemTest",
            TandemTestContextCustomizerFactory.class.getClassLoader());

    @Override
    public @Nullable ContextCustomizer createContextCustomizer(Class<?> testClass,
            List<ContextConfigurationAttributes> configAttributes) {
        if (!KIT_PRESENT || !AnnotatedElementUtils.hasAnnotation(testClass, TandemTest.class)) {
            return null;
        }
        return new KitDatabase(testClass);
    }

    /** One per test class, so each gets its own database and context (equal customizers share a cached context). */
    private record KitDatabase(Class<?> testClass) implements ContextCustomizer {
        @Override
        public void customizeContext(ConfigurableApplicationContext context, MergedContextConfiguration config) {
            TestDatabase database = TestDatabase.of(testClass);
            database.keepUntilExit(); // Spring may keep this context open after the class
            context.getEnvironment().getPropertySources().addFirst(new MapPropertySource("tandemTest",
                    Map.of("spring.datasource.url", database.url())));
            TestClock clock = database.clock();
            context.getBeanFactory().registerSingleton("tandemTestClock", clock);
            context.getBeanFactory().registerSingleton("tandemTestClockCustomizer",
                    (TandemCustomizer) builder -> builder.clock(clock));
        }
    }
}
