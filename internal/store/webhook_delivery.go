package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"gorm.io/gorm"

	"atrium/internal/app"
	"atrium/internal/jobs"
)

// webhookDeliveryRecord is a row of webhook_deliveries.
type webhookDeliveryRecord struct {
	ID             int64
	EndpointID     int64
	WorkspaceID    int64
	MessageID      string
	EventType      string
	Payload        string
	Status         string
	Attempts       int
	NextAttemptAt  time.Time
	LastAttemptAt  *time.Time
	LastStatusCode int
	LastLatencyMS  int64 `gorm:"column:last_latency_ms"`
	LastExcerpt    string
	LastError      string
	ReplayOfID     *int64
	CreatedAt      time.Time
	DeliveredAt    *time.Time
}

func (webhookDeliveryRecord) TableName() string { return "webhook_deliveries" }

// webhookDeliveryColumns are the columns of every read of deliveries, in
// the order scanWebhookDelivery reads them (the table is aliased d).
const webhookDeliveryColumns = `d.id, d.endpoint_id, d.workspace_id, d.message_id, d.event_type, d.payload, d.status,
	d.attempts, d.next_attempt_at, d.last_attempt_at, d.last_status_code, d.last_latency_ms, d.last_excerpt,
	d.last_error, d.replay_of_id, d.created_at, d.delivered_at`

// scanWebhookDelivery reads a row of webhookDeliveryColumns.
func scanWebhookDelivery(sc scanner) (*webhookDeliveryRecord, error) {
	var r webhookDeliveryRecord
	if err := scanRow(sc, &r.ID, &r.EndpointID, &r.WorkspaceID, &r.MessageID, &r.EventType, &r.Payload, &r.Status,
		&r.Attempts, &r.NextAttemptAt, &r.LastAttemptAt, &r.LastStatusCode, &r.LastLatencyMS, &r.LastExcerpt,
		&r.LastError, &r.ReplayOfID, &r.CreatedAt, &r.DeliveredAt); err != nil {
		return nil, err
	}
	return &r, nil
}

func (r *webhookDeliveryRecord) toApp() *app.WebhookDelivery {
	d := &app.WebhookDelivery{ID: r.ID, EndpointID: r.EndpointID, WorkspaceID: r.WorkspaceID, MessageID: r.MessageID,
		EventType: r.EventType, Payload: r.Payload, Status: r.Status, Attempts: r.Attempts,
		NextAttemptAt: r.NextAttemptAt.UTC(), LastAttemptAt: timeOrZero(r.LastAttemptAt), StatusCode: r.LastStatusCode,
		Latency: time.Duration(r.LastLatencyMS) * time.Millisecond, Excerpt: r.LastExcerpt, Error: r.LastError,
		CreatedAt: r.CreatedAt.UTC(), DeliveredAt: timeOrZero(r.DeliveredAt)}
	if r.ReplayOfID != nil {
		d.ReplayOfID = *r.ReplayOfID
	}
	return d
}

// webhookEventRecord is a row of webhook_events: an event waiting to be
// fanned out.
type webhookEventRecord struct {
	AuditID   int64 `gorm:"primaryKey;autoIncrement:false"`
	MessageID string
	// Endpoints are the ids of the endpoints subscribed to the event when
	// it happened, space-separated; one turned off or deleted since gets
	// nothing.
	Endpoints string
	CreatedAt time.Time
}

func (webhookEventRecord) TableName() string { return "webhook_events" }

// queueWebhookEvent queues the event of the audit entry r, just written in
// tx, for every enabled endpoint of its workspace that subscribes to its
// action: one row of webhook_events, which the fan_out_webhooks job turns
// into the deliveries and their jobs after the change commits
// (FanOutWebhookEvents). It is the one place events are queued: appendAudit
// calls it for every entry, so a change, its audit entry and its event
// commit or roll back together. An action that is not public, or an entry
// of no workspace, costs nothing; a workspace without endpoints one index
// probe.
func (db *DB) queueWebhookEvent(ctx context.Context, tx *gorm.DB, r *auditRecord) error {
	ev, public := app.LookupEventType(r.Action)
	if !public || ev.Direct || r.WorkspaceID == nil {
		return nil
	}
	endpoints, err := db.subscribers(ctx, tx, qWebhookSubscribers, *r.WorkspaceID, r.Action)
	if err != nil || len(endpoints) == 0 {
		return err
	}
	ids := make([]string, len(endpoints))
	for i, id := range endpoints {
		ids[i] = strconv.FormatInt(id, 10)
	}
	rec := webhookEventRecord{AuditID: r.ID, MessageID: app.NewWebhookMessageID(), Endpoints: strings.Join(ids, " "),
		CreatedAt: r.CreatedAt}
	if err := tx.Create(&rec).Error; err != nil {
		return fmt.Errorf("queue the webhook event of %s: %w", r.Action, err)
	}
	afterCommit(tx, db.kickFanOut)
	return nil
}

