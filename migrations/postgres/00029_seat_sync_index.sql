-- +goose Up
-- Every membership change of a subscribed workspace asks whether a
-- sync_seats job of that workspace is waiting to start, and locks it (the
-- statement seat_sync_waiting). Through River's river_job_kind that read
-- walks every sync_seats job River keeps, finished ones included, and
-- grows with the number of workspaces; this index holds only the waiting
-- ones, by workspace. The statement repeats its expression and predicate
-- word for word, or the planner cannot use it.
CREATE INDEX river_job_sync_seats_waiting_idx ON river_job (((args->>'workspace_id')::bigint))
    WHERE kind = 'sync_seats' AND state IN ('available', 'scheduled', 'pending', 'retryable');

-- +goose Down
DROP INDEX river_job_sync_seats_waiting_idx;
