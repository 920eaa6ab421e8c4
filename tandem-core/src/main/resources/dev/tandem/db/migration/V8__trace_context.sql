-- Tandem schema, version 8: the trace context a workflow was started or enqueued in (W3C Trace Context), so that each
-- of its executions, on whichever executor and after whatever delay, crash or recovery, continues that trace.
-- Written only when the application turned tracing on (Tandem.builder().openTelemetry(...)) or passed a traceparent
-- to tandem.enqueue_workflow; NULL otherwise. See docs/observability.md.
ALTER TABLE tandem.workflow_status ADD COLUMN traceparent text, ADD COLUMN tracestate text;

-- tandem.enqueue_workflow gets an overload that also takes traceparent and tracestate. The version-6 function keeps
-- its signature (so GRANTs written for it, and every call, work as before) and now calls the new one. The new one's
-- parameters have no defaults but tracestate: a call that leaves traceparent out can only mean the old one, so no call
-- written for version 6 becomes ambiguous ("function is not unique"), which a trailing DEFAULT NULL parameter would
-- cause. A traced call passes all nine, positionally or by name.

-- Public API. Called by SQL callers that pass a trace context, by Java's Workflow.enqueue, and by the version-6
-- signature below; inserts one row of tandem.workflow_status in the caller's transaction (no other lock). As in
-- version 6, plus: traceparent, a W3C traceparent ('00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>', or
-- NULL), makes the workflow's executions children of that span; tracestate (W3C, vendor-specific) goes with it. A
-- malformed one raises and writes nothing.
CREATE FUNCTION tandem.enqueue_workflow(
    workflow_name    text,
    args             jsonb,
    queue_name       text,
    workflow_id      text,
    priority         int,
    deduplication_id text,
    partition_key    text,
    delay            interval,
    traceparent      text,
    tracestate       text DEFAULT NULL
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
    -- W3C Trace Context, version 00: lowercase hex, and neither id all zeros (an invalid id, which tracers ignore).
    IF traceparent IS NOT NULL AND (traceparent !~ '^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$'
                                    OR left(traceparent, 2) = 'ff'
                                    OR substr(traceparent, 4, 32) = repeat('0', 32)
                                    OR substr(traceparent, 37, 16) = repeat('0', 16)) THEN
        RAISE EXCEPTION 'tandem.enqueue_workflow: traceparent must be a W3C traceparent like '
                        '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01 (was "%")', traceparent
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'version-traceid-parentid-flags in lowercase hex, ids not all zeros; or pass NULL.';
    END IF;
    IF tracestate IS NOT NULL AND traceparent IS NULL THEN
        RAISE EXCEPTION 'tandem.enqueue_workflow: tracestate needs a traceparent (was "%")', tracestate
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF length(tracestate) > 512 OR tracestate ~ '[^\x20-\x7e]' THEN
        RAISE EXCEPTION 'tandem.enqueue_workflow: tracestate must be at most 512 printable ASCII characters'
                        ' (W3C Trace Context; was %)', left(tracestate, 600)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF delay > interval '0' THEN
        v_status := 'DELAYED';
    END IF;

    -- No exception block (it would open a subtransaction per call, which a trigger enqueuing for many rows of one
    -- transaction cannot afford): a conflict on either unique key skips the insert, and we then tell which it was.
    INSERT INTO tandem.workflow_status
        (workflow_id, name, status, queue_name, input, priority, deduplication_id, partition_key, not_before, attempts,
         traceparent, tracestate)
    VALUES (v_id, workflow_name, v_status, queue_name, args, priority, deduplication_id, partition_key,
            CASE WHEN delay > interval '0' THEN now() + delay END, 0, traceparent, tracestate)
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

-- Public API, version 6's signature and behaviour (same grants, same calls): the new function without a trace context.
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
BEGIN
    RETURN tandem.enqueue_workflow(workflow_name, args, queue_name, workflow_id, priority, deduplication_id,
                                   partition_key, delay, NULL::text, NULL::text);
END;
$$;

-- The functions are the API for roles that may not touch the tables: GRANT EXECUTE to them. A role that may call
-- the version-6 signature may call the new one too (so it can pass a trace context).
REVOKE ALL ON FUNCTION tandem.enqueue_workflow(text, jsonb, text, text, int, text, text, interval, text, text)
    FROM PUBLIC;
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END AS grantee,
                    a.is_grantable
               FROM pg_proc p, aclexplode(p.proacl) a
              WHERE p.oid = 'tandem.enqueue_workflow(text, jsonb, text, text, int, text, text, interval)'::regprocedure
                AND a.privilege_type = 'EXECUTE'
                AND a.grantee <> p.proowner LOOP
        EXECUTE format('GRANT EXECUTE ON FUNCTION tandem.enqueue_workflow(text, jsonb, text, text, int, text, text,'
                       ' interval, text, text) TO %s%s', r.grantee,
                       CASE WHEN r.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
    END LOOP;
END;
$$;

INSERT INTO tandem.schema_version (version) VALUES (8);
