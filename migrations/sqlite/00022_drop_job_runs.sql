-- +goose Up
-- Periodic jobs run on the job queue (River, migration 21): a periodic job
-- is unique per period there, which replaces this table.
DROP TABLE job_runs;

-- +goose Down
CREATE TABLE job_runs (
    name         TEXT     PRIMARY KEY,
    last_run_at  DATETIME NOT NULL,
    instance     TEXT     NOT NULL DEFAULT ''
);
