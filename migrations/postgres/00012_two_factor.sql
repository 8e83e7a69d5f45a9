-- +goose Up
-- Two-factor sign-in: passkeys, an authenticator app (TOTP) and recovery
-- codes, the pending step between a magic link and the second factor, the
-- WebAuthn challenges in flight, and the workspace policy.

-- users.two_factor is true while the user has a confirmed authenticator app
-- or at least one passkey; the store keeps it in step in the transaction
-- that changes a factor, so every request reads it with the session.
-- webauthn_handle is the random user handle passkeys carry (never the id).
ALTER TABLE users ADD COLUMN two_factor BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE users ADD COLUMN webauthn_handle TEXT;
CREATE UNIQUE INDEX users_webauthn_handle_idx ON users (webauthn_handle);

-- One authenticator app per user. The secret is sealed with AES-GCM;
-- last_step is the last time step a code was accepted for, so no code is
-- accepted twice. failed_* and locked_until rate code entry.
CREATE TABLE user_totp (
    user_id        BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret_sealed  TEXT     NOT NULL,
    confirmed_at   TIMESTAMPTZ,
    last_step      BIGINT   NOT NULL DEFAULT 0,
    created_at     TIMESTAMPTZ NOT NULL
);

-- Wrong codes (authenticator or recovery) per user, and the lock they lead
-- to. Kept apart from user_totp so a passkey-only user can be locked too.
CREATE TABLE two_factor_locks (
    user_id        BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    failures       INTEGER  NOT NULL DEFAULT 0,
    window_start   TIMESTAMPTZ NOT NULL,
    locked_until   TIMESTAMPTZ
);

-- Recovery codes: only their SHA-256 is kept; each works once.
CREATE TABLE recovery_codes (
    id          BIGSERIAL PRIMARY KEY,
    user_id     BIGINT   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash   TEXT     NOT NULL UNIQUE,
    created_at  TIMESTAMPTZ NOT NULL,
    used_at     TIMESTAMPTZ
);
CREATE INDEX recovery_codes_user_idx ON recovery_codes (user_id);

-- Passkeys. credential_id is the base64url credential id; data is the
-- library's credential record (public key, sign count, flags) as JSON.
CREATE TABLE passkeys (
    id             BIGSERIAL PRIMARY KEY,
    user_id        BIGINT   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name           TEXT     NOT NULL,
    credential_id  TEXT     NOT NULL UNIQUE,
    data           TEXT     NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    last_used_at   TIMESTAMPTZ
);
CREATE INDEX passkeys_user_idx ON passkeys (user_id, created_at);

-- Short-lived, single-use state: a magic-link sign-in waiting for its
-- second factor (purpose 'second_factor'), and WebAuthn ceremonies in
-- flight ('passkey_register', 'passkey_login'). Only the SHA-256 of the
-- cookie token is kept.
CREATE TABLE auth_challenges (
    id            BIGSERIAL PRIMARY KEY,
    token_hash    TEXT     NOT NULL UNIQUE,
    purpose       TEXT     NOT NULL,
    user_id       BIGINT   REFERENCES users (id) ON DELETE CASCADE,
    data          TEXT     NOT NULL DEFAULT '',
    created_at    TIMESTAMPTZ NOT NULL,
    expires_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX auth_challenges_expires_idx ON auth_challenges (expires_at);
CREATE INDEX auth_challenges_user_idx ON auth_challenges (user_id);

-- Owners can require two-factor sign-in of every member.
ALTER TABLE workspaces ADD COLUMN require_two_factor BOOLEAN NOT NULL DEFAULT FALSE;

-- +goose Down
ALTER TABLE workspaces DROP COLUMN require_two_factor;
DROP TABLE auth_challenges;
DROP TABLE passkeys;
DROP TABLE recovery_codes;
DROP TABLE two_factor_locks;
DROP TABLE user_totp;
DROP INDEX users_webauthn_handle_idx;
ALTER TABLE users DROP COLUMN webauthn_handle;
ALTER TABLE users DROP COLUMN two_factor;
