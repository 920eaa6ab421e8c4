-- Tandem schema, version 6: ids the engine derives cannot be taken over through tandem.enqueue_workflow, and what a
-- parent saw of its child is a checkpoint.

-- What a parent saw when its wait for a child ended: the child's outcome, or that the wait timed out. A replay
-- returns the same, even if the child was resumed meanwhile and ended otherwise.
ALTER TABLE tandem.steps DROP CONSTRAINT steps_kind_check;
ALTER TABLE tandem.steps ADD CONSTRAINT steps_kind_check
    CHECK (kind IN ('STEP', 'TRANSACTION', 'SLEEP', 'RECV', 'SEND', 'SET_EVENT', 'WRITE_STREAM', 'CHILD',
                    'CHILD_RESULT'));

-- The cron tick a workflow runs, '<schedule>@<tick>', written only by the scheduler (which inserts its rows itself;
-- tandem.enqueue_workflow cannot set it). A tick counts as started only by a row that has it: a workflow someone
-- else enqueued under the id '<schedule>@<tick>' does not, and the tick then runs under '<schedule>@<tick>#<uuid>'.
-- Unique, so a tick starts at most once whatever its id.
ALTER TABLE tandem.workflow_status ADD COLUMN scheduled_tick text;
CREATE UNIQUE INDEX workflow_status_scheduled_tick_idx ON tandem.workflow_status (scheduled_tick)
    WHERE scheduled_tick IS NOT NULL;

-- Ticks started before this version are taken to be the scheduler's: those of a schedule that still exists, with its
-- workflow. (A workflow planted under such an id before the upgrade cannot be told apart from a real tick.)
UPDATE tandem.workflow_status w
   SET scheduled_tick = w.workflow_id
  FROM tandem.schedules s
 WHERE left(w.workflow_id, length(s.name) + 1) = s.name || '@'
   AND w.name = s.workflow_name;

-- Public API (replaces version 2's body; same signature). As before, except that a workflow id used by a workflow of
-- another name is refused without naming it: a role that may only enqueue must not learn the names of workflows it
-- cannot read.
CREATE OR REPLACE FUNCTION tandem.enqueue_workflow(
    workflow_name    text,
    args             jsonb    DEFAULT '[]',
    queue_name       text     DEFAULT 'default',
    workflow_id      text     DEFAULT NULL,
    priority         int      DEFAULT 0,
    deduplication_id text     DEFAULT NULL,
    partition_key    text     DEFAULT NULL,
    delay            interval DEFAULT NULL
) RETURNS text
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_id     text := coalesce(enqueue_workflow.workflow_id, gen_random_uuid()::text);
    v_status text := 'ENQUEUED';
    v_existing text;
BEGIN
    IF workflow_name IS NULL OR btrim(workflow_name) = '' THEN
        RAISE EXCEPTION 'tandem.enqueue_workflow: workflow_name must not be null or empty'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF enqueue_workflow.workflow_id IS NOT NULL AND btrim(enqueue_workflow.workflow_id) = '' THEN
        RAISE EXCEPTION 'tandem.enqueue_workflow: workflow_id must not be empty (pass NULL for a generated id)'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF args IS NULL THEN
        RAISE EXCEPTION 'tandem.enqueue_workflow: args must not be null (workflow "%"); pass a JSON value',
            workflow_name USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF queue_name IS NULL OR NOT EXISTS (SELECT 1 FROM tandem.queues q WHERE q.name = enqueue_workflow.queue_name) THEN
        RAISE EXCEPTION 'tandem.enqueue_workflow: queue "%" does not exist', queue_name
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Queue "default" always exists; create others from Java (Tandem.builder().queue(...)).';
    END IF;
    IF priority IS NULL OR priority NOT BETWEEN -1000 AND 1000 THEN
        RAISE EXCEPTION 'tandem.enqueue_workflow: priority must be between -1000 and 1000 (was %)', priority
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF delay IS NOT NULL AND delay < interval '0' THEN
        RAISE EXCEPTION 'tandem.enqueue_workflow: delay must not be negative (was %)', delay
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF delay > interval '0' THEN
        v_status := 'DELAYED';
    END IF;

    -- No exception block (it would open a subtransaction per call, which a trigger enqueuing for many rows of one
    -- transaction cannot afford): a conflict on either unique key skips the insert, and we then tell which it was.
    INSERT INTO tandem.workflow_status
        (workflow_id, name, status, queue_name, input, priority, deduplication_id, partition_key, not_before, attempts)
    VALUES (v_id, workflow_name, v_status, queue_name, args, priority, deduplication_id, partition_key,
            CASE WHEN delay > interval '0' THEN now() + delay END, 0)
    ON CONFLICT DO NOTHING;
    IF FOUND THEN
        PERFORM pg_notify('tandem_queue', queue_name);
    ELSE
        SELECT w.name INTO v_existing FROM tandem.workflow_status w WHERE w.workflow_id = v_id;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'tandem.enqueue_workflow: deduplication id "%" is already used by an active workflow in queue "%"',
                deduplication_id, queue_name
                USING ERRCODE = 'unique_violation',
                      HINT = 'Wait until that workflow ends, or use another deduplication id.';
        ELSIF v_existing <> workflow_name THEN
            RAISE EXCEPTION 'tandem.enqueue_workflow: workflow id "%" is already used by a workflow other than "%"',
                v_id, workflow_name
                USING ERRCODE = 'unique_violation',
                      HINT = 'Workflow ids are unique across workflow names.';
        END IF;
    END IF;
    RETURN v_id;
END;
$$;

INSERT INTO tandem.schema_version (version) VALUES (6);
