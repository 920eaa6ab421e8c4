-- Named queries of the engine, loaded once at start (dev.tandem.internal.db.Queries). A line
-- `-- include: name` inside a query stands for that (earlier) query's text.
-- Every statement the engine sends is here. A batch of rows is bound as one JSON array (jsonb_to_recordset), so one
-- statement serves any number of rows, and inputs and outputs, already JSON, are embedded as they are.

-- The group committer writes a batch of many workflows' writes in one statement and one commit (autocommit):
--   WITH me AS (SELECT ?::text AS executor_id), started AS (...), checkpointed AS (...), finished AS (...)
--   SELECT ... FROM started UNION ALL ... FROM checkpointed UNION ALL ... FROM finished
-- built from the three parts below, leaving out the parts a batch has no rows for. Parts of one statement share a
-- snapshot, so the committer never puts a workflow's start in the same batch as its later writes.

-- name: groupCommit.started
-- Starts; a workflow id that exists is left alone (the caller then looks at what is there).
INSERT INTO tandem.workflow_status (workflow_id, name, status, queue_name, input, executor_id, timeout_ms, deadline_at)
SELECT n.workflow_id, n.name, 'RUNNING', n.queue_name, n.input, me.executor_id, n.timeout_ms,
       now() + n.timeout_ms * interval '1 millisecond'
FROM jsonb_to_recordset(?::jsonb) AS n(workflow_id text, name text, queue_name text, input jsonb, timeout_ms bigint), me
ON CONFLICT (workflow_id) DO NOTHING
RETURNING workflow_id, 0 AS position;

-- name: groupCommit.checkpointed
-- Checkpoints of plain steps, written only while this executor owns the RUNNING workflow (a presumed-dead executor
-- that is still running finds its writes refused); a position already recorded is left alone.
INSERT INTO tandem.steps (workflow_id, position, name, kind, output, output_type, error, started_at, child_workflow_id)
SELECT s.workflow_id, s.position, s.name, s.kind, s.output, s.output_type, s.error, s.started_at,
       CASE WHEN s.kind = 'CHILD' THEN s.output #>> '{}' END
FROM jsonb_to_recordset(?::jsonb) AS s(workflow_id text, position int, name text, kind text, output jsonb,
                                       output_type text, error jsonb, started_at timestamptz)
JOIN tandem.workflow_status w ON w.workflow_id = s.workflow_id AND w.status = 'RUNNING'
JOIN me ON w.executor_id = me.executor_id
ON CONFLICT (workflow_id, position) DO NOTHING
RETURNING workflow_id, position;

-- name: groupCommit.finished
-- Final statuses, with the same ownership fence.
UPDATE tandem.workflow_status w
   SET status = f.status, output = f.output, output_type = f.output_type, error = f.error, updated_at = now()
  FROM jsonb_to_recordset(?::jsonb) AS f(workflow_id text, status text, output jsonb, output_type text, error jsonb),
       me
 WHERE w.workflow_id = f.workflow_id AND w.executor_id = me.executor_id AND w.status = 'RUNNING'
RETURNING w.workflow_id, 0 AS position;

-- name: insertTransactionCheckpoints
-- Runs inside the application's transaction of a transactional step: its checkpoint, plus those of plain steps
-- before it that were not written yet. No ON CONFLICT: if a position is already recorded the unique violation rolls
-- back the application's writes too, which is what makes the step exactly-once. If the workflow is no longer
-- RUNNING on this executor (second parameter), check_owner raises and rolls them back as well.
INSERT INTO tandem.steps (workflow_id, position, name, kind, output, output_type, error, started_at, child_workflow_id)
SELECT workflow_id, position, name, kind, output, output_type, error, started_at,
       CASE WHEN kind = 'CHILD' THEN output #>> '{}' END
FROM jsonb_to_recordset(?::jsonb) AS s(workflow_id text, position int, name text, kind text, output jsonb,
                                       output_type text, error jsonb, started_at timestamptz)
WHERE tandem.check_owner(s.workflow_id, ?);

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
SELECT workflow_id, name, status, input::text, output::text, output_type, error::text, attempts, executor_id
FROM tandem.workflow_status
WHERE workflow_id = ?;

