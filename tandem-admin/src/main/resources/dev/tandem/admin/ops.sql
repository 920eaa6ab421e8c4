-- Named queries of the operators' side (dev.tandem.admin.internal.OpsStore), in the format of tandem-core's
-- queries.sql: a block starts at "-- name: x"; "-- include: y" stands for the text of an earlier block y.
-- Reads go to the tables and view of schema tandem; actions go through the public SQL functions
-- (tandem.cancel_workflow, resume_workflow, fork_workflow, send_message), so SQL, Java and the dashboard share one
-- path; each action's audit row is written in the action's transaction.

-- name: read.settings
-- First statement of every read's transaction (ReadTransaction): the reads are short, and JIT compilation, which
-- their cost estimates trigger once the tables are large, costs far more than it saves.
SET LOCAL jit = off;

-- name: filter
-- Each filter is bound twice, as NULL when it is not used; PostgreSQL plans each execution with its values, so an
-- unused filter folds away. The id prefix comes with LIKE's wildcards escaped with '!'.
 WHERE (?::text[] IS NULL OR w.status = ANY (?::text[]))
   AND (?::text IS NULL OR w.name = ?::text)
   AND (?::text IS NULL OR w.queue_name = ?::text)
   AND (?::text IS NULL OR w.executor_id = ?::text)
   AND (?::timestamptz IS NULL OR w.created_at >= ?::timestamptz)
   AND (?::timestamptz IS NULL OR w.created_at < ?::timestamptz)
   AND (?::text IS NULL OR w.workflow_id LIKE ?::text ESCAPE '!')
   AND (?::text IS NULL OR w.parent_workflow_id = ?::text)
   AND (?::jsonb IS NULL OR w.input @> ?::jsonb)
   AND (?::jsonb IS NULL OR w.output @> ?::jsonb)

-- name: workflowColumns
SELECT w.workflow_id, w.name, w.status, w.queue_name, w.executor_id, w.attempts, w.created_at, w.updated_at,
       w.started_at, w.parent_workflow_id, w.forked_from, w.deadline_at, w.waiting_reason, w.input::text,
       w.output::text, w.app_version

-- name: workflows.page
-- Newest first, from the cursor on (the creation time and id of the last row of the previous page): keyset paging
-- over workflow_status_created_idx, so page 1,000 costs what page 1 does. The id breaks ties in creation time.
-- include: workflowColumns
       , jsonb_build_object('type', w.error ->> 'type', 'message', w.error ->> 'message')
  FROM tandem.workflows w
-- include: filter
   AND (?::timestamptz IS NULL OR (w.created_at, w.workflow_id) < (?::timestamptz, ?::text))
 ORDER BY w.created_at DESC, w.workflow_id DESC
 LIMIT ?;

-- name: workflows.counts
SELECT w.status, count(*)
  FROM tandem.workflow_status w
-- include: filter
 GROUP BY w.status;

-- name: workflow.get
-- include: workflowColumns
       , w.error::text
  FROM tandem.workflows w
 WHERE w.workflow_id = ?;

-- name: workflow.steps
SELECT s.position, s.name, s.kind, s.started_at, s.finished_at, s.child_workflow_id, s.output::text, s.error::text
  FROM tandem.steps s
 WHERE s.workflow_id = ?
 ORDER BY s.position
 LIMIT ?;

-- name: workflow.children
-- include: workflowColumns
       , jsonb_build_object('type', w.error ->> 'type', 'message', w.error ->> 'message')
  FROM tandem.workflows w
 WHERE w.parent_workflow_id = ?
 ORDER BY w.created_at, w.workflow_id
 LIMIT ?;

-- name: workflow.events
SELECT e.key, e.value::text, e.updated_at
  FROM tandem.events e
 WHERE e.workflow_id = ?
 ORDER BY e.key
 LIMIT ?;

-- name: workflow.streams
SELECT s.key, s.position, s.value::text, s.closed, s.created_at
  FROM tandem.streams s
 WHERE s.workflow_id = ?
 ORDER BY s.key, s.position
 LIMIT ?;

