-- +goose Up
-- The order of a workspace's payment events (invoice.payment_failed and
-- invoice.paid), kept apart from the subscription's own mark: these
-- events carry no subscription status, so they are ordered among
-- themselves (app.OrderDunning). dunning_event_at is the creation second
-- of the last one applied, dunning_event_rank 2 when it was a payment
-- (which wins a same-second tie) and 1 when it was a failure, and
-- dunning_event_id its event id. A late failure older than the last
-- recovery is then stale, and cannot re-open a closed episode.
ALTER TABLE workspaces ADD COLUMN dunning_event_at DATETIME;
ALTER TABLE workspaces ADD COLUMN dunning_event_rank INTEGER NOT NULL DEFAULT 0;
ALTER TABLE workspaces ADD COLUMN dunning_event_id TEXT NOT NULL DEFAULT '';

-- The restriction job looks for episodes whose grace period ran out:
-- only workspaces with an open, unrestricted episode are indexed.
CREATE INDEX workspaces_dunning_idx ON workspaces (payment_failed_at)
    WHERE payment_failed_at IS NOT NULL AND restricted_at IS NULL;

-- +goose Down
DROP INDEX workspaces_dunning_idx;
ALTER TABLE workspaces DROP COLUMN dunning_event_id;
ALTER TABLE workspaces DROP COLUMN dunning_event_rank;
ALTER TABLE workspaces DROP COLUMN dunning_event_at;
