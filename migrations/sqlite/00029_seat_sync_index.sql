-- +goose Up
-- Every membership change of a subscribed workspace asks whether a
-- sync_seats job of that workspace is waiting to start (the statement
-- seat_sync_waiting). Through River's river_job_kind that read walks every
-- sync_seats job River keeps, finished ones included, and grows with the
-- number of workspaces; this index holds only the waiting ones, by
-- workspace. The statement repeats its expression and predicate word for
-- word, or the planner cannot use it. River rebuilds river_job in some of
-- its own schema versions (and a rebuild drops indexes it does not know):
-- a later River schema migration must create this index again.
CREATE INDEX river_job_sync_seats_waiting_idx ON river_job (json_extract(args, '$.workspace_id'))
    WHERE kind = 'sync_seats' AND state IN ('available', 'scheduled', 'pending', 'retryable');

-- +goose Down
DROP INDEX river_job_sync_seats_waiting_idx;
