-- +goose Up
-- Keys the server makes at first start and every instance shares, such as
-- the one that signs the flash-message cookie when FLASH_KEY is unset.
CREATE TABLE app_secrets (
    name       TEXT PRIMARY KEY,
    value      TEXT     NOT NULL,
    created_at DATETIME NOT NULL
);
-- The slug's UNIQUE index already serves the range query that finds the
-- next free "name-N" address on SQLite.

-- +goose Down
DROP TABLE app_secrets;
