package dev.tandem;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tandem.testing.TestDatabase;
import java.io.IOException;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * Every public entry point refuses bad input with a message that names what was wrong, and writes nothing: no
 * workflow row for a refused start, no checkpoint for a refused step.
 */
class BadInputTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    static final Duration WAIT = Duration.ofSeconds(10);
    static Tandem tandem;
    static Workflow<String, String> echo;
    static Workflow<String, String> other;
    static Workflow<Object, String> anything;
    static Workflow<String, Object> badOutput;
    static Workflow<String, String> stepNames;
    static Workflow<String, String> nested;
    static Workflow<String, String> badStepOutput;
    static Workflow<String, String> badTransactionOutput;
    static Workflow<String, String> otherThread;
    static Workflow<String, String> blocker;
    static final CountDownLatch releaseBlocker = new CountDownLatch(1);
    static final AtomicReference<WorkflowContext> captured = new AtomicReference<>();
    static final AtomicBoolean lateStepRan = new AtomicBoolean();

    /** Jackson finds no property to write: "no properties discovered to create BeanSerializer". */
    static final class Opaque {
        @SuppressWarnings("unused")
        private final int hidden = 42;
    }

    /** Refers to itself: "Direct self-reference leading to cycle". */
    public static final class SelfRef {
        public String name = "loop";

        public SelfRef getMe() {
            return this;
        }
    }

    /** Two objects that refer to each other: infinite nesting. */
    public static final class Link {
        public Link next;
    }

    /** A getter that throws while Jackson writes it. */
    public static final class Exploding {
        public String getValue() {
            throw new IllegalStateException("getter exploded");
        }
    }

    /** Test inputs for the step-name workflow: which bad call it makes. */
    enum Bad { NULL_STEP, BLANK_STEP, NULL_TRANSACTION, BLANK_TRANSACTION, NULL_FUNCTION, NULL_OPTIONS }

    @BeforeAll
    static void setUp() {
        db.execute("CREATE TABLE notes (workflow_id text NOT NULL, note text NOT NULL)");
        tandem = Tandem.builder().dataSource(db.dataSource()).shutdownTimeout(Duration.ofSeconds(2)).build();
        echo = tandem.register("echo", String.class, (ctx, in) -> ctx.step("echo", () -> in));
        other = tandem.register("other", String.class, (ctx, in) -> ctx.step("other", () -> in));
        anything = tandem.register("anything", Object.class, (ctx, in) -> "ran");
        badOutput = tandem.register("badOutput", String.class, (ctx, in) -> {
            ctx.step("fine", () -> 1);
            return new Opaque();
        });
        stepNames = tandem.register("stepNames", String.class, (ctx, in) -> {
            switch (Bad.valueOf(in)) {
                case NULL_STEP -> ctx.step(null, () -> 1);
                case BLANK_STEP -> ctx.step("  ", () -> 1);
                case NULL_TRANSACTION -> ctx.transaction(null, conn -> 1);
                case BLANK_TRANSACTION -> ctx.transaction("", conn -> 1);
                case NULL_FUNCTION -> ctx.step("noFunction", (StepFunction<Integer>) null);
                case NULL_OPTIONS -> ctx.transaction("noOptions", (TransactionOptions) null, conn -> 1);
            }
            return "carried on";
        });
        nested = tandem.register("nested", String.class, (ctx, in) -> switch (in) {
            case "step-in-step" -> ctx.step("outer", () -> ctx.step("inner", () -> "x"));
            case "transaction-in-step" -> ctx.step("outer", () -> ctx.transaction("inner", conn -> "x"));
            case "step-in-transaction" -> ctx.transaction("outer", conn -> {
                insertNote(conn, ctx.workflowId(), "outer ran");
                return ctx.step("inner", () -> "x");
            });
            default -> throw new IllegalArgumentException(in);
        });
        badStepOutput = tandem.register("badStepOutput", String.class, (ctx, in) -> {
            ctx.step("fine", () -> 1);
            ctx.step("opaque", () -> new Opaque());
            return "unreachable";
        });
        badTransactionOutput = tandem.register("badTransactionOutput", String.class, (ctx, in) -> {
            ctx.transaction("write", conn -> {
                insertNote(conn, ctx.workflowId(), "must roll back");
                return new SelfRef();
            });
            return "unreachable";
        });
        otherThread = tandem.register("otherThread", String.class, (ctx, in) -> {
            AtomicReference<Throwable> error = new AtomicReference<>();
            AtomicBoolean ran = new AtomicBoolean();
            Thread helper = new Thread(() -> {
                try {
                    if (in.equals("step")) {
                        ctx.step("fromHelper", () -> ran.getAndSet(true));
                    } else {
                        ctx.transaction("fromHelper", conn -> ran.getAndSet(true));
                    }
                } catch (Throwable t) {
                    error.set(t);
                }
            }, "helper-thread");
            helper.start();
            helper.join();
            String mine = ctx.step("mine", () -> "mine");
            Throwable e = error.get();
            return (ran.get() ? "helper ran" : "helper did not run") + " | " + mine + " | "
                    + (e == null ? "no error" : e.getClass().getSimpleName() + ": " + e.getMessage());
        });
        blocker = tandem.register("blocker", String.class, (ctx, in) -> {
            captured.set(ctx);
            return ctx.step("block", () -> releaseBlocker.await(10, TimeUnit.SECONDS) ? "released" : "timed out");
        });
        tandem.start();
    }

    @AfterAll
    static void tearDown() {
        releaseBlocker.countDown();
        tandem.close();
    }

    static void insertNote(java.sql.Connection conn, String workflowId, String note) throws java.sql.SQLException {
        try (var ps = conn.prepareStatement("INSERT INTO notes VALUES (?, ?)")) {
            ps.setString(1, workflowId);
            ps.setString(2, note);
            ps.executeUpdate();
        }
    }

    static long rows(String workflowId) {
        return db.queryLong("SELECT count(*) FROM tandem.workflow_status WHERE workflow_id = '" + workflowId + "'");
    }

    static long steps(String workflowId) {
        return db.queryLong("SELECT count(*) FROM tandem.steps WHERE workflow_id = '" + workflowId + "'");
    }

    static long allRows() {
        return db.queryLong("SELECT count(*) FROM tandem.workflow_status");
    }

    static String recordedError(String workflowId) {
        return db.queryString("SELECT status || ' ' || (error->>'type') || ': ' || (error->>'message')"
                + " FROM tandem.workflow_status WHERE workflow_id = '" + workflowId + "'");
    }

    // ---- starting workflows ----

    @Test
    void nullInputIsRefusedAndNothingIsWritten() {
        long before = allRows();
        assertThatThrownBy(() -> echo.start(null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("input of workflow 'echo' must not be null");
        assertThatThrownBy(() -> echo.start(null, StartOptions.withId("null-input")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("input of workflow 'echo' must not be null");
        assertThatThrownBy(() -> echo.run(null, StartOptions.withId("null-input")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("input of workflow 'echo' must not be null");
        assertThat(rows("null-input")).isZero();
        assertThat(allRows()).isEqualTo(before);
    }

    @Test
    void nullOptionsAreRefused() {
        long before = allRows();
        assertThatThrownBy(() -> echo.start("x", null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("options must not be null")
                .hasMessageContaining("StartOptions.defaults()");
        assertThatThrownBy(() -> echo.run("x", null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("options must not be null");
        assertThat(allRows()).isEqualTo(before);
    }

    @Test
    @SuppressWarnings({"unchecked", "rawtypes"})
    void inputOfTheWrongTypeIsRefused() {
        Workflow raw = echo;
        assertThatThrownBy(() -> raw.start(42, StartOptions.withId("wrong-type")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'echo'")
                .hasMessageContaining("java.lang.String")
                .hasMessageContaining("java.lang.Integer");
        assertThat(rows("wrong-type")).isZero();
    }

    static Stream<Arguments> unserializableInputs() {
        Link a = new Link();
        Link b = new Link();
        a.next = b;
        b.next = a;
        return Stream.of(
                Arguments.of("no properties", new Opaque(), "Opaque"),
                Arguments.of("self reference", new SelfRef(), "self-reference"),
                Arguments.of("cycle", a, "nesting depth"),
                Arguments.of("throwing getter", new Exploding(), "getter exploded"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("unserializableInputs")
    void inputThatJacksonCannotWriteIsRefusedAndNothingIsWritten(String what, Object input, String detail) {
        String id = "unserializable-" + what.replace(' ', '-');
        long before = allRows();

        assertThatThrownBy(() -> anything.start(input, StartOptions.withId(id)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("input of workflow 'anything' cannot be stored as JSON")
                .hasMessageContaining(detail);

        assertThat(rows(id)).isZero();
        assertThat(allRows()).isEqualTo(before);
        // The id was not burnt: a good input under the same id starts normally.
        assertThat(anything.start("fine", StartOptions.withId(id)).result(WAIT)).isEqualTo("ran");
    }

    @Test
    void startOptionsRefuseANullOrBlankId() {
        assertThatThrownBy(() -> StartOptions.withId(null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("workflowId must not be null")
                .hasMessageContaining("StartOptions.defaults()");
        assertThatThrownBy(() -> StartOptions.withId(""))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("workflowId must not be blank (was '')");
        assertThatThrownBy(() -> StartOptions.withId(" \t"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("workflowId must not be blank (was ' \t')");
        assertThatThrownBy(() -> new StartOptions("   ", null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("workflowId must not be blank");
        assertThat(StartOptions.defaults().workflowId()).isNull();
    }

    @Test
    void anIdThatBelongsToAFinishedWorkflowOfAnotherNameConflicts() {
        assertThat(echo.start("first", StartOptions.withId("conflict-1")).result(WAIT)).isEqualTo("first");
        long stepsBefore = steps("conflict-1");

        assertThatThrownBy(() -> other.start("second", StartOptions.withId("conflict-1")))
                .isInstanceOf(WorkflowConflictException.class)
                .hasMessageContaining("'conflict-1'")
                .hasMessageContaining("'echo'")
                .hasMessageContaining("'other'");
        assertThatThrownBy(() -> other.run("second", StartOptions.withId("conflict-1")))
                .isInstanceOf(WorkflowConflictException.class)
                .hasMessageContaining("'conflict-1'");

        assertThat(db.queryString("SELECT name || ' ' || status || ' ' || (output #>> '{}')"
                + " FROM tandem.workflow_status WHERE workflow_id = 'conflict-1'")).isEqualTo("echo SUCCESS first");
        assertThat(steps("conflict-1")).isEqualTo(stepsBefore);
    }

    @Test
    void anIdThatBelongsToARunningWorkflowOfAnotherNameConflicts() throws Exception {
        CountDownLatch gate = new CountDownLatch(1);
        Tandem t = Tandem.builder().dataSource(db.dataSource()).shutdownTimeout(Duration.ofSeconds(2)).build();
        try {
            Workflow<String, String> slow = t.register("slow", String.class,
                    (ctx, in) -> ctx.step("wait", () -> gate.await(10, TimeUnit.SECONDS) ? "done" : "timed out"));
            Workflow<String, String> fast = t.register("fast", String.class, (ctx, in) -> in);
            t.start();
            WorkflowHandle<String> h = slow.start("x", StartOptions.withId("conflict-2"));
            assertThat(h.status()).isEqualTo(WorkflowStatus.RUNNING);

            assertThatThrownBy(() -> fast.start("y", StartOptions.withId("conflict-2")))
                    .isInstanceOf(WorkflowConflictException.class)
                    .hasMessageContaining("'conflict-2'")
                    .hasMessageContaining("'slow'")
                    .hasMessageContaining("'fast'");
            // The other engine (where it does not run) sees the conflict in the database.
            assertThatThrownBy(() -> echo.start("y", StartOptions.withId("conflict-2")))
                    .isInstanceOf(WorkflowConflictException.class)
                    .hasMessageContaining("'slow'")
                    .hasMessageContaining("'echo'");

            gate.countDown();
            assertThat(h.result(WAIT)).isEqualTo("done");
            assertThat(db.queryString("SELECT name || ' ' || status FROM tandem.workflow_status"
                    + " WHERE workflow_id = 'conflict-2'")).isEqualTo("slow SUCCESS");
            assertThat(steps("conflict-2")).isEqualTo(1);
        } finally {
            gate.countDown();
            t.close();
        }
    }

    @Test
    void handleOfAnUnknownIdSaysSo() {
        assertThatThrownBy(() -> tandem.handle("nope"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("no workflow with id 'nope' exists");
        assertThatThrownBy(() -> tandem.handle(null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("workflowId must not be null or blank");
        assertThatThrownBy(() -> tandem.handle(" "))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("workflowId must not be null or blank");
        assertThat(rows("nope")).isZero();
    }

    @Test
    void resultRefusesANullOrNegativeTimeout() {
        WorkflowHandle<String> h = echo.start("t", StartOptions.withId("timeout-arg"));
        assertThatThrownBy(() -> h.result(null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("timeout must be zero or positive (was null)");
        assertThatThrownBy(() -> h.result(Duration.ofSeconds(-1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("(was PT-1S)");
        assertThat(h.result(WAIT)).isEqualTo("t");
    }

    // ---- registration and lifecycle ----

    @Test
    void registrationRefusesBadArgumentsAndDuplicateNames() {
        Tandem t = Tandem.builder().dataSource(db.dataSource()).build();
        try {
            t.register("dup", String.class, (ctx, in) -> in);
            assertThatThrownBy(() -> t.register("dup", Integer.class, (ctx, in) -> in))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("'dup' is already registered");
            assertThatThrownBy(() -> t.register(null, String.class, (ctx, in) -> in))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("workflow name must not be null or blank");
            assertThatThrownBy(() -> t.register(" ", String.class, (ctx, in) -> in))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("workflow name must not be null or blank");
            assertThatThrownBy(() -> t.register("noType", null, (ctx, in) -> in))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("'noType'")
                    .hasMessageContaining("input type");
            assertThatThrownBy(() -> t.register("noFunction", String.class, null))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("'noFunction'")
                    .hasMessageContaining("function");
        } finally {
            t.close();
        }
    }

    @Test
    void aPrimitiveInputTypeEitherWorksOrIsRefusedAtRegistration() {
        // int.class is a Class<Integer>, so this compiles; inputs arrive boxed.
        Tandem t = Tandem.builder().dataSource(db.dataSource()).build();
        try {
            Workflow<Integer, Integer> twice;
            try {
                twice = t.register("twice", int.class, (ctx, n) -> ctx.step("double", () -> n * 2));
            } catch (IllegalArgumentException refused) {
                assertThat(refused).hasMessageContaining("'twice'").hasMessageContaining("int");
                return;
            }
            t.start();
            assertThat(twice.start(21, StartOptions.withId("primitive-input")).result(WAIT)).isEqualTo(42);
        } finally {
            t.close();
        }
    }

    @Test
    void registeringAfterStartIsRefused() {
        assertThatThrownBy(() -> tandem.register("late", String.class, (ctx, in) -> in))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("'late'")
                .hasMessageContaining("after start()");
    }

    @Test
    void startingAWorkflowBeforeStartIsRefusedAndNothingIsWritten() {
        Tandem t = Tandem.builder().dataSource(db.dataSource()).build();
        try {
            Workflow<String, String> early = t.register("early", String.class, (ctx, in) -> in);
            assertThatThrownBy(() -> early.start("x", StartOptions.withId("too-early")))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("'early'")
                    .hasMessageContaining("not started yet; call Tandem.start() first");
            assertThatThrownBy(() -> early.run("x", StartOptions.withId("too-early")))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("not started yet");
            assertThat(rows("too-early")).isZero();
        } finally {
            t.close();
        }
    }

    @Test
    void startingTwiceOrAfterCloseIsRefused() {
        Tandem t = Tandem.builder().dataSource(db.dataSource()).build();
        Workflow<String, String> brief = t.register("brief", String.class, (ctx, in) -> in);
        t.start();
        assertThatThrownBy(t::start)
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("already started");
        t.close();
        assertThatThrownBy(() -> brief.start("x", StartOptions.withId("after-close")))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("'brief'")
                .hasMessageContaining("stopped");
        assertThatThrownBy(t::start)
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("closed; build a new one");
        assertThat(rows("after-close")).isZero();
    }

    // ---- builder ----

    static Stream<Arguments> badBuilders() {
        PGSimpleDataSource ds = new PGSimpleDataSource();
        String url = "jdbc:postgresql://127.0.0.1:5432/postgres";
        return Stream.of(
                bad("neither dataSource nor databaseUrl", b -> {}, "dataSource", "databaseUrl", "neither"),
                bad("null dataSource", b -> b.dataSource(null), "neither"),
                bad("both", b -> b.dataSource(ds).databaseUrl(url), "exactly one", "both"),
                bad("mysql url", b -> b.databaseUrl("jdbc:mysql://localhost/app"),
                        "databaseUrl", "jdbc:postgresql:", "jdbc:mysql://localhost/app"),
                bad("postgres: typo", b -> b.databaseUrl("jdbc:postgres://localhost/app"),
                        "databaseUrl", "jdbc:postgres://localhost/app"),
                bad("url without jdbc:", b -> b.databaseUrl("postgresql://localhost/app"),
                        "databaseUrl", "postgresql://localhost/app"),
                bad("maxPoolSize 3", b -> b.databaseUrl(url).maxPoolSize(3), "maxPoolSize", "at least 4", "(was 3)"),
                bad("maxPoolSize 0", b -> b.databaseUrl(url).maxPoolSize(0), "maxPoolSize", "(was 0)"),
                bad("maxPoolSize negative", b -> b.databaseUrl(url).maxPoolSize(-3), "maxPoolSize", "(was -3)"),
                bad("blank executorId", b -> b.dataSource(ds).executorId(" "), "executorId", "blank"),
                bad("zero heartbeat", b -> b.dataSource(ds).heartbeatInterval(Duration.ZERO),
                        "heartbeatInterval", "positive", "PT0S"),
                bad("negative heartbeat", b -> b.dataSource(ds).heartbeatInterval(Duration.ofSeconds(-1)),
                        "heartbeatInterval", "PT-1S"),
                bad("null heartbeat", b -> b.dataSource(ds).heartbeatInterval(null), "heartbeatInterval", "null"),
                bad("zero executorTimeout", b -> b.dataSource(ds).executorTimeout(Duration.ZERO),
                        "executorTimeout", "positive", "PT0S"),
                bad("negative executorTimeout", b -> b.dataSource(ds).executorTimeout(Duration.ofMillis(-5)),
                        "executorTimeout", "PT-0.005S"),
                bad("zero shutdownTimeout", b -> b.dataSource(ds).shutdownTimeout(Duration.ZERO),
                        "shutdownTimeout", "PT0S"),
                bad("negative shutdownTimeout", b -> b.dataSource(ds).shutdownTimeout(Duration.ofSeconds(-2)),
                        "shutdownTimeout", "PT-2S"),
                bad("executorTimeout below 2x heartbeat",
                        b -> b.dataSource(ds).heartbeatInterval(Duration.ofSeconds(1))
                                .executorTimeout(Duration.ofMillis(1500)),
                        "executorTimeout", "twice heartbeatInterval", "PT1S", "PT1.5S"),
                bad("heartbeat raised above half the default executorTimeout",
                        b -> b.dataSource(ds).heartbeatInterval(Duration.ofSeconds(6)),
                        "executorTimeout", "heartbeatInterval", "PT6S", "PT10S"),
                bad("negative maxRecoveryAttempts", b -> b.dataSource(ds).maxRecoveryAttempts(-1),
                        "maxRecoveryAttempts", "(was -1)"),
                bad("zero maxConcurrentWorkflows", b -> b.dataSource(ds).maxConcurrentWorkflows(0),
                        "maxConcurrentWorkflows", "(was 0)"));
    }

    static Arguments bad(String what, Consumer<TandemBuilder> configure, String... fragments) {
        return Arguments.of(what, configure, fragments);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badBuilders")
    void builderRefusesMisconfigurationNamingThePropertyAndValue(String what, Consumer<TandemBuilder> configure,
            String[] fragments) {
        TandemBuilder b = Tandem.builder();
        configure.accept(b);
        assertThatThrownBy(b::build)
                .isInstanceOf(IllegalArgumentException.class)
                .satisfies(e -> assertThat(e.getMessage()).contains(fragments));
    }

    @Test
    void builderAcceptsTheBoundaryValues() {
        Tandem t = Tandem.builder()
                .databaseUrl("jdbc:postgresql://127.0.0.1:1/unused")
                .maxPoolSize(4)
                .heartbeatInterval(Duration.ofMillis(1))
                .executorTimeout(Duration.ofMillis(2))
                .shutdownTimeout(Duration.ofMillis(1))
                .maxRecoveryAttempts(0)
                .maxConcurrentWorkflows(1)
                .build(); // builds without connecting
        t.close();
    }

    // ---- step and transaction options ----

    @Test
    @SuppressWarnings("unchecked")
    void stepOptionsRefuseInvalidValuesNamingThem() {
        assertThatThrownBy(() -> StepOptions.retries(0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("maxAttempts must be at least 1 (was 0)");
        assertThatThrownBy(() -> StepOptions.defaults().withMaxAttempts(-2))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("maxAttempts")
                .hasMessageContaining("(was -2)");
        assertThatThrownBy(() -> StepOptions.defaults().withBackoff(Duration.ofMillis(-1), 2.0, Duration.ofSeconds(1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("initialBackoff")
                .hasMessageContaining("PT-0.001S");
        assertThatThrownBy(() -> StepOptions.defaults().withBackoff(null, 2.0, Duration.ofSeconds(1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("initialBackoff")
                .hasMessageContaining("null");
        assertThatThrownBy(() -> StepOptions.defaults().withBackoff(Duration.ZERO, 0.5, Duration.ofSeconds(1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("backoffMultiplier")
                .hasMessageContaining("(was 0.5)");
        assertThatThrownBy(() -> StepOptions.defaults().withBackoff(Duration.ZERO, Double.NaN, Duration.ofSeconds(1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("backoffMultiplier")
                .hasMessageContaining("NaN");
        assertThatThrownBy(() -> StepOptions.defaults().withBackoff(Duration.ofSeconds(2), 2.0, Duration.ofSeconds(1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("maxBackoff")
                .hasMessageContaining("PT2S")
                .hasMessageContaining("PT1S");
        assertThatThrownBy(() -> StepOptions.defaults().withBackoff(Duration.ZERO, 1.0, null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("maxBackoff")
                .hasMessageContaining("null");
        // retryOn() with no argument is the record's accessor, so pass an empty array explicitly.
        assertThatThrownBy(() -> StepOptions.defaults().retryOn(new Class[0]))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("retryOn must name at least one exception class");
        assertThatThrownBy(() -> new StepOptions(1, Duration.ZERO, 1.0, Duration.ZERO, null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("retryOn");
    }

    @Test
    void stepOptionsRefuseANullExceptionClassNamingRetryOn() {
        assertThatThrownBy(() -> StepOptions.defaults().retryOn(IOException.class, null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("retryOn");
        assertThatThrownBy(() -> new StepOptions(1, Duration.ZERO, 1.0, Duration.ZERO,
                Arrays.asList(IOException.class, null)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("retryOn");
    }

    @Test
    void transactionOptionsRefuseInvalidValuesNamingThem() {
        assertThatThrownBy(() -> TransactionOptions.isolation(null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("isolation must not be null");
        assertThatThrownBy(() -> TransactionOptions.defaults().withMaxAttempts(0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("maxAttempts must be at least 1 (was 0)");
        assertThatThrownBy(() -> new TransactionOptions(IsolationLevel.SERIALIZABLE, -1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("(was -1)");
    }

    // ---- inside a workflow ----

    static Stream<Arguments> badStepCalls() {
        return Stream.of(
                Arguments.of(Bad.NULL_STEP, List.of("step name must not be null or blank", "position #1",
                        "'bad-step-NULL_STEP'")),
                Arguments.of(Bad.BLANK_STEP, List.of("step name must not be null or blank", "position #1",
                        "'bad-step-BLANK_STEP'")),
                Arguments.of(Bad.NULL_TRANSACTION, List.of("transaction name must not be null or blank",
                        "'bad-step-NULL_TRANSACTION'")),
                Arguments.of(Bad.BLANK_TRANSACTION, List.of("transaction name must not be null or blank",
                        "'bad-step-BLANK_TRANSACTION'")),
                Arguments.of(Bad.NULL_FUNCTION, List.of("step 'noFunction'", "non-null")),
                Arguments.of(Bad.NULL_OPTIONS, List.of("transaction 'noOptions'", "non-null")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badStepCalls")
    void aBadStepCallEndsTheWorkflowInErrorWithAClearMessageAndRecordsNoStep(Bad call, List<String> fragments) {
        String id = "bad-step-" + call;
        WorkflowHandle<String> h = stepNames.start(call.name(), StartOptions.withId(id));

        assertThatThrownBy(() -> h.result(WAIT))
                .isInstanceOfSatisfying(WorkflowFailedException.class, e -> {
                    assertThat(e.status()).isEqualTo(WorkflowStatus.ERROR);
                    assertThat(e.errorType()).isEqualTo(IllegalArgumentException.class.getName());
                    assertThat(e.errorMessage()).contains(fragments);
                });
        assertThat(recordedError(id)).startsWith("ERROR java.lang.IllegalArgumentException: ").contains(fragments);
        assertThat(steps(id)).isZero();
    }

    @Test
    void nestedStepsAreRefused() {
        for (String kind : List.of("step-in-step", "transaction-in-step")) {
            String id = "nested-" + kind;
            assertThatThrownBy(() -> nested.start(kind, StartOptions.withId(id)).result(WAIT))
                    .isInstanceOfSatisfying(WorkflowFailedException.class, e -> {
                        assertThat(e.status()).isEqualTo(WorkflowStatus.ERROR);
                        assertThat(e.errorMessage()).contains("'inner'", "inside step #1", "cannot be nested");
                    });
            assertThat(recordedError(id)).contains("cannot be nested");
            // The outer step's failure is its only checkpoint; the inner one took no position.
            assertThat(db.queryString("SELECT string_agg(position || ':' || name || ':' || (error IS NOT NULL), ',')"
                    + " FROM tandem.steps WHERE workflow_id = '" + id + "'")).isEqualTo("1:outer:true");
        }
    }

    @Test
    void aStepInsideATransactionIsRefusedAndTheTransactionRollsBack() {
        String id = "nested-step-in-transaction";
        assertThatThrownBy(() -> nested.start("step-in-transaction", StartOptions.withId(id)).result(WAIT))
                .isInstanceOfSatisfying(WorkflowFailedException.class,
                        e -> assertThat(e.errorMessage()).contains("'inner'", "cannot be nested"));
        assertThat(db.queryLong("SELECT count(*) FROM notes WHERE workflow_id = '" + id + "'")).isZero();
        assertThat(db.queryString("SELECT string_agg(position || ':' || name || ':' || (error IS NOT NULL), ',')"
                + " FROM tandem.steps WHERE workflow_id = '" + id + "'")).isEqualTo("1:outer:true");
    }

    @Test
    void aStepOutputThatCannotBeStoredFailsTheWorkflowSayingSo() {
        String id = "bad-step-output";
        assertThatThrownBy(() -> badStepOutput.start("x", StartOptions.withId(id)).result(WAIT))
                .isInstanceOfSatisfying(WorkflowFailedException.class, e -> {
                    assertThat(e.status()).isEqualTo(WorkflowStatus.ERROR);
                    assertThat(e.errorMessage()).contains("step 'opaque'", "cannot be stored as JSON", "Opaque");
                });
        assertThat(recordedError(id)).startsWith("ERROR ").contains("cannot be stored as JSON");
        assertThat(db.queryString("SELECT string_agg(position || ':' || name || ':' || (output IS NOT NULL) || ':'"
                + " || (error IS NOT NULL), ',' ORDER BY position) FROM tandem.steps WHERE workflow_id = '" + id + "'"))
                .isEqualTo("1:fine:true:false,2:opaque:false:true");
    }

    @Test
    void aTransactionOutputThatCannotBeStoredRollsBackAndFailsTheWorkflow() {
        String id = "bad-transaction-output";
        assertThatThrownBy(() -> badTransactionOutput.start("x", StartOptions.withId(id)).result(WAIT))
                .isInstanceOfSatisfying(WorkflowFailedException.class, e -> {
                    assertThat(e.status()).isEqualTo(WorkflowStatus.ERROR);
                    assertThat(e.errorMessage()).contains("transaction 'write'", "cannot be stored as JSON");
                });
        assertThat(db.queryLong("SELECT count(*) FROM notes WHERE workflow_id = '" + id + "'")).isZero();
        assertThat(db.queryLong("SELECT count(*) FROM tandem.steps WHERE workflow_id = '" + id + "'"
                + " AND error IS NOT NULL AND output IS NULL")).isEqualTo(1);
    }

    @Test
    void aWorkflowOutputThatCannotBeStoredFailsTheWorkflowSayingSo() {
        String id = "bad-workflow-output";
        assertThatThrownBy(() -> badOutput.start("x", StartOptions.withId(id)).result(WAIT))
                .isInstanceOfSatisfying(WorkflowFailedException.class, e -> {
                    assertThat(e.status()).isEqualTo(WorkflowStatus.ERROR);
                    assertThat(e.errorMessage())
                            .contains("output of workflow '" + id + "' (badOutput)", "cannot be stored as JSON");
                });
        assertThat(db.queryString("SELECT status || ' ' || (output IS NULL) FROM tandem.workflow_status"
                + " WHERE workflow_id = '" + id + "'")).isEqualTo("ERROR true");
        assertThat(steps(id)).isEqualTo(1); // the step before it is recorded
    }

    /** An exception that cannot even describe itself. */
    static final class UnprintableException extends RuntimeException {
        @Override
        public String getMessage() {
            throw new IllegalStateException("getMessage exploded");
        }
    }

    @Test
    void aWorkflowThrowingAnExceptionThatCannotDescribeItselfStillEndsInError() {
        Tandem t = Tandem.builder().dataSource(db.dataSource()).shutdownTimeout(Duration.ofMillis(200)).build();
        try {
            Workflow<String, String> unprintable = t.register("unprintable", String.class, (ctx, in) -> {
                ctx.step("fine", () -> 1);
                throw new UnprintableException();
            });
            t.start();
            WorkflowHandle<String> h = unprintable.start("x", StartOptions.withId("unprintable-1"));

            assertThatThrownBy(() -> h.result(Duration.ofSeconds(5)))
                    .isInstanceOfSatisfying(WorkflowFailedException.class, e -> {
                        assertThat(e.status()).isEqualTo(WorkflowStatus.ERROR);
                        assertThat(e.errorType()).isEqualTo(UnprintableException.class.getName());
                    });
            assertThat(db.queryString("SELECT status || ' ' || (error->>'type') FROM tandem.workflow_status"
                    + " WHERE workflow_id = 'unprintable-1'")).isEqualTo("ERROR " + UnprintableException.class.getName());
        } finally {
            t.close();
        }
    }

    @Test
    void theContextRefusesUseFromAnotherThread() {
        for (String kind : List.of("step", "transaction")) {
            String id = "other-thread-" + kind;
            String out = otherThread.start(kind, StartOptions.withId(id)).result(WAIT);

            assertThat(out).startsWith("helper did not run | mine | IllegalStateException: ")
                    .contains("'" + id + "'", "another thread", "helper-thread");
            // The refused call took no position: the workflow's own step is #1.
            assertThat(db.queryString("SELECT string_agg(position || ':' || name, ',') FROM tandem.steps"
                    + " WHERE workflow_id = '" + id + "'")).isEqualTo("1:mine");
        }
    }

    @Test
    void theContextOfAFinishedWorkflowRefusesSteps() {
        String id = "stale-context";
        WorkflowHandle<String> h = blocker.start("x", StartOptions.withId(id));
        releaseBlocker.countDown();
        assertThat(h.result(WAIT)).isEqualTo("released");
        WorkflowContext stale = captured.get();
        assertThat(stale.workflowId()).isEqualTo(id);

        assertThatThrownBy(() -> stale.step("late", () -> lateStepRan.getAndSet(true)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("'" + id + "'");
        assertThatThrownBy(() -> stale.transaction("late", conn -> lateStepRan.getAndSet(true)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("'" + id + "'");
        assertThat(lateStepRan).isFalse();
        assertThat(steps(id)).isEqualTo(1);
        assertThat(db.queryString("SELECT status FROM tandem.workflow_status WHERE workflow_id = '" + id + "'"))
                .isEqualTo("SUCCESS");
    }

    @Test
    void theContextOfAFinishedWorkflowSaysItIsNoLongerRunningEvenOnTheSameThread() {
        // One workflow thread: the second workflow runs on the thread the first one ran on, after it finished.
        Tandem t = Tandem.builder().dataSource(db.dataSource()).virtualThreads(false).maxConcurrentWorkflows(1)
                .build();
        try {
            AtomicReference<WorkflowContext> first = new AtomicReference<>();
            AtomicBoolean ran = new AtomicBoolean();
            Workflow<String, String> capture = t.register("capture", String.class, (ctx, in) -> {
                first.set(ctx);
                return ctx.step("s", () -> Thread.currentThread().getName());
            });
            Workflow<String, String> useStale = t.register("useStale", String.class, (ctx, in) -> {
                try {
                    first.get().step("late", () -> ran.getAndSet(true));
                    return "no error";
                } catch (IllegalStateException e) {
                    return Thread.currentThread().getName() + " | " + e.getMessage();
                }
            });
            t.start();
            String thread = capture.start("x", StartOptions.withId("stale-1")).result(WAIT);
            String out = useStale.start("x", StartOptions.withId("stale-2")).result(WAIT);

            assertThat(out).startsWith(thread + " | ")
                    .contains("workflow 'stale-1' is no longer running", "'late'");
            assertThat(ran).isFalse();
            assertThat(steps("stale-1")).isEqualTo(1);
            assertThat(steps("stale-2")).isZero();
        } finally {
            t.close();
        }
    }
}
