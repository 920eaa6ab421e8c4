-- Named queries: see queries.sql for the format.
-- The periodic look for wake-ups that no notification announced (a NOTIFY lost with its connection, a half-open
-- listening connection, a row written by hand). Run by dev.tandem.internal.db.Notifications every few seconds, for
-- all the waits of one executor at once, on its listening connection.

-- name: wakeups.due
-- Of the given workflows (waiting in recv, sleep or for a child here), those that have an unconsumed message (of any
-- topic) and those that this executor no longer runs (not RUNNING, run by another executor, or deleted). Only those
-- are woken, so thousands of idle sleepers cost two index probes each, not a replay. The LIMIT 1 subqueries keep it
-- a probe per id (a join would hash the whole of workflow_status, ended workflows included: 0.4 s at 1M rows;
-- probes take 60-80 ms for 10,000 ids).
-- Parameters: executor id, workflow ids (text[]). Locks: none (reads).
SELECT d.workflow_id, d.messaged, d.ended
  FROM (SELECT w.workflow_id,
               m.workflow_id IS NOT NULL AS messaged,
               (s.status IS DISTINCT FROM 'RUNNING' OR s.executor_id IS DISTINCT FROM ?) AS ended
          FROM unnest(?::text[]) AS w(workflow_id)
          LEFT JOIN LATERAL (SELECT m.workflow_id FROM tandem.messages m
                              WHERE m.workflow_id = w.workflow_id AND m.consumed_at IS NULL
                              LIMIT 1) m ON true
          LEFT JOIN LATERAL (SELECT s.status, s.executor_id FROM tandem.workflow_status s
                              WHERE s.workflow_id = w.workflow_id
                              LIMIT 1) s ON true) d
 WHERE d.messaged OR d.ended;
