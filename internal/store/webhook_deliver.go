package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"gorm.io/gorm"

	"atrium/internal/app"
	"atrium/internal/webhook"
)

// Deliver makes the next attempt of delivery id when it is due: it claims
// the attempt (a conditional UPDATE that moves the delivery's next attempt
// past the lease, so no other instance takes it meanwhile), signs and
// sends it through the outbound client, and records the answer: delivered
// on a 2xx; on 410 the endpoint is turned off; otherwise the next retry is
// scheduled (webhook.NextRetry) or, after the last, the delivery is given
// up, and an endpoint that has failed every attempt for 5 days is turned
// off and its owners emailed. attempted is false when the delivery was
// not due or another instance holds it. An attempt cut short by a crash
// comes due again when its lease ends, with the same webhook-id.
//
// This is the unit of work a job queue's worker calls with a delivery id.
func (s *WebhookService) Deliver(ctx context.Context, id int64) (attempted bool, err error) {
	now := s.db.now()
	claim := s.db.gorm.WithContext(ctx).Exec(`UPDATE webhook_deliveries SET attempts = attempts + 1, next_attempt_at = ?
		WHERE id = ? AND status IN ('pending', 'failed') AND next_attempt_at <= ?`, now.Add(s.lease()), id, now)
	if claim.Error != nil {
		return false, fmt.Errorf("claim webhook delivery %d: %w", id, asUnavailable(claim.Error))
	}
	if claim.RowsAffected != 1 {
		return false, nil
	}
	d, err := scanWebhookDelivery(s.db.queryRow(ctx, nil, qWebhookDeliveryByID, id))
	if err != nil {
		return true, fmt.Errorf("read webhook delivery %d: %w", id, err)
	}
	ep, err := scanWebhookEndpoint(s.db.queryRow(ctx, nil, qWebhookEndpointByID, d.EndpointID))
	if errors.Is(err, sql.ErrNoRows) {
		return true, nil // deleted meanwhile, with its deliveries
	}
	if err != nil {
		return true, fmt.Errorf("read webhook endpoint %d: %w", d.EndpointID, err)
	}
	if !ep.Enabled {
		return true, s.record(ctx, d, ep, webhook.Result{}, "The endpoint is turned off.")
	}
	secrets, err := s.secrets(ep, now)
	if err != nil {
		// Not sent: the attempt counts as failed and follows the retry
		// schedule, so a wrong key cannot keep a delivery claimed forever.
		if s.Logger != nil {
			s.Logger.Error("webhook secret", "delivery_id", d.ID, "endpoint_id", ep.ID, "error", err.Error())
		}
		return true, s.record(context.WithoutCancel(ctx), d, ep,
			webhook.Result{Err: errors.New("the signing secret cannot be opened (see the server log)")}, "")
	}
	res := s.Sender.Send(ctx, webhook.Message{URL: ep.URL, ID: d.MessageID, Body: []byte(d.Payload), Secrets: secrets, At: s.signTime()})
	if res.Err != nil && s.Logger != nil {
		// Never the secret, the path or the query string: the error names
		// the scheme and host only.
		level := "webhook attempt failed"
		if res.Blocked != nil {
			level = "webhook address refused"
		}
		s.Logger.Warn(level, "delivery_id", d.ID, "endpoint_id", ep.ID, "workspace_id", ep.WorkspaceID,
			"endpoint", app.WebhookURLLabel(ep.URL), "attempt", d.Attempts, "error", res.Err.Error())
	}
	if ctx.Err() != nil && res.StatusCode == 0 {
		// Shutting down: the attempt did not finish. Its lease brings it
		// back after a restart, with the same webhook-id.
		return true, ctx.Err()
	}
	return true, s.record(context.WithoutCancel(ctx), d, ep, res, "")
}

// lease is how long a claim holds: at least the attempt's timeout and a
// margin.
func (s *WebhookService) lease() time.Duration {
	return max(s.Lease, webhook.Timeout+5*time.Second)
}

