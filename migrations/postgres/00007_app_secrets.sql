-- +goose Up
-- Keys the server makes at first start and every instance shares, such as
-- the one that signs the flash-message cookie when FLASH_KEY is unset.
CREATE TABLE app_secrets (
    name       TEXT PRIMARY KEY,
    value      TEXT        NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
-- Lets "slug LIKE 'team-%'" (the search for the next free "team-N"
-- address) use an index whatever the database's collation.
CREATE INDEX workspaces_slug_prefix_idx ON workspaces (slug text_pattern_ops);

-- +goose Down
DROP INDEX workspaces_slug_prefix_idx;
DROP TABLE app_secrets;
