-- +goose Up
-- The Stripe subscription schedule that makes a downgrade at the end of
-- the billing period (scheduled_price_id, scheduled_change_at). A
-- subscription_schedule.released, .completed or .canceled event clears
-- the scheduled change only when it is about this schedule, so the news
-- of an older, withdrawn schedule never erases a newer one. It is not in
-- the auth_version trigger: it changes only beside scheduled_price_id,
-- which is.
ALTER TABLE workspaces ADD COLUMN scheduled_schedule_id TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE workspaces DROP COLUMN scheduled_schedule_id;
