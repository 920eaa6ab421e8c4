-- Named queries of the engine, loaded once at start (dev.tandem.internal.db.Queries).
-- Every statement the engine sends is here. Arrays are bound as text[] and cast, so one statement serves a batch.

-- name: groupCommit
-- One round trip, one commit for a whole batch of writes from many workflows (the group committer):
-- starts (ignored when the id exists), checkpoints of plain steps (only while the writer still owns the RUNNING
-- workflow; ignored when the position is recorded), and final statuses (same ownership fence).
-- Parts of one statement share a snapshot, so the committer never puts a workflow's start in the same batch as
-- its later writes.
WITH me AS (
    SELECT ?::text AS executor_id
), new_workflow AS (
    SELECT * FROM unnest(?::text[], ?::text[], ?::text[], ?::text[]) AS t(workflow_id, name, queue_name, input)
), started AS (
    INSERT INTO tandem.workflow_status (workflow_id, name, status, queue_name, input, executor_id)
    SELECT n.workflow_id, n.name, 'RUNNING', n.queue_name, n.input::jsonb, me.executor_id FROM new_workflow n, me
    ON CONFLICT (workflow_id) DO NOTHING
    RETURNING workflow_id
), new_step AS (
    SELECT * FROM unnest(?::text[], ?::int[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::timestamptz[])
        AS t(workflow_id, position, name, kind, output, output_type, error, started_at)
), checkpointed AS (
    INSERT INTO tandem.steps (workflow_id, position, name, kind, output, output_type, error, started_at)
    SELECT s.workflow_id, s.position, s.name, s.kind, s.output::jsonb, s.output_type, s.error::jsonb, s.started_at
    FROM new_step s
    JOIN tandem.workflow_status w ON w.workflow_id = s.workflow_id AND w.status = 'RUNNING'
    JOIN me ON w.executor_id = me.executor_id
    ON CONFLICT (workflow_id, position) DO NOTHING
    RETURNING workflow_id, position
), finish AS (
    SELECT * FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[])
        AS t(workflow_id, status, output, output_type, error)
), finished AS (
    UPDATE tandem.workflow_status w
       SET status = f.status, output = f.output::jsonb, output_type = f.output_type, error = f.error::jsonb,
           updated_at = now()
      FROM finish f, me
     WHERE w.workflow_id = f.workflow_id AND w.executor_id = me.executor_id AND w.status = 'RUNNING'
    RETURNING w.workflow_id
)
SELECT 'S' AS kind, workflow_id, 0 AS position FROM started
UNION ALL SELECT 'C', workflow_id, position FROM checkpointed
UNION ALL SELECT 'F', workflow_id, 0 FROM finished;

-- name: insertTransactionCheckpoint
-- Runs inside the application's transaction of a transactional step. No ON CONFLICT: if the position is already
-- recorded the unique violation rolls back the application's writes too, which is what makes the step exactly-once.
INSERT INTO tandem.steps (workflow_id, position, name, kind, output, output_type, started_at)
VALUES (?, ?, ?, 'TRANSACTION', ?::jsonb, ?, ?);

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
INSERT INTO tandem.executors (executor_id, incarnation, hostname, pid)
VALUES (?, ?::uuid, ?, ?)
ON CONFLICT (executor_id) DO UPDATE
   SET incarnation = excluded.incarnation, hostname = excluded.hostname, pid = excluded.pid,
       started_at = now(), heartbeat_at = now();

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
RETURNING w.workflow_id, w.name, w.input::text, w.attempts;

-- name: forgetDeadExecutors
-- Housekeeping: executors silent for a long time that own no RUNNING workflow.
DELETE FROM tandem.executors e
 WHERE e.heartbeat_at < now() - ?::interval
   AND NOT EXISTS (SELECT 1 FROM tandem.workflow_status w WHERE w.executor_id = e.executor_id AND w.status = 'RUNNING');