-- name: workflow.messages
SELECT m.topic, m.seq, m.message::text, m.idempotency_key, m.created_at, m.consumed_at
  FROM tandem.messages m
 WHERE m.workflow_id = ?
 ORDER BY m.seq
 LIMIT ?;

-- name: action.lock
-- The workflow an action is about, locked for the action's transaction; the lock_timeout set before it turns a row
-- held by an application's open transaction into a clear error instead of a hung request.
SELECT w.status, w.forked_from FROM tandem.workflow_status w WHERE w.workflow_id = ? FOR UPDATE;

-- name: action.status
SELECT w.status FROM tandem.workflow_status w WHERE w.workflow_id = ?;

-- name: action.cancel
SELECT tandem.cancel_workflow(?, ?);

-- name: action.resume
SELECT tandem.resume_workflow(?);

-- name: action.fork
SELECT tandem.fork_workflow(?, ?, ?, ?);

-- name: action.forkOf
-- A fork made before under the same new id, for idempotent repeats: its source and whether it exists.
SELECT w.forked_from FROM tandem.workflow_status w WHERE w.workflow_id = ?;

-- name: action.setVersion
SELECT tandem.set_workflow_version(?, ?);

-- name: action.version
SELECT w.app_version FROM tandem.workflow_status w WHERE w.workflow_id = ?;

-- name: action.send
SELECT tandem.send_message(?, ?::jsonb, ?, ?);

-- name: action.messageExists
SELECT 1 FROM tandem.messages m WHERE m.workflow_id = ? AND m.idempotency_key = ?;

-- name: audit.insert
INSERT INTO tandem.audit_log (actor, source, action, target, details, outcome) VALUES (?, ?, ?, ?, ?::jsonb, ?);

-- name: audit.list
SELECT a.id, a.at, a.actor, a.source, a.action, a.target, a.details::text, a.outcome
  FROM tandem.audit_log a
 WHERE (?::bigint IS NULL OR a.id < ?::bigint)
 ORDER BY a.id DESC
 LIMIT ?;

-- name: bulk.ids
-- The next batch of a bulk action: matching workflows in the statuses the action applies to, by id after the last
-- batch's (so the walk ends even if an action leaves a row matching).
SELECT w.workflow_id
  FROM tandem.workflow_status w
-- include: filter
   AND w.status = ANY (?::text[])
   AND (?::text IS NULL OR w.workflow_id > ?::text)
 ORDER BY w.workflow_id
 LIMIT ?;

-- name: bulk.count
SELECT count(*)
  FROM tandem.workflow_status w
-- include: filter
   AND w.status = ANY (?::text[]);

-- name: queues
-- Every declared queue and every queue that holds live workflows; the counts use the partial indexes on live
-- statuses, the last minute's starts workflow_status_queue_started_idx.
WITH names AS (
    SELECT q.name FROM tandem.queues q
     UNION
    SELECT DISTINCT w.queue_name FROM tandem.workflow_status w
     WHERE w.status IN ('ENQUEUED', 'DELAYED') AND w.queue_name IS NOT NULL
     UNION
    SELECT DISTINCT w.queue_name FROM tandem.workflow_status w
     WHERE w.status = 'RUNNING' AND w.queue_name IS NOT NULL
)
SELECT n.name, q.name IS NOT NULL, q.concurrency, q.worker_concurrency, q.rate_limit,
       extract(epoch FROM q.rate_period)::float8, q.partition_concurrency,
       (SELECT count(*) FROM tandem.workflow_status w WHERE w.queue_name = n.name AND w.status = 'ENQUEUED'),
       (SELECT count(*) FROM tandem.workflow_status w WHERE w.queue_name = n.name AND w.status = 'DELAYED'),
       (SELECT count(*) FROM tandem.workflow_status w WHERE w.queue_name = n.name AND w.status = 'RUNNING'),
       (SELECT extract(epoch FROM tandem.now() - min(w.created_at))::float8 FROM tandem.workflow_status w
         WHERE w.queue_name = n.name AND w.status = 'ENQUEUED'),
       (SELECT count(*) FROM tandem.workflow_status w
         WHERE w.queue_name = n.name AND w.started_at > tandem.now() - interval '1 minute')
  FROM names n
  LEFT JOIN tandem.queues q ON q.name = n.name
 ORDER BY n.name;

