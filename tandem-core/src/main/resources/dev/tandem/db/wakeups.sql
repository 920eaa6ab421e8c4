-- Named queries: see queries.sql for the format.
-- The periodic look for wake-ups that no notification announced (a NOTIFY lost with its connection, a half-open
-- listening connection, a row written by hand). Run by dev.tandem.internal.db.Notifications every few seconds, for
-- all the waits of one executor at once, on its listening connection.

-- name: wakeups.due
-- Of the given workflows (waiting in recv, sleep or for a child here), those that have an unconsumed message (of any
-- topic) and those that this executor no longer runs (not RUNNING, run by another executor, or deleted). Only those
-- are woken, so thousands of idle sleepers cost one index probe each, not a replay.
-- Parameters: executor id, workflow ids (text[]). Locks: none (reads).
SELECT d.workflow_id, d.messaged, d.ended
  FROM (SELECT w.workflow_id,
               EXISTS (SELECT 1 FROM tandem.messages m
                        WHERE m.workflow_id = w.workflow_id AND m.consumed_at IS NULL) AS messaged,
               (s.status IS DISTINCT FROM 'RUNNING' OR s.executor_id IS DISTINCT FROM ?) AS ended
          FROM unnest(?::text[]) AS w(workflow_id)
          LEFT JOIN tandem.workflow_status s ON s.workflow_id = w.workflow_id) d
 WHERE d.messaged OR d.ended;
