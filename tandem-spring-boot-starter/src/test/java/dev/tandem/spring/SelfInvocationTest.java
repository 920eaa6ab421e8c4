package dev.tandem.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tandem.spring.annotated.SelfInvokingApp;
import dev.tandem.testing.TestDatabase;
import java.lang.reflect.Method;
import java.util.List;
import java.util.function.Function;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A step method called through {@code this} would bypass the proxy and run without a checkpoint: the application
 * refuses to start, naming the call; calls through the proxy (a field holding it) are not taken for one.
 */
class SelfInvocationTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    @Test
    void aWorkflowThatCallsItsOwnStepThroughThisStopsTheStartup() {
        assertThatThrownBy(() -> Apps.run(SelfInvokingApp.class, db.url(), "tandem.executor-id=self").close())
                .rootCause().isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("bean 'greeter' calls its own step methods through 'this'")
                .hasMessageContaining("Greeter.greet calls hello(...) through 'this' (SelfInvokingApp.java:")
                .hasMessageContaining("move them to another bean and inject it")
                .hasMessageContaining("inject this bean into itself (@Lazy)")
                .hasMessageContaining("ctx.step(...)");
    }

    /** The shapes a call can take; those that go through this are named "this..." . */
    @SuppressWarnings("unused")
    static class Shapes {
        Shapes self;

        @Step
        public String step(String s) {
            return s;
        }

        @Step
        public long wide(long a, double b) {
            return a;
        }

        @Step
        public String stepCallingStep(String s) {
            return step(s); // inside a step: part of it either way
        }

        public String thisPlain(String x) {
            return step(x);
        }

        public String thisWithTernaryArgument(boolean c, String a, String b) {
            return this.step(c ? a : b);
        }

        public long thisWithWideArguments(long a) {
            return wide(a * 2, a / 3.0) + wide(a, 1.0);
        }

        public Supplier<String> thisInLambda(String x) {
            return () -> step(x);
        }

        public Function<String, String> thisMethodReference() {
            return this::step;
        }

        public String viaField(String x) {
            return self.step(x);
        }

        public Function<String, String> viaFieldReference() {
            return self::step;
        }

        public String viaParameter(Shapes other, String x) {
            return other.step(x);
        }

        public String viaFieldInLoopAndSwitch(List<String> xs, int k) {
            StringBuilder r = new StringBuilder();
            for (String x : xs) {
                switch (k) {
                    case 1 -> r.append(self.step(x));
                    case 2 -> r.append(self.wide(k, 2.0));
                    default -> r.append(x);
                }
            }
            try {
                return r.append(k > 0 ? self : this).toString();
            } catch (RuntimeException e) {
                return self.step(e.getMessage());
            }
        }
    }

    static class SubShapes extends Shapes {
        public String thisSuper(String x) {
            return super.step(x);
        }
    }

    private static List<String> callers(Class<?> type) throws Exception {
        List<Method> steps = List.of(Shapes.class.getMethod("step", String.class),
                Shapes.class.getMethod("wide", long.class, double.class),
                Shapes.class.getMethod("stepCallingStep", String.class));
        return SelfInvocationCheck.find(type, steps).stream().map(s -> s.substring(0, s.indexOf(" calls "))).toList();
    }

    @Test
    void theCheckFindsEveryCallThroughThisAndNoOther() throws Exception {
        assertThat(callers(Shapes.class)).containsExactlyInAnyOrder("Shapes.thisPlain",
                "Shapes.thisWithTernaryArgument", "Shapes.thisWithWideArguments", "Shapes.thisWithWideArguments",
                "Shapes.thisInLambda (in a lambda)", "Shapes.thisMethodReference");
        assertThat(callers(SubShapes.class)).contains("SubShapes.thisSuper").hasSize(7);
        assertThat(SelfInvocationCheck.find(Shapes.class, List.of(Shapes.class.getMethod("step", String.class))))
                .contains("Shapes.thisMethodReference calls this::step through 'this' (SelfInvocationTest.java:71)");
    }
}