-- name: executors
-- An orderly stop sets heartbeat_at to -infinity: shown as no heartbeat, state 'stopped'.
SELECT e.executor_id, e.hostname, e.pid, e.started_at,
       CASE WHEN isfinite(e.heartbeat_at) THEN e.heartbeat_at END,
       CASE WHEN isfinite(e.heartbeat_at) THEN extract(epoch FROM now() - e.heartbeat_at)::float8 END,
       e.workflow_names, e.app_version
  FROM tandem.executors e
 ORDER BY e.heartbeat_at DESC, e.executor_id;

-- name: executors.running
SELECT w.executor_id, w.name, count(*)
  FROM tandem.workflow_status w
 WHERE w.status = 'RUNNING'
 GROUP BY w.executor_id, w.name;

-- name: schedules
SELECT s.name, s.workflow_name, s.cron, s.time_zone, s.queue_name, s.catch_up, s.paused, s.next_tick, s.last_tick
  FROM tandem.schedules s
 ORDER BY s.name;

-- name: stuck
-- Parameters: the dead-after interval (twice), the no-progress threshold, the row limit. Each branch uses an index on
-- live statuses; a workflow may appear under several reasons.
SELECT 'UNKNOWN_WORKFLOW', 'no live executor (heartbeat in the last '
           || extract(epoch FROM ?::interval)::bigint || ' s) registered workflow '''
           || w.name || '''', w.workflow_id, w.name, w.status, w.queue_name, w.executor_id, w.created_at, w.created_at
  FROM tandem.workflow_status w
 WHERE w.status = 'ENQUEUED'
   AND NOT EXISTS (SELECT 1 FROM tandem.executors e
                    WHERE e.heartbeat_at > now() - ?::interval AND w.name = ANY (e.workflow_names))
UNION ALL
SELECT 'DEAD_EXECUTOR',
       CASE WHEN e.executor_id IS NULL THEN 'its executor ''' || w.executor_id || ''' is not registered'
            WHEN NOT isfinite(e.heartbeat_at) THEN 'its executor ''' || w.executor_id || ''' stopped'
            ELSE 'the heartbeat of executor ''' || w.executor_id || ''' stopped at ' || e.heartbeat_at END,
       w.workflow_id, w.name, w.status, w.queue_name, w.executor_id, w.created_at,
       CASE WHEN isfinite(e.heartbeat_at) THEN e.heartbeat_at ELSE w.updated_at END
  FROM tandem.workflow_status w
  LEFT JOIN tandem.executors e ON e.executor_id = w.executor_id
 WHERE w.status = 'RUNNING'
   AND (e.executor_id IS NULL OR e.heartbeat_at < now() - ?::interval)
UNION ALL
SELECT 'RATE_LIMITED', 'queue ''' || q.name || ''' started its ' || q.rate_limit || ' workflows per '
           || q.rate_period || ' already', w.workflow_id, w.name, w.status, w.queue_name, w.executor_id, w.created_at,
       w.created_at
  FROM tandem.queues q
  JOIN tandem.workflow_status w ON w.queue_name = q.name AND w.status = 'ENQUEUED'
 WHERE q.rate_limit IS NOT NULL
   AND (SELECT count(*) FROM tandem.workflow_status s
         WHERE s.queue_name = q.name AND s.started_at > tandem.now() - q.rate_period) >= q.rate_limit
UNION ALL
SELECT 'NO_PROGRESS',
       'no checkpoint since ' || p.last_at
           || coalesce('; last step ' || p.last_position || ' ''' || p.last_name || ''' (' || p.last_kind || ')', '')
           || CASE WHEN p.unconsumed > 0 THEN '; ' || p.unconsumed || ' message(s) not yet received'
                   ELSE '; no message waiting for it' END,
       w.workflow_id, w.name, w.status, w.queue_name, w.executor_id, w.created_at, p.last_at
  FROM tandem.workflow_status w
  JOIN tandem.executors e ON e.executor_id = w.executor_id
  CROSS JOIN LATERAL (
      SELECT greatest(coalesce(w.started_at, w.created_at), coalesce(s.finished_at, w.created_at)) AS last_at,
             s.position AS last_position, s.name AS last_name, s.kind AS last_kind, s.output AS last_output,
             (SELECT count(*) FROM tandem.messages m
               WHERE m.workflow_id = w.workflow_id AND m.consumed_at IS NULL) AS unconsumed
        FROM (SELECT 1) one
        LEFT JOIN LATERAL (SELECT * FROM tandem.steps s WHERE s.workflow_id = w.workflow_id
                            ORDER BY s.position DESC LIMIT 1) s ON true
  ) p
 WHERE w.status = 'RUNNING'
   AND e.heartbeat_at >= now() - ?::interval
   AND p.last_at < tandem.now() - ?::interval
   -- a durable sleep records its wake-up time (epoch milliseconds) when it starts: sleeping is not stuck
   AND NOT (p.last_kind = 'SLEEP' AND p.last_output IS NOT NULL
            AND to_timestamp((p.last_output #>> '{}')::bigint / 1000.0) > tandem.now())
UNION ALL
-- its name is registered by a live executor, but no live executor runs its version (a deploy retired it)
SELECT 'STRANDED', s.reason, w.workflow_id, w.name, w.status, w.queue_name, w.executor_id, w.created_at, w.updated_at
  FROM tandem.stranded s
  JOIN tandem.workflow_status w ON w.workflow_id = s.workflow_id
 WHERE s.reason LIKE 'no live executor runs version %'
UNION ALL
SELECT 'PAST_DEADLINE', 'its timeout passed at ' || w.deadline_at, w.workflow_id, w.name, w.status, w.queue_name,
       w.executor_id, w.created_at, w.deadline_at
  FROM tandem.workflow_status w
 WHERE w.deadline_at < tandem.now() AND w.status IN ('ENQUEUED', 'DELAYED', 'RUNNING')
 ORDER BY 9
 LIMIT ?;

-- name: health
SELECT coalesce((SELECT max(v.version) FROM tandem.schema_version v), 0),
       (SELECT CASE WHEN isfinite(e.heartbeat_at) THEN extract(epoch FROM now() - e.heartbeat_at)::float8 END
          FROM tandem.executors e WHERE e.executor_id = ?);

-- name: schemaExists
SELECT to_regclass('tandem.schema_version') IS NOT NULL;

-- name: retention.match
-- The workflows tandem.delete_workflows(older_than, ...) deletes (its conditions, repeated so that a dry run can
-- count them; a test checks the count against a real run). Parameter: the interval, twice.
  FROM tandem.workflow_status o
 WHERE o.created_at < tandem.now() - ?::interval AND o.updated_at < tandem.now() - ?::interval
   AND o.status IN ('SUCCESS', 'ERROR', 'CANCELLED', 'RETRIES_EXCEEDED')
   AND (o.parent_workflow_id IS NULL
        OR NOT EXISTS (SELECT 1 FROM tandem.workflow_status p
                        WHERE p.workflow_id = o.parent_workflow_id AND p.status IN ('ENQUEUED', 'DELAYED', 'RUNNING')))

-- name: retention.count
SELECT count(*)
-- include: retention.match
;

-- name: retention.sample
SELECT o.workflow_id
-- include: retention.match
 ORDER BY o.created_at
 LIMIT ?;

-- name: retention.delete
-- One batch, in the transaction that also writes its audit row.
SELECT tandem.delete_workflows(?::interval, ?);
