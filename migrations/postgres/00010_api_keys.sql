-- +goose Up
-- Workspace API keys. Only the SHA-256 of a key is kept, with a short
-- prefix to tell keys apart in lists; a key dies with its workspace.
CREATE TABLE api_keys (
    id                 BIGSERIAL PRIMARY KEY,
    workspace_id       BIGINT      NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name               TEXT        NOT NULL,
    prefix             TEXT        NOT NULL,
    token_hash         TEXT        NOT NULL UNIQUE,
    scopes             TEXT        NOT NULL,
    created_by_user_id BIGINT      REFERENCES users (id) ON DELETE SET NULL,
    created_at         TIMESTAMPTZ NOT NULL,
    last_used_at       TIMESTAMPTZ,
    expires_at         TIMESTAMPTZ,
    revoked_at         TIMESTAMPTZ
);
CREATE INDEX api_keys_workspace_idx ON api_keys (workspace_id, created_at);

-- The API's members list pages by membership id.
CREATE INDEX memberships_workspace_id_idx ON memberships (workspace_id, id);

-- The key that sent an invite through the API, so lists can name it. No
-- foreign key: keys are revoked, never deleted, and die with the workspace
-- their invites belong to.
ALTER TABLE invites ADD COLUMN invited_by_api_key_id BIGINT;

-- +goose Down
ALTER TABLE invites DROP COLUMN invited_by_api_key_id;
DROP INDEX memberships_workspace_id_idx;
DROP TABLE api_keys;
