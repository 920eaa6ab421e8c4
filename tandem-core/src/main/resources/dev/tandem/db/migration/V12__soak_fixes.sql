-- Tandem schema, version 12: what `tandem-bench soak` found slowing down as tandem.workflow_status grows to millions of
-- rows (docs/scaling.md, "Soak"). (Version 11 is another feature's; versions are read from the file names.)

-- View tandem.stranded read every row of the table: its filter `status IN ('ENQUEUED', 'DELAYED', 'RUNNING')` matches no
-- index, so PostgreSQL scanned the whole table (every executor's stranded check, once a minute, and the operators' stuck
-- list). The same filter written as two arms lets it combine the partial indexes on live statuses
-- (workflow_status_queued_idx, workflow_status_running_idx) in a BitmapOr: its cost follows the live workflows, not the
-- table. Same columns, same rows.
CREATE OR REPLACE VIEW tandem.stranded AS
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
 WHERE (w.status IN ('ENQUEUED', 'DELAYED') OR w.status = 'RUNNING')   -- two arms: one per partial index
   AND NOT EXISTS (SELECT 1 FROM tandem.executors e
                    WHERE e.heartbeat_at > now() - interval '1 minute' AND w.name = ANY (e.workflow_names)
                      AND (w.app_version IS NULL OR w.app_version = e.app_version
                           OR w.app_version LIKE ANY (e.compatible_with)));

-- tandem.delete_workflows (retention) slowed down as the table grew, to one batch in over a second at 1 million rows:
-- after five calls on a connection PostgreSQL may plan its selection generically (without the cutoff and batch size),
-- and that plan turned the check for a live parent (NOT EXISTS) into a hashed subplan, which reads the whole table
-- to hash the live workflows' ids, once per batch of 1,000; the inflated cost also had every batch compiled by JIT
-- (hundreds of milliseconds). The parent's status is now read by a scalar subquery, which is always one probe of the
-- primary key per candidate; each batch is planned with its own cutoff and size (plan_cache_mode); JIT is off (a
-- batch is a short OLTP statement). Same conditions, same rows, same order.
CREATE OR REPLACE FUNCTION tandem.delete_workflows(older_than interval, batch_size int DEFAULT 1000) RETURNS int
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_custom_plan
SET jit = off
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
             WHERE o.created_at < tandem.now() - older_than AND o.updated_at < tandem.now() - older_than
               AND o.status IN ('SUCCESS', 'ERROR', 'CANCELLED', 'RETRIES_EXCEEDED')
               -- a parent that has not ended may still read this child's outcome (a parent that is gone: 'GONE')
               AND (o.parent_workflow_id IS NULL
                    OR coalesce((SELECT p.status FROM tandem.workflow_status p
                                  WHERE p.workflow_id = o.parent_workflow_id), 'GONE')
                       NOT IN ('ENQUEUED', 'DELAYED', 'RUNNING'))
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

-- The operators' counts (the dashboard asks for them with every list: how many workflows per status, for the whole
-- table or for one workflow name) read the whole table: 1.9 s at 5 million rows, and 1.6 GB read each time, which
-- pushes the engine's hot pages out of the cache; by name 0.9 s. With this index a count by name reads that name's
-- entries (2 ms for a name of 5,000 workflows), and the count of everything the index alone (35 MB at 5 million rows:
-- few distinct keys, so deduplication keeps it small), not the table. It costs one more index entry per insert and per
-- status change, which are not HOT updates anyway (status is in the partial indexes' predicates): measured in
-- docs/scaling.md. CONCURRENTLY is not possible in a migration's transaction; on a large table create it by hand first
-- (CREATE INDEX CONCURRENTLY IF NOT EXISTS ...), and the migration will find it.
CREATE INDEX IF NOT EXISTS workflow_status_name_status_idx ON tandem.workflow_status (name, status);

-- Autovacuum of the two tables that grow with every workflow. At PostgreSQL's defaults a table is vacuumed after 20% of
-- it is dead and analyzed after 10% changed: at 5 million workflows that is a million dead rows (retention's deletes,
-- and the old version left by every status change) and 3 million dead checkpoints before anything is reclaimed, and
-- tandem-bench soak --own-server saw autovacuum run once in the whole run. At 2% both tables are vacuumed about every
-- 100,000 workflows deleted or finished, and index-only scans (the operators' counts) find their pages all-visible.
-- This replaces any setting of these three parameters made on the tables by hand before.
ALTER TABLE tandem.workflow_status SET (autovacuum_vacuum_scale_factor = 0.02,
                                        autovacuum_vacuum_insert_scale_factor = 0.02,
                                        autovacuum_analyze_scale_factor = 0.02);
ALTER TABLE tandem.steps SET (autovacuum_vacuum_scale_factor = 0.02,
                              autovacuum_vacuum_insert_scale_factor = 0.02,
                              autovacuum_analyze_scale_factor = 0.02);

INSERT INTO tandem.schema_version (version) VALUES (12);
