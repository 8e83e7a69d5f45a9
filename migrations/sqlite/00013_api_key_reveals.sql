-- +goose Up
-- The secret of a key just created, kept for the one page that shows it
-- after the redirect: sealed with a key derived from a token only the
-- creator's browser holds (token_hash is its SHA-256), deleted when shown,
-- and purged once expired (minutes after the key was made).
CREATE TABLE api_key_reveals (
    api_key_id INTEGER  PRIMARY KEY REFERENCES api_keys (id) ON DELETE CASCADE,
    user_id    INTEGER  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT     NOT NULL,
    sealed     TEXT     NOT NULL,
    expires_at DATETIME NOT NULL
);
CREATE INDEX api_key_reveals_expires_idx ON api_key_reveals (expires_at);

-- Keys list and revoke by their creator when a member is removed, demoted
-- or deleted.
CREATE INDEX api_keys_creator_idx ON api_keys (created_by_user_id, workspace_id);

-- +goose Down
DROP INDEX api_keys_creator_idx;
DROP TABLE api_key_reveals;
