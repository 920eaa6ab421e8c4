-- Tandem schema, version 2: queues, and starting a workflow from SQL inside the caller's transaction
-- (the transactional outbox without an outbox table).

ALTER TABLE tandem.workflow_status
    ADD COLUMN priority         int NOT NULL DEFAULT 0,   -- higher runs first, within a queue
    ADD COLUMN deduplication_id text,                     -- at most one active workflow per (queue, id)
    ADD COLUMN partition_key    text,
    ADD COLUMN not_before       timestamptz,              -- DELAYED until then
    ADD COLUMN started_at       timestamptz;              -- when an executor took it from its queue

-- Named queues. 'default' always exists. NULL limits mean "no limit".
CREATE TABLE tandem.queues (
    name                  text PRIMARY KEY CHECK (name <> ''),
    concurrency           int CHECK (concurrency > 0),           -- RUNNING at once, across all executors
    worker_concurrency    int CHECK (worker_concurrency > 0),    -- RUNNING at once on one executor
    rate_limit            int CHECK (rate_limit > 0),            -- at most this many starts ...
    rate_period           interval CHECK (rate_period > interval '0'), -- ... per this period, across all executors
    partition_concurrency int CHECK (partition_concurrency > 0), -- RUNNING at once per partition key
    created_at            timestamptz NOT NULL DEFAULT now(),
    CHECK ((rate_limit IS NULL) = (rate_period IS NULL))
);
INSERT INTO tandem.queues (name) VALUES ('default');

-- What a worker scans to dequeue: waiting workflows in queue order.
CREATE INDEX workflow_status_queued_idx ON tandem.workflow_status (queue_name, priority DESC, created_at)
    WHERE status IN ('ENQUEUED', 'DELAYED');
-- Global concurrency limits count what runs in a queue.
CREATE INDEX workflow_status_queue_running_idx ON tandem.workflow_status (queue_name)
    WHERE status = 'RUNNING' AND queue_name IS NOT NULL;
-- Rate limits count recent starts in a queue.
CREATE INDEX workflow_status_queue_started_idx ON tandem.workflow_status (queue_name, started_at)
    WHERE started_at IS NOT NULL AND queue_name IS NOT NULL;
-- A deduplication id is refused while another workflow with it is waiting or running in the same queue.
CREATE UNIQUE INDEX workflow_status_dedup_idx ON tandem.workflow_status (queue_name, deduplication_id)
    WHERE deduplication_id IS NOT NULL AND status IN ('ENQUEUED', 'DELAYED', 'RUNNING');

CREATE OR REPLACE VIEW tandem.workflows AS
SELECT workflow_id, name, status, queue_name, input, output, error, attempts, executor_id, created_at, updated_at,
       priority, deduplication_id, partition_key, not_before, started_at
FROM tandem.workflow_status;

-- Public API. Enqueues workflow `workflow_name` with input `args` in queue `queue_name` and returns its id. Runs in
-- the caller's transaction: the workflow exists if and only if that transaction commits, and workers are woken by a
-- NOTIFY that PostgreSQL delivers at commit. Calling it again with an existing `workflow_id` returns that id and
-- enqueues nothing. `args` binds to the workflow's Java input type; a one-element array is unwrapped unless the input
-- type is itself an array or collection. `priority` is between -1000 and 1000; higher runs first, FIFO within one.
-- Called by: applications (SQL, triggers, any language), and Tandem's Java enqueue. Locks: inserts one row.
CREATE FUNCTION tandem.enqueue_workflow(
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
            RAISE EXCEPTION 'tandem.enqueue_workflow: workflow id "%" is already used by workflow "%", not "%"',
                v_id, v_existing, workflow_name
                USING ERRCODE = 'unique_violation',
                      HINT = 'Workflow ids are unique across workflow names.';
        END IF;
    END IF;
    RETURN v_id;
END;
$$;

-- The functions are the API for roles that may not touch the tables: GRANT EXECUTE to them.
REVOKE ALL ON FUNCTION tandem.enqueue_workflow(text, jsonb, text, text, int, text, text, interval) FROM PUBLIC;

INSERT INTO tandem.schema_version (version) VALUES (2);
