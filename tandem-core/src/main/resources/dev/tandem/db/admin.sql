-- Named queries: see queries.sql for the format.
-- Operators' side of the engine (dev.tandem.internal.db.AdminStore): listing workflows and their steps, fork, and
-- retention. Reads only; fork and retention go through the public SQL functions, so SQL and Java share one path.

-- name: listWorkflows.filtered
-- Each filter is bound twice, as NULL when it is not used. PostgreSQL plans each execution with its values (a plan
-- for the values is cheaper than a generic one, so it keeps choosing that), so an unused filter folds away and the
-- created_at index serves the time range and the order. The id prefix comes with LIKE's wildcards escaped with '!'
-- (not a backslash, whose meaning in a literal depends on standard_conforming_strings).
SELECT w.workflow_id, w.name, w.status, w.queue_name, w.input::text, w.output::text, w.error ->> 'type',
       w.error ->> 'message', w.attempts, w.executor_id, w.created_at, w.updated_at, w.started_at,
       w.parent_workflow_id, w.forked_from, w.deadline_at
  FROM tandem.workflow_status w
 WHERE (?::text[] IS NULL OR w.status = ANY (?::text[]))
   AND (?::text IS NULL OR w.name = ?::text)
   AND (?::text IS NULL OR w.queue_name = ?::text)
   AND (?::timestamptz IS NULL OR w.created_at >= ?::timestamptz)
   AND (?::timestamptz IS NULL OR w.created_at < ?::timestamptz)
   AND (?::text IS NULL OR w.workflow_id LIKE ?::text ESCAPE '!')
   AND (?::text IS NULL OR w.parent_workflow_id = ?::text);

-- name: listWorkflows.newestFirst
-- The id breaks ties between equal creation times, so pages neither repeat nor skip a workflow.
-- include: listWorkflows.filtered
 ORDER BY w.created_at DESC, w.workflow_id DESC
 LIMIT ? OFFSET ?;

-- name: listWorkflows.oldestFirst
-- include: listWorkflows.filtered
 ORDER BY w.created_at, w.workflow_id
 LIMIT ? OFFSET ?;

-- name: listSteps
-- A workflow's checkpoints in order. The left join returns one row of NULLs for a workflow without any, and no row
-- for an unknown workflow, so one statement (one snapshot) tells the two apart.
SELECT s.position, s.name, s.kind, s.output::text, s.error ->> 'type', s.error ->> 'message', s.child_workflow_id,
       s.started_at, s.finished_at
  FROM tandem.workflow_status w
  LEFT JOIN tandem.steps s ON s.workflow_id = w.workflow_id
 WHERE w.workflow_id = ?
 ORDER BY s.position;

-- name: forkWorkflow
SELECT tandem.fork_workflow(?, ?, ?, ?);

-- name: deleteWorkflows
-- One batch, in a transaction of its own (autocommit): its locks last as long as one batch.
SELECT tandem.delete_workflows(?::interval, ?);

-- name: exportHistories.checkpoints
-- The checkpoints of a page of workflows (listWorkflows.oldestFirst, in the same snapshot), in order: what a replay
-- check needs of each (docs/versioning.md). Called by AdminStore.exportHistories.
SELECT s.workflow_id, s.position, s.name, s.kind, s.output::text, s.output_type, s.error::text, s.child_workflow_id
  FROM tandem.steps s
 WHERE s.workflow_id = ANY (?::text[])
 ORDER BY s.workflow_id, s.position;
