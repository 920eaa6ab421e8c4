-- Tandem schema, version 10: a workflow's code can change safely while executions of it are in flight.
-- (Version 9 is another feature's; versions are read from the file names, so either may be applied first.)

-- ctx.patched("change-id") records which side of a code change an execution took: a PATCH checkpoint named after the
-- change, written by executions that reached that point on the new code. Replays of executions recorded before the
-- change find another checkpoint there and take the old path (docs/versioning.md).
ALTER TABLE tandem.steps DROP CONSTRAINT steps_kind_check;
ALTER TABLE tandem.steps ADD CONSTRAINT steps_kind_check
    CHECK (kind IN ('STEP', 'TRANSACTION', 'SLEEP', 'RECV', 'SEND', 'SET_EVENT', 'WRITE_STREAM', 'CHILD',
                    'CHILD_RESULT', 'PATCH'));

INSERT INTO tandem.schema_version (version) VALUES (10);
