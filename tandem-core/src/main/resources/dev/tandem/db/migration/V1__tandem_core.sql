-- Tandem schema, version 1: workflows, their step checkpoints, and the executors that run them.
-- Applied by Tandem on start (under an advisory lock) or by your own migration tool (Flyway, Liquibase):
-- the file records its own version in tandem.schema_version either way.

CREATE SCHEMA IF NOT EXISTS tandem;

CREATE TABLE IF NOT EXISTS tandem.schema_version (
    version    int PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now(),
    checksum   text  -- SHA-256 of the file, when Tandem applied it; a file changed since then is refused at start
);

-- One row per workflow execution. workflow_id is the caller's idempotency key.
CREATE TABLE tandem.workflow_status (
    workflow_id text PRIMARY KEY,
    name        text NOT NULL,
    status      text NOT NULL CHECK (status IN ('ENQUEUED', 'DELAYED', 'RUNNING', 'SUCCESS', 'ERROR',
                                                'CANCELLED', 'RETRIES_EXCEEDED')),
    queue_name  text,
    input       jsonb,
    output      jsonb,
    output_type text,          -- Java class of output, so a replay or a remote handle can rebuild it
    error       jsonb,         -- {"type": ..., "message": ..., "stack": ...} when status is ERROR
    attempts    int NOT NULL DEFAULT 1,   -- 1 + number of recoveries
    executor_id text,          -- the executor that owns the RUNNING execution
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Recovery looks for RUNNING workflows by owner; finished workflows are not indexed here. Every index on this table
-- makes each status change write more, so there are as few as possible.
CREATE INDEX workflow_status_running_idx ON tandem.workflow_status (executor_id) WHERE status = 'RUNNING';

-- One row per completed step (checkpoint). The primary key is what makes a step exactly-once:
-- two executions racing on the same step cannot both commit its checkpoint. There is deliberately
-- no foreign key to workflow_status: its check would lock the workflow row on every checkpoint.
CREATE TABLE tandem.steps (
    workflow_id text NOT NULL,
    position    int  NOT NULL,
    name        text NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('STEP', 'TRANSACTION')),
    output      jsonb,
    output_type text,
    error       jsonb,
    started_at  timestamptz NOT NULL,
    finished_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workflow_id, position)
);

-- Live engine processes. An executor whose heartbeat is older than the timeout is presumed dead
-- and its RUNNING workflows are taken over by another executor (or its own next incarnation).
CREATE TABLE tandem.executors (
    executor_id  text PRIMARY KEY,
    incarnation  uuid NOT NULL,
    hostname     text,
    pid          bigint,
    started_at   timestamptz NOT NULL DEFAULT now(),
    heartbeat_at timestamptz NOT NULL DEFAULT now()
);

CREATE VIEW tandem.workflows AS
SELECT workflow_id, name, status, queue_name, input, output, error, attempts, executor_id, created_at, updated_at
FROM tandem.workflow_status;

INSERT INTO tandem.schema_version (version) VALUES (1);
