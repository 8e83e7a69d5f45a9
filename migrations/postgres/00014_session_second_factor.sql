-- +goose Up
-- How each session proved who it is. second_factor is true when the
-- session was started (or later confirmed) with an authenticator code, a
-- recovery code or a passkey: a workspace that requires two-factor sign-in
-- admits only such sessions. verified_at is when the session last proved it
-- (its sign-in, or a "confirm it's you" step): adding or removing a factor
-- and making new recovery codes need it to be recent.
ALTER TABLE sessions ADD COLUMN second_factor BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE sessions ADD COLUMN verified_at TIMESTAMPTZ;

-- +goose Down
ALTER TABLE sessions DROP COLUMN verified_at;
ALTER TABLE sessions DROP COLUMN second_factor;
