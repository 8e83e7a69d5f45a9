-- +goose Up
-- The operator console. Staff are the people who may open /admin: a grant
-- is a row here, made and removed with `atrium staff grant|revoke`.
CREATE TABLE staff (
    user_id     INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    granted_at  DATETIME NOT NULL
);

-- A suspended account cannot sign in (its sessions are ended when it is
-- suspended); a suspended workspace can be read but not changed.
ALTER TABLE users ADD COLUMN suspended_at DATETIME;
ALTER TABLE users ADD COLUMN suspended_reason TEXT NOT NULL DEFAULT '';
-- When the user last started a session (the console's list shows it).
ALTER TABLE users ADD COLUMN last_sign_in_at DATETIME;
ALTER TABLE workspaces ADD COLUMN suspended_at DATETIME;
ALTER TABLE workspaces ADD COLUMN suspended_reason TEXT NOT NULL DEFAULT '';

-- The console's prefix searches walk these indexes: addresses and slugs
-- through their unique indexes, names lowercased, and the newest first
-- when nothing is searched.
CREATE INDEX users_name_prefix_idx ON users (lower(name), id);
CREATE INDEX users_created_idx ON users (created_at, id);
CREATE INDEX workspaces_name_prefix_idx ON workspaces (lower(name), id);
CREATE INDEX workspaces_created_idx ON workspaces (created_at, id);

-- "View as": a staff member's session seeing the app as another user for
-- at most 30 minutes. The browser holds a token; only its hash is kept.
-- The impersonation is tied to the staff member's session, never to the
-- user's, whose sessions it does not touch.
CREATE TABLE impersonations (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash        TEXT     NOT NULL UNIQUE,
    staff_user_id     INTEGER  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    staff_session_id  INTEGER  NOT NULL,
    target_user_id    INTEGER  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    reason            TEXT     NOT NULL,
    write_reason      TEXT     NOT NULL DEFAULT '',
    write_started_at  DATETIME,
    started_at        DATETIME NOT NULL,
    expires_at        DATETIME NOT NULL,
    ended_at          DATETIME,
    end_reason        TEXT     NOT NULL DEFAULT ''
);
CREATE INDEX impersonations_target_idx ON impersonations (target_user_id, started_at);
CREATE INDEX impersonations_staff_idx ON impersonations (staff_user_id, started_at);

-- The workspaces an impersonation opened: each gets the start and the end
-- in its own audit log.
CREATE TABLE impersonation_visits (
    impersonation_id  INTEGER  NOT NULL REFERENCES impersonations (id) ON DELETE CASCADE,
    workspace_id      INTEGER  NOT NULL,
    visited_at        DATETIME NOT NULL,
    PRIMARY KEY (impersonation_id, workspace_id)
);

-- +goose Down
DROP TABLE impersonation_visits;
DROP TABLE impersonations;
DROP INDEX workspaces_created_idx;
DROP INDEX workspaces_name_prefix_idx;
DROP INDEX users_created_idx;
DROP INDEX users_name_prefix_idx;
ALTER TABLE workspaces DROP COLUMN suspended_reason;
ALTER TABLE workspaces DROP COLUMN suspended_at;
ALTER TABLE users DROP COLUMN last_sign_in_at;
ALTER TABLE users DROP COLUMN suspended_reason;
ALTER TABLE users DROP COLUMN suspended_at;
DROP TABLE staff;
