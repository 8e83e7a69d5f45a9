-- +goose Up
-- When the link an email carries expires; NULL for mail without a link.
-- Housekeeping clears the bodies of failed mail once it has passed.
ALTER TABLE mail_outbox ADD COLUMN token_expires_at DATETIME;

-- Every invite email, counted for the resend and per-address limits. The
-- address is kept as its SHA-256 only, and rows outlive their invite (no
-- foreign key), so deleting a workspace does not reset the count.
CREATE TABLE invite_sends (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    invite_id   INTEGER  NOT NULL,
    addr_hash   TEXT     NOT NULL,
    resend      BOOLEAN  NOT NULL DEFAULT 0,
    created_at  DATETIME NOT NULL
);
CREATE INDEX invite_sends_invite_idx ON invite_sends (invite_id, created_at);
CREATE INDEX invite_sends_addr_idx ON invite_sends (addr_hash, created_at);

-- +goose Down
DROP TABLE invite_sends;
ALTER TABLE mail_outbox DROP COLUMN token_expires_at;
