-- +goose Up
-- When each periodic job (hourly housekeeping, ...) last ran, so that
-- several instances run it once per interval between them. The instances
-- take a PostgreSQL advisory lock around a run.
CREATE TABLE job_runs (
    name         TEXT        PRIMARY KEY,
    last_run_at  TIMESTAMPTZ NOT NULL,
    instance     TEXT        NOT NULL DEFAULT ''
);

-- +goose Down
DROP TABLE job_runs;