// subscribers returns the workspace's enabled endpoints that subscribe to
// action, read by the catalogued statement name (qWebhookSubscribers or
// its locking form).
func (db *DB) subscribers(ctx context.Context, tx *gorm.DB, name string, workspaceID int64, action string) ([]int64, error) {
	rows, err := db.query(ctx, tx, name, workspaceID)
	if err != nil {
		return nil, fmt.Errorf("find webhook subscribers: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var endpoints []int64
	for rows.Next() {
		var (
			id    int64
			types string
		)
		if err := rows.Scan(&id, &types); err != nil {
			return nil, fmt.Errorf("find webhook subscribers: %w", err)
		}
		if slices.Contains(strings.Fields(types), action) {
			endpoints = append(endpoints, id)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find webhook subscribers: %w", err)
	}
	return endpoints, nil
}

// FanOutWebhookEvents implements jobs.WebhookDeliverer: it fans out the
// waiting events one transaction each, oldest first, until none is left
// (or ctx ends), and returns how many it fanned out.
func (s *WebhookService) FanOutWebhookEvents(ctx context.Context) (int, error) {
	n := 0
	for ctx.Err() == nil {
		did, err := s.fanOutNext(ctx)
		if err != nil || !did {
			return n, err
		}
		n++
	}
	return n, ctx.Err()
}

// fanOutNext fans out the oldest waiting event, in one transaction: it
// writes the event's delivery to each of its endpoints that is still
// enabled and subscribed and has none yet, queues their jobs, and deletes
// the event. It reports false when no event waits. Two fan-outs at once
// take different events (PostgreSQL skips a row another holds; SQLite runs
// one write at a time), and the unique index on (message_id, endpoint_id)
// would stop a delivery written twice.
func (s *WebhookService) fanOutNext(ctx context.Context) (bool, error) {
	found := false
	err := s.db.transact(ctx, func(tx *gorm.DB) error {
		var ev webhookEventRecord
		err := s.db.queryRow(ctx, tx, qWebhookEventNext).Scan(&ev.AuditID, &ev.MessageID, &ev.Endpoints)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read the next webhook event: %w", err)
		}
		found = true
		if err := s.fanOut(ctx, tx, ev); err != nil {
			return err
		}
		if err := tx.Delete(&webhookEventRecord{AuditID: ev.AuditID}).Error; err != nil {
			return fmt.Errorf("remove webhook event %d: %w", ev.AuditID, err)
		}
		return nil
	})
	return found, err
}

// fanOut writes, in tx, the deliveries of ev still missing and queues
// their jobs.
func (s *WebhookService) fanOut(ctx context.Context, tx *gorm.DB, ev webhookEventRecord) error {
	var r auditRecord
	err := scanAudit(s.db.queryRow(ctx, tx, qWebhookEventEntry, ev.AuditID), &r)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && r.WorkspaceID == nil) {
		return nil // its workspace was deleted: nobody to tell
	}
	if err != nil {
		return fmt.Errorf("read webhook event %d: %w", ev.AuditID, err)
	}
	// Locks in the order every scoped change takes them (lockScope): the
	// workspace first, then its endpoints. A change to an endpoint holds
	// the workspace while it deletes the endpoint's deliveries; taken after
	// the endpoints, this lock would wait for that change while it waited
	// for the deliveries written here.
	if s.db.dialect == Postgres {
		if err := tx.Exec("SELECT id FROM workspaces WHERE id = ? FOR KEY SHARE", *r.WorkspaceID).Error; err != nil {
			return fmt.Errorf("lock workspace %d: %w", *r.WorkspaceID, err)
		}
	}
	current, err := s.db.subscribers(ctx, tx, qWebhookEventTargets, *r.WorkspaceID, r.Action)
	if err != nil {
		return err
	}
	done, err := s.db.idList(ctx, tx, qWebhookEventSent, ev.MessageID)
	if err != nil {
		return fmt.Errorf("find the deliveries of %s: %w", ev.MessageID, err)
	}
	var recs []webhookDeliveryRecord
	payload, _ := app.NewEventPayload(r.toApp())
	for _, f := range strings.Fields(ev.Endpoints) {
		id, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return fmt.Errorf("webhook event %d names endpoint %q: %w", ev.AuditID, f, err)
		}
		if slices.Contains(current, id) && !slices.Contains(done, id) {
			recs = append(recs, webhookDeliveryRecord{EndpointID: id, WorkspaceID: *r.WorkspaceID, MessageID: ev.MessageID,
				EventType: r.Action, Payload: string(payload), Status: app.DeliveryPending, NextAttemptAt: r.CreatedAt,
				CreatedAt: r.CreatedAt})
		}
	}
	if len(recs) == 0 {
		return nil
	}
	if err := tx.Create(&recs).Error; err != nil {
		return fmt.Errorf("write the deliveries of %s: %w", ev.MessageID, err)
	}
	ids := make([]int64, len(recs))
	for i := range recs {
		ids[i] = recs[i].ID
	}
	return s.db.queueDeliveries(tx, ids...)
}

