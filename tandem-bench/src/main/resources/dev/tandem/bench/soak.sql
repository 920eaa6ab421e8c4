-- SQL of tandem-bench soak (dev.tandem.bench.SoakFill, SoakStats), in the format of tandem-core's queries.sql: a block
-- starts at "-- name: x".

-- name: fill
-- Workflows g = first .. last, one statement: their rows in tandem.workflow_status and, through the RETURNING of the
-- insert, their checkpoints in tandem.steps, written with every index present so that sizes and write costs are
-- those of a real table. The mix, per 10,000 workflows: 150 ERROR, 50 CANCELLED, 10 RETRIES_EXCEEDED, 1 ENQUEUED,
-- 1 DELAYED and 1 RUNNING whose executor is dead, the rest SUCCESS; names about half process_order, a quarter
-- send_email, 10% charge_card, 8% sync_inventory, 7% generate_invoice, 1.9% nightly_report, 0.1% refund; a third went through
-- queue 'default'; 2% are children of the workflow before them. A finished workflow has 3 checkpoints (quote,
-- charge, receipt; an ERROR one 2, the second with the error), a RUNNING one 1, a waiting one none.
-- Parameters: id prefix (of the parent), id prefix, creation time of workflow `first`, first, seconds between two
-- workflows, first, last.
WITH w AS (
    INSERT INTO tandem.workflow_status
        (workflow_id, name, status, queue_name, input, output, output_type, error, attempts, executor_id,
         created_at, updated_at, started_at, not_before, parent_workflow_id, owner_epoch, owner_incarnation,
         app_version)
    SELECT r.id, r.name, r.status,
           CASE WHEN r.g % 3 = 0 OR r.status IN ('ENQUEUED', 'DELAYED') THEN 'default' END,
           jsonb_build_object('order_id', r.g, 'customer', 'customer-' || (r.g % 50000), 'amount_cents',
                              100 + r.g % 99900),
           CASE WHEN r.status = 'SUCCESS' THEN to_jsonb('receipt ' || r.id || ': ' || (r.g % 999) || '.'
                                                       || lpad((r.g % 100)::text, 2, '0') || ' charged') END,
           CASE WHEN r.status = 'SUCCESS' THEN 'java.lang.String' END,
           CASE WHEN r.status IN ('ERROR', 'RETRIES_EXCEEDED') THEN r.error END,
           CASE WHEN r.status = 'RETRIES_EXCEEDED' THEN 101 ELSE 1 END,
           CASE WHEN r.status = 'RUNNING' THEN 'soak-dead-executor'
                WHEN r.status NOT IN ('ENQUEUED', 'DELAYED') THEN 'soak-executor-' || (r.g % 4) END,
           r.created_at,
           r.created_at + CASE WHEN r.status IN ('ENQUEUED', 'DELAYED', 'RUNNING') THEN interval '0'
                               ELSE interval '85 milliseconds' END,
           CASE WHEN r.g % 3 = 0 AND r.status NOT IN ('ENQUEUED', 'DELAYED')
                THEN r.created_at + interval '4 milliseconds' END,
           CASE WHEN r.status = 'DELAYED' THEN r.created_at + interval '30 days' END,
           CASE WHEN r.g % 50 = 1 THEN ? || (r.g - 1) END,
           1, '00000000-0000-4000-8000-00000000cafe'::uuid, 'soak-1'
      FROM (SELECT g, ? || g AS id,
                   ?::timestamptz + (g - ?) * ?::float8 * interval '1 second' AS created_at,
                   CASE WHEN g % 1000 < 15 THEN 'ERROR' WHEN g % 1000 < 20 THEN 'CANCELLED'
                        WHEN g % 1000 = 20 THEN 'RETRIES_EXCEEDED' WHEN g % 10000 = 21 THEN 'ENQUEUED'
                        WHEN g % 10000 = 22 THEN 'DELAYED' WHEN g % 10000 = 23 THEN 'RUNNING'
                        ELSE 'SUCCESS' END AS status,
                   -- (g + g / 1000) % 1000, not g % 1000, so that every status gets every name
                   CASE WHEN (g + g / 1000) % 1000 = 999 THEN 'refund'
                        WHEN (g + g / 1000) % 1000 >= 980 THEN 'nightly_report'
                        WHEN (g + g / 1000) % 100 < 50 THEN 'process_order'
                        WHEN (g + g / 1000) % 100 < 75 THEN 'send_email'
                        WHEN (g + g / 1000) % 100 < 85 THEN 'charge_card'
                        WHEN (g + g / 1000) % 100 < 93 THEN 'sync_inventory'
                        ELSE 'generate_invoice' END AS name,
                   jsonb_build_object('type', 'java.lang.IllegalStateException', 'message',
                                      'card declined for customer-' || (g % 50000),
                                      'stack', 'java.lang.IllegalStateException: card declined'
                                          || repeat(E'\n\tat com.example.payments.Gateway.charge(Gateway.java:'
                                                    || (g % 400) || ')', 6)) AS error
              FROM generate_series(?::bigint, ?::bigint) g) r
    RETURNING workflow_id, status, created_at, error
)
INSERT INTO tandem.steps (workflow_id, position, name, kind, output, output_type, error, started_at, finished_at)
SELECT w.workflow_id, p, (ARRAY['quote', 'charge', 'receipt'])[p], CASE WHEN p = 2 THEN 'TRANSACTION' ELSE 'STEP' END,
       CASE WHEN p = 1 THEN to_jsonb(100 + length(w.workflow_id) * 997 % 99900)
            WHEN p = 3 THEN to_jsonb('receipt ' || w.workflow_id) END,
       CASE WHEN p = 1 THEN 'java.lang.Integer' WHEN p = 3 THEN 'java.lang.String' END,
       CASE WHEN p = 2 AND w.status = 'ERROR' THEN w.error END,
       w.created_at + p * interval '20 milliseconds', w.created_at + p * interval '20 milliseconds'
                                                           + interval '3 milliseconds'
  FROM w
 CROSS JOIN LATERAL generate_series(1, CASE w.status WHEN 'SUCCESS' THEN 3 WHEN 'ERROR' THEN 2
                                                     WHEN 'ENQUEUED' THEN 0 WHEN 'DELAYED' THEN 0 ELSE 1 END) p;

