-- Tandem schema, version 5: ownership epochs, reconciliation of an executor's own rows, when each workflow name was
-- last registered, and an ownership fence that holds at every isolation level.

-- Every change of owner of a RUNNING workflow (start, claim from a queue, recovery, reconciliation) increments
-- owner_epoch, and an execution writes only while the row still carries the epoch it was given: two processes
-- started with the same executorId, or an execution of a workflow that was cancelled and resumed meanwhile, cannot
-- pass each other's fence. owner_incarnation names the process (one Tandem instance) that took the row, so that an
-- executor reconciles only the rows it took itself.
ALTER TABLE tandem.workflow_status
    ADD COLUMN owner_epoch       bigint NOT NULL DEFAULT 0,
    ADD COLUMN owner_incarnation uuid;

-- When each workflow name was last registered by a live executor. A waiting workflow fails as "unknown" only when no
-- executor has registered its name for unknownWorkflowTimeout: a redeploy (executors stopped for a moment) does not
-- fail another service's backlog.
CREATE TABLE tandem.workflow_names (
    name               text PRIMARY KEY,
    last_registered_at timestamptz NOT NULL
);
INSERT INTO tandem.workflow_names (name, last_registered_at)
SELECT n.name, max(greatest(e.started_at, e.heartbeat_at))
  FROM tandem.executors e, unnest(e.workflow_names) AS n(name)
 GROUP BY n.name;

-- Internal. Guards the checkpoint inserts of a transactional step and of a receive (they run in the application's
-- transaction, or in the receive's statement): they commit only while `p_executor_id` owns the RUNNING workflow with
-- ownership epoch `p_epoch`; raises SQLSTATE TD001 otherwise. The row is locked FOR SHARE, so the check holds at
-- every isolation level: a cancel or takeover that commits first makes it fail (READ COMMITTED re-reads the row;
-- REPEATABLE READ and SERIALIZABLE raise a serialization failure, and the step is retried), and one that comes later
-- waits for the step's commit. The lock wait is bounded, so an application transaction that holds the row (an
-- uncommitted tandem.cancel_workflow) delays only this workflow, and the engine retries.
-- Called by: the engine, once per checkpoint row. Locks: the workflow's row, FOR SHARE.
CREATE FUNCTION tandem.check_owner(p_workflow_id text, p_executor_id text, p_epoch bigint) RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '5s'
AS $$
BEGIN
    PERFORM 1 FROM tandem.workflow_status w
     WHERE w.workflow_id = p_workflow_id AND w.status = 'RUNNING' AND w.executor_id = p_executor_id
       AND w.owner_epoch = p_epoch
       FOR SHARE OF w;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'workflow "%" is no longer RUNNING on executor "%" with ownership epoch % (cancelled, or taken over)',
            p_workflow_id, p_executor_id, p_epoch USING ERRCODE = 'TD001';
    END IF;
    RETURN true;
END;
$$;

INSERT INTO tandem.schema_version (version) VALUES (5);
