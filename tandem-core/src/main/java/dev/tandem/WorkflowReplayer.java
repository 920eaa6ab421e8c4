package dev.tandem;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tandem.ReplayReport.Replayed;
import dev.tandem.ReplayReport.Verdict;
import dev.tandem.internal.db.AdminStore.RecordedWorkflow;
import dev.tandem.internal.db.HistoryFile;
import dev.tandem.internal.db.NoDatabase;
import dev.tandem.internal.exec.Replays;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The pre-deploy check: replays recorded workflow histories (exported with {@link WorkflowHistories}, {@link
 * Tandem#exportHistories} or {@code tandem workflows export}) against the workflow functions of a new build, and
 * reports every execution whose history the new code would not follow. Run it in the application's CI, in a plain
 * unit test:
 *
 * <pre>{@code
 * @Test
 * void newCodeFollowsTheHistoriesInFlight() {
 *     WorkflowReplayer.assertReplays(Path.of("src/test/resources/histories.json"), Workflows::registerAll);
 * }
 * }</pre>
 *
 * <p>or from Maven with {@link #main} (exec-maven-plugin; docs/versioning.md).
 *
 * <p><b>No database, no side effects.</b> The registrar registers the workflows on a {@link Tandem} that is never
 * started and has no database (a connection asked of it is refused). Each history is replayed by the engine's own
 * replay: every call takes its position, the recorded checkpoint there is checked against the call's kind and name
 * (the same non-determinism check as a recovery) and its recorded output is returned; no step function, transaction,
 * wait or SQL runs. At the end of a history (an execution in flight) the replay stops: the code beyond it is not run.
 *
 * <p>What is a problem ({@link ReplayReport.Verdict#isProblem}): a call that does not match the one recorded at its
 * position, code that returns before its history ends, a workflow name the build no longer registers, an input or a
 * recorded output that no longer binds to its class, code that throws where the recorded run did not fail.
 *
 * <p>Thread-safety: replays run on the calling thread, one workflow after the other; a replayer may be shared.
 */
public final class WorkflowReplayer {

    /** Registers the new build's workflows, as the application does at startup (before {@code start()}). */
    @FunctionalInterface
    public interface Registrar {
        void register(Tandem tandem) throws Exception;
    }

    private final @Nullable ObjectMapper objectMapper;

    private WorkflowReplayer(@Nullable ObjectMapper objectMapper) {
        this.objectMapper = objectMapper;
    }

    /** A replayer with Tandem's default JSON mapping. */
    public static WorkflowReplayer create() {
        return new WorkflowReplayer(null);
    }

    /** A replayer that rebuilds inputs and recorded outputs with {@code objectMapper} (the application's, if it sets one). */
    public WorkflowReplayer objectMapper(ObjectMapper objectMapper) {
        if (objectMapper == null) {
            throw new IllegalArgumentException("objectMapper must not be null");
        }
        return new WorkflowReplayer(objectMapper);
    }

    /**
     * Replays every history of {@code historiesFile} against the workflows {@code registrar} registers.
     *
     * @throws IllegalArgumentException if the file is missing or not a histories file (saying what is wrong), or the
     *     registrar fails
     */
    public ReplayReport replay(Path historiesFile, Registrar registrar) {
        if (historiesFile == null || registrar == null) {
            throw new IllegalArgumentException("replay needs a histories file and a registrar, not null");
        }
        try (InputStream in = Files.newInputStream(historiesFile)) {
            return replay(in, historiesFile.toString(), registrar);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("histories file " + historiesFile + " does not exist; export one with"
                    + " Tandem.exportHistories(...) or 'tandem workflows export --file " + historiesFile + "'", e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read histories file " + historiesFile + ": " + e, e);
        }
    }

    /** Like {@link #replay(Path, Registrar)}, from a stream; {@code source} names it in messages. */
    public ReplayReport replay(InputStream in, String source, Registrar registrar) throws IOException {
        List<RecordedWorkflow> histories = HistoryFile.read(in, source);
        TandemBuilder builder = Tandem.builder()
                .dataSource(new NoDatabase("the workflow replayer has no database: replayed workflow code must not"
                        + " reach one (outside its steps, code must be deterministic)"))
                .executorId("workflow-replayer");
        if (objectMapper != null) {
            builder.objectMapper(objectMapper);
        }
        try (Tandem tandem = builder.build()) {
            try {
                registrar.register(tandem);
            } catch (Exception e) {
                throw new IllegalArgumentException("the registrar failed to register the workflows: " + e, e);
            }
            List<Replayed> results = new ArrayList<>();
            for (RecordedWorkflow history : histories) {
                results.add(replayOne(tandem, history));
            }
            return new ReplayReport(results);
        }
    }

    private static Replayed replayOne(Tandem tandem, RecordedWorkflow history) {
        try {
            return Replays.replay(tandem.engine(), history);
        } catch (RuntimeException | LinkageError e) { // one bad history must not hide the others' results
            return new Replayed(history.workflowId(), history.name(), history.status(), Verdict.FAILED, 0, null,
                    null, null, null, "the replay failed: " + e);
        }
    }

    /**
     * Replays every history of {@code historiesFile} against the workflows {@code registrar} registers, and throws an
     * {@link AssertionError} listing each execution whose history the new code would not follow (what JUnit, TestNG
     * and AssertJ report as a test failure; no test library is needed).
     */
    public static void assertReplays(Path historiesFile, Registrar registrar) {
        ReplayReport report = create().replay(historiesFile, registrar);
        if (!report.ok()) {
            throw new AssertionError(report.describe());
        }
    }

    /**
     * {@code WorkflowReplayer <histories file> <registrar class>}: the class implements {@link Registrar} and has a
     * public no-argument constructor. Prints the report; exits 0 if the new code follows every history, 1 if it does
     * not, 2 if the arguments, the file or the registrar are wrong.
     */
    public static void main(String[] args) {
        if (args.length != 2) {
            System.err.println("usage: java dev.tandem.WorkflowReplayer <histories file> <registrar class>"
                    + " (a class implementing dev.tandem.WorkflowReplayer$Registrar with a public no-argument"
                    + " constructor)");
            System.exit(2);
        }
        try {
            ReplayReport report = create().replay(Path.of(args[0]), registrar(args[1]));
            System.out.println(report.describe());
            System.exit(report.ok() ? 0 : 1);
        } catch (IllegalArgumentException | UncheckedIOException e) {
            System.err.println("workflow replay: " + e.getMessage());
            System.exit(2);
        }
    }

    static Registrar registrar(String className) {
        Class<?> type;
        try {
            type = Class.forName(className, true, Thread.currentThread().getContextClassLoader());
        } catch (ClassNotFoundException e) {
            throw new IllegalArgumentException("registrar class " + className + " is not on the class path", e);
        }
        if (!Registrar.class.isAssignableFrom(type)) {
            throw new IllegalArgumentException("registrar class " + className + " does not implement "
                    + Registrar.class.getName());
        }
        try {
            return (Registrar) type.getConstructor().newInstance();
        } catch (ReflectiveOperationException e) {
            throw new IllegalArgumentException("registrar class " + className + " needs a public no-argument"
                    + " constructor: " + e, e);
        }
    }
}