// signTime is the time an attempt is signed with.
func (s *WebhookService) signTime() time.Time {
	if s.SignClock == nil {
		return time.Now()
	}
	return s.SignClock()
}

// secrets opens the endpoint's signing secrets: the current one, and the
// previous one while a rotation's overlap lasts.
func (s *WebhookService) secrets(ep *webhookEndpointRecord, now time.Time) ([]webhook.Secret, error) {
	out := make([]webhook.Secret, 0, 2)
	sealed := []string{ep.SecretSealed}
	if ep.PreviousSecretSealed != "" && ep.PreviousSecretExpiresAt != nil && ep.PreviousSecretExpiresAt.After(now) {
		sealed = append(sealed, ep.PreviousSecretSealed)
	}
	for _, v := range sealed {
		text, err := s.openSecret(v)
		if err != nil {
			return nil, err
		}
		sec, err := webhook.ParseSecret(text)
		if err != nil {
			return nil, fmt.Errorf("webhook endpoint %d: %w", ep.ID, err)
		}
		out = append(out, sec)
	}
	return out, nil
}

// record writes the outcome of attempt d.Attempts, unless the claim was
// lost meanwhile (the lease ended and another instance took the delivery
// over: its own attempt is the one recorded). giveUp, when set, gives the
// delivery up with that reason without an answer.
func (s *WebhookService) record(ctx context.Context, d *webhookDeliveryRecord, ep *webhookEndpointRecord, res webhook.Result, giveUp string) error {
	return s.db.transact(ctx, func(tx *gorm.DB) error {
		// The endpoint as it is now, locked: another attempt may have
		// changed its health or turned it off meanwhile.
		ep, err := scanWebhookEndpoint(s.db.queryRow(ctx, tx, qWebhookEndpointLock, ep.ID))
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("lock webhook endpoint: %w", err)
		}
		now := s.db.now()
		set := map[string]any{"last_attempt_at": now, "last_status_code": res.StatusCode,
			"last_latency_ms": res.Latency.Milliseconds(), "last_excerpt": res.Excerpt, "last_error": ""}
		if res.Err != nil {
			set["last_error"] = res.Err.Error()
		}
		// disable is kept on the endpoint and logged in English; why is
		// the same for the owners' emails, in their languages.
		var (
			disable string
			why     app.Sentence
		)
		outcome := res.Outcome()
		switch {
		case giveUp != "":
			set["status"], set["last_error"] = app.DeliveryGaveUp, giveUp
		case outcome == webhook.Delivered:
			set["status"], set["delivered_at"] = app.DeliveryDelivered, now
		case outcome == webhook.Gone:
			set["status"] = app.DeliveryGaveUp
			disable, why = "The endpoint answered 410 Gone.", app.Say("mail.webhook.reason.gone")
		default:
			if wait, ok := webhook.NextRetry(d.Attempts, rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))); ok {
				set["status"], set["next_attempt_at"] = app.DeliveryFailed, now.Add(wait)
			} else {
				set["status"] = app.DeliveryGaveUp
			}
			if ep.FailingSince != nil && !ep.FailingSince.After(now.Add(-app.WebhookFailingLimit)) {
				days := int(app.WebhookFailingLimit / (24 * time.Hour))
				disable, why = fmt.Sprintf("Every delivery failed for %d days.", days), app.Say("mail.webhook.reason.failing", "Days", days)
			}
		}
		upd := tx.Model(&webhookDeliveryRecord{}).Where("id = ? AND attempts = ? AND status IN ('pending', 'failed')", d.ID, d.Attempts).Updates(set)
		if upd.Error != nil {
			return fmt.Errorf("record webhook attempt: %w", upd.Error)
		}
		if upd.RowsAffected != 1 || giveUp != "" {
			return nil
		}
		if err := s.endpointHealth(tx, ep, outcome, now); err != nil {
			return err
		}
		if disable == "" {
			return nil
		}
		return s.db.disableEndpoint(ctx, tx, ep, disable, func(owners []owner) error {
			if s.Logger != nil {
				s.Logger.Warn("webhook endpoint turned off", "endpoint_id", ep.ID, "workspace_id", ep.WorkspaceID,
					"endpoint", app.WebhookURLLabel(ep.URL), "reason", disable)
			}
			if s.Notice == nil {
				return nil
			}
			for _, o := range owners {
				if err := s.db.enqueueEmail(tx, s.Notice(o.Email, o.Language, app.WebhookURLLabel(ep.URL), why)); err != nil {
					return err
				}
			}
			return nil
		})
	})
}

