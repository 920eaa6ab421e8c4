package dev.tandem.internal.exec;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.tandem.AmbientTransaction;
import dev.tandem.EnqueueOptions;
import dev.tandem.StartOptions;
import dev.tandem.TandemException;
import dev.tandem.WorkflowConflictException;
import dev.tandem.WorkflowHandle;
import dev.tandem.internal.db.Rows.StartRow;
import dev.tandem.internal.db.Rows.WorkflowRow;
import dev.tandem.internal.db.SqlErrors;
import dev.tandem.internal.db.SystemDatabase;
import dev.tandem.internal.observe.Telemetry;
import dev.tandem.internal.observe.TraceContext;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;

/**
 * Starting workflows: {@code start} (a RUNNING row owned by this executor, inserted through the group committer) and
 * {@code enqueue} (through {@code tandem.enqueue_workflow}, on the caller's transaction, the application's ambient
 * transaction ({@code AmbientTransaction}; never for {@code start}, which must commit before it returns) or its own). Workflow ids are
 * idempotency keys: an id that exists returns that execution. An insert whose acknowledgement was lost is resolved by
 * reading the row, never by assuming it did not happen.
 */
public final class Starting {
    private static final Duration START_TIMEOUT = Duration.ofSeconds(30);

    private final Engine engine;
    private final SystemDatabase db;
    private final Executions executions;
    private final Resuming resuming;

    Starting(Engine engine, SystemDatabase db, Executions executions, Resuming resuming) {
        this.engine = engine;
        this.db = db;
        this.executions = executions;
        this.resuming = resuming;
    }

    /**
     * Starts an execution; with {@code inline} it then runs on the calling thread before this returns (if this call
     * started it), otherwise on a workflow thread.
     */
    public <I, O> WorkflowHandle<O> start(String name, I input, StartOptions options, boolean inline) {
        if (options == null) {
            throw new IllegalArgumentException("options must not be null; use StartOptions.defaults()");
        }
        @SuppressWarnings("unchecked")
        RegisteredWorkflow<I, O> workflow = (RegisteredWorkflow<I, O>) engine.registry().get(name);
        if (workflow == null) {
            throw new IllegalArgumentException("unknown workflow '" + name + "'; register it before start()");
        }
        engine.checkStarted("start workflow '" + name + "'");
        String inputJson = encodeInput(workflow, input);
        String id = options.workflowId() != null ? options.workflowId() : UUID.randomUUID().toString();

        // A started workflow's row is inserted with ownership epoch 1 (groupCommit.started, insertStart).
        WorkflowExecution<I, O> execution =
                new WorkflowExecution<>(engine, workflow, id, 1, input, false, null, new CompletableFuture<>());
        WorkflowExecution<?, ?> already = executions.admit(execution);
        if (already != null) {
            return existing(id, name, already);
        }
        Long timeoutMillis = options.timeout() == null ? null : options.timeout().toMillis();
        // run() returns only at the workflow's end, so its start need not be durable before the workflow runs: it
        // commits with the first transactional step (one commit fewer on its path), or before any other write.
        // start() must be durable when it returns, and a timeout counts from the start, so those write it now.
        boolean deferred = inline && timeoutMillis == null;
        boolean inserted;
        TraceContext trace;
        Telemetry.Observation producing = engine.telemetry().produce("start", name, id, null);
        try {
            trace = producing.context(); // stored with the row: every run of the workflow continues this trace
            execution.origin = engine.instrumentation().origin(trace, 1);
            StartRow start = new StartRow(id, name, null, inputJson, timeoutMillis,
                    trace == null ? null : trace.traceparent(), trace == null ? null : trace.tracestate(),
                    deferred ? engine.clock().now() : null); // written later: it began now
            if (deferred) {
                // One read, so that running an id that exists runs nothing of it again (not even its plain steps);
                // an id generated here is new.
                inserted = options.workflowId() == null || !exists(execution, id);
                execution.deferredStart.pending = inserted ? start : null;
            } else {
                inserted = insert(execution, start);
            }
        } catch (RuntimeException e) {
            producing.failed(e);
            throw e;
        } finally {
            producing.close();
        }
        if (inserted && deferred) {
            engine.telemetry().workflowStarted(name, null);
            engine.instrumentation().run(execution);
            if (execution.deferredStart.failure != null) {
                throw execution.deferredStart.failure;
            }
            if (!execution.deferredStart.conflict) {
                return new Handle<>(engine, id, execution.outcome());
            }
            // Another start of this id committed first: like a start that found the id, below.
        } else if (inserted) {
            engine.telemetry().workflowStarted(name, null);
            if (inline) {
                engine.instrumentation().run(execution);
            } else {
                executions.dispatch(execution);
            }
            return new Handle<>(engine, id, execution.outcome());
        }
        if (executions.local(id) == execution) {
            executions.drop(execution); // the id existed before: whatever runs it, the database has its outcome
        }
        WorkflowRow row = engine.reads().loadWorkflow(id);
        if (!row.name().equals(name)) {
            throw new WorkflowConflictException("workflow id '" + id + "' is already used by an execution of '"
                    + row.name() + "', not '" + name + "'; workflow ids must be unique across workflow types");
        }
        if (row.status().equals("RUNNING") && engine.executorId().equals(row.executorId())
                && engine.incarnation().toString().equals(row.incarnation()) && executions.local(id) == null) {
            // Our own insert landed but its acknowledgement was lost and the retry found the row: run it.
            resuming.resume(workflow, row.workflowId(), row.input(), row.attempts(), null, row.epoch(), trace);
            WorkflowExecution<?, ?> now = executions.local(id);
            return new Handle<>(engine, id, now != null ? now.outcome() : null);
        }
        return new Handle<>(engine, id, null);
    }

