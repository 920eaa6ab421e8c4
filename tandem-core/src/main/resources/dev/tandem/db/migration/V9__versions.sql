-- Tandem schema, version 9: application versions. A workflow records the version of the code that first ran it; it
-- is recovered, dequeued and resumed only by an executor whose version can run it (the same, or one that declares
-- it compatible); a workflow that no live executor can run is listed in view tandem.stranded, never skipped in
-- silence.

-- The version that first ran the workflow (set by the start or by the first claim). NULL: it has not run yet, so any
-- executor that registered its name may start it (nothing recorded can disagree with the code).
ALTER TABLE tandem.workflow_status ADD COLUMN app_version text;

-- An executor's version, and the versions it declares it can also run, as LIKE patterns ('2026.11.%'; the engine
-- turns its compatibleWith("2026.11.*") into them, escaping % and _).
ALTER TABLE tandem.executors ADD COLUMN app_version text;
ALTER TABLE tandem.executors ADD COLUMN compatible_with text[] NOT NULL DEFAULT '{}';

-- Public view (adds app_version at the end; every earlier column as before).
CREATE OR REPLACE VIEW tandem.workflows AS
SELECT w.workflow_id, w.name, w.status, w.queue_name, w.input, w.output, w.error, w.attempts, w.executor_id,
       w.created_at, w.updated_at, w.priority, w.deduplication_id, w.partition_key, w.not_before, w.started_at,
       CASE
           WHEN w.status NOT IN ('ENQUEUED', 'DELAYED') THEN NULL
           WHEN NOT EXISTS (SELECT 1 FROM tandem.executors e
                             WHERE e.heartbeat_at > now() - interval '1 minute' AND w.name = ANY (e.workflow_names))
               THEN 'no running executor has registered workflow ''' || w.name || ''''
           WHEN w.app_version IS NOT NULL
                AND NOT EXISTS (SELECT 1 FROM tandem.executors e
                                 WHERE e.heartbeat_at > now() - interval '1 minute' AND w.name = ANY (e.workflow_names)
                                   AND (w.app_version = e.app_version OR w.app_version LIKE ANY (e.compatible_with)))
               THEN 'no running executor runs version ' || w.app_version || ' of workflow ''' || w.name || ''''
           WHEN w.not_before > now() THEN 'delayed until ' || w.not_before
           ELSE 'waiting for a free slot in queue ''' || w.queue_name || ''''
       END AS waiting_reason,
       w.parent_workflow_id, w.forked_from, w.deadline_at, w.app_version
FROM tandem.workflow_status w;

-- Public view: workflows that have not ended and that no live executor (heartbeat in the last minute) can run,
-- with why. A RUNNING workflow counts when its executor is gone, or cannot run its version: nobody will continue it.
-- Operators move them (tandem.set_workflow_version), fork them onto new code (tandem.fork_workflow), or cancel them.
CREATE VIEW tandem.stranded AS
SELECT w.workflow_id, w.name, w.status, w.app_version,
       CASE
           WHEN NOT EXISTS (SELECT 1 FROM tandem.executors e
                             WHERE e.heartbeat_at > now() - interval '1 minute' AND w.name = ANY (e.workflow_names))
               THEN 'no live executor registered workflow ''' || w.name || ''''
           ELSE 'no live executor runs version ' || w.app_version || ' of workflow ''' || w.name || ''' (live: '
                || (SELECT string_agg(DISTINCT coalesce(e.app_version, 'unversioned'), ', ')
                      FROM tandem.executors e
                     WHERE e.heartbeat_at > now() - interval '1 minute' AND w.name = ANY (e.workflow_names))
                || ')'
       END AS reason
  FROM tandem.workflow_status w
 WHERE w.status IN ('ENQUEUED', 'DELAYED', 'RUNNING')
   AND NOT EXISTS (SELECT 1 FROM tandem.executors e
                    WHERE e.heartbeat_at > now() - interval '1 minute' AND w.name = ANY (e.workflow_names)
                      AND (w.app_version IS NULL OR w.app_version = e.app_version
                           OR w.app_version LIKE ANY (e.compatible_with)));

-- Public API. Moves a workflow to another application version (or to none: NULL lets any executor that registered
-- its name run it), at the operator's risk: the new version's code replays its recorded checkpoints, and a change
-- that does not follow them ends it in a non-determinism error. Wakes the queue for a waiting workflow; a RUNNING one
-- whose executor is gone is recovered at the next maintenance round.
-- Called by: operators, Tandem.setWorkflowVersion. Locks: the workflow's row.
CREATE FUNCTION tandem.set_workflow_version(workflow_id text, app_version text) RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_queue text;
BEGIN
    IF workflow_id IS NULL THEN
        RAISE EXCEPTION 'tandem.set_workflow_version: workflow_id must not be null' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF app_version IS NOT NULL AND btrim(app_version) = '' THEN
        RAISE EXCEPTION 'tandem.set_workflow_version: app_version must not be empty (pass NULL for any version)'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    UPDATE tandem.workflow_status w
       SET app_version = set_workflow_version.app_version, updated_at = now()
     WHERE w.workflow_id = set_workflow_version.workflow_id
    RETURNING w.queue_name INTO v_queue;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'tandem.set_workflow_version: workflow "%" does not exist', workflow_id
            USING ERRCODE = 'no_data_found';
    END IF;
    IF v_queue IS NOT NULL THEN
        PERFORM pg_notify('tandem_queue', v_queue);
    END IF;
END;
$$;

REVOKE ALL ON FUNCTION tandem.set_workflow_version(text, text) FROM PUBLIC;

INSERT INTO tandem.schema_version (version) VALUES (9);
