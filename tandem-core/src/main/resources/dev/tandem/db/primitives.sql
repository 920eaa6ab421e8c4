-- Named queries: see queries.sql for the format.
-- The durable primitives: messages, events, streams, child workflows, deadlines. The writes run inside the
-- transaction that also inserts the checkpoint of the call (insertTransactionCheckpoints), so each happens exactly
-- once. NOTIFY payloads are workflow ids; PostgreSQL delivers them at commit.

-- name: takeMessage
-- Receives: consumes the oldest message of a workflow's topic and inserts the checkpoints (those not written yet,
-- and the RECV one, whose output is the message) in one statement, committed by autocommit: one round trip, and the
-- message is received if and only if its checkpoint commits. Without a message it changes nothing. The message
-- stays (marked), so that its idempotency key still refuses a re-send. SKIP LOCKED: a second execution of the same
-- workflow does not wait on the row; the checkpoint's primary key decides which of them commits.
-- Parameters: workflow id, topic, checkpoints (JSON; the RECV one without output), RECV position, executor id,
-- ownership epoch, then workflow id and topic again. Returns (message, false) when it took one; (NULL, true) when the
-- only waiting messages are locked by another transaction; no row when there is none.
WITH m AS (
    UPDATE tandem.messages m
       SET consumed_at = tandem.now()
     WHERE (m.workflow_id, m.topic, m.seq) = (
            SELECT o.workflow_id, o.topic, o.seq FROM tandem.messages o
             WHERE o.workflow_id = ? AND o.topic = ? AND o.consumed_at IS NULL
             ORDER BY o.seq
             LIMIT 1
               FOR UPDATE SKIP LOCKED)
    RETURNING m.message
), checkpointed AS (
    INSERT INTO tandem.steps (workflow_id, position, name, kind, output, output_type, error, started_at)
    SELECT s.workflow_id, s.position, s.name, s.kind,
           CASE WHEN s.position = p.recv_position THEN (SELECT message FROM m) ELSE s.output END,
           s.output_type, s.error, s.started_at
      FROM jsonb_to_recordset(?::jsonb) AS s(workflow_id text, position int, name text, kind text, output jsonb,
                                             output_type text, error jsonb, started_at timestamptz),
           (SELECT ?::int AS recv_position, ?::text AS executor_id, ?::bigint AS epoch) p
     WHERE EXISTS (SELECT 1 FROM m) AND tandem.check_owner(s.workflow_id, p.executor_id, p.epoch)
)
SELECT message::text, false FROM m
UNION ALL
-- No message taken: is one there that another transaction holds (SKIP LOCKED passed it over)? Then the receiver
-- looks again shortly, instead of waiting for a notification that the holder's rollback will never send.
SELECT NULL, true
 WHERE NOT EXISTS (SELECT 1 FROM m)
   AND EXISTS (SELECT 1 FROM tandem.messages o
                WHERE o.workflow_id = ? AND o.topic = ? AND o.consumed_at IS NULL);

-- name: setEvent
-- Parameters: workflow id, position, key, value. The last value wins; every value stays in the history.
WITH h AS (
    INSERT INTO tandem.event_history (workflow_id, position, key, value)
    VALUES (?, ?, ?, ?::jsonb)
    RETURNING workflow_id, key, value
), e AS (
    INSERT INTO tandem.events (workflow_id, key, value)
    SELECT workflow_id, key, value FROM h
    ON CONFLICT (workflow_id, key) DO UPDATE SET value = excluded.value, updated_at = tandem.now()
    RETURNING workflow_id
)
SELECT pg_notify('tandem_event', workflow_id) FROM e;

-- name: getEvent
SELECT value::text FROM tandem.events WHERE workflow_id = ? AND key = ?;

