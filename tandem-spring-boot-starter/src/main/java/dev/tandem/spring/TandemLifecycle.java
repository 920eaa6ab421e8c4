package dev.tandem.spring;

import dev.tandem.Tandem;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.springframework.context.SmartLifecycle;

/**
 * Starts the auto-configured engine once the application context is refreshed, after registering every {@link
 * WorkflowDefinition} bean and every {@link Workflow @Workflow} method, and closes it on shutdown. Its phase is below
 * the web server's, so the engine starts before requests are served and stops only after the web server's graceful
 * shutdown: requests in flight can still start and enqueue workflows. Closing waits up to {@code
 * tandem.shutdown-timeout} for running workflows; those still running then are interrupted and recovered from their
 * checkpoints later, here or by another executor. The DataSource is closed after this (it is a bean this one depends
 * on).
 */
public final class TandemLifecycle implements SmartLifecycle {
    /** Below the web server's start/stop and graceful-shutdown phases ({@code DEFAULT_PHASE - 2048} and - 1024). */
    public static final int PHASE = SmartLifecycle.DEFAULT_PHASE - 4096;

    private final Tandem tandem;
    private final List<WorkflowDefinition<?, ?>> definitions;
    private final @Nullable AnnotatedWorkflows annotated;
    private volatile boolean running;

    public TandemLifecycle(Tandem tandem, List<WorkflowDefinition<?, ?>> definitions) {
        this(tandem, definitions, null);
    }

    /** Also registers the {@link Workflow @Workflow} methods found in the context ({@code annotated}). */
    public TandemLifecycle(Tandem tandem, List<WorkflowDefinition<?, ?>> definitions,
            @Nullable AnnotatedWorkflows annotated) {
        this.tandem = tandem;
        this.definitions = definitions;
        this.annotated = annotated;
    }

    @Override
    public synchronized void start() {
        if (running) {
            return;
        }
        for (WorkflowDefinition<?, ?> definition : definitions) {
            definition.registerWith(tandem);
        }
        if (annotated != null) {
            annotated.registerWith(tandem);
        }
        tandem.start();
        running = true;
    }

    @Override
    public synchronized void stop() {
        if (!running) {
            return;
        }
        running = false;
        tandem.close();
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    @Override
    public int getPhase() {
        return PHASE;
    }
}
