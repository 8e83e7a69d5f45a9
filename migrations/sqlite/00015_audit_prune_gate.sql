-- +goose Up
-- The audit log's gate was a table any statement could write: a row in
-- audit_gate let every UPDATE and DELETE through. There is no gate table
-- now. An entry may be updated only while it has no hash (the chain
-- backfill after migration 00008), and deleted only up to its chain's
-- checkpoint (audit_chains.pruned_id), which atrium audit prune moves in
-- the same transaction as it writes the audit.pruned entry naming it;
-- atrium audit verify flags a checkpoint without one.
--
-- The trade-off: SQLite has no users. Any process that can write the file
-- can drop these triggers or edit the file directly, so they only stop
-- mistakes. The protection is the hash chain with its heads recorded
-- elsewhere ('atrium audit head'): no change escapes verify, and no
-- rewrite of a whole chain escapes a comparison with those heads.
DROP TRIGGER audit_logs_no_update;
DROP TRIGGER audit_logs_no_delete;
DROP TABLE audit_gate;
-- +goose StatementBegin
CREATE TRIGGER audit_logs_no_update BEFORE UPDATE ON audit_logs
WHEN OLD.hash <> '' BEGIN
    SELECT RAISE(ABORT, 'audit_logs is append-only (atrium audit prune removes old entries)');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER audit_logs_no_delete BEFORE DELETE ON audit_logs
WHEN OLD.id > COALESCE((SELECT pruned_id FROM audit_chains WHERE workspace_id = COALESCE(OLD.workspace_id, 0)), 0) BEGIN
    SELECT RAISE(ABORT, 'audit_logs is append-only (atrium audit prune removes old entries)');
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER audit_logs_no_delete;
DROP TRIGGER audit_logs_no_update;
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
