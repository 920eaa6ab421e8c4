-- Tandem schema, version 4: durable primitives (sleep, messages, events, streams, child workflows, deadlines),
-- fork, cron schedules, queries and retention.

-- Checkpoints of every kind of durable call. A CHILD checkpoint names the child it started.
ALTER TABLE tandem.steps DROP CONSTRAINT steps_kind_check;
ALTER TABLE tandem.steps ADD CONSTRAINT steps_kind_check
    CHECK (kind IN ('STEP', 'TRANSACTION', 'SLEEP', 'RECV', 'SEND', 'SET_EVENT', 'WRITE_STREAM', 'CHILD'));
ALTER TABLE tandem.steps ADD COLUMN child_workflow_id text;

ALTER TABLE tandem.workflow_status
    ADD COLUMN parent_workflow_id text,   -- set on a child workflow
    ADD COLUMN forked_from        text,   -- set on a workflow made by tandem.fork_workflow
    ADD COLUMN timeout_ms         bigint, -- the timeout asked for; the deadline starts when it starts running
    ADD COLUMN deadline_at        timestamptz; -- cancelled (reason "timeout") if not ended by then

-- Listing a workflow's children, and cancelling them with it.
CREATE INDEX workflow_status_parent_idx ON tandem.workflow_status (parent_workflow_id)
    WHERE parent_workflow_id IS NOT NULL;
-- Every executor looks for passed deadlines on each heartbeat; only workflows with one are indexed.
CREATE INDEX workflow_status_deadline_idx ON tandem.workflow_status (deadline_at)
    WHERE deadline_at IS NOT NULL AND status IN ('ENQUEUED', 'DELAYED', 'RUNNING');
-- Listing by time range, and retention. created_at never changes, so this costs one index entry per workflow.
CREATE INDEX workflow_status_created_idx ON tandem.workflow_status (created_at);

-- A received message is marked, not deleted: its idempotency key must keep refusing a re-send after it was received.
ALTER TABLE tandem.messages ADD COLUMN consumed_at timestamptz;
CREATE INDEX messages_waiting_idx ON tandem.messages (workflow_id, topic, seq) WHERE consumed_at IS NULL;

-- Events: the last value of each key, and every value ever set (position: the setEvent's checkpoint).
CREATE TABLE tandem.events (
    workflow_id text NOT NULL,
    key         text NOT NULL,
    value       jsonb NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workflow_id, key)
);
CREATE TABLE tandem.event_history (
    workflow_id text NOT NULL,
    position    int  NOT NULL,
    key         text NOT NULL,
    value       jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workflow_id, position)
);

-- Streams: values in the order written (position: the write's checkpoint); a row with closed = true ends a stream.
CREATE TABLE tandem.streams (
    workflow_id text    NOT NULL,
    key         text    NOT NULL,
    position    int     NOT NULL,
    value       jsonb,
    closed      boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workflow_id, key, position)
);

