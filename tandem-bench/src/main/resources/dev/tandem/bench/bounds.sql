-- SQL of tandem-bench bounds (dev.tandem.bench.BoundsBench), in the format of tandem-core's queries.sql: a block
-- starts at "-- name: x". The "tables" block creates what the scripts write; each other block is a whole pgbench
-- script (one SQL command a line; whole, so that it also runs by hand with pgbench -f, which is why they repeat
-- their first lines) that runs the payments workflow of tandem-bench payments once: step quote, transactional
-- step charge (the application's insert and update), step receipt, whose output is the result. From "bare" to
-- "floor", each script adds one thing a durable engine needs, in the order docs/performance.md explains.
-- Ids are random 63-bit numbers: a repeat among a few million is as good as impossible.

-- name: tables
CREATE SCHEMA IF NOT EXISTS bench_bounds;
DROP TABLE IF EXISTS bench_bounds.ideal_workflows, bench_bounds.ideal_checkpoints, bench_bounds.workflows,
    bench_bounds.checkpoints, bench_bounds.step_rows;
CREATE TABLE bench_bounds.ideal_workflows (id text PRIMARY KEY, status text NOT NULL, input jsonb, output jsonb)
    WITH (fillfactor = 50);
CREATE TABLE bench_bounds.ideal_checkpoints (workflow_id text, commit_no int, steps jsonb NOT NULL,
    PRIMARY KEY (workflow_id, commit_no));
CREATE TABLE bench_bounds.workflows (id text PRIMARY KEY, status text NOT NULL, owner text, input jsonb,
    output jsonb) WITH (fillfactor = 50);
CREATE INDEX ON bench_bounds.workflows (owner) WHERE status = 'RUNNING';
CREATE TABLE bench_bounds.checkpoints (workflow_id text, commit_no int, steps jsonb NOT NULL,
    PRIMARY KEY (workflow_id, commit_no));
CREATE TABLE bench_bounds.step_rows (workflow_id text, position int, output jsonb,
    PRIMARY KEY (workflow_id, position));

-- name: truncate
TRUNCATE bench_payments, bench_bounds.ideal_workflows, bench_bounds.ideal_checkpoints, bench_bounds.workflows,
    bench_bounds.checkpoints, bench_bounds.step_rows, tandem.workflow_status, tandem.steps;

-- name: bare
-- The application's transaction alone: no durability bookkeeping.
\set acct random(0, 99)
\set cents random(100, 100000)
BEGIN;
INSERT INTO bench_payments (account_id, amount_cents, ref) VALUES (:acct, :cents, 'pay-1000008');
UPDATE bench_accounts SET balance = balance + :cents WHERE id = :acct;
COMMIT;

-- name: ideal
-- The fewest writes that keep the durability guarantees: the workflow's row and one checkpoint for quote and charge
-- in charge's commit; the result in a HOT update. Primary keys only; no read first; nothing to find live workflows by.
\set acct random(0, 99)
\set cents random(100, 100000)
\set wid random(1, 9000000000000000000)
BEGIN;
INSERT INTO bench_payments (account_id, amount_cents, ref) VALUES (:acct, :cents, 'pay-1000008');
UPDATE bench_accounts SET balance = balance + :cents WHERE id = :acct;
WITH started AS (INSERT INTO bench_bounds.ideal_workflows (id, status, input) VALUES ('b-' || :wid, 'RUNNING', '1000008')) INSERT INTO bench_bounds.ideal_checkpoints (workflow_id, commit_no, steps) VALUES ('b-' || :wid, 1, '[{"step": "quote", "output": 48588}, {"step": "charge", "output": null}]');
COMMIT;
UPDATE bench_bounds.ideal_workflows SET status = 'SUCCESS', output = '"receipt pay-1000008: 485.88 charged to account 8"' WHERE id = 'b-' || :wid;

-- name: owner_index
-- + an owner, indexed while RUNNING: recovery finds a dead executor's workflows without reading finished ones.
-- The final update is then no longer HOT (status is in the index's predicate).
\set acct random(0, 99)
\set cents random(100, 100000)
\set wid random(1, 9000000000000000000)
BEGIN;
INSERT INTO bench_payments (account_id, amount_cents, ref) VALUES (:acct, :cents, 'pay-1000008');
UPDATE bench_accounts SET balance = balance + :cents WHERE id = :acct;
WITH started AS (INSERT INTO bench_bounds.workflows (id, status, owner, input) VALUES ('b-' || :wid, 'RUNNING', 'bounds', '1000008')) INSERT INTO bench_bounds.checkpoints (workflow_id, commit_no, steps) VALUES ('b-' || :wid, 1, '[{"step": "quote", "output": 48588}, {"step": "charge", "output": null}]');
COMMIT;
UPDATE bench_bounds.workflows SET status = 'SUCCESS', output = '"receipt pay-1000008: 485.88 charged to account 8"' WHERE id = 'b-' || :wid;

-- name: minimal
-- + the read Workflow.run makes first: an id that exists runs nothing again, not even a plain step. This is
-- tandem-bench payments' "minimal": the least any schema can write for Tandem's guarantees.
\set acct random(0, 99)
\set cents random(100, 100000)
\set wid random(1, 9000000000000000000)
SELECT 1 FROM bench_bounds.workflows WHERE id = 'b-' || :wid;
BEGIN;
INSERT INTO bench_payments (account_id, amount_cents, ref) VALUES (:acct, :cents, 'pay-1000008');
UPDATE bench_accounts SET balance = balance + :cents WHERE id = :acct;
WITH started AS (INSERT INTO bench_bounds.workflows (id, status, owner, input) VALUES ('b-' || :wid, 'RUNNING', 'bounds', '1000008')) INSERT INTO bench_bounds.checkpoints (workflow_id, commit_no, steps) VALUES ('b-' || :wid, 1, '[{"step": "quote", "output": 48588}, {"step": "charge", "output": null}]');
COMMIT;
UPDATE bench_bounds.workflows SET status = 'SUCCESS', output = '"receipt pay-1000008: 485.88 charged to account 8"' WHERE id = 'b-' || :wid;

-- name: step_rows
-- + a row per step (what a step-by-step history, replay from any step and fork read), narrow ones.
\set acct random(0, 99)
\set cents random(100, 100000)
\set wid random(1, 9000000000000000000)
SELECT 1 FROM bench_bounds.workflows WHERE id = 'b-' || :wid;
BEGIN;
INSERT INTO bench_payments (account_id, amount_cents, ref) VALUES (:acct, :cents, 'pay-1000008');
UPDATE bench_accounts SET balance = balance + :cents WHERE id = :acct;
WITH started AS (INSERT INTO bench_bounds.workflows (id, status, owner, input) VALUES ('b-' || :wid, 'RUNNING', 'bounds', '1000008')) INSERT INTO bench_bounds.step_rows (workflow_id, position, output) VALUES ('b-' || :wid, 1, '48588'), ('b-' || :wid, 2, 'null');
COMMIT;
WITH receipt AS (INSERT INTO bench_bounds.step_rows (workflow_id, position, output) VALUES ('b-' || :wid, 3, '"receipt pay-1000008: 485.88 charged to account 8"')) UPDATE bench_bounds.workflows SET status = 'SUCCESS', output = '"receipt pay-1000008: 485.88 charged to account 8"' WHERE id = 'b-' || :wid;

-- name: floor
-- Tandem's own tables, with all their columns, constraints and indexes: tandem-bench payments' "floor" statements.
\set acct random(0, 99)
\set cents random(100, 100000)
\set wid random(1, 9000000000000000000)
SELECT 1 FROM tandem.workflow_status WHERE workflow_id = 'b-' || :wid;
BEGIN;
INSERT INTO bench_payments (account_id, amount_cents, ref) VALUES (:acct, :cents, 'pay-1000008');
UPDATE bench_accounts SET balance = balance + :cents WHERE id = :acct;
WITH started AS (INSERT INTO tandem.workflow_status (workflow_id, name, status, input, executor_id, owner_epoch) VALUES ('b-' || :wid, 'payments', 'RUNNING', '1000008', 'bounds', 1)) INSERT INTO tandem.steps (workflow_id, position, name, kind, output, output_type, started_at) VALUES ('b-' || :wid, 1, 'quote', 'STEP', '48588', 'java.lang.Integer', now()), ('b-' || :wid, 2, 'charge', 'TRANSACTION', 'null', NULL, now());
COMMIT;
WITH receipt AS (INSERT INTO tandem.steps (workflow_id, position, name, kind, output, output_type, started_at) VALUES ('b-' || :wid, 3, 'receipt', 'STEP', '"receipt pay-1000008: 485.88 charged to account 8"', 'java.lang.String', now())) UPDATE tandem.workflow_status SET status = 'SUCCESS', output = '"receipt pay-1000008: 485.88 charged to account 8"', output_type = 'java.lang.String', updated_at = now() WHERE workflow_id = 'b-' || :wid;
