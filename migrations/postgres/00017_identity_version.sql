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
ALTER TABLE users ADD COLUMN auth_version BIGINT NOT NULL DEFAULT 1;

-- +goose StatementBegin
CREATE FUNCTION users_auth_version() RETURNS trigger AS $$
BEGIN
    IF (OLD.email, OLD.name, OLD.time_zone, OLD.two_factor)
        IS DISTINCT FROM (NEW.email, NEW.name, NEW.time_zone, NEW.two_factor) THEN
        NEW.auth_version := OLD.auth_version + 1;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd
CREATE TRIGGER users_auth_version BEFORE UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION users_auth_version();

-- +goose StatementBegin
CREATE FUNCTION sessions_auth_version() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF (OLD.token_hash, OLD.user_id, OLD.second_factor, OLD.verified_at)
            IS NOT DISTINCT FROM (NEW.token_hash, NEW.user_id, NEW.second_factor, NEW.verified_at) THEN
            RETURN NULL;
        END IF;
        UPDATE users SET auth_version = auth_version + 1 WHERE id IN (OLD.user_id, NEW.user_id);
    ELSE
        UPDATE users SET auth_version = auth_version + 1 WHERE id = OLD.user_id;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd
CREATE TRIGGER sessions_auth_version AFTER UPDATE OR DELETE ON sessions
    FOR EACH ROW EXECUTE FUNCTION sessions_auth_version();

-- +goose StatementBegin
CREATE FUNCTION memberships_auth_version() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE users SET auth_version = auth_version + 1 WHERE id = NEW.user_id;
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE users SET auth_version = auth_version + 1 WHERE id = OLD.user_id;
    ELSIF (OLD.workspace_id, OLD.user_id, OLD.role) IS DISTINCT FROM (NEW.workspace_id, NEW.user_id, NEW.role) THEN
        UPDATE users SET auth_version = auth_version + 1 WHERE id IN (OLD.user_id, NEW.user_id);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd
CREATE TRIGGER memberships_auth_version AFTER INSERT OR UPDATE OR DELETE ON memberships
    FOR EACH ROW EXECUTE FUNCTION memberships_auth_version();

-- +goose StatementBegin
CREATE FUNCTION workspaces_auth_version() RETURNS trigger AS $$
BEGIN
    IF (OLD.name, OLD.slug, OLD.plan, OLD.subscription_status, OLD.stripe_customer_id, OLD.stripe_subscription_id,
        OLD.current_period_end, OLD.cancel_at_period_end, OLD.require_two_factor)
        IS DISTINCT FROM (NEW.name, NEW.slug, NEW.plan, NEW.subscription_status, NEW.stripe_customer_id,
        NEW.stripe_subscription_id, NEW.current_period_end, NEW.cancel_at_period_end, NEW.require_two_factor) THEN
        UPDATE users SET auth_version = auth_version + 1
            WHERE id IN (SELECT user_id FROM memberships WHERE workspace_id = NEW.id);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd
CREATE TRIGGER workspaces_auth_version AFTER UPDATE ON workspaces
    FOR EACH ROW EXECUTE FUNCTION workspaces_auth_version();

-- +goose Down
DROP TRIGGER workspaces_auth_version ON workspaces;
DROP FUNCTION workspaces_auth_version();
DROP TRIGGER memberships_auth_version ON memberships;
DROP FUNCTION memberships_auth_version();
DROP TRIGGER sessions_auth_version ON sessions;
DROP FUNCTION sessions_auth_version();
DROP TRIGGER users_auth_version ON users;
DROP FUNCTION users_auth_version();
ALTER TABLE users DROP COLUMN auth_version;