// queueDeliveries queues the job of each delivery inside tx, the
// transaction that wrote them (internal/jobs.DeliverWebhook).
func (db *DB) queueDeliveries(tx *gorm.DB, ids ...int64) error {
	args := make([]river.JobArgs, len(ids))
	for i, id := range ids {
		args[i] = jobs.DeliverWebhook{DeliveryID: id}
	}
	return db.enqueueAll(tx, args)
}

// SendWebhookTest implements app.WebhookService: the webhook.tested entry
// is audited and its event queued for this endpoint alone.
func (s *WebhookService) SendWebhookTest(ctx context.Context, sc app.Scope, id int64) (*app.WebhookDelivery, error) {
	var out *app.WebhookDelivery
	err := s.changeEndpoint(ctx, sc, id, func(tx *gorm.DB, _ *membershipRecord, r *webhookEndpointRecord) error {
		if !r.Enabled {
			return app.Errorf(app.ECONFLICT, "This endpoint is turned off. Turn it on to send a test event.")
		}
		e := endpointAudit(app.ActionWebhookTested, r, nil)
		if err := s.db.audit(ctx, tx, e); err != nil {
			return err
		}
		// The payload is built from the entry as audit wrote it: the
		// actor filled from the request.
		now := s.db.now()
		p := app.PrincipalFromContext(ctx)
		e.CreatedAt = now
		if p != nil {
			e.ActorID, e.ActorEmail, e.ActorName = p.User.ID, p.User.Email, p.User.Name
		}
		payload, _ := app.NewEventPayload(&e)
		d := webhookDeliveryRecord{EndpointID: r.ID, WorkspaceID: r.WorkspaceID, MessageID: app.NewWebhookMessageID(),
			EventType: app.ActionWebhookTested, Payload: string(payload), Status: app.DeliveryPending,
			NextAttemptAt: now, CreatedAt: now}
		if err := tx.Create(&d).Error; err != nil {
			return fmt.Errorf("queue webhook test: %w", err)
		}
		out = d.toApp()
		return s.db.queueDeliveries(tx, d.ID)
	})
	return out, err
}

// FindWebhookDeliveries implements app.WebhookService.
func (s *WebhookService) FindWebhookDeliveries(ctx context.Context, sc app.Scope, endpointID int64, limit int) ([]*app.WebhookDelivery, error) {
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	if _, err := s.db.findEndpoint(ctx, nil, sc, endpointID); err != nil {
		return nil, err
	}
	rows, err := s.db.query(ctx, nil, qWebhookDeliveries, withScope(sc, []any{endpointID, sc.WorkspaceID}, limit)...)
	if err != nil {
		return nil, fmt.Errorf("find webhook deliveries: %w", err)
	}
	defer func() { _ = rows.Close() }()
	out := make([]*app.WebhookDelivery, 0, limit)
	for rows.Next() {
		r, err := scanWebhookDelivery(rows)
		if err != nil {
			return nil, fmt.Errorf("find webhook deliveries: %w", err)
		}
		out = append(out, r.toApp())
	}
	return out, rows.Err()
}

