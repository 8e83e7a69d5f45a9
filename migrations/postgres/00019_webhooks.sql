-- +goose Up
-- Outgoing webhooks (Standard Webhooks): the endpoints a workspace's owners
-- and admins register, and one delivery row per (endpoint, event).

-- An endpoint. event_types is the space-separated list of the event types
-- it subscribes to (public audit actions). The signing secret is sealed
-- like authenticator secrets; during a rotation the previous one is kept,
-- sealed, until previous_secret_expires_at, and deliveries carry both
-- signatures. reveal_user_id and reveal_until let the person who created or
-- rotated the secret see it once. failing_since is the first failed attempt
-- of the current run of failures (NULL while deliveries succeed); an
-- endpoint failing for 5 days, or answering 410, is disabled with a reason.
CREATE TABLE webhook_endpoints (
    id                          BIGSERIAL PRIMARY KEY,
    workspace_id                BIGINT   NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    url                         TEXT     NOT NULL,
    description                 TEXT     NOT NULL DEFAULT '',
    event_types                 TEXT     NOT NULL DEFAULT '',
    secret_sealed               TEXT     NOT NULL,
    previous_secret_sealed      TEXT     NOT NULL DEFAULT '',
    previous_secret_expires_at  TIMESTAMPTZ,
    reveal_user_id              BIGINT,
    reveal_until                TIMESTAMPTZ,
    enabled                     BOOLEAN  NOT NULL DEFAULT TRUE,
    disabled_reason             TEXT     NOT NULL DEFAULT '',
    disabled_at                 TIMESTAMPTZ,
    failing_since               TIMESTAMPTZ,
    created_by_user_id          BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at                  TIMESTAMPTZ NOT NULL,
    updated_at                  TIMESTAMPTZ NOT NULL
);
-- A workspace's endpoints: the settings page and the fan-out of each
-- public audit action.
CREATE INDEX webhook_endpoints_workspace_idx ON webhook_endpoints (workspace_id, id);

-- A delivery of one event to one endpoint. message_id (msg_…) is the
-- webhook-id header: the same on every attempt and on manual replays, so
-- receivers drop duplicates. payload is the JSON body, sent byte for byte
-- on every attempt. attempts counts the attempts claimed so far; a claim
-- moves next_attempt_at past its lease with a conditional UPDATE, so two
-- instances never send the same attempt, and an attempt cut short by a
-- crash comes due again when the lease ends. last_* describe the latest
-- attempt's answer (status_code 0: none), with at most 4 KB of its body.
CREATE TABLE webhook_deliveries (
    id                BIGSERIAL PRIMARY KEY,
    endpoint_id       BIGINT   NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    workspace_id      BIGINT   NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    message_id        TEXT     NOT NULL,
    event_type        TEXT     NOT NULL,
    payload           TEXT     NOT NULL,
    status            TEXT     NOT NULL DEFAULT 'pending', -- pending, failed (retrying), delivered, gave_up
    attempts          INTEGER  NOT NULL DEFAULT 0,
    next_attempt_at   TIMESTAMPTZ NOT NULL,
    last_attempt_at   TIMESTAMPTZ,
    last_status_code  INTEGER  NOT NULL DEFAULT 0,
    last_latency_ms   INTEGER  NOT NULL DEFAULT 0,
    last_excerpt      TEXT     NOT NULL DEFAULT '',
    last_error        TEXT     NOT NULL DEFAULT '',
    replay_of_id      BIGINT,
    created_at        TIMESTAMPTZ NOT NULL,
    delivered_at      TIMESTAMPTZ
);
-- The due deliveries, oldest first: the poller's (and later the job
-- queue's) one read.
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at, id) WHERE status IN ('pending', 'failed');
-- An endpoint's delivery log, newest first, and "replay all since".
CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (endpoint_id, created_at, id);
-- Workspace deletion cascades through this column.
CREATE INDEX webhook_deliveries_workspace_idx ON webhook_deliveries (workspace_id);

-- +goose Down
DROP TABLE webhook_deliveries;
DROP TABLE webhook_endpoints;
