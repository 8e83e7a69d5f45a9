-- +goose Up
ALTER TABLE workspaces ADD COLUMN stripe_customer_id TEXT NOT NULL DEFAULT '';
ALTER TABLE workspaces ADD COLUMN stripe_subscription_id TEXT NOT NULL DEFAULT '';
ALTER TABLE workspaces ADD COLUMN current_period_end DATETIME;
ALTER TABLE workspaces ADD COLUMN cancel_at_period_end BOOLEAN NOT NULL DEFAULT 0;
-- Creation time of the newest Stripe event applied to the subscription, so
-- an older event delivered late cannot roll the state back.
ALTER TABLE workspaces ADD COLUMN billing_event_at DATETIME;
CREATE INDEX workspaces_stripe_customer_idx ON workspaces (stripe_customer_id);

-- Every Stripe event received, recorded in the transaction that applies it,
-- so a redelivery changes nothing and any event can be replayed.
CREATE TABLE stripe_events (
    id            TEXT PRIMARY KEY,
    type          TEXT    NOT NULL,
    api_version   TEXT    NOT NULL DEFAULT '',
    created_at    DATETIME NOT NULL,
    received_at   DATETIME NOT NULL,
    processed_at  DATETIME,
    status        TEXT    NOT NULL,
    workspace_id  INTEGER,
    error         TEXT    NOT NULL DEFAULT '',
    payload       TEXT    NOT NULL
);
CREATE INDEX stripe_events_received_idx ON stripe_events (received_at);

-- +goose Down
DROP TABLE stripe_events;
DROP INDEX workspaces_stripe_customer_idx;
ALTER TABLE workspaces DROP COLUMN billing_event_at;
ALTER TABLE workspaces DROP COLUMN cancel_at_period_end;
ALTER TABLE workspaces DROP COLUMN current_period_end;
ALTER TABLE workspaces DROP COLUMN stripe_subscription_id;
ALTER TABLE workspaces DROP COLUMN stripe_customer_id;
