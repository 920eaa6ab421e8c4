-- Named queries: see queries.sql for the format.
-- Cron schedules (table tandem.schedules, migration V4), used by dev.tandem.internal.db.ScheduleStore. Ticks are
-- computed in Java (dev.tandem.internal.cron); the database holds the state and its clock, tandem.now(), is the one that
-- counts. Each tick is enqueued under the id '<schedule>@<tick>', marked as the scheduler's (scheduled_tick).

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
SELECT name, workflow_name, cron, time_zone, queue_name, catch_up, paused, next_tick, last_tick, tandem.now()
FROM tandem.schedules
WHERE name = ?
FOR UPDATE;

-- name: schedules.now
SELECT tandem.now();

-- name: schedules.lockDue
-- The scheduler's pass: every due schedule no other executor is handling right now. A row another executor has just
-- advanced is either locked (skipped) or, once committed, no longer due: each tick is enqueued by one executor.
SELECT name, workflow_name, cron, time_zone, queue_name, catch_up, paused, next_tick, last_tick, tandem.now()
FROM tandem.schedules
WHERE NOT paused AND next_tick <= tandem.now()
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
-- Inserts one ENQUEUED workflow per tick, in order, under the schedule's lock: its id, its tick key
-- '<schedule>@<tick>' (column scheduled_tick, which only the scheduler writes) and the tick, as a one-element JSON
-- array (what enqueue_workflow(args => ...) would store; the engine unwraps it and binds it to the workflow's
-- Instant input). The scheduler writes these rows itself rather than through tandem.enqueue_workflow because it must
-- know which rows it created: that function also returns the id of a row someone else enqueued under it. A tick
-- already started (its key is taken, whatever the id) or an id already used is skipped. Returns the ids inserted,
-- and wakes the queue's workers at commit.
-- Parameters: workflow name, queue, then three text arrays of one length: ids, tick keys, ticks (ISO-8601).
WITH inserted AS (
    INSERT INTO tandem.workflow_status (workflow_id, name, status, queue_name, input, attempts, scheduled_tick)
    SELECT t.id, ?, 'ENQUEUED', ?, jsonb_build_array(t.tick), 0, t.tick_key
      FROM unnest(?::text[], ?::text[], ?::text[]) WITH ORDINALITY AS t(id, tick_key, tick, n)
     ORDER BY t.n
    ON CONFLICT DO NOTHING
    RETURNING workflow_id, queue_name
)
SELECT workflow_id, pg_notify('tandem_queue', queue_name) FROM inserted;

-- name: schedules.unstarted
-- Of the tick keys given (ticks schedules.enqueue skipped), those no workflow started by the scheduler runs: their
-- ids are taken by workflows someone else enqueued. A statement of its own, so it sees rows committed while the
-- insert waited for them.
SELECT t.tick_key
  FROM unnest(?::text[]) AS t(tick_key)
 WHERE NOT EXISTS (SELECT 1 FROM tandem.workflow_status w WHERE w.scheduled_tick = t.tick_key);