// endpointHealth keeps failing_since: cleared by an answered 2xx, set by
// the first failure after one.
func (s *WebhookService) endpointHealth(tx *gorm.DB, ep *webhookEndpointRecord, outcome webhook.Outcome, now time.Time) error {
	var err error
	switch {
	case outcome == webhook.Delivered && ep.FailingSince != nil:
		err = tx.Exec(`UPDATE webhook_endpoints SET failing_since = NULL WHERE id = ?`, ep.ID).Error
	case outcome != webhook.Delivered && ep.FailingSince == nil:
		err = tx.Exec(`UPDATE webhook_endpoints SET failing_since = ? WHERE id = ? AND failing_since IS NULL`, now, ep.ID).Error
	}
	if err != nil {
		return fmt.Errorf("record webhook endpoint health: %w", err)
	}
	return nil
}

// DeliverWebhook is the job's unit of work (internal/jobs.DeliverWebhook):
// it makes the delivery's next attempt when it is due (Deliver), then says
// how long until the delivery wants another, or done when it needs none:
// delivered, given up, or deleted with its endpoint.
func (s *WebhookService) DeliverWebhook(ctx context.Context, id int64) (retryIn time.Duration, done bool, err error) {
	if _, err := s.Deliver(ctx, id); err != nil {
		return 0, false, err
	}
	d, err := scanWebhookDelivery(s.db.queryRow(ctx, nil, qWebhookDeliveryByID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return 0, true, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("read webhook delivery %d: %w", id, err)
	}
	if d.Status != app.DeliveryPending && d.Status != app.DeliveryFailed {
		return 0, true, nil
	}
	return d.NextAttemptAt.Sub(s.db.now()), false, nil
}

// DeliverDue attempts up to limit due deliveries, Concurrency at a time,
// and returns how many it attempted. The job queue does not use it (each
// delivery is a job that calls DeliverWebhook); it runs the schedule on
// the store's clock, which the tests move days ahead, and it reads the
// ids of one bounded batch only. Each attempt is claimed on its own
// (Deliver), so it never sends an attempt a job is sending.
func (s *WebhookService) DeliverDue(ctx context.Context, limit int) (int, error) {
	rows, err := s.db.query(ctx, nil, qWebhookDue, s.db.now(), limit)
	if err != nil {
		return 0, fmt.Errorf("find due webhook deliveries: %w", err)
	}
	ids := make([]int64, 0, limit)
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			_ = rows.Close()
			return 0, fmt.Errorf("find due webhook deliveries: %w", err)
		}
		ids = append(ids, id)
	}
	_ = rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("find due webhook deliveries: %w", err)
	}
	var (
		mu        sync.Mutex
		attempted int
		first     error
		wg        sync.WaitGroup
	)
	sem := make(chan struct{}, max(1, s.Concurrency))
	for _, id := range ids {
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			ok, err := s.Deliver(ctx, id)
			mu.Lock()
			defer mu.Unlock()
			if ok {
				attempted++
			}
			if err != nil && first == nil && !errors.Is(err, context.Canceled) {
				first = err
			}
		})
	}
	wg.Wait()
	return attempted, first
}