-- name: writeStream
-- Parameters: workflow id, key, position, value (NULL when closing), closed.
WITH s AS (
    INSERT INTO tandem.streams (workflow_id, key, position, value, closed)
    VALUES (?, ?, ?, ?::jsonb, ?)
    RETURNING workflow_id
)
SELECT pg_notify('tandem_stream', workflow_id) FROM s;

-- name: readStream
-- Values of a stream after a position, in order; the closing row (closed = true) comes last.
SELECT position, value::text, closed
  FROM tandem.streams
 WHERE workflow_id = ? AND key = ? AND position > ?
 ORDER BY position
 LIMIT ?;

-- name: workflowState
SELECT status, executor_id, owner_epoch FROM tandem.workflow_status WHERE workflow_id = ?;

-- name: startChild
-- Starts a child RUNNING on the parent's executor, in the transaction of the parent's CHILD checkpoint. Its deadline
-- is the earlier of the parent's and its own timeout. An existing id is left alone: the caller then reads it
-- (existingChild) and re-attaches only to a child this parent started.
-- Parameters: child id, name, input, executor id, timeout (ms, or NULL), timeout again, incarnation, traceparent,
-- tracestate (the parent's span that starts it, when tracing is on), parent id.
INSERT INTO tandem.workflow_status (workflow_id, name, status, input, executor_id, parent_workflow_id, timeout_ms,
                                    deadline_at, started_at, owner_epoch, owner_incarnation, traceparent, tracestate,
                                    app_version)
SELECT ?, ?, 'RUNNING', ?::jsonb, ?, p.workflow_id, ?::bigint,
       least(p.deadline_at, tandem.now() + ?::bigint * interval '1 millisecond'), tandem.now(), 1, ?::uuid, ?, ?, e.app_version
  FROM tandem.workflow_status p
  LEFT JOIN tandem.executors e ON e.executor_id = p.executor_id -- the parent's executor runs the child: its version
 WHERE p.workflow_id = ?
ON CONFLICT (workflow_id) DO NOTHING
RETURNING workflow_id;

-- name: existingChild
-- The workflow that holds an id startChild found taken. A statement of its own, so that (READ COMMITTED) it sees a
-- row committed while startChild's insert waited for it, which that statement's snapshot does not.
SELECT name, parent_workflow_id FROM tandem.workflow_status WHERE workflow_id = ?;

-- name: setTimeout
-- An enqueued workflow's timeout; its deadline is set when an executor takes it from the queue.
UPDATE tandem.workflow_status SET timeout_ms = ? WHERE workflow_id = ? AND timeout_ms IS NULL AND status IN ('ENQUEUED', 'DELAYED');

-- name: expireDeadlines
-- Cancels workflows whose deadline passed (reason "timeout"), waking their executions and freeing their queue slots.
-- Run by every executor on each heartbeat; idempotent. Rows another transaction holds are skipped (the next pass
-- takes them): an application's open transaction must not stall the maintenance of every executor.
WITH expired AS (
    UPDATE tandem.workflow_status w
       SET status = 'CANCELLED', updated_at = tandem.now(),
           error = jsonb_build_object('type', 'timeout',
                                      'message', 'cancelled: its deadline ' || w.deadline_at || ' passed'
                                                 || coalesce(' (timeout ' || w.timeout_ms || ' ms)', ''))
     WHERE w.workflow_id IN (SELECT o.workflow_id FROM tandem.workflow_status o
                              WHERE o.deadline_at < tandem.now() AND o.status IN ('ENQUEUED', 'DELAYED', 'RUNNING')
                                FOR UPDATE SKIP LOCKED)
       AND w.deadline_at < tandem.now() AND w.status IN ('ENQUEUED', 'DELAYED', 'RUNNING')
    RETURNING w.workflow_id, w.queue_name
)
SELECT workflow_id, pg_notify('tandem_cancel', workflow_id), pg_notify('tandem_queue', coalesce(queue_name, 'default'))
  FROM expired;

-- name: cancelWorkflowTree
SELECT tandem.cancel_workflow(?, ?);
