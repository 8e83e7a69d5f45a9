-- +goose Up
-- The rest of the position of the last applied Stripe update, after
-- billing_event_at (whole seconds): its rank within the second (0 no
-- status, 1 live, 2 terminal: canceled or incomplete_expired) and its
-- event id, so same-second events are ordered the same whatever their
-- arrival order.
ALTER TABLE workspaces ADD COLUMN billing_event_rank INTEGER NOT NULL DEFAULT 0;
ALTER TABLE workspaces ADD COLUMN billing_event_id TEXT NOT NULL DEFAULT '';
UPDATE workspaces SET billing_event_rank = CASE
    WHEN subscription_status IN ('canceled', 'incomplete_expired') THEN 2
    ELSE 1 END
WHERE billing_event_at IS NOT NULL;

-- +goose Down
ALTER TABLE workspaces DROP COLUMN billing_event_id;
ALTER TABLE workspaces DROP COLUMN billing_event_rank;
