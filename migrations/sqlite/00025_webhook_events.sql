-- +goose Up
-- Events waiting to be fanned out to their endpoints: the change's own
-- transaction writes one row here beside its audit entry, and the
-- fan_out_webhooks job turns each row into one delivery per endpoint and
-- deletes it. A row this small (its primary key is the audit entry's, no
-- other index) keeps a change with endpoints as cheap as one without.
CREATE TABLE webhook_events (
    audit_id   INTEGER  PRIMARY KEY,
    message_id TEXT     NOT NULL,
    endpoints  TEXT     NOT NULL, -- the subscribed endpoints' ids, space-separated
    created_at DATETIME NOT NULL
);

-- +goose Down
DROP TABLE webhook_events;