-- Cron schedules. Each tick starts workflow `workflow_name` with the tick's time as input, under the id
-- '<name>@<tick in UTC, ISO-8601>', so a tick runs once however many executors see it.
CREATE TABLE tandem.schedules (
    name          text PRIMARY KEY CHECK (btrim(name) <> ''),
    workflow_name text NOT NULL,
    cron          text NOT NULL,
    time_zone     text NOT NULL DEFAULT 'UTC',
    queue_name    text NOT NULL DEFAULT 'default',
    catch_up      text NOT NULL DEFAULT 'SKIP' CHECK (catch_up IN ('SKIP', 'BACKFILL')),
    paused        boolean NOT NULL DEFAULT false,
    next_tick     timestamptz NOT NULL,   -- the next tick not yet started
    last_tick     timestamptz,            -- the last tick started
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE OR REPLACE VIEW tandem.workflows AS
SELECT w.workflow_id, w.name, w.status, w.queue_name, w.input, w.output, w.error, w.attempts, w.executor_id,
       w.created_at, w.updated_at, w.priority, w.deduplication_id, w.partition_key, w.not_before, w.started_at,
       CASE
           WHEN w.status NOT IN ('ENQUEUED', 'DELAYED') THEN NULL
           WHEN NOT EXISTS (SELECT 1 FROM tandem.executors e
                             WHERE e.heartbeat_at > now() - interval '1 minute' AND w.name = ANY (e.workflow_names))
               THEN 'no running executor has registered workflow ''' || w.name || ''''
           WHEN w.not_before > now() THEN 'delayed until ' || w.not_before
           ELSE 'waiting for a free slot in queue ''' || w.queue_name || ''''
       END AS waiting_reason,
       w.parent_workflow_id, w.forked_from, w.deadline_at
FROM tandem.workflow_status w;

-- A workflow's history: one row per checkpoint.
CREATE VIEW tandem.workflow_steps AS
SELECT s.workflow_id, s.position, s.name, s.kind, s.output, s.error, s.child_workflow_id, s.started_at, s.finished_at
FROM tandem.steps s;

-- Public API. Cancels a workflow as tandem.cancel_workflow(workflow_id) does, and with `include_children` also
-- every workflow it started, their children, and so on.
-- Called by: applications, operators, Tandem.cancel. Locks: the rows of the workflows it cancels.
CREATE FUNCTION tandem.cancel_workflow(workflow_id text, include_children boolean) RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_child text;
BEGIN
    IF include_children IS NULL THEN
        RAISE EXCEPTION 'tandem.cancel_workflow: include_children must not be null' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM tandem.cancel_workflow(workflow_id);
    IF include_children THEN
        FOR v_child IN
            WITH RECURSIVE tree(id) AS (
                SELECT c.workflow_id FROM tandem.workflow_status c WHERE c.parent_workflow_id = cancel_workflow.workflow_id
                UNION
                SELECT c.workflow_id FROM tandem.workflow_status c JOIN tree t ON c.parent_workflow_id = t.id
            )
            SELECT id FROM tree
        LOOP
            PERFORM tandem.cancel_workflow(v_child);
        END LOOP;
    END IF;
END;
$$;

-- Public API (replaces version 3's body; same signature). As before, and wakes a waiting execution at once.
CREATE OR REPLACE FUNCTION tandem.cancel_workflow(workflow_id text) RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_queue  text;
    v_status text;
BEGIN
    IF workflow_id IS NULL THEN
        RAISE EXCEPTION 'tandem.cancel_workflow: workflow_id must not be null' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT w.status INTO v_status FROM tandem.workflow_status w WHERE w.workflow_id = cancel_workflow.workflow_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'tandem.cancel_workflow: workflow "%" does not exist', workflow_id
            USING ERRCODE = 'no_data_found';
    END IF;
    IF v_status NOT IN ('ENQUEUED', 'DELAYED', 'RUNNING') THEN
        RETURN;
    END IF;
    UPDATE tandem.workflow_status w
       SET status = 'CANCELLED', updated_at = now(),
           error = jsonb_build_object('type', 'cancelled',
                                      'message', 'cancelled at ' || now() || ' by ' || session_user)
     WHERE w.workflow_id = cancel_workflow.workflow_id
    RETURNING w.queue_name INTO v_queue;
    PERFORM pg_notify('tandem_cancel', workflow_id);
    IF v_queue IS NOT NULL THEN
        PERFORM pg_notify('tandem_queue', v_queue); -- a slot is free
    END IF;
END;
$$;

-- Public API (replaces version 3's body; same signature). As before; a workflow cancelled by its timeout gets the
-- whole timeout again.
CREATE OR REPLACE FUNCTION tandem.resume_workflow(workflow_id text) RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_status text;
    v_queue  text;
BEGIN
    IF workflow_id IS NULL THEN
        RAISE EXCEPTION 'tandem.resume_workflow: workflow_id must not be null' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT w.status, coalesce(w.queue_name, 'default') INTO v_status, v_queue
      FROM tandem.workflow_status w WHERE w.workflow_id = resume_workflow.workflow_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'tandem.resume_workflow: workflow "%" does not exist', workflow_id
            USING ERRCODE = 'no_data_found';
    END IF;
    IF v_status = 'SUCCESS' THEN
        RAISE EXCEPTION 'tandem.resume_workflow: workflow "%" already succeeded; there is nothing to resume', workflow_id
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF v_status NOT IN ('CANCELLED', 'ERROR', 'RETRIES_EXCEEDED') THEN
        RETURN;
    END IF;
    DELETE FROM tandem.steps s
     WHERE s.workflow_id = resume_workflow.workflow_id AND s.error IS NOT NULL
       AND s.position > (SELECT coalesce(max(k.position), 0) FROM tandem.steps k
                          WHERE k.workflow_id = resume_workflow.workflow_id AND k.error IS NULL);
    -- attempts = 1: it ran before, so the next claim (which makes it 2) loads its checkpoints.
    UPDATE tandem.workflow_status w
       SET status = 'ENQUEUED', queue_name = v_queue, executor_id = NULL, error = NULL, output = NULL,
           output_type = NULL, attempts = 1, not_before = NULL, updated_at = now(),
           deadline_at = NULL -- a timeout starts again when it runs again
     WHERE w.workflow_id = resume_workflow.workflow_id;
    PERFORM pg_notify('tandem_queue', v_queue);
END;
$$;

-- Public API. Starts a new workflow that replays the checkpoints of `workflow_id` before position `start_step`
-- (copied, with the events and stream values they wrote; messages are not copied: a receive at or after
-- `start_step` waits for a message sent to the new id) and runs from `start_step` on: "fix the bug, re-run from
-- the failed step". `start_step` 1 runs it again from the beginning. The new workflow is queued in `queue_name`
-- (default: the original's queue, or 'default'); returns its id (`new_workflow_id`, or a generated one).
-- Called by: operators, Tandem.fork. Locks: inserts rows.
CREATE FUNCTION tandem.fork_workflow(workflow_id text, start_step int, new_workflow_id text DEFAULT NULL,
                                     queue_name text DEFAULT NULL) RETURNS text
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_source tandem.workflow_status%ROWTYPE;
    v_last   int;
    v_id     text := coalesce(fork_workflow.new_workflow_id, gen_random_uuid()::text);
    v_queue  text;
BEGIN
    IF workflow_id IS NULL THEN
        RAISE EXCEPTION 'tandem.fork_workflow: workflow_id must not be null' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF fork_workflow.new_workflow_id IS NOT NULL AND btrim(fork_workflow.new_workflow_id) = '' THEN
        RAISE EXCEPTION 'tandem.fork_workflow: new_workflow_id must not be empty (pass NULL for a generated id)'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- KEY SHARE: a concurrent tandem.delete_workflows skips the source instead of deleting the steps being copied.
    SELECT * INTO v_source FROM tandem.workflow_status w WHERE w.workflow_id = fork_workflow.workflow_id FOR KEY SHARE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'tandem.fork_workflow: workflow "%" does not exist', workflow_id USING ERRCODE = 'no_data_found';
    END IF;
    SELECT coalesce(max(s.position), 0) INTO v_last FROM tandem.steps s WHERE s.workflow_id = fork_workflow.workflow_id;
    IF start_step IS NULL OR start_step < 1 OR start_step > v_last + 1 THEN
        RAISE EXCEPTION 'tandem.fork_workflow: start_step must be between 1 and % (workflow "%" has % recorded steps; was %)',
            v_last + 1, workflow_id, v_last, start_step USING ERRCODE = 'invalid_parameter_value';
    END IF;
    v_queue := coalesce(fork_workflow.queue_name, v_source.queue_name, 'default');
    IF NOT EXISTS (SELECT 1 FROM tandem.queues q WHERE q.name = v_queue) THEN
        RAISE EXCEPTION 'tandem.fork_workflow: queue "%" does not exist', v_queue USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- attempts = 1: the claim makes it 2, which tells the executor to load the copied checkpoints.
    INSERT INTO tandem.workflow_status (workflow_id, name, status, queue_name, input, attempts, priority,
                                        partition_key, forked_from, timeout_ms)
    VALUES (v_id, v_source.name, 'ENQUEUED', v_queue, v_source.input, 1, v_source.priority,
            v_source.partition_key, v_source.workflow_id, v_source.timeout_ms)
    ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'tandem.fork_workflow: workflow id "%" is already used', v_id USING ERRCODE = 'unique_violation';
    END IF;
    INSERT INTO tandem.steps (workflow_id, position, name, kind, output, output_type, error, started_at, finished_at,
                              child_workflow_id)
    SELECT v_id, s.position, s.name, s.kind, s.output, s.output_type, s.error, s.started_at, s.finished_at,
           s.child_workflow_id
      FROM tandem.steps s WHERE s.workflow_id = fork_workflow.workflow_id AND s.position < start_step;
    INSERT INTO tandem.event_history (workflow_id, position, key, value, created_at)
    SELECT v_id, h.position, h.key, h.value, h.created_at
      FROM tandem.event_history h WHERE h.workflow_id = fork_workflow.workflow_id AND h.position < start_step;
    INSERT INTO tandem.events (workflow_id, key, value, updated_at)
    SELECT DISTINCT ON (h.key) v_id, h.key, h.value, h.created_at
      FROM tandem.event_history h WHERE h.workflow_id = v_id ORDER BY h.key, h.position DESC;
    INSERT INTO tandem.streams (workflow_id, key, position, value, closed, created_at)
    SELECT v_id, t.key, t.position, t.value, t.closed, t.created_at
      FROM tandem.streams t WHERE t.workflow_id = fork_workflow.workflow_id AND t.position < start_step;
    PERFORM pg_notify('tandem_queue', v_queue);
    RETURN v_id;
END;
$$;

-- Public API. Deletes workflows that ended (SUCCESS, ERROR, CANCELLED, RETRIES_EXCEEDED) before now() - older_than,
-- with their checkpoints, messages, events and streams (a child whose parent has not ended is kept); at most `batch_size` workflows per call, so it holds few
-- locks for a short time (call it until it returns less than batch_size). Rows being changed are skipped.
-- Called by: the executors' retention (Tandem.builder().retention(...)), operators. Locks: the rows it deletes.
CREATE FUNCTION tandem.delete_workflows(older_than interval, batch_size int DEFAULT 1000) RETURNS int
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_ids text[];
BEGIN
    IF older_than IS NULL OR older_than < interval '0' THEN
        RAISE EXCEPTION 'tandem.delete_workflows: older_than must be zero or positive (was %)', older_than
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF batch_size IS NULL OR batch_size < 1 OR batch_size > 100000 THEN
        RAISE EXCEPTION 'tandem.delete_workflows: batch_size must be between 1 and 100000 (was %)', batch_size
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT array_agg(w.workflow_id) INTO v_ids
      FROM (SELECT o.workflow_id FROM tandem.workflow_status o
             WHERE o.created_at < now() - older_than AND o.updated_at < now() - older_than
               AND o.status IN ('SUCCESS', 'ERROR', 'CANCELLED', 'RETRIES_EXCEEDED')
               -- a parent that has not ended may still read this child's outcome
               AND (o.parent_workflow_id IS NULL
                    OR NOT EXISTS (SELECT 1 FROM tandem.workflow_status p
                                    WHERE p.workflow_id = o.parent_workflow_id
                                      AND p.status IN ('ENQUEUED', 'DELAYED', 'RUNNING')))
             ORDER BY o.created_at
             LIMIT batch_size
               FOR UPDATE SKIP LOCKED) w;
    IF v_ids IS NULL THEN
        RETURN 0;
    END IF;
    DELETE FROM tandem.steps s WHERE s.workflow_id = ANY (v_ids);
    DELETE FROM tandem.messages m WHERE m.workflow_id = ANY (v_ids);
    DELETE FROM tandem.events e WHERE e.workflow_id = ANY (v_ids);
    DELETE FROM tandem.event_history h WHERE h.workflow_id = ANY (v_ids);
    DELETE FROM tandem.streams t WHERE t.workflow_id = ANY (v_ids);
    DELETE FROM tandem.workflow_status w WHERE w.workflow_id = ANY (v_ids);
    RETURN cardinality(v_ids);
END;
$$;

REVOKE ALL ON FUNCTION tandem.cancel_workflow(text, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION tandem.fork_workflow(text, int, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION tandem.delete_workflows(interval, int) FROM PUBLIC;

INSERT INTO tandem.schema_version (version) VALUES (4);
