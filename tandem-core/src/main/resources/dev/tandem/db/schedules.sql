-- Named queries: see queries.sql for the format.
-- Cron schedules (table tandem.schedules, migration V4), used by dev.tandem.internal.db.ScheduleStore. Ticks are
-- computed in Java (dev.tandem.internal.cron); the database holds the state and its clock, now(), is the one that
-- counts. Each tick is enqueued through the public tandem.enqueue_workflow, under the id '<schedule>@<tick>'.

-- name: schedules.list
SELECT name, workflow_name, cron, time_zone, queue_name, catch_up, paused, next_tick, last_tick
FROM tandem.schedules
ORDER BY name;

-- name: schedules.get
SELECT name, workflow_name, cron, time_zone, queue_name, catch_up, paused, next_tick, last_tick
FROM tandem.schedules
WHERE name = ?;

-- name: schedules.lock
-- A schedule about to be changed, with the transaction's clock; waits for a scheduler pass that holds it.
SELECT name, workflow_name, cron, time_zone, queue_name, catch_up, paused, next_tick, last_tick, now()
FROM tandem.schedules
WHERE name = ?
FOR UPDATE;

-- name: schedules.now
SELECT now();

-- name: schedules.lockDue
-- The scheduler's pass: every due schedule no other executor is handling right now. A row another executor has just
-- advanced is either locked (skipped) or, once committed, no longer due: each tick is enqueued by one executor.
SELECT name, workflow_name, cron, time_zone, queue_name, catch_up, paused, next_tick, last_tick, now()
FROM tandem.schedules
WHERE NOT paused AND next_tick <= now()
ORDER BY name
FOR UPDATE SKIP LOCKED;

-- name: schedules.upsert
INSERT INTO tandem.schedules (name, workflow_name, cron, time_zone, queue_name, catch_up, paused, next_tick, last_tick)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (name) DO UPDATE
   SET workflow_name = excluded.workflow_name, cron = excluded.cron, time_zone = excluded.time_zone,
       queue_name = excluded.queue_name, catch_up = excluded.catch_up, paused = excluded.paused,
       next_tick = excluded.next_tick, last_tick = excluded.last_tick;

-- name: schedules.advance
-- After a pass: the next tick not yet started, the last one started (null: unchanged), and paused if the
-- expression has no tick left.
UPDATE tandem.schedules
   SET next_tick = ?, last_tick = coalesce(?, last_tick), paused = paused OR ?
 WHERE name = ?;

-- name: schedules.delete
DELETE FROM tandem.schedules WHERE name = ?;

-- name: schedules.queueExists
SELECT EXISTS (SELECT 1 FROM tandem.queues WHERE name = ?);

-- name: schedules.enqueue
-- Enqueues one workflow per (id, tick) pair, in order, skipping ids that exist (a tick already started, by this
-- pass's predecessor, a backfill or a trigger); returns the ids enqueued. The input is the tick as a one-element
-- JSON array, which the engine unwraps and binds to the workflow's Instant input.
SELECT tandem.enqueue_workflow(workflow_name => ?, args => jsonb_build_array(t.tick), queue_name => ?,
                               workflow_id => t.id)
FROM unnest(?::text[], ?::text[]) WITH ORDINALITY AS t(id, tick, n)
WHERE NOT EXISTS (SELECT 1 FROM tandem.workflow_status w WHERE w.workflow_id = t.id)
ORDER BY t.n;
