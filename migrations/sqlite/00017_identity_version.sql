-- +goose Up
-- Who is asking, kept between requests: each server keeps a signed-in
-- person's session, account, workspaces and roles in memory and checks on
-- every request that users.auth_version has not moved. These triggers move
-- it in the same transaction as every change to what is kept, whatever
-- code makes the change: a session ended or its second factor verified,
-- the account's name, email, time zone or two-step setting, a membership
-- added, removed or its role changed, and a workspace's name, address,
-- plan, billing state or two-step rule (for all its members). A session's
-- renewal and a workspace's member count do not move it.
ALTER TABLE users ADD COLUMN auth_version INTEGER NOT NULL DEFAULT 1;

-- +goose StatementBegin
CREATE TRIGGER users_auth_version AFTER UPDATE OF email, name, time_zone, two_factor ON users
WHEN OLD.email IS NOT NEW.email OR OLD.name IS NOT NEW.name OR OLD.time_zone IS NOT NEW.time_zone
    OR OLD.two_factor IS NOT NEW.two_factor
BEGIN
    UPDATE users SET auth_version = auth_version + 1 WHERE id = NEW.id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER sessions_auth_version_update AFTER UPDATE OF token_hash, user_id, second_factor, verified_at ON sessions
BEGIN
    UPDATE users SET auth_version = auth_version + 1 WHERE id IN (OLD.user_id, NEW.user_id);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER sessions_auth_version_delete AFTER DELETE ON sessions
BEGIN
    UPDATE users SET auth_version = auth_version + 1 WHERE id = OLD.user_id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER memberships_auth_version_insert AFTER INSERT ON memberships
BEGIN
    UPDATE users SET auth_version = auth_version + 1 WHERE id = NEW.user_id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER memberships_auth_version_update AFTER UPDATE OF workspace_id, user_id, role ON memberships
BEGIN
    UPDATE users SET auth_version = auth_version + 1 WHERE id IN (OLD.user_id, NEW.user_id);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER memberships_auth_version_delete AFTER DELETE ON memberships
BEGIN
    UPDATE users SET auth_version = auth_version + 1 WHERE id = OLD.user_id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER workspaces_auth_version AFTER UPDATE OF name, slug, plan, subscription_status,
    stripe_customer_id, stripe_subscription_id, current_period_end, cancel_at_period_end, require_two_factor
    ON workspaces
WHEN OLD.name IS NOT NEW.name OR OLD.slug IS NOT NEW.slug OR OLD.plan IS NOT NEW.plan
    OR OLD.subscription_status IS NOT NEW.subscription_status
    OR OLD.stripe_customer_id IS NOT NEW.stripe_customer_id
    OR OLD.stripe_subscription_id IS NOT NEW.stripe_subscription_id
    OR OLD.current_period_end IS NOT NEW.current_period_end
    OR OLD.cancel_at_period_end IS NOT NEW.cancel_at_period_end
    OR OLD.require_two_factor IS NOT NEW.require_two_factor
BEGIN
    UPDATE users SET auth_version = auth_version + 1
        WHERE id IN (SELECT user_id FROM memberships WHERE workspace_id = NEW.id);
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER workspaces_auth_version;
DROP TRIGGER memberships_auth_version_delete;
DROP TRIGGER memberships_auth_version_update;
DROP TRIGGER memberships_auth_version_insert;
DROP TRIGGER sessions_auth_version_delete;
DROP TRIGGER sessions_auth_version_update;
DROP TRIGGER users_auth_version;
ALTER TABLE users DROP COLUMN auth_version;