-- name: deadExecutor
-- The executor of the RUNNING rows above: registered once, silent for a day.
INSERT INTO tandem.executors (executor_id, incarnation, hostname, pid, started_at, heartbeat_at, app_version)
VALUES ('soak-dead-executor', gen_random_uuid(), 'soak-host', 1, now() - interval '8 days', now() - interval '1 day',
        'soak-1')
ON CONFLICT (executor_id) DO NOTHING;

-- name: tableStats
-- Sizes and vacuum state of one table: heap bytes, bytes of all its indexes, live and dead tuples, rows deleted so far,
-- autovacuum runs, seconds since the last autovacuum (NULL: never).
SELECT pg_relation_size(c.oid), pg_indexes_size(c.oid), s.n_live_tup, s.n_dead_tup, s.n_tup_del, s.autovacuum_count,
       extract(epoch FROM now() - s.last_autovacuum)::float8
  FROM pg_class c
  JOIN pg_stat_user_tables s ON s.relid = c.oid
 WHERE c.oid = ?::regclass;

-- name: indexSizes
-- Every index of tandem.workflow_status and tandem.steps, with its size.
SELECT i.indexrelid::regclass::text, pg_relation_size(i.indexrelid)
  FROM pg_index i
 WHERE i.indrelid IN ('tandem.workflow_status'::regclass, 'tandem.steps'::regclass)
 ORDER BY i.indrelid, 1;

-- name: expired
-- Ended workflows older than the retention age: what retention still has to delete.
SELECT count(*)
  FROM tandem.workflow_status o
 WHERE o.created_at < now() - ?::interval AND o.updated_at < now() - ?::interval
   AND o.status IN ('SUCCESS', 'ERROR', 'CANCELLED', 'RETRIES_EXCEEDED');
