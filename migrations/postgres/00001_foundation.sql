-- +goose Up
CREATE TABLE users (
    id          BIGSERIAL PRIMARY KEY,
    email       TEXT        NOT NULL UNIQUE,
    name        TEXT        NOT NULL DEFAULT '',
    time_zone   TEXT        NOT NULL DEFAULT 'UTC',
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE sessions (
    id            BIGSERIAL PRIMARY KEY,
    token_hash    TEXT        NOT NULL UNIQUE,
    user_id       BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    ip            TEXT        NOT NULL DEFAULT '',
    user_agent    TEXT        NOT NULL DEFAULT '',
    created_at    TIMESTAMPTZ NOT NULL,
    last_seen_at  TIMESTAMPTZ NOT NULL,
    expires_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_user_id_idx ON sessions (user_id);

CREATE TABLE login_tokens (
    id          BIGSERIAL PRIMARY KEY,
    token_hash  TEXT        NOT NULL UNIQUE,
    email       TEXT        NOT NULL,
    next        TEXT        NOT NULL DEFAULT '',
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    used_at     TIMESTAMPTZ
);
CREATE INDEX login_tokens_email_idx ON login_tokens (email);

-- Audit entries outlive the users and workspaces they name: no foreign keys.
CREATE TABLE audit_logs (
    id             BIGSERIAL PRIMARY KEY,
    workspace_id   BIGINT,
    actor_user_id  BIGINT,
    action         TEXT        NOT NULL,
    target_type    TEXT        NOT NULL DEFAULT '',
    target_id      TEXT        NOT NULL DEFAULT '',
    metadata       JSONB       NOT NULL DEFAULT '{}',
    ip             TEXT        NOT NULL DEFAULT '',
    user_agent     TEXT        NOT NULL DEFAULT '',
    request_id     TEXT        NOT NULL DEFAULT '',
    created_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX audit_logs_workspace_created_idx ON audit_logs (workspace_id, created_at);
CREATE INDEX audit_logs_created_idx ON audit_logs (created_at);

CREATE TABLE mail_outbox (
    id               BIGSERIAL PRIMARY KEY,
    to_addr          TEXT        NOT NULL,
    subject          TEXT        NOT NULL,
    text_body        TEXT        NOT NULL,
    html_body        TEXT        NOT NULL DEFAULT '',
    ref              TEXT        NOT NULL DEFAULT '',
    status           TEXT        NOT NULL DEFAULT 'pending',
    attempts         INTEGER     NOT NULL DEFAULT 0,
    next_attempt_at  TIMESTAMPTZ NOT NULL,
    last_error       TEXT        NOT NULL DEFAULT '',
    created_at       TIMESTAMPTZ NOT NULL,
    sent_at          TIMESTAMPTZ
);
CREATE INDEX mail_outbox_due_idx ON mail_outbox (status, next_attempt_at);
CREATE INDEX mail_outbox_ref_idx ON mail_outbox (ref);

-- +goose Down
DROP TABLE mail_outbox;
DROP TABLE audit_logs;
DROP TABLE login_tokens;
DROP TABLE sessions;
DROP TABLE users;
