-- +goose Up
-- The audit log's gate was a table any statement could write: a row in
-- audit_gate let every UPDATE and DELETE through. There is no gate table
-- now. An entry may be updated only while it has no hash (the chain
-- backfill after migration 00008), and deleted only by audit_prune_chain,
-- called as a statement of its own: the trigger reads the call stack
-- (PG_CONTEXT) and lets a DELETE through only when its outermost frame is
-- that function. The function removes one chain's oldest entries and
-- records the checkpoint (the last removed entry's id and hash) in the
-- same statement, and atrium audit prune writes the audit.pruned entry
-- naming it; atrium audit verify flags a checkpoint without one.
--
-- The trade-off, with a single DATABASE_URL user that owns these tables:
-- that user can still drop or disable the triggers (DDL), call the
-- function directly, or, as a superuser, SET session_replication_role =
-- replica, which skips triggers. None of these can rewrite the hash
-- chain without the heads recorded elsewhere ('atrium audit head')
-- showing it, and verify names the break. SECURITY DEFINER would run the
-- function as the same owner, so it adds nothing here; a second role the
-- app does not connect as would, at the cost of a second credential.
DROP TRIGGER audit_logs_no_truncate ON audit_logs;
DROP TRIGGER audit_logs_append_only ON audit_logs;
DROP FUNCTION audit_logs_append_only();
DROP TABLE audit_gate;
-- +goose StatementBegin
CREATE FUNCTION audit_prune_chain(chain BIGINT, last_id BIGINT) RETURNS BIGINT AS $$
DECLARE
    last_hash TEXT;
    removed   BIGINT;
BEGIN
    SELECT hash INTO last_hash FROM audit_logs WHERE id = last_id AND COALESCE(workspace_id, 0) = chain;
    IF last_hash IS NULL THEN
        RAISE EXCEPTION 'audit entry % is not in the chain of workspace %', last_id, chain;
    END IF;
    UPDATE audit_chains SET pruned_id = last_id, pruned_hash = last_hash WHERE workspace_id = chain;
    IF chain = 0 THEN
        DELETE FROM audit_logs WHERE workspace_id IS NULL AND id <= last_id;
    ELSE
        DELETE FROM audit_logs WHERE workspace_id = chain AND id <= last_id;
    END IF;
    GET DIAGNOSTICS removed = ROW_COUNT;
    RETURN removed;
END
$$ LANGUAGE plpgsql;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE FUNCTION audit_logs_append_only() RETURNS trigger AS $$
DECLARE
    stack TEXT;
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.hash = '' THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'DELETE' THEN
        GET DIAGNOSTICS stack = PG_CONTEXT;
        IF stack ~ E'\nPL/pgSQL function audit_prune_chain\\(bigint,bigint\\) line [0-9]+ at SQL statement$' THEN
            RETURN OLD;
        END IF;
    END IF;
    RAISE EXCEPTION 'audit_logs is append-only (atrium audit prune removes old entries)';
END
$$ LANGUAGE plpgsql;
-- +goose StatementEnd
CREATE TRIGGER audit_logs_append_only BEFORE UPDATE OR DELETE ON audit_logs
    FOR EACH ROW EXECUTE FUNCTION audit_logs_append_only();
CREATE TRIGGER audit_logs_no_truncate BEFORE TRUNCATE ON audit_logs
    FOR EACH STATEMENT EXECUTE FUNCTION audit_logs_append_only();

-- +goose Down
DROP TRIGGER audit_logs_no_truncate ON audit_logs;
DROP TRIGGER audit_logs_append_only ON audit_logs;
DROP FUNCTION audit_logs_append_only();
DROP FUNCTION audit_prune_chain(BIGINT, BIGINT);
CREATE TABLE audit_gate (reason TEXT NOT NULL);
-- +goose StatementBegin
CREATE FUNCTION audit_logs_append_only() RETURNS trigger AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM audit_gate) THEN
        RAISE EXCEPTION 'audit_logs is append-only (atrium audit prune removes old entries)';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
-- +goose StatementEnd
CREATE TRIGGER audit_logs_append_only BEFORE UPDATE OR DELETE ON audit_logs
    FOR EACH ROW EXECUTE FUNCTION audit_logs_append_only();
CREATE TRIGGER audit_logs_no_truncate BEFORE TRUNCATE ON audit_logs
    FOR EACH STATEMENT EXECUTE FUNCTION audit_logs_append_only();