-- name: registerExecutor
INSERT INTO tandem.executors (executor_id, incarnation, hostname, pid, workflow_names)
VALUES (?, ?::uuid, ?, ?, ?::text[])
ON CONFLICT (executor_id) DO UPDATE
   SET incarnation = excluded.incarnation, hostname = excluded.hostname, pid = excluded.pid,
       workflow_names = excluded.workflow_names, started_at = now(), heartbeat_at = now();

-- name: heartbeat
UPDATE tandem.executors SET heartbeat_at = now() WHERE executor_id = ? AND incarnation = ?::uuid;

-- name: expireExecutor
-- On orderly shutdown: lets other executors take over this one's unfinished workflows at once.
UPDATE tandem.executors SET heartbeat_at = '-infinity' WHERE executor_id = ? AND incarnation = ?::uuid;

-- name: claimOrphans
-- Recovery: take over RUNNING workflows whose executor is this one's previous incarnation (third parameter: this
-- executor's id at start, NULL afterwards) or another executor that has not sent a heartbeat within the timeout.
-- This executor never claims its own live work (fourth parameter), even if its heartbeat was late. SKIP LOCKED lets several executors recover at once
-- without waiting on each other; each workflow is claimed by exactly one of them.
UPDATE tandem.workflow_status w
   SET executor_id = ?, attempts = w.attempts + 1, updated_at = now()
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
                                       AND e.heartbeat_at > now() - ?::interval)))
         ORDER BY o.created_at
         LIMIT ?
           FOR UPDATE SKIP LOCKED)
RETURNING w.workflow_id, w.name, w.input::text, w.attempts, w.queue_name;

-- name: forgetDeadExecutors
-- Housekeeping: executors silent for a long time that own no RUNNING workflow.
DELETE FROM tandem.executors e
 WHERE e.heartbeat_at < now() - ?::interval
   AND NOT EXISTS (SELECT 1 FROM tandem.workflow_status w WHERE w.executor_id = e.executor_id AND w.status = 'RUNNING');

-- name: enqueueWorkflow
-- The Java enqueue goes through the public SQL function, so SQL and Java share one code path.
SELECT tandem.enqueue_workflow(?, ?::jsonb, ?, ?, ?, ?, ?, ?::interval);

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
UPDATE tandem.workflow_status w
   SET status = 'RUNNING', executor_id = ?, attempts = w.attempts + 1, started_at = now(), updated_at = now(),
       deadline_at = coalesce(w.deadline_at, now() + w.timeout_ms * interval '1 millisecond')
  FROM (SELECT o.workflow_id
          FROM tandem.workflow_status o
         WHERE o.queue_name = ? AND o.status IN ('ENQUEUED', 'DELAYED')
           AND (o.not_before IS NULL OR o.not_before <= now())
           AND o.name = ANY (?::text[])
         ORDER BY o.priority DESC, o.created_at
         LIMIT ?
           FOR UPDATE SKIP LOCKED) picked
 WHERE w.workflow_id = picked.workflow_id
RETURNING w.workflow_id, w.name, w.input::text, w.attempts, w.queue_name;

-- name: lockQueue
-- First statement of a limited dequeue's transaction: serializes the dequeuers of one queue across all executors,
-- and reads the queue's current limits. It must be a statement of its own: in READ COMMITTED the next statement then
-- takes a snapshot that sees every claim committed before the lock was granted (a count in the same statement would
-- use a snapshot from before the wait, and the limit would not hold). Lock order: tandem.queues row, then workflows.
SELECT q.concurrency, q.rate_limit, q.rate_period::text, q.partition_concurrency
FROM tandem.queues q WHERE q.name = ? FOR UPDATE;

