-- Named queries of the engine, loaded once at start (dev.tandem.internal.db.Queries). A line
-- `-- include: name` inside a query stands for that (earlier) query's text.
-- Two clocks: tandem.now() is the time workflows see (created/updated/started, delays, deadlines, rate limits,
-- retention; migration V11: now() in production, a test clock's time in tandem-test), now() is the time executors
-- live by (heartbeats, registrations), which a test clock never moves: skipping time must not make executors dead.
-- Every statement the engine sends is here. A batch of rows is bound as one JSON array (jsonb_to_recordset), so one
-- statement serves any number of rows, and inputs and outputs, already JSON, are embedded as they are.

-- The group committer writes a batch of many workflows' writes in one statement and one commit (autocommit):
--   WITH me AS (SELECT ?::text AS executor_id, ?::uuid AS incarnation), started AS (...), checkpointed AS (...), finished AS (...)
--   SELECT ... FROM started UNION ALL ... FROM checkpointed UNION ALL ... FROM finished
-- built from the three parts below, leaving out the parts a batch has no rows for. Parts of one statement share a
-- snapshot, so the committer never puts a workflow's start in the same batch as its later writes.

-- name: groupCommit.started
-- Starts, owned by this executor with ownership epoch 1; a workflow id that exists is left alone (the caller then
-- looks at what is there). traceparent/tracestate: the trace context of the start, when tracing is on. created_at:
-- when run() began, for a start written after the workflow began running (else now).
INSERT INTO tandem.workflow_status (workflow_id, name, status, queue_name, input, executor_id, timeout_ms, deadline_at,
                                    owner_epoch, owner_incarnation, traceparent, tracestate, app_version, created_at)
SELECT n.workflow_id, n.name, 'RUNNING', n.queue_name, n.input, me.executor_id, n.timeout_ms,
       tandem.now() + n.timeout_ms * interval '1 millisecond', 1, me.incarnation, n.traceparent, n.tracestate,
       (SELECT e.app_version FROM tandem.executors e WHERE e.executor_id = me.executor_id),
       coalesce(n.created_at, tandem.now())
FROM jsonb_to_recordset(?::jsonb) AS n(workflow_id text, name text, queue_name text, input jsonb, timeout_ms bigint,
                                       traceparent text, tracestate text, created_at timestamptz), me
ON CONFLICT (workflow_id) DO NOTHING
RETURNING workflow_id, 0 AS position;

-- name: groupCommit.checkpointed
-- Checkpoints of plain steps, written only while this executor owns the RUNNING workflow with the writer's ownership
-- epoch (a presumed-dead executor that is still running, or an execution of a workflow cancelled and resumed since,
-- finds its writes refused); a position already recorded is left alone. Reads the workflow row without locking it.
INSERT INTO tandem.steps (workflow_id, position, name, kind, output, output_type, error, started_at, child_workflow_id)
SELECT s.workflow_id, s.position, s.name, s.kind, s.output, s.output_type, s.error, s.started_at,
       CASE WHEN s.kind = 'CHILD' THEN s.output #>> '{}' END
FROM jsonb_to_recordset(?::jsonb) AS s(workflow_id text, position int, name text, kind text, output jsonb,
                                       output_type text, error jsonb, started_at timestamptz, epoch bigint)
JOIN tandem.workflow_status w ON w.workflow_id = s.workflow_id AND w.status = 'RUNNING' AND w.owner_epoch = s.epoch
JOIN me ON w.executor_id = me.executor_id
ON CONFLICT (workflow_id, position) DO NOTHING
RETURNING workflow_id, position;

-- name: groupCommit.finished
-- Final statuses, with the same ownership fence. The only part that waits on a row lock (an application transaction
-- with an uncommitted cancel of the workflow): the committer's connection has a short lock_timeout, and a write that
-- times out is taken out of the batch and retried on its own (GroupCommitter), so it delays no other workflow.
UPDATE tandem.workflow_status w
   SET status = f.status, output = f.output, output_type = f.output_type, error = f.error, updated_at = tandem.now()
  FROM jsonb_to_recordset(?::jsonb) AS f(workflow_id text, status text, output jsonb, output_type text, error jsonb,
                                         epoch bigint),
       me
 WHERE w.workflow_id = f.workflow_id AND w.executor_id = me.executor_id AND w.status = 'RUNNING'
   AND w.owner_epoch = f.epoch
RETURNING w.workflow_id, 0 AS position;

-- name: insertTransactionCheckpoints
-- Runs inside the application's transaction of a transactional step: its checkpoint, plus those of plain steps
-- before it that were not written yet (all of one execution). No ON CONFLICT: if a position is already recorded the
-- unique violation rolls back the application's writes too, which is what makes the step exactly-once. If the
-- workflow (second parameter) is no longer RUNNING on this executor (third) with the writer's epoch (fourth),
-- check_owner raises and rolls them back as well. The check is an uncorrelated subquery: evaluated once per
-- statement, not once per row. Sent as a prepared statement, with the COMMIT, in one round trip.
INSERT INTO tandem.steps (workflow_id, position, name, kind, output, output_type, error, started_at, child_workflow_id)
SELECT workflow_id, position, name, kind, output, output_type, error, started_at,
       CASE WHEN kind = 'CHILD' THEN output #>> '{}' END
FROM jsonb_to_recordset(?::jsonb) AS s(workflow_id text, position int, name text, kind text, output jsonb,
                                       output_type text, error jsonb, started_at timestamptz)
WHERE (SELECT tandem.check_owner(?, ?, ?));

-- name: insertStartWithCheckpoints
-- A start written in the transaction of the workflow's first transactional step (Workflow.run, which runs the
-- workflow on the caller's thread and returns only at its end, so nothing outside needs the row earlier), with the
-- checkpoints of that step and of the plain steps before it: one statement. The row is RUNNING, owned by this
-- executor with ownership epoch 1, like groupCommit.started. No ON CONFLICT: if the id exists (another start of it
-- committed meanwhile) or a position is already recorded, the unique violation rolls back the step's rows with it.
-- The row this transaction inserts is the fence (nobody else can see it, let alone change it, before the commit), so
-- there is no check_owner and no row lock. Parameters: workflow id, name, input, executor id, incarnation,
-- traceparent, tracestate, created_at (when run() began: its steps started after it, not before the row's commit),
-- then the checkpoints as a JSON array.
WITH started AS (
    INSERT INTO tandem.workflow_status (workflow_id, name, status, input, executor_id, owner_epoch,
                                        owner_incarnation, traceparent, tracestate, app_version, created_at)
    SELECT n.workflow_id, n.name, 'RUNNING', n.input::jsonb, n.executor_id, 1, n.incarnation::uuid, n.traceparent,
           n.tracestate, (SELECT e.app_version FROM tandem.executors e WHERE e.executor_id = n.executor_id),
           coalesce(n.created_at, tandem.now())
    FROM (SELECT ?::text AS workflow_id, ?::text AS name, ?::text AS input, ?::text AS executor_id,
                 ?::text AS incarnation, ?::text AS traceparent, ?::text AS tracestate,
                 ?::timestamptz AS created_at) n
    RETURNING 1
)
INSERT INTO tandem.steps (workflow_id, position, name, kind, output, output_type, error, started_at, child_workflow_id)
SELECT s.workflow_id, s.position, s.name, s.kind, s.output, s.output_type, s.error, s.started_at,
       CASE WHEN s.kind = 'CHILD' THEN s.output #>> '{}' END
FROM jsonb_to_recordset(?::jsonb) AS s(workflow_id text, position int, name text, kind text, output jsonb,
                                       output_type text, error jsonb, started_at timestamptz)
CROSS JOIN started; -- no checkpoint before the row: a start that lost the race fails on the workflow's key

-- name: loadSteps
SELECT position, name, kind, output::text, output_type, error::text
FROM tandem.steps
WHERE workflow_id = ?
ORDER BY position;

-- name: loadStep
SELECT position, name, kind, output::text, output_type, error::text
FROM tandem.steps
WHERE workflow_id = ? AND position = ?;

-- name: loadWorkflow
SELECT workflow_id, name, status, input::text, output::text, output_type, error::text, attempts, executor_id,
       owner_epoch, owner_incarnation::text
FROM tandem.workflow_status
WHERE workflow_id = ?;

-- name: registerExecutor
INSERT INTO tandem.executors (executor_id, incarnation, hostname, pid, workflow_names, app_version, compatible_with)
VALUES (?, ?::uuid, ?, ?, ?::text[], ?, ?::text[])
ON CONFLICT (executor_id) DO UPDATE
   SET incarnation = excluded.incarnation, hostname = excluded.hostname, pid = excluded.pid,
       workflow_names = excluded.workflow_names, app_version = excluded.app_version,
       compatible_with = excluded.compatible_with, started_at = now(), heartbeat_at = now();

-- name: registerNames
-- The workflow names this executor runs were registered now (at start, on stop, and every few heartbeats).
INSERT INTO tandem.workflow_names (name, last_registered_at)
SELECT DISTINCT n, now() FROM unnest(?::text[]) AS n
ON CONFLICT (name) DO UPDATE SET last_registered_at = excluded.last_registered_at;

-- name: heartbeat
UPDATE tandem.executors SET heartbeat_at = now() WHERE executor_id = ? AND incarnation = ?::uuid;

-- name: expireExecutor
-- On orderly shutdown: lets other executors take over this one's unfinished workflows at once, and records that its
-- workflow names were registered until now (a redeploy does not make its backlog look "unknown").
WITH names AS (
    INSERT INTO tandem.workflow_names (name, last_registered_at)
    SELECT DISTINCT n, now()
      FROM tandem.executors e, unnest(e.workflow_names) AS n
     WHERE e.executor_id = ? AND e.incarnation = ?::uuid
    ON CONFLICT (name) DO UPDATE SET last_registered_at = excluded.last_registered_at
)
UPDATE tandem.executors SET heartbeat_at = '-infinity' WHERE executor_id = ? AND incarnation = ?::uuid;

-- name: claimOrphans
-- Recovery: take over RUNNING workflows whose executor is this one's previous incarnation (third parameter: this
-- executor's id at start, NULL afterwards) or another executor that has not sent a heartbeat within the timeout, or
-- whose id has been taken by a new incarnation (a restart) since.
-- This executor never claims its own live work (fourth parameter), even if its heartbeat was late. SKIP LOCKED lets several executors recover at once
-- without waiting on each other; each workflow is claimed by exactly one of them. Only workflows this executor's
-- version can run (parameters: its version, twice, and its compatible LIKE patterns); one that has not run yet
-- takes this version.
UPDATE tandem.workflow_status w
   SET executor_id = ?, owner_incarnation = ?::uuid, owner_epoch = w.owner_epoch + 1, attempts = w.attempts + 1,
       updated_at = tandem.now(), app_version = coalesce(w.app_version, ?)
 WHERE w.workflow_id IN (
        SELECT o.workflow_id
          FROM tandem.workflow_status o
         WHERE o.status = 'RUNNING'
           AND o.name = ANY (?::text[])
           AND (o.executor_id IS NULL
                OR o.executor_id = ?
                OR (o.executor_id <> ?
                    AND NOT EXISTS (SELECT 1 FROM tandem.executors e
                                     WHERE e.executor_id = o.executor_id
                                       AND e.heartbeat_at > now() - ?::interval
                                       -- an executor id restarted since (a redeploy) no longer runs the old
                                       -- incarnation's work; if its new version cannot, another executor may
                                       AND e.incarnation IS NOT DISTINCT FROM coalesce(o.owner_incarnation,
                                                                                       e.incarnation))))
           AND (o.app_version IS NULL OR o.app_version = ? OR o.app_version LIKE ANY (?::text[]))
         ORDER BY o.created_at
         LIMIT ?
           FOR UPDATE SKIP LOCKED)
RETURNING w.workflow_id, w.name, w.input::text, w.attempts, w.queue_name, w.owner_epoch, w.traceparent,
          w.tracestate, NULL::float8;

-- name: claimOrphansOfSilent
-- Recovery, every maintenance round: the RUNNING workflows of executors whose heartbeat is older than the timeout
-- (or that stopped). It starts from those executors (a few rows of tandem.executors) and takes their rows through
-- workflow_status_running_idx, so its cost grows with the silent executors' rows, not with every RUNNING row of
-- every live executor; with nobody silent it reads tandem.executors only. (claimOrphans, which also finds the rows
-- of a restarted executor id or of a forgotten executor, runs at start and every tenth round.) Parameters: executor
-- id, incarnation, version (SET); names, version, compatible patterns, batch (per silent executor); this executor's
-- id at start or NULL, executor id, timeout; batch.
UPDATE tandem.workflow_status w
   SET executor_id = ?, owner_incarnation = ?::uuid, owner_epoch = w.owner_epoch + 1, attempts = w.attempts + 1,
       updated_at = tandem.now(), app_version = coalesce(w.app_version, ?)
 WHERE w.workflow_id IN (
        SELECT o.workflow_id
          FROM tandem.executors e
         CROSS JOIN LATERAL (
                SELECT r.workflow_id
                  FROM tandem.workflow_status r
                 WHERE r.executor_id = e.executor_id AND r.status = 'RUNNING'
                   AND r.name = ANY (?::text[])
                   AND (r.app_version IS NULL OR r.app_version = ? OR r.app_version LIKE ANY (?::text[]))
                 LIMIT ?
                   FOR UPDATE SKIP LOCKED) o
         WHERE (e.executor_id = ? OR e.executor_id <> ?)
           AND e.heartbeat_at <= now() - ?::interval
         LIMIT ?)
RETURNING w.workflow_id, w.name, w.input::text, w.attempts, w.queue_name, w.owner_epoch, w.traceparent,
          w.tracestate, NULL::float8;

-- name: ownedRunning
-- Reconciliation, first half: the RUNNING workflows this process (executor id, incarnation) took more than a grace
-- period ago (third parameter). The executor compares them with what it runs in memory: a row it owns but does not
-- run is one whose acknowledgement was lost (a start, a claim or a recovery that committed while its answer did not
-- arrive), or one an execution left behind; nobody else would ever resume it.
SELECT w.workflow_id, w.owner_epoch
  FROM tandem.workflow_status w
 WHERE w.status = 'RUNNING' AND w.executor_id = ? AND w.owner_incarnation = ?::uuid
   AND w.updated_at < tandem.now() - ?::interval;

-- name: reclaimOwned
-- Reconciliation, second half: takes the rows found above again, with a new ownership epoch, if nothing changed them
-- meanwhile. Parameters: executor id, incarnation, workflow ids, their epochs as read.
UPDATE tandem.workflow_status w
   SET owner_epoch = w.owner_epoch + 1, attempts = w.attempts + 1, updated_at = tandem.now()
  FROM unnest(?::text[], ?::bigint[]) AS r(workflow_id, owner_epoch)
 WHERE w.workflow_id = r.workflow_id AND w.owner_epoch = r.owner_epoch AND w.status = 'RUNNING'
   AND w.executor_id = ? AND w.owner_incarnation = ?::uuid
RETURNING w.workflow_id, w.name, w.input::text, w.attempts, w.queue_name, w.owner_epoch, w.traceparent,
          w.tracestate, NULL::float8;

-- name: countAttempt
-- An execution that failed for a transient reason (the database was unreachable, a lock or statement timed out) is
-- replayed; each replay counts as an attempt, so the budget maxRecoveryAttempts bounds them. Returns the attempts now,
-- or nothing if the execution no longer owns the row.
UPDATE tandem.workflow_status w
   SET attempts = w.attempts + 1
 WHERE w.workflow_id = ? AND w.executor_id = ? AND w.owner_epoch = ? AND w.status = 'RUNNING'
RETURNING w.attempts;

-- name: forgetDeadExecutors
-- Housekeeping: executors silent for a long time that own no RUNNING workflow.
DELETE FROM tandem.executors e
 WHERE e.heartbeat_at < now() - ?::interval
   AND NOT EXISTS (SELECT 1 FROM tandem.workflow_status w WHERE w.executor_id = e.executor_id AND w.status = 'RUNNING');

-- name: enqueueWorkflow
-- The Java enqueue goes through the public SQL function, so SQL and Java share one code path.
SELECT tandem.enqueue_workflow(?, ?::jsonb, ?, ?, ?, ?, ?, ?::interval, ?, ?);

-- name: upsertQueue
INSERT INTO tandem.queues (name, concurrency, worker_concurrency, rate_limit, rate_period, partition_concurrency)
VALUES (?, ?, ?, ?, ?::interval, ?)
ON CONFLICT (name) DO UPDATE
   SET concurrency = excluded.concurrency, worker_concurrency = excluded.worker_concurrency,
       rate_limit = excluded.rate_limit, rate_period = excluded.rate_period,
       partition_concurrency = excluded.partition_concurrency;

-- name: loadQueues
SELECT name, concurrency, worker_concurrency, rate_limit, (extract(epoch FROM rate_period) * 1000)::bigint,
       partition_concurrency
FROM tandem.queues;

-- name: claimQueued
-- Dequeue for a queue without a global limit: up to the given number of waiting workflows of the names this
-- executor runs, highest priority first, FIFO within a priority. SKIP LOCKED: concurrent dequeuers take disjoint rows.
-- The claim commits without waiting for its WAL to reach disk (synchronous_commit off, for this transaction only):
-- nobody outside waits for it, and every write the claimed execution makes afterwards is a synchronous commit,
-- which flushes the WAL up to it, claim included. A claim lost in a server crash before that is simply claimed again
-- (the workflow is ENQUEUED again, and the execution that held it is refused at its first write). The executor claims
-- with the queues as it last read them: a queue that has global limits now is not claimed here (claimQueuedLimited).
WITH no_flush_wait AS MATERIALIZED (SELECT set_config('synchronous_commit', 'off', true))
UPDATE tandem.workflow_status w
   SET status = 'RUNNING', executor_id = ?, owner_incarnation = ?::uuid, owner_epoch = w.owner_epoch + 1,
       attempts = w.attempts + 1, started_at = tandem.now(), updated_at = tandem.now(),
       deadline_at = coalesce(w.deadline_at, tandem.now() + w.timeout_ms * interval '1 millisecond'),
       app_version = coalesce(w.app_version, ?)
  FROM (SELECT o.workflow_id
          FROM tandem.workflow_status o
         WHERE o.queue_name = ? AND o.status IN ('ENQUEUED', 'DELAYED')
           AND (o.not_before IS NULL OR o.not_before <= tandem.now())
           AND o.name = ANY (?::text[])
           AND (o.app_version IS NULL OR o.app_version = ? OR o.app_version LIKE ANY (?::text[]))
           AND NOT EXISTS (SELECT 1 FROM tandem.queues q
                            WHERE q.name = o.queue_name AND (q.concurrency IS NOT NULL OR q.rate_limit IS NOT NULL
                                                             OR q.partition_concurrency IS NOT NULL))
         ORDER BY o.priority DESC, o.created_at
         LIMIT ?
           FOR UPDATE SKIP LOCKED) picked, no_flush_wait
 WHERE w.workflow_id = picked.workflow_id
RETURNING w.workflow_id, w.name, w.input::text, w.attempts, w.queue_name, w.owner_epoch, w.traceparent,
          w.tracestate, 1000 * extract(epoch FROM tandem.now() - greatest(w.created_at, w.not_before))::float8;

-- name: lockQueue
-- First statement of a limited dequeue's transaction: serializes the dequeuers of one queue across all executors,
-- and reads the queue's current limits. It must be a statement of its own: in READ COMMITTED the next statement then
-- takes a snapshot that sees every claim committed before the lock was granted (a count in the same statement would
-- use a snapshot from before the wait, and the limit would not hold). Lock order: tandem.queues row, then workflows.
-- Like claimQueued, the claim's transaction commits without waiting for its WAL flush (the last column).
SELECT q.concurrency, q.rate_limit, q.rate_period::text, q.partition_concurrency,
       set_config('synchronous_commit', 'off', true)
FROM tandem.queues q WHERE q.name = ? FOR UPDATE;

-- name: claimQueue.quota
-- Included by the two limited claims: their parameters, and how many the global limits let them claim now.
WITH params AS (
    SELECT ?::text AS queue, ?::text[] AS names, ?::int AS batch, ?::int AS concurrency, ?::int AS rate_limit,
           ?::interval AS rate_period, ?::int AS partition_concurrency, ?::text AS app_version,
           ?::text[] AS compatible
), quota AS (
    SELECT greatest(0, least(p.batch,
               coalesce(p.concurrency - (SELECT count(*) FROM tandem.workflow_status r
                                          WHERE r.queue_name = p.queue AND r.status = 'RUNNING'), p.batch),
               coalesce(p.rate_limit - (SELECT count(*) FROM tandem.workflow_status r
                                         WHERE r.queue_name = p.queue AND r.started_at > tandem.now() - p.rate_period),
                        p.batch))) AS n
    FROM params p

-- name: claimQueuedLimited
-- Second statement, for a queue without partition_concurrency: claims at most what the global limits leave free:
-- concurrency minus what is RUNNING in the queue, and rate_limit minus the starts within rate_period. Parameters:
-- queue, names, batch size, concurrency, rate_limit, rate_period, partition_concurrency (unused), app version,
-- compatible patterns, executor id, incarnation.
-- include: claimQueue.quota
), picked AS (
    SELECT o.workflow_id
    FROM tandem.workflow_status o, params p
    WHERE o.queue_name = p.queue AND o.status IN ('ENQUEUED', 'DELAYED')
      AND (o.not_before IS NULL OR o.not_before <= tandem.now())
      AND o.name = ANY (p.names)
      AND (o.app_version IS NULL OR o.app_version = p.app_version OR o.app_version LIKE ANY (p.compatible))
    ORDER BY o.priority DESC, o.created_at
    LIMIT (SELECT n FROM quota)
    FOR UPDATE OF o SKIP LOCKED
)
UPDATE tandem.workflow_status w
   SET status = 'RUNNING', executor_id = ?, owner_incarnation = ?::uuid, owner_epoch = w.owner_epoch + 1,
       attempts = w.attempts + 1, started_at = tandem.now(), updated_at = tandem.now(),
       deadline_at = coalesce(w.deadline_at, tandem.now() + w.timeout_ms * interval '1 millisecond'),
       app_version = coalesce(w.app_version, (SELECT p.app_version FROM params p))
  FROM picked
 WHERE w.workflow_id = picked.workflow_id
RETURNING w.workflow_id, w.name, w.input::text, w.attempts, w.queue_name, w.owner_epoch, w.traceparent,
          w.tracestate, 1000 * extract(epoch FROM tandem.now() - greatest(w.created_at, w.not_before))::float8;

-- name: claimQueuedPartitioned
-- Second statement, for a queue with partition_concurrency: as claimQueuedLimited, and per partition key at most
-- that many RUNNING (a NULL key is one partition of its own). Parameters: queue, names, batch size, concurrency,
-- rate_limit, rate_period, partition_concurrency, app version, compatible patterns, executor id, incarnation. Window functions cannot take row locks,
-- so the rows chosen are locked in a step of their own, skipping those locked elsewhere.
-- include: claimQueue.quota
), running_by_key AS (
    SELECT r.partition_key, count(*) AS n
    FROM tandem.workflow_status r, params p
    WHERE r.queue_name = p.queue AND r.status = 'RUNNING' AND p.partition_concurrency IS NOT NULL
    GROUP BY r.partition_key
), candidates AS (
    SELECT o.workflow_id, o.priority, o.created_at,
           row_number() OVER (PARTITION BY o.partition_key ORDER BY o.priority DESC, o.created_at)
               + coalesce(k.n, 0) AS slot
    FROM tandem.workflow_status o
    CROSS JOIN params p
    LEFT JOIN running_by_key k ON k.partition_key IS NOT DISTINCT FROM o.partition_key
    WHERE o.queue_name = p.queue AND o.status IN ('ENQUEUED', 'DELAYED')
      AND (o.not_before IS NULL OR o.not_before <= tandem.now())
      AND o.name = ANY (p.names)
      AND (o.app_version IS NULL OR o.app_version = p.app_version OR o.app_version LIKE ANY (p.compatible))
), chosen AS (
    SELECT c.workflow_id
    FROM candidates c, params p
    WHERE p.partition_concurrency IS NULL OR c.slot <= p.partition_concurrency
    ORDER BY c.priority DESC, c.created_at
    LIMIT (SELECT n FROM quota)
), picked AS (
    -- A chosen row that another transaction holds (an application's uncommitted cancel) is skipped, not waited
    -- for: this transaction holds the queue's lock, and every executor's claim of the queue would wait behind it.
    SELECT o.workflow_id
    FROM tandem.workflow_status o JOIN chosen c ON c.workflow_id = o.workflow_id
    WHERE o.status IN ('ENQUEUED', 'DELAYED')
    FOR UPDATE OF o SKIP LOCKED
)
UPDATE tandem.workflow_status w
   SET status = 'RUNNING', executor_id = ?, owner_incarnation = ?::uuid, owner_epoch = w.owner_epoch + 1,
       attempts = w.attempts + 1, started_at = tandem.now(), updated_at = tandem.now(),
       deadline_at = coalesce(w.deadline_at, tandem.now() + w.timeout_ms * interval '1 millisecond'),
       app_version = coalesce(w.app_version, (SELECT p.app_version FROM params p))
  FROM picked
 WHERE w.workflow_id = picked.workflow_id AND w.status IN ('ENQUEUED', 'DELAYED')
RETURNING w.workflow_id, w.name, w.input::text, w.attempts, w.queue_name, w.owner_epoch, w.traceparent,
          w.tracestate, 1000 * extract(epoch FROM tandem.now() - greatest(w.created_at, w.not_before))::float8;

-- name: queueSizes
-- Metrics only (maintenance, every few seconds): per queue, the workflows waiting and RUNNING, across executors.
SELECT q.name,
       count(w.workflow_id) FILTER (WHERE w.status IN ('ENQUEUED', 'DELAYED')),
       count(w.workflow_id) FILTER (WHERE w.status = 'RUNNING')
  FROM tandem.queues q
  LEFT JOIN tandem.workflow_status w
         ON w.queue_name = q.name AND w.status IN ('ENQUEUED', 'DELAYED', 'RUNNING')
 GROUP BY q.name;

-- name: nextDelayed
-- When the earliest DELAYED workflow of these names becomes due, so the dequeuer can wake up for it.
SELECT min(not_before) FROM tandem.workflow_status WHERE status = 'DELAYED' AND name = ANY (?::text[]);

-- name: cancelWorkflow
SELECT tandem.cancel_workflow(?);

-- name: resumeWorkflow
SELECT tandem.resume_workflow(?);

-- name: setWorkflowVersion
SELECT tandem.set_workflow_version(?, ?);

-- name: strandedCount
-- For the maintenance thread's warning: how many workflows no live executor can run (view tandem.stranded).
SELECT count(*), string_agg(DISTINCT s.name, ', ') FROM tandem.stranded s;

-- name: sendMessage
SELECT tandem.send_message(?, ?::jsonb, ?, ?);

-- name: failUnknownWorkflows
-- Ends waiting workflows that no executor could run for longer than the timeout (parameters 2 and 3): due (not
-- DELAYED any more) for that long, and their name registered by no executor for that long (tandem.workflow_names),
-- and by no live executor now (fourth parameter: how recent a heartbeat counts as alive). Time spent DELAYED does not
-- count, and an executor restarting (stopped for a moment) does not fail its backlog. Error "unknown workflow 'x'".
-- Run by every executor now and then; idempotent.
UPDATE tandem.workflow_status w
   SET status = 'ERROR', updated_at = tandem.now(),
       error = jsonb_build_object('type', 'unknown workflow',
                                  'message', 'unknown workflow ''' || w.name || ''': no executor has registered it'
                                             || ' for ' || ? || ' while it waited to run')
 WHERE w.workflow_id IN (
        SELECT o.workflow_id FROM tandem.workflow_status o
         WHERE o.status IN ('ENQUEUED', 'DELAYED')
           AND (o.not_before IS NULL OR o.not_before <= tandem.now())
           AND greatest(o.updated_at, o.not_before) < tandem.now() - ?::interval
           AND NOT EXISTS (SELECT 1 FROM tandem.workflow_names n
                            WHERE n.name = o.name AND n.last_registered_at > now() - ?::interval)
           AND NOT EXISTS (SELECT 1 FROM tandem.executors e
                            WHERE e.heartbeat_at > now() - ?::interval AND o.name = ANY (e.workflow_names))
           FOR UPDATE SKIP LOCKED) -- a row an application transaction holds waits for the next pass
   AND w.status IN ('ENQUEUED', 'DELAYED')
RETURNING w.workflow_id, w.name;

-- name: unknownWaiting
-- Names of waiting workflows that no live executor runs, for a warning in the logs.
SELECT w.name, count(*)
  FROM tandem.workflow_status w
 WHERE w.status IN ('ENQUEUED', 'DELAYED')
   AND NOT EXISTS (SELECT 1 FROM tandem.executors e
                    WHERE e.heartbeat_at > now() - ?::interval AND w.name = ANY (e.workflow_names))
 GROUP BY w.name;
