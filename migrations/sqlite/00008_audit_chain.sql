-- +goose Up
-- The audit log keeps who acted as they were then (email and name), and
-- links each entry to the one before it in its chain (one chain per
-- workspace, one for entries without a workspace) by SHA-256:
-- hash = SHA-256(prev_hash || canonical encoding), see app.AuditCanonical.
-- Existing entries are hashed by the binary right after this migration.
ALTER TABLE audit_logs ADD COLUMN actor_email TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_logs ADD COLUMN actor_name TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_logs ADD COLUMN prev_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_logs ADD COLUMN hash TEXT NOT NULL DEFAULT '';
-- The action's family (app's catalog), for the audit page's family filter,
-- read from an index in the page's order like the other filters.
ALTER TABLE audit_logs ADD COLUMN family TEXT NOT NULL DEFAULT '';
CREATE INDEX audit_logs_workspace_family_idx ON audit_logs (workspace_id, family, created_at, id);
UPDATE audit_logs SET
    actor_email = COALESCE((SELECT email FROM users WHERE users.id = audit_logs.actor_user_id), ''),
    actor_name = COALESCE((SELECT name FROM users WHERE users.id = audit_logs.actor_user_id), '')
WHERE actor_user_id IS NOT NULL;

-- Everyone who has acted in a workspace, members and former members alike,
-- as last recorded: the audit page's person filter. Each append keeps it.
CREATE TABLE audit_actors (
    workspace_id INTEGER NOT NULL,
    user_id      INTEGER NOT NULL,
    email        TEXT NOT NULL DEFAULT '',
    name         TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (workspace_id, user_id)
);
INSERT INTO audit_actors (workspace_id, user_id, email, name)
SELECT workspace_id, actor_user_id, MAX(actor_email), MAX(actor_name) FROM audit_logs
WHERE workspace_id IS NOT NULL AND actor_user_id IS NOT NULL GROUP BY workspace_id, actor_user_id;

-- The head of each chain (workspace_id 0: entries without a workspace).
-- An append reads and moves its chain's head in the writing transaction.
CREATE TABLE audit_chains (
    workspace_id INTEGER PRIMARY KEY,
    head_id      INTEGER NOT NULL DEFAULT 0,
    head_hash    TEXT    NOT NULL DEFAULT '',
    pruned_id    INTEGER NOT NULL DEFAULT 0,
    pruned_hash  TEXT    NOT NULL DEFAULT ''
);

-- The log is append-only: UPDATE and DELETE are refused unless the
-- writing transaction holds a row in audit_gate, which only the sanctioned
-- prune and the chain backfill insert (and remove before committing).
CREATE TABLE audit_gate (reason TEXT NOT NULL);
-- +goose StatementBegin
CREATE TRIGGER audit_logs_no_update BEFORE UPDATE ON audit_logs
WHEN NOT EXISTS (SELECT 1 FROM audit_gate) BEGIN
    SELECT RAISE(ABORT, 'audit_logs is append-only (atrium audit prune removes old entries)');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER audit_logs_no_delete BEFORE DELETE ON audit_logs
WHEN NOT EXISTS (SELECT 1 FROM audit_gate) BEGIN
    SELECT RAISE(ABORT, 'audit_logs is append-only (atrium audit prune removes old entries)');
END;
-- +goose StatementEnd

-- +goose Down
DROP TABLE audit_actors;
DROP TRIGGER audit_logs_no_delete;
DROP TRIGGER audit_logs_no_update;
DROP TABLE audit_gate;
DROP TABLE audit_chains;
DROP INDEX audit_logs_workspace_family_idx;
ALTER TABLE audit_logs DROP COLUMN family;
ALTER TABLE audit_logs DROP COLUMN hash;
ALTER TABLE audit_logs DROP COLUMN prev_hash;
ALTER TABLE audit_logs DROP COLUMN actor_name;
ALTER TABLE audit_logs DROP COLUMN actor_email;
