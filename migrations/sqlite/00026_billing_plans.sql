-- +goose Up
-- Billing beyond one flat plan. price_id is the subscription's Stripe
-- price: it names the plan and the interval (month or year) through the
-- plan catalog. seat_quantity is the subscription's quantity as Stripe
-- last reported it (per-seat plans bill it). trial_end is when a trial
-- ends. payment_failed_at starts a dunning episode (the first failed
-- payment not yet recovered) and payment_invoice_url is the invoice to
-- pay; restricted_at is set when its grace period ran out and the
-- workspace refuses additions until the invoice is paid.
-- scheduled_price_id and scheduled_change_at are a plan change that
-- waits for the end of the billing period (a downgrade).
ALTER TABLE workspaces ADD COLUMN price_id TEXT NOT NULL DEFAULT '';
ALTER TABLE workspaces ADD COLUMN seat_quantity INTEGER NOT NULL DEFAULT 0;
ALTER TABLE workspaces ADD COLUMN trial_end DATETIME;
ALTER TABLE workspaces ADD COLUMN payment_failed_at DATETIME;
ALTER TABLE workspaces ADD COLUMN payment_invoice_url TEXT NOT NULL DEFAULT '';
ALTER TABLE workspaces ADD COLUMN restricted_at DATETIME;
ALTER TABLE workspaces ADD COLUMN scheduled_price_id TEXT NOT NULL DEFAULT '';
ALTER TABLE workspaces ADD COLUMN scheduled_change_at DATETIME;

-- Members' kept identities hold their workspaces: the new billing
-- columns move auth_version like the old ones.
DROP TRIGGER workspaces_auth_version;
-- +goose StatementBegin
CREATE TRIGGER workspaces_auth_version AFTER UPDATE OF name, slug, plan, subscription_status,
    stripe_customer_id, stripe_subscription_id, current_period_end, cancel_at_period_end, require_two_factor,
    price_id, seat_quantity, trial_end, payment_failed_at, payment_invoice_url, restricted_at,
    scheduled_price_id, scheduled_change_at
    ON workspaces
WHEN OLD.name IS NOT NEW.name OR OLD.slug IS NOT NEW.slug OR OLD.plan IS NOT NEW.plan
    OR OLD.subscription_status IS NOT NEW.subscription_status
    OR OLD.stripe_customer_id IS NOT NEW.stripe_customer_id
    OR OLD.stripe_subscription_id IS NOT NEW.stripe_subscription_id
    OR OLD.current_period_end IS NOT NEW.current_period_end
    OR OLD.cancel_at_period_end IS NOT NEW.cancel_at_period_end
    OR OLD.require_two_factor IS NOT NEW.require_two_factor
    OR OLD.price_id IS NOT NEW.price_id OR OLD.seat_quantity IS NOT NEW.seat_quantity
    OR OLD.trial_end IS NOT NEW.trial_end OR OLD.payment_failed_at IS NOT NEW.payment_failed_at
    OR OLD.payment_invoice_url IS NOT NEW.payment_invoice_url OR OLD.restricted_at IS NOT NEW.restricted_at
    OR OLD.scheduled_price_id IS NOT NEW.scheduled_price_id
    OR OLD.scheduled_change_at IS NOT NEW.scheduled_change_at
BEGIN
    UPDATE users SET auth_version = auth_version + 1
        WHERE id IN (SELECT user_id FROM memberships WHERE workspace_id = NEW.id);
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER workspaces_auth_version;
-- +goose StatementBegin
CREATE TRIGGER workspaces_auth_version AFTER UPDATE OF name, slug, plan, subscription_status,
    stripe_customer_id, stripe_subscription_id, current_period_end, cancel_at_period_end, require_two_factor
    ON workspaces
WHEN OLD.name IS NOT NEW.name OR OLD.slug IS NOT NEW.slug OR OLD.plan IS NOT NEW.plan
    OR OLD.subscription_status IS NOT NEW.subscription_status
    OR OLD.stripe_customer_id IS NOT NEW.stripe_customer_id
    OR OLD.stripe_subscription_id IS NOT NEW.stripe_subscription_id
    OR OLD.current_period_end IS NOT NEW.current_period_end
    OR OLD.cancel_at_period_end IS NOT NEW.cancel_at_period_end
    OR OLD.require_two_factor IS NOT NEW.require_two_factor
BEGIN
    UPDATE users SET auth_version = auth_version + 1
        WHERE id IN (SELECT user_id FROM memberships WHERE workspace_id = NEW.id);
END;
-- +goose StatementEnd
ALTER TABLE workspaces DROP COLUMN scheduled_change_at;
ALTER TABLE workspaces DROP COLUMN scheduled_price_id;
ALTER TABLE workspaces DROP COLUMN restricted_at;
ALTER TABLE workspaces DROP COLUMN payment_invoice_url;
ALTER TABLE workspaces DROP COLUMN payment_failed_at;
ALTER TABLE workspaces DROP COLUMN trial_end;
ALTER TABLE workspaces DROP COLUMN seat_quantity;
ALTER TABLE workspaces DROP COLUMN price_id;