    /** Inserts a start through the group committer; true if inserted, false if the id existed. */
    private boolean insert(WorkflowExecution<?, ?> execution, StartRow start) {
        try {
            return insertStart(start);
        } catch (RuntimeException e) {
            executions.drop(execution); // if the insert did land, reconciliation finds the row and runs it here
            throw e;
        }
    }

    /** Whether the workflow id exists (a deferred start reads before it runs anything). */
    private boolean exists(WorkflowExecution<?, ?> execution, String id) {
        try {
            return db.workflows().loadWorkflow(id).isPresent();
        } catch (SQLException e) {
            executions.drop(execution);
            throw new TandemException("failed to start workflow '" + id + "': " + e.getMessage(), e);
        }
    }

    /**
     * Inserts a start through the group committer and waits until it is durable; true if inserted, false if the id
     * existed. Throws what {@code start} throws when it cannot say so.
     */
    boolean insertStart(StartRow start) {
        String id = start.workflowId();
        try {
            return engine.committer().start(start, START_TIMEOUT.toNanos());
        } catch (GroupCommitter.WriteTimeoutException e) {
            throw new TandemException("the database did not confirm the start of workflow '" + id + "' within "
                    + START_TIMEOUT + " (is it reachable?); nothing was written, so starting it again is safe");
        } catch (GroupCommitter.WriteOutcomeUnknownException e) {
            throw new TandemException("the database did not confirm the start of workflow '" + id + "' within "
                    + START_TIMEOUT + " (is it reachable?), and it may have been written: if it was, this executor"
                    + " runs it once the database answers. Start it again with the same id ('" + id + "'), which"
                    + " never starts it twice, or look it up with handle(\"" + id + "\")");
        } catch (SQLException | RuntimeException e) {
            if (e instanceof SQLException && SqlErrors.classify(e) == SqlErrors.Kind.DATA) {
                throw new IllegalArgumentException("PostgreSQL cannot store the start of workflow '" + id + "': "
                        + e.getMessage(), e);
            }
            throw new TandemException("failed to start workflow '" + id + "': " + e.getMessage(), e);
        }
    }

    /** Checks a caller's input (not null, of the registered type, storable) and encodes it; writes nothing. */
    String encodeInput(RegisteredWorkflow<?, ?> workflow, @Nullable Object input) {
        String name = workflow.name();
        if (input == null) {
            throw new IllegalArgumentException("the input of workflow '" + name + "' must not be null");
        }
        if (!workflow.inputType().isInstance(input)) {
            throw new IllegalArgumentException("the input of workflow '" + name + "' must be a "
                    + workflow.inputType().getName() + " (was " + input.getClass().getName() + ")");
        }
        try {
            return engine.json().write(input);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("the input of workflow '" + name + "' cannot be stored as JSON: "
                    + e.getOriginalMessage() + "; pass a value Jackson can serialize", e);
        }
    }