// ReplayWebhookDelivery implements app.WebhookService.
func (s *WebhookService) ReplayWebhookDelivery(ctx context.Context, sc app.Scope, endpointID, deliveryID int64) (*app.WebhookDelivery, error) {
	var out *app.WebhookDelivery
	err := s.changeEndpoint(ctx, sc, endpointID, func(tx *gorm.DB, _ *membershipRecord, ep *webhookEndpointRecord) error {
		if !ep.Enabled {
			return app.Errorf(app.ECONFLICT, "This endpoint is turned off. Turn it on to replay deliveries.")
		}
		d, err := scanWebhookDelivery(s.db.queryRow(ctx, tx, qWebhookDeliveryOf, withScope(sc, []any{deliveryID, endpointID, sc.WorkspaceID})...))
		if errors.Is(err, sql.ErrNoRows) {
			return app.Errorf(app.ENOTFOUND, "Delivery not found.")
		}
		if err != nil {
			return fmt.Errorf("find webhook delivery %d: %w", deliveryID, err)
		}
		now := s.db.now()
		orig := d.ID
		if d.ReplayOfID != nil {
			orig = *d.ReplayOfID
		}
		n := webhookDeliveryRecord{EndpointID: d.EndpointID, WorkspaceID: d.WorkspaceID, MessageID: d.MessageID,
			EventType: d.EventType, Payload: d.Payload, Status: app.DeliveryPending, NextAttemptAt: now,
			ReplayOfID: &orig, CreatedAt: now}
		if err := tx.Create(&n).Error; err != nil {
			return fmt.Errorf("replay webhook delivery: %w", err)
		}
		if err := s.db.queueDeliveries(tx, n.ID); err != nil {
			return err
		}
		out = n.toApp()
		return s.db.audit(ctx, tx, endpointAudit(app.ActionWebhookReplayed, ep,
			map[string]any{"count": 1, "message_id": d.MessageID}))
	})
	return out, err
}

// ReplayWebhookDeliveriesSince implements app.WebhookService: one INSERT
// … SELECT copies the endpoint's original deliveries since the time, at
// most app.WebhookReplayMax, whatever their number.
func (s *WebhookService) ReplayWebhookDeliveriesSince(ctx context.Context, sc app.Scope, endpointID int64, since time.Time) (int, error) {
	var n int
	err := s.changeEndpoint(ctx, sc, endpointID, func(tx *gorm.DB, _ *membershipRecord, ep *webhookEndpointRecord) error {
		if !ep.Enabled {
			return app.Errorf(app.ECONFLICT, "This endpoint is turned off. Turn it on to replay deliveries.")
		}
		now := s.db.now()
		res := tx.Exec(`INSERT INTO webhook_deliveries (endpoint_id, workspace_id, message_id, event_type, payload, status,
			attempts, next_attempt_at, replay_of_id, created_at)
			SELECT endpoint_id, workspace_id, message_id, event_type, payload, 'pending', 0, ?, id, ?
			FROM webhook_deliveries WHERE endpoint_id = ? AND created_at >= ? AND replay_of_id IS NULL
			ORDER BY created_at, id LIMIT ?`, now, now, ep.ID, since.UTC(), app.WebhookReplayMax)
		if res.Error != nil {
			return fmt.Errorf("replay webhook deliveries: %w", res.Error)
		}
		n = int(res.RowsAffected)
		if n == 0 {
			return app.FieldErrorf("since", "No deliveries to this endpoint since then.")
		}
		// The copies just made: this transaction holds the endpoint's
		// lock, so the pending replays created now are these.
		ids, err := s.db.idList(ctx, tx, qWebhookReplayIDs, ep.ID, now)
		if err != nil {
			return fmt.Errorf("find replayed webhook deliveries: %w", err)
		}
		if err := s.db.queueDeliveries(tx, ids...); err != nil {
			return err
		}
		return s.db.audit(ctx, tx, endpointAudit(app.ActionWebhookReplayed, ep,
			map[string]any{"count": n, "since": since.UTC().Format(time.RFC3339)}))
	})
	return n, err
}
