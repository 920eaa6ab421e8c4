-- Tandem schema, version 7: the operators' audit log. Every action taken through the admin API, the dashboard or
-- the CLI (cancel, resume, fork, restart, send, bulk actions, schedule changes) writes one row here, in the same
-- transaction as the action, so an action is logged if and only if it happened.

CREATE TABLE tandem.audit_log (
    id       bigserial PRIMARY KEY,
    at       timestamptz NOT NULL DEFAULT now(),
    actor    text NOT NULL,     -- who: the token's or the authenticator's principal, or the CLI's OS user
    source   text NOT NULL,     -- where from: 'api' or 'cli'
    action   text NOT NULL,     -- e.g. 'workflow.cancel', 'workflows.bulk-resume', 'schedule.pause'
    target   text,              -- the workflow id or schedule name; NULL for a bulk action
    details  jsonb,             -- the action's arguments (a bulk action's filter) and what it changed
    outcome  text NOT NULL      -- what happened, in words: 'cancelled', 'already ended', '17 resumed'
);

CREATE INDEX audit_log_at_idx ON tandem.audit_log (at);

INSERT INTO tandem.schema_version (version) VALUES (7);
