-- Tandem schema, version 3: cancel, resume and messages, from SQL and Java; why a workflow waits.

-- The workflow names each executor runs, so that a workflow nobody can run is visible, and eventually fails.
ALTER TABLE tandem.executors ADD COLUMN workflow_names text[] NOT NULL DEFAULT '{}';

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
       END AS waiting_reason
FROM tandem.workflow_status w;

-- Messages sent to a workflow. Kept until consumed, so a message sent before the receiver waits is not lost.
CREATE TABLE tandem.messages (
    workflow_id     text NOT NULL,
    topic           text NOT NULL DEFAULT '',      -- '' is the default topic
    seq             bigserial,
    message         jsonb NOT NULL,
    idempotency_key text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workflow_id, topic, seq)
);
-- A re-sent message with the same idempotency key is a no-op.
CREATE UNIQUE INDEX messages_idempotency_idx ON tandem.messages (workflow_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;

-- Internal. Guards the checkpoint insert of a transactional step (it runs in the application's transaction): the
-- step commits only while `p_executor_id` owns the RUNNING workflow, so a cancelled workflow, or one taken over by
-- another executor, rolls back at its next transactional step too. Raises SQLSTATE TD001 otherwise. A function
-- rather than a subquery in the insert, because that insert is sent as a simple query and planned every time,
-- while PL/pgSQL keeps its plan for the session.
-- Called by: the engine, once per checkpoint row. Locks: none (reads one row by primary key).
CREATE FUNCTION tandem.check_owner(p_workflow_id text, p_executor_id text) RETURNS boolean
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM tandem.workflow_status w
                    WHERE w.workflow_id = p_workflow_id AND w.status = 'RUNNING' AND w.executor_id = p_executor_id) THEN
        RAISE EXCEPTION 'workflow "%" is no longer RUNNING on executor "%" (cancelled, or taken over)',
            p_workflow_id, p_executor_id USING ERRCODE = 'TD001';
    END IF;
    RETURN true;
END;
$$;

-- Public API. Cancels a workflow that has not ended: status CANCELLED, its queue slot free at once. A running
-- execution stops at its next step boundary (its next checkpoint is refused); a step already running finishes, and
-- a transactional step that has not committed yet rolls back. Cancelling a workflow that has ended does nothing.
-- Called by: applications, operators, Tandem.cancel. Locks: the workflow's row.
CREATE FUNCTION tandem.cancel_workflow(workflow_id text) RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_queue text;
BEGIN
    IF workflow_id IS NULL THEN
        RAISE EXCEPTION 'tandem.cancel_workflow: workflow_id must not be null' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM 1 FROM tandem.workflow_status w WHERE w.workflow_id = cancel_workflow.workflow_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'tandem.cancel_workflow: workflow "%" does not exist', workflow_id
            USING ERRCODE = 'no_data_found';
    END IF;
    UPDATE tandem.workflow_status w
       SET status = 'CANCELLED', updated_at = now(),
           error = jsonb_build_object('type', 'cancelled',
                                      'message', 'cancelled at ' || now() || ' by ' || session_user)
     WHERE w.workflow_id = cancel_workflow.workflow_id
       AND w.status IN ('ENQUEUED', 'DELAYED', 'RUNNING')
    RETURNING w.queue_name INTO v_queue;
    IF v_queue IS NOT NULL THEN
        PERFORM pg_notify('tandem_queue', v_queue); -- a slot is free
    END IF;
END;
$$;

-- Public API. Continues a CANCELLED, ERROR or RETRIES_EXCEEDED workflow from its last checkpoint: it goes back to
-- its queue (queue 'default' if it was started directly) with a fresh recovery budget. Failed steps at the end of its
-- history are forgotten, so they run again; everything before them replays from the checkpoints. Resuming a workflow
-- that is waiting or running does nothing; resuming one that succeeded is an error.
-- Called by: applications, operators, Tandem.resume. Locks: the workflow's row, then its trailing step rows.
CREATE FUNCTION tandem.resume_workflow(workflow_id text) RETURNS void
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
           output_type = NULL, attempts = 1, not_before = NULL, updated_at = now()
     WHERE w.workflow_id = resume_workflow.workflow_id;
    PERFORM pg_notify('tandem_queue', v_queue);
END;
$$;

-- Public API. Sends `message` to workflow `workflow_id` on `topic` (NULL: the default topic). Kept until the
-- workflow receives it; with an `idempotency_key`, sending the same key to the same workflow again does nothing.
-- Runs in the caller's transaction: the message exists if and only if it commits.
-- Called by: applications, Tandem.send. Locks: inserts one row.
CREATE FUNCTION tandem.send_message(workflow_id text, message jsonb, topic text DEFAULT NULL,
                                    idempotency_key text DEFAULT NULL) RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF workflow_id IS NULL THEN
        RAISE EXCEPTION 'tandem.send_message: workflow_id must not be null' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF message IS NULL THEN
        RAISE EXCEPTION 'tandem.send_message: message must not be null (to workflow "%"); send JSON null as ''null''',
            workflow_id USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM tandem.workflow_status w WHERE w.workflow_id = send_message.workflow_id) THEN
        RAISE EXCEPTION 'tandem.send_message: workflow "%" does not exist', workflow_id USING ERRCODE = 'no_data_found';
    END IF;
    INSERT INTO tandem.messages (workflow_id, topic, message, idempotency_key)
    VALUES (workflow_id, coalesce(topic, ''), message, idempotency_key)
    ON CONFLICT DO NOTHING;
    IF FOUND THEN
        PERFORM pg_notify('tandem_message', workflow_id);
    END IF;
END;
$$;

REVOKE ALL ON FUNCTION tandem.cancel_workflow(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION tandem.resume_workflow(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION tandem.send_message(text, jsonb, text, text) FROM PUBLIC;

INSERT INTO tandem.schema_version (version) VALUES (3);
