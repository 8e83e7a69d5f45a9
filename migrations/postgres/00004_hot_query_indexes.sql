-- +goose Up
-- Every query a page view runs reads an index in the order it returns rows
-- (internal/store/queries.go lists them; plan_test.go checks each plan).

-- The audit log, newest first, by workspace and by each filter the audit
-- page offers; a date range is a range on created_at, the id breaks ties.
DROP INDEX audit_logs_workspace_created_idx;
CREATE INDEX audit_logs_workspace_created_idx ON audit_logs (workspace_id, created_at, id);
CREATE INDEX audit_logs_workspace_actor_idx ON audit_logs (workspace_id, actor_user_id, created_at, id);
CREATE INDEX audit_logs_workspace_action_idx ON audit_logs (workspace_id, action, created_at, id);

-- The members page: owners, then admins, then members, in joining order.
CREATE INDEX memberships_workspace_rank_idx ON memberships
    (workspace_id, (CASE role WHEN 'owner' THEN 0 WHEN 'admin' THEN 1 ELSE 2 END), id);

-- A workspace's pending invites, newest first; those not yet expired, counted
-- from the index alone.
CREATE INDEX invites_pending_created_idx ON invites (workspace_id, created_at, id) WHERE status = 'pending';
CREATE INDEX invites_pending_expires_idx ON invites (workspace_id, expires_at) WHERE status = 'pending';

-- Due mail in the order the worker sends it; the latest mail of an invite.
DROP INDEX mail_outbox_due_idx;
CREATE INDEX mail_outbox_due_idx ON mail_outbox (status, next_attempt_at, id);
DROP INDEX mail_outbox_ref_idx;
CREATE INDEX mail_outbox_ref_idx ON mail_outbox (ref, id);

-- Each workspace's member count, kept by a trigger (cascades included), so
-- pages read one row instead of counting every membership.
ALTER TABLE workspaces ADD COLUMN members_count INTEGER NOT NULL DEFAULT 0;
UPDATE workspaces w SET members_count = (SELECT COUNT(*) FROM memberships m WHERE m.workspace_id = w.id);
-- +goose StatementBegin
CREATE FUNCTION memberships_count() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE workspaces SET members_count = members_count + 1 WHERE id = NEW.workspace_id;
    ELSE
        UPDATE workspaces SET members_count = members_count - 1 WHERE id = OLD.workspace_id;
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
-- +goose StatementEnd
CREATE TRIGGER memberships_count AFTER INSERT OR DELETE ON memberships
    FOR EACH ROW EXECUTE FUNCTION memberships_count();

-- +goose Down
DROP TRIGGER memberships_count ON memberships;
DROP FUNCTION memberships_count();
ALTER TABLE workspaces DROP COLUMN members_count;
DROP INDEX mail_outbox_ref_idx;
CREATE INDEX mail_outbox_ref_idx ON mail_outbox (ref);
DROP INDEX mail_outbox_due_idx;
CREATE INDEX mail_outbox_due_idx ON mail_outbox (status, next_attempt_at);
DROP INDEX invites_pending_expires_idx;
DROP INDEX invites_pending_created_idx;
DROP INDEX memberships_workspace_rank_idx;
DROP INDEX audit_logs_workspace_action_idx;
DROP INDEX audit_logs_workspace_actor_idx;
DROP INDEX audit_logs_workspace_created_idx;
CREATE INDEX audit_logs_workspace_created_idx ON audit_logs (workspace_id, created_at);