-- name: claimQueue.quota
-- Included by the two limited claims: their parameters, and how many the global limits let them claim now.
WITH params AS (
    SELECT ?::text AS queue, ?::text[] AS names, ?::int AS batch, ?::int AS concurrency, ?::int AS rate_limit,
           ?::interval AS rate_period, ?::int AS partition_concurrency
), quota AS (
    SELECT greatest(0, least(p.batch,
               coalesce(p.concurrency - (SELECT count(*) FROM tandem.workflow_status r
                                          WHERE r.queue_name = p.queue AND r.status = 'RUNNING'), p.batch),
               coalesce(p.rate_limit - (SELECT count(*) FROM tandem.workflow_status r
                                         WHERE r.queue_name = p.queue AND r.started_at > now() - p.rate_period),
                        p.batch))) AS n
    FROM params p

-- name: claimQueuedLimited
-- Second statement, for a queue without partition_concurrency: claims at most what the global limits leave free:
-- concurrency minus what is RUNNING in the queue, and rate_limit minus the starts within rate_period. Parameters:
-- queue, names, batch size, concurrency, rate_limit, rate_period, partition_concurrency (unused), executor id.
-- include: claimQueue.quota
), picked AS (
    SELECT o.workflow_id
    FROM tandem.workflow_status o, params p
    WHERE o.queue_name = p.queue AND o.status IN ('ENQUEUED', 'DELAYED')
      AND (o.not_before IS NULL OR o.not_before <= now())
      AND o.name = ANY (p.names)
    ORDER BY o.priority DESC, o.created_at
    LIMIT (SELECT n FROM quota)
    FOR UPDATE OF o SKIP LOCKED
)
UPDATE tandem.workflow_status w
   SET status = 'RUNNING', executor_id = ?, attempts = w.attempts + 1, started_at = now(), updated_at = now(),
       deadline_at = coalesce(w.deadline_at, now() + w.timeout_ms * interval '1 millisecond')
  FROM picked
 WHERE w.workflow_id = picked.workflow_id
RETURNING w.workflow_id, w.name, w.input::text, w.attempts, w.queue_name;

-- name: claimQueuedPartitioned
-- Second statement, for a queue with partition_concurrency: as claimQueuedLimited, and per partition key at most
-- that many RUNNING (a NULL key is one partition of its own). Parameters: queue, names, batch size, concurrency,
-- rate_limit, rate_period, partition_concurrency, executor id. The queue lock makes SKIP LOCKED unnecessary here
-- (window functions cannot take row locks); the UPDATE re-checks the status of each row it claims.
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
      AND (o.not_before IS NULL OR o.not_before <= now())
      AND o.name = ANY (p.names)
), picked AS (
    SELECT c.workflow_id
    FROM candidates c, params p
    WHERE p.partition_concurrency IS NULL OR c.slot <= p.partition_concurrency
    ORDER BY c.priority DESC, c.created_at
    LIMIT (SELECT n FROM quota)
)
UPDATE tandem.workflow_status w
   SET status = 'RUNNING', executor_id = ?, attempts = w.attempts + 1, started_at = now(), updated_at = now(),
       deadline_at = coalesce(w.deadline_at, now() + w.timeout_ms * interval '1 millisecond')
  FROM picked
 WHERE w.workflow_id = picked.workflow_id AND w.status IN ('ENQUEUED', 'DELAYED')
RETURNING w.workflow_id, w.name, w.input::text, w.attempts, w.queue_name;

-- name: nextDelayed
-- When the earliest DELAYED workflow of these names becomes due, so the dequeuer can wake up for it.
SELECT min(not_before) FROM tandem.workflow_status WHERE status = 'DELAYED' AND name = ANY (?::text[]);

-- name: cancelWorkflow
SELECT tandem.cancel_workflow(?);

-- name: resumeWorkflow
SELECT tandem.resume_workflow(?);

-- name: sendMessage
SELECT tandem.send_message(?, ?::jsonb, ?, ?);

-- name: failUnknownWorkflows
-- Ends waiting workflows whose name no live executor has registered for longer than the timeout (second
-- parameter), with error "unknown workflow 'x'". Run by every executor now and then; idempotent.
UPDATE tandem.workflow_status w
   SET status = 'ERROR', updated_at = now(),
       error = jsonb_build_object('type', 'unknown workflow',
                                  'message', 'unknown workflow ''' || w.name || ''': no running executor registered it'
                                             || ' within ' || ? || ' of its enqueue')
 WHERE w.status IN ('ENQUEUED', 'DELAYED')
   AND w.created_at < now() - ?::interval
   AND NOT EXISTS (SELECT 1 FROM tandem.executors e
                    WHERE e.heartbeat_at > now() - ?::interval AND w.name = ANY (e.workflow_names))
RETURNING w.workflow_id, w.name;

-- name: unknownWaiting
-- Names of waiting workflows that no live executor runs, for a warning in the logs.
SELECT w.name, count(*)
  FROM tandem.workflow_status w
 WHERE w.status IN ('ENQUEUED', 'DELAYED')
   AND NOT EXISTS (SELECT 1 FROM tandem.executors e
                    WHERE e.heartbeat_at > now() - ?::interval AND w.name = ANY (e.workflow_names))
 GROUP BY w.name;