    private <O> WorkflowHandle<O> existing(String id, String name, WorkflowExecution<?, ?> execution) {
        if (!execution.name().equals(name)) {
            throw new WorkflowConflictException("workflow id '" + id + "' is already used by an execution of '"
                    + execution.name() + "', not '" + name + "'; workflow ids must be unique across workflow types");
        }
        return new Handle<>(engine, id, execution.outcome());
    }

    /** Enqueues on the caller's connection (its transaction); see {@code Workflow.enqueue}. */
    public <I, O> WorkflowHandle<O> enqueue(@Nullable Connection tx, String name, I input,
            EnqueueOptions options) {
        if (options == null) {
            throw new IllegalArgumentException("options must not be null; use EnqueueOptions.defaults()");
        }
        RegisteredWorkflow<?, ?> workflow = engine.registry().get(name);
        if (workflow == null) {
            throw new IllegalArgumentException("unknown workflow '" + name + "'");
        }
        String inputJson = encodeInput(workflow, input);
        Telemetry.Observation producing = engine.telemetry().produce("enqueue", name, options.workflowId(),
                options.queueName());
        try {
            String id = enqueue(tx, name, inputJson, options, producing.context());
            producing.workflowId(id);
            return new Handle<>(engine, id, null);
        } catch (RuntimeException e) {
            producing.failed(e);
            throw e;
        } finally {
            producing.close();
        }
    }

    private String enqueue(@Nullable Connection tx, String name, String inputJson, EnqueueOptions options,
            @Nullable TraceContext trace) {
        String id;
        AmbientTransaction ambient = tx == null ? engine.hooks().ambientTransaction() : null;
        Connection joined = ambient == null ? null : ambient.connection();
        try {
            if (tx != null) {
                id = enqueueOn(tx, name, inputJson, options, trace);
            } else if (joined != null) { // the application's transaction: the row commits or rolls back with it
                id = enqueueOn(joined, name, inputJson, options, trace);
            } else {
                try (Connection conn = db.connectShared()) { // the caller's work: the application's pool
                    // With a timeout, the enqueue and the timeout commit together (no claim between them).
                    conn.setAutoCommit(options.timeout() == null);
                    try {
                        id = enqueueOn(conn, name, inputJson, options, trace);
                        if (options.timeout() != null) {
                            conn.commit();
                        }
                    } finally {
                        if (!conn.getAutoCommit()) {
                            conn.rollback(); // nothing left after a commit; undoes a failed enqueue
                            conn.setAutoCommit(true);
                        }
                    }
                }
            }
        } catch (SQLException e) {
            if ("23505".equals(e.getSQLState())) {
                throw enqueueConflict(name, options.workflowId(), e);
            }
            if ("22023".equals(e.getSQLState())) {
                throw new IllegalArgumentException(e.getMessage(), e);
            }
            throw new TandemException("failed to enqueue workflow '" + name + "': " + e.getMessage(), e);
        } finally {
            if (joined != null) {
                ambient.release(joined);
            }
        }
        return id;
    }

    /**
     * The SQL function does not say whose an id is (its caller may be a role that cannot read workflows); this
     * engine's role can, so a Java caller is told, as {@code start} tells it.
     */
    private WorkflowConflictException enqueueConflict(String name, @Nullable String id, SQLException e) {
        if (id != null) {
            try {
                WorkflowRow row = db.workflows().loadWorkflow(id).orElse(null);
                if (row != null && !row.name().equals(name)) {
                    return new WorkflowConflictException("workflow id '" + id + "' is already used by an execution"
                            + " of '" + row.name() + "', not '" + name + "'; workflow ids must be unique across"
                            + " workflow types");
                }
            } catch (SQLException ignored) {
                // The database's own message says enough.
            }
        }
        return new WorkflowConflictException(e.getMessage());
    }

    private String enqueueOn(Connection conn, String name, String inputJson, EnqueueOptions o,
            @Nullable TraceContext trace) throws SQLException {
        String id = db.queues().enqueue(conn, name, inputJson, o.workflowId(), o.queueName(), o.priority(),
                o.deduplicationId(), o.partitionKey(), o.delay(), trace == null ? null : trace.traceparent(),
                trace == null ? null : trace.tracestate());
        if (o.timeout() != null) {
            db.queues().setTimeout(conn, id, o.timeout().toMillis());
        }
        return id;
    }
}
