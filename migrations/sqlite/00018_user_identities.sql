-- +goose Up
-- Accounts at identity providers (Google, Microsoft, GitHub, any OpenID
-- Connect issuer) that sign in to a user. An identity is the provider's
-- issuer and its subject for the person, never an email address: an
-- address can change hands at a provider, the subject does not. email is
-- the address the provider gave when the identity was linked, kept to
-- show on the account page and in the audit log.
CREATE TABLE user_identities (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id       INTEGER  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider      TEXT     NOT NULL,
    issuer        TEXT     NOT NULL,
    subject       TEXT     NOT NULL,
    email         TEXT     NOT NULL DEFAULT '',
    created_at    DATETIME NOT NULL,
    last_used_at  DATETIME
);
CREATE UNIQUE INDEX user_identities_issuer_subject_idx ON user_identities (issuer, subject);
CREATE INDEX user_identities_user_idx ON user_identities (user_id, id);

-- +goose Down
DROP TABLE user_identities;
