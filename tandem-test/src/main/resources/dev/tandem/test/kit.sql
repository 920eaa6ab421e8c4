-- Named queries of the test kit (dev.tandem.test.TandemKit, WorkflowAssert); format: see tandem-core's queries.sql.

-- name: reset
-- Between two tests of a class: every row of schema tandem goes (its migrations stay), and the test clock is back
-- to the system's time. The application's own tables are the test's business.
DO $$
DECLARE
    t text;
BEGIN
    SELECT string_agg(format('tandem.%I', c.relname), ', ') INTO t
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'tandem' AND c.relkind IN ('r', 'p')
       AND c.relname NOT IN ('schema_version', 'test_clock', 'queues'); -- queues: 'default' comes with V2
    EXECUTE 'TRUNCATE ' || t;
    UPDATE tandem.test_clock SET skew = interval '0';
END;
$$;

-- name: workflow
SELECT w.status, w.output::text, w.error::text, w.name FROM tandem.workflow_status w WHERE w.workflow_id = ?;

-- name: checkpoints
-- The checkpoints of a workflow in order: position, name, kind, output, whether it failed.
SELECT s.position, s.name, s.kind, s.output::text, s.error IS NOT NULL
  FROM tandem.steps s WHERE s.workflow_id = ? ORDER BY s.position;

-- name: pendingMessages
SELECT m.topic, count(*) FROM tandem.messages m WHERE m.workflow_id = ? AND m.consumed_at IS NULL GROUP BY m.topic;
