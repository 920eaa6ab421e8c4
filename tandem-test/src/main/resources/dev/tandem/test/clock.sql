-- Named queries of the test clock (dev.tandem.test.TestClock); format: see tandem-core's queries.sql.

-- name: install
-- In a test database only: tandem.now(), the time workflows see (migration V11), becomes now() plus the skew kept in
-- tandem.test_clock, which TestClock.advance moves forward. Not inlined any more, so every query reads the table:
-- fine for tests, and the reason production keeps the plain now().
CREATE TABLE IF NOT EXISTS tandem.test_clock (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    skew     interval NOT NULL DEFAULT interval '0'
);
INSERT INTO tandem.test_clock DEFAULT VALUES ON CONFLICT DO NOTHING;
CREATE OR REPLACE FUNCTION tandem.now() RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT now() + coalesce((SELECT c.skew FROM tandem.test_clock c), interval '0') $$;

-- name: skew
SELECT (extract(epoch FROM c.skew) * 1000)::bigint FROM tandem.test_clock c;

-- name: setSkew
UPDATE tandem.test_clock SET skew = ?::bigint * interval '1 millisecond';

-- name: nextTimer
-- For auto-skip: whether everything unfinished waits on time, and when the first of those times comes.
-- A RUNNING workflow waits on time when its latest checkpoint is a wake-up time still ahead (a sleep, or the deadline
-- of a receive with no message waiting for it) or a child that has not ended; anything else (no checkpoint yet, a
-- wake-up time passed, a message waiting) is work in progress. A waiting workflow that an executor could claim now
-- is work too. The fingerprint changes with any progress, so the caller can ask twice and see nothing moved.
WITH latest AS (
    SELECT w.workflow_id, s.name, s.kind, s.output, s.child_workflow_id
      FROM tandem.workflow_status w
      LEFT JOIN LATERAL (SELECT k.name, k.kind, k.output, k.child_workflow_id
                           FROM tandem.steps k
                          WHERE k.workflow_id = w.workflow_id
                          ORDER BY k.position DESC LIMIT 1) s ON true
     WHERE w.status = 'RUNNING'
), running AS (
    SELECT l.workflow_id,
           CASE WHEN l.kind = 'SLEEP' THEN to_timestamp((l.output #>> '{}')::bigint / 1000.0) END AS wake_at,
           CASE
               WHEN l.kind = 'SLEEP' AND l.name LIKE 'recv%' AND EXISTS (
                        SELECT 1 FROM tandem.messages m
                         WHERE m.workflow_id = l.workflow_id AND m.consumed_at IS NULL
                           AND m.topic = CASE WHEN l.name LIKE 'recv:%' THEN substr(l.name, 6) ELSE '' END)
                   THEN false
               WHEN l.kind = 'SLEEP' THEN to_timestamp((l.output #>> '{}')::bigint / 1000.0) > tandem.now()
               WHEN l.kind = 'CHILD' THEN EXISTS (
                        SELECT 1 FROM tandem.workflow_status c
                         WHERE c.workflow_id = l.child_workflow_id AND c.status IN ('ENQUEUED', 'DELAYED', 'RUNNING'))
               ELSE false
           END AS waiting
      FROM latest l
), timers AS (
    SELECT r.wake_at AS at FROM running r WHERE r.waiting AND r.wake_at IS NOT NULL
    UNION ALL
    SELECT w.not_before FROM tandem.workflow_status w
     WHERE w.status IN ('ENQUEUED', 'DELAYED') AND w.not_before > tandem.now()
    UNION ALL
    SELECT w.deadline_at FROM tandem.workflow_status w
     WHERE w.status IN ('ENQUEUED', 'DELAYED', 'RUNNING') AND w.deadline_at > tandem.now()
    UNION ALL
    SELECT s.next_tick FROM tandem.schedules s WHERE NOT s.paused AND s.next_tick > tandem.now()
)
SELECT (SELECT count(*) FROM tandem.workflow_status w WHERE w.status IN ('ENQUEUED', 'DELAYED', 'RUNNING')) > 0
           AND NOT EXISTS (SELECT 1 FROM running r WHERE NOT r.waiting)
           AND NOT EXISTS (SELECT 1 FROM tandem.workflow_status w
                            WHERE w.status IN ('ENQUEUED', 'DELAYED')
                              AND (w.not_before IS NULL OR w.not_before <= tandem.now())
                              AND EXISTS (SELECT 1 FROM tandem.executors e
                                           WHERE e.heartbeat_at > now() - interval '1 minute'
                                             AND w.name = ANY (e.workflow_names))),
       (extract(epoch FROM (SELECT min(t.at) FROM timers t) - tandem.now()) * 1000)::bigint,
       (SELECT count(*) FROM tandem.steps)
           + (SELECT coalesce(sum(hashtext(w.workflow_id || w.status)), 0) FROM tandem.workflow_status w);
