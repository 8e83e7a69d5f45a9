-- +goose Up
-- An event's deliveries, one per endpoint: the fan-out job reads which
-- endpoints already have theirs, and a second run at the same time cannot
-- write one twice. Replays repeat the message id and are left out.
CREATE UNIQUE INDEX webhook_deliveries_message_idx ON webhook_deliveries (message_id, endpoint_id)
    WHERE replay_of_id IS NULL;

-- +goose Down
DROP INDEX webhook_deliveries_message_idx;
