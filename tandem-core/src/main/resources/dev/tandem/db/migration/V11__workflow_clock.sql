-- Version 11: one clock for the time workflows see.
--
-- tandem.now() is read wherever time means something to a workflow: when it was created, updated and started, the
-- end of a delay, a deadline, a rate-limit window, a cron tick, retention's age. Here it is now(): a one-expression
-- SQL function, which PostgreSQL inlines into every query that calls it, so production pays nothing for it.
-- tandem-test replaces it, in its own test databases only, with now() plus an offset that its test clock moves
-- forward ("advance two days"), and the engine reads the same clock in Java (TandemBuilder.clock).
-- What executors live by stays now(): heartbeats, registrations, executor timeouts. A test clock that jumps a month
-- must not make every live executor look dead.

CREATE FUNCTION tandem.now() RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT now() $$;

COMMENT ON FUNCTION tandem.now() IS
    'The time workflows see (delays, deadlines, rate limits, cron, retention): now(), or a test clock''s time.';

-- Column defaults of rows whose timestamps are workflow time.
ALTER TABLE tandem.workflow_status ALTER COLUMN created_at SET DEFAULT tandem.now(),
                                   ALTER COLUMN updated_at SET DEFAULT tandem.now();
ALTER TABLE tandem.steps ALTER COLUMN finished_at SET DEFAULT tandem.now();
ALTER TABLE tandem.messages ALTER COLUMN created_at SET DEFAULT tandem.now();
ALTER TABLE tandem.events ALTER COLUMN updated_at SET DEFAULT tandem.now();
ALTER TABLE tandem.event_history ALTER COLUMN created_at SET DEFAULT tandem.now();
ALTER TABLE tandem.streams ALTER COLUMN created_at SET DEFAULT tandem.now();
ALTER TABLE tandem.schedules ALTER COLUMN created_at SET DEFAULT tandem.now();

-- The public functions that read the time, rewritten in place: each current definition (pg_get_functiondef, so
-- signature, SECURITY DEFINER, search_path, owner and grants all stay as they are) with now() read as tandem.now().
-- None of them compares heartbeats. Checked: each must have read now() before, and none may afterwards.
DO $$
DECLARE
    f   regprocedure;
    def text;
BEGIN
    FOREACH f IN ARRAY ARRAY[
            'tandem.enqueue_workflow(text, jsonb, text, text, int, text, text, interval, text, text)',
            'tandem.cancel_workflow(text)',
            'tandem.resume_workflow(text)',
            'tandem.delete_workflows(interval, int)',
            'tandem.set_workflow_version(text, text)']::regprocedure[] LOOP
        def := pg_get_functiondef(f);
        IF def !~ '(^|[^.\w])now\(\)' THEN
            RAISE EXCEPTION 'V11: % does not read now(); its rewrite is out of date', f;
        END IF;
        def := regexp_replace(def, '(^|[^.\w])now\(\)', '\1tandem.now()', 'g');
        EXECUTE def;
    END LOOP;
END;
$$;

-- The public view: "delayed until" compares with the workflow clock; whether an executor is live, with now().
DO $$
DECLARE
    def text := pg_get_viewdef('tandem.workflows'::regclass);
    rewritten text := replace(def, 'w.not_before > now()', 'w.not_before > tandem.now()');
BEGIN
    IF rewritten = def THEN
        RAISE EXCEPTION 'V11: tandem.workflows has no "w.not_before > now()"; its rewrite is out of date';
    END IF;
    EXECUTE 'CREATE OR REPLACE VIEW tandem.workflows AS ' || rewritten;
END;
$$;

INSERT INTO tandem.schema_version (version) VALUES (11);
