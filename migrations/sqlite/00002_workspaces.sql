-- +goose Up
CREATE TABLE workspaces (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    name                 TEXT    NOT NULL,
    slug                 TEXT    NOT NULL UNIQUE,
    plan                 TEXT    NOT NULL DEFAULT 'free',
    subscription_status  TEXT    NOT NULL DEFAULT '',
    created_at           DATETIME NOT NULL,
    updated_at           DATETIME NOT NULL
);

CREATE TABLE memberships (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id  INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role          TEXT    NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    created_at    DATETIME NOT NULL,
    updated_at    DATETIME NOT NULL,
    UNIQUE (workspace_id, user_id)
);
CREATE INDEX memberships_user_id_idx ON memberships (user_id);

CREATE TABLE invites (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id        INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    email               TEXT    NOT NULL,
    role                TEXT    NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    token_hash          TEXT    NOT NULL UNIQUE,
    status              TEXT    NOT NULL DEFAULT 'pending',
    invited_by_user_id  INTEGER REFERENCES users (id) ON DELETE SET NULL,
    expires_at          DATETIME NOT NULL,
    created_at          DATETIME NOT NULL,
    updated_at          DATETIME NOT NULL
);
-- One pending invite per address and workspace.
CREATE UNIQUE INDEX invites_pending_email_idx ON invites (workspace_id, email) WHERE status = 'pending';
CREATE INDEX invites_email_idx ON invites (email);

-- +goose Down
DROP TABLE invites;
DROP TABLE memberships;
DROP TABLE workspaces;
