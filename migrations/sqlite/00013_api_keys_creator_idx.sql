-- +goose Up
-- Keys list and revoke by their creator when a member is removed, demoted
-- or deleted.
CREATE INDEX api_keys_creator_idx ON api_keys (created_by_user_id, workspace_id);

-- +goose Down
DROP INDEX api_keys_creator_idx;
