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
ALTER TABLE workspaces ADD COLUMN trial_end TIMESTAMPTZ;
ALTER TABLE workspaces ADD COLUMN payment_failed_at TIMESTAMPTZ;
ALTER TABLE workspaces ADD COLUMN payment_invoice_url TEXT NOT NULL DEFAULT '';
ALTER TABLE workspaces ADD COLUMN restricted_at TIMESTAMPTZ;
ALTER TABLE workspaces ADD COLUMN scheduled_price_id TEXT NOT NULL DEFAULT '';
ALTER TABLE workspaces ADD COLUMN scheduled_change_at TIMESTAMPTZ;

-- Members' kept identities hold their workspaces: the new billing
-- columns move auth_version like the old ones.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION workspaces_auth_version() RETURNS trigger AS $$
BEGIN
    IF (OLD.name, OLD.slug, OLD.plan, OLD.subscription_status, OLD.stripe_customer_id, OLD.stripe_subscription_id,
        OLD.current_period_end, OLD.cancel_at_period_end, OLD.require_two_factor, OLD.price_id, OLD.seat_quantity,
        OLD.trial_end, OLD.payment_failed_at, OLD.payment_invoice_url, OLD.restricted_at, OLD.scheduled_price_id,
        OLD.scheduled_change_at)
        IS DISTINCT FROM (NEW.name, NEW.slug, NEW.plan, NEW.subscription_status, NEW.stripe_customer_id,
        NEW.stripe_subscription_id, NEW.current_period_end, NEW.cancel_at_period_end, NEW.require_two_factor,
        NEW.price_id, NEW.seat_quantity, NEW.trial_end, NEW.payment_failed_at, NEW.payment_invoice_url,
        NEW.restricted_at, NEW.scheduled_price_id, NEW.scheduled_change_at) THEN
        UPDATE users SET auth_version = auth_version + 1
            WHERE id IN (SELECT user_id FROM memberships WHERE workspace_id = NEW.id);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION workspaces_auth_version() RETURNS trigger AS $$
BEGIN
    IF (OLD.name, OLD.slug, OLD.plan, OLD.subscription_status, OLD.stripe_customer_id, OLD.stripe_subscription_id,
        OLD.current_period_end, OLD.cancel_at_period_end, OLD.require_two_factor)
        IS DISTINCT FROM (NEW.name, NEW.slug, NEW.plan, NEW.subscription_status, NEW.stripe_customer_id,
        NEW.stripe_subscription_id, NEW.current_period_end, NEW.cancel_at_period_end, NEW.require_two_factor) THEN
        UPDATE users SET auth_version = auth_version + 1
            WHERE id IN (SELECT user_id FROM memberships WHERE workspace_id = NEW.id);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd
ALTER TABLE workspaces DROP COLUMN scheduled_change_at;
ALTER TABLE workspaces DROP COLUMN scheduled_price_id;
ALTER TABLE workspaces DROP COLUMN restricted_at;
ALTER TABLE workspaces DROP COLUMN payment_invoice_url;
ALTER TABLE workspaces DROP COLUMN payment_failed_at;
ALTER TABLE workspaces DROP COLUMN trial_end;
ALTER TABLE workspaces DROP COLUMN seat_quantity;
ALTER TABLE workspaces DROP COLUMN price_id;
