-- +goose Up
CREATE TABLE workspaces (
    id                   BIGSERIAL PRIMARY KEY,
    name                 TEXT        NOT NULL,
    slug                 TEXT        NOT NULL UNIQUE,
    plan                 TEXT        NOT NULL DEFAULT 'free',
    subscription_status  TEXT        NOT NULL DEFAULT '',
    created_at           TIMESTAMPTZ NOT NULL,
    updated_at           TIMESTAMPTZ NOT NULL
);

CREATE TABLE memberships (
    id            BIGSERIAL PRIMARY KEY,
    workspace_id  BIGINT      NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    user_id       BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role          TEXT        NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    UNIQUE (workspace_id, user_id)
);
CREATE INDEX memberships_user_id_idx ON memberships (user_id);

CREATE TABLE invites (
    id                  BIGSERIAL PRIMARY KEY,
    workspace_id        BIGINT      NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    email               TEXT        NOT NULL,
    role                TEXT        NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    token_hash          TEXT        NOT NULL UNIQUE,
    status              TEXT        NOT NULL DEFAULT 'pending',
    invited_by_user_id  BIGINT      REFERENCES users (id) ON DELETE SET NULL,
    expires_at          TIMESTAMPTZ NOT NULL,
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL
);
-- One pending invite per address and workspace.
CREATE UNIQUE INDEX invites_pending_email_idx ON invites (workspace_id, email) WHERE status = 'pending';
CREATE INDEX invites_email_idx ON invites (email);

-- +goose Down
DROP TABLE invites;
DROP TABLE memberships;
DROP TABLE workspaces;
