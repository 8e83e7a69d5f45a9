package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"gorm.io/gorm"

	"atrium/internal/app"
	"atrium/internal/outbound"
	"atrium/internal/seal"
	"atrium/internal/webhook"
)

// webhookEndpointRecord is a row of webhook_endpoints.
type webhookEndpointRecord struct {
	ID                      int64
	WorkspaceID             int64
	URL                     string `gorm:"column:url"`
	Description             string
	EventTypes              string
	SecretSealed            string
	PreviousSecretSealed    string
	PreviousSecretExpiresAt *time.Time
	RevealUserID            *int64
	RevealUntil             *time.Time
	Enabled                 bool
	DisabledReason          string
	DisabledAt              *time.Time
	FailingSince            *time.Time
	CreatedByUserID         *int64
	CreatedAt               time.Time
	UpdatedAt               time.Time
}

func (webhookEndpointRecord) TableName() string { return "webhook_endpoints" }

// webhookEndpointColumns are the columns of every read of endpoints, in the
// order scanWebhookEndpoint reads them (the table is aliased e).
const webhookEndpointColumns = `e.id, e.workspace_id, e.url, e.description, e.event_types, e.secret_sealed,
	e.previous_secret_sealed, e.previous_secret_expires_at, e.enabled, e.disabled_reason, e.disabled_at,
	e.failing_since, e.created_by_user_id, e.created_at, e.updated_at`

// scanWebhookEndpoint reads a row of webhookEndpointColumns.
func scanWebhookEndpoint(sc scanner) (*webhookEndpointRecord, error) {
	var r webhookEndpointRecord
	if err := scanRow(sc, &r.ID, &r.WorkspaceID, &r.URL, &r.Description, &r.EventTypes, &r.SecretSealed,
		&r.PreviousSecretSealed, &r.PreviousSecretExpiresAt, &r.Enabled, &r.DisabledReason, &r.DisabledAt,
		&r.FailingSince, &r.CreatedByUserID, &r.CreatedAt, &r.UpdatedAt); err != nil {
		return nil, err
	}
	return &r, nil
}

func (r *webhookEndpointRecord) toApp() *app.WebhookEndpoint {
	e := &app.WebhookEndpoint{ID: r.ID, WorkspaceID: r.WorkspaceID, URL: r.URL, Description: r.Description,
		EventTypes: strings.Fields(r.EventTypes), Enabled: r.Enabled, DisabledReason: r.DisabledReason,
		DisabledAt: timeOrZero(r.DisabledAt), FailingSince: timeOrZero(r.FailingSince),
		PreviousSecretUntil: timeOrZero(r.PreviousSecretExpiresAt), CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
	if r.CreatedByUserID != nil {
		e.CreatedByID = *r.CreatedByUserID
	}
	return e
}

// The catalogued statements of webhooks.
const (
	qWebhookEndpoints    = "webhook_endpoints_of_workspace"
	qWebhookEndpointOf   = "webhook_endpoint_of_workspace"
	qWebhookEndpointByID = "webhook_endpoint_by_id"
	qWebhookEndpointLock = "webhook_endpoint_lock"
	qWebhookSubscribers  = "webhook_subscribers"
	qWebhookCount        = "webhook_endpoint_count"
	qWebhookDeliveryByID = "webhook_delivery_by_id"
	qWebhookDeliveryOf   = "webhook_delivery_of_endpoint"
	qWebhookDeliveries   = "webhook_deliveries_of_endpoint"
	qWebhookDue          = "webhook_deliveries_due"
	qWebhookOwners       = "webhook_workspace_owners"
	qWebhookReplayIDs    = "webhook_replays_made"
	qWebhookUnfinished   = "webhook_deliveries_unfinished"
	qWebhookEventEntry   = "webhook_event_entry"
	qWebhookEventTargets = "webhook_event_targets"
	qWebhookEventSent    = "webhook_event_deliveries"
	qWebhookEventNext    = "webhook_event_next"
	qWebhookEventsLeft   = "webhook_events_waiting"
)

// webhookQueries are the webhook statements of the catalog.
var webhookQueries = map[string]hotQuery{
	// The copies a "replay since" just made, to queue their jobs.
	qWebhookReplayIDs: {SQL: `SELECT id FROM webhook_deliveries WHERE endpoint_id = ? AND created_at = ?
		AND replay_of_id IS NOT NULL AND status = 'pending' AND attempts = 0 ORDER BY created_at, id`},
	// migrate-data queues the deliveries still to make, once, in a new
	// database.
	qWebhookUnfinished: {SQL: `SELECT id FROM webhook_deliveries WHERE status IN ('pending', 'failed') ORDER BY id`,
		WholeTable: "migrate-data queues the deliveries still to make once, in a new database"},
	// The settings page: a workspace's endpoints, in scope.
	qWebhookEndpoints: {SQL: `SELECT ` + webhookEndpointColumns + ` FROM webhook_endpoints e
		WHERE e.workspace_id = ? AND ` + scopeClause + ` ORDER BY e.id`},
	qWebhookEndpointOf: {SQL: `SELECT ` + webhookEndpointColumns + ` FROM webhook_endpoints e
		WHERE e.id = ? AND e.workspace_id = ? AND ` + scopeClause},
	// The delivery of an attempt, after its claim.
	qWebhookEndpointByID: {SQL: `SELECT ` + webhookEndpointColumns + ` FROM webhook_endpoints e WHERE e.id = ?`},
	// The same, locked, when an attempt's outcome is recorded: the
	// endpoint's row is always locked before its deliveries', so recording
	// two attempts and turning the endpoint off never deadlock.
	qWebhookEndpointLock: {SQL: `SELECT ` + webhookEndpointColumns + ` FROM webhook_endpoints e WHERE e.id = ?`,
		PostgresSQL: `SELECT ` + webhookEndpointColumns + ` FROM webhook_endpoints e WHERE e.id = ? FOR UPDATE`},
	// The fan-out of each public audit action, in its transaction: the
	// workspace's enabled endpoints and what they subscribe to. A
	// workspace without endpoints costs one probe of the index.
	qWebhookSubscribers: {SQL: `SELECT id, event_types FROM webhook_endpoints
		WHERE workspace_id = ? AND enabled = TRUE ORDER BY id`},
	// An event's fan-out job: its audit entry, and the endpoints that
	// already have its delivery (webhook_deliveries_message_idx).
	qWebhookEventEntry: {SQL: `SELECT ` + auditColumns + ` FROM audit_logs a WHERE a.id = ?`},
	// The same subscribers, when the fan-out writes their deliveries: on
	// PostgreSQL each endpoint's row is share-locked first, in id order, so
	// an endpoint being deleted is waited for (and then left out) rather
	// than deadlocking with the cascade that deletes its deliveries.
	qWebhookEventTargets: {SQL: `SELECT id, event_types FROM webhook_endpoints
		WHERE workspace_id = ? AND enabled = TRUE ORDER BY id`,
		PostgresSQL: `SELECT id, event_types FROM webhook_endpoints
		WHERE workspace_id = ? AND enabled = TRUE ORDER BY id FOR KEY SHARE`},
	// The oldest event waiting to be fanned out. On PostgreSQL the row is
	// locked, and one locked by another instance's fan-out skipped, so two
	// instances fan out different events side by side.
	qWebhookEventNext: {SQL: `SELECT audit_id, message_id, endpoints FROM webhook_events WHERE audit_id > 0
		ORDER BY audit_id LIMIT 1`,
		PostgresSQL: `SELECT audit_id, message_id, endpoints FROM webhook_events WHERE audit_id > 0
		ORDER BY audit_id LIMIT 1 FOR UPDATE SKIP LOCKED`},
	// migrate-data: how many events the new database has to fan out.
	qWebhookEventsLeft: {SQL: `SELECT COUNT(*) FROM webhook_events`,
		WholeTable: "migrate-data counts the events still to fan out, once"},
	qWebhookEventSent: {SQL: `SELECT endpoint_id FROM webhook_deliveries
		WHERE message_id = ? AND replay_of_id IS NULL`},
	qWebhookCount:        {SQL: `SELECT COUNT(*) FROM webhook_endpoints WHERE workspace_id = ?`},
	qWebhookDeliveryByID: {SQL: `SELECT ` + webhookDeliveryColumns + ` FROM webhook_deliveries d WHERE d.id = ?`},
	qWebhookDeliveryOf: {SQL: `SELECT ` + webhookDeliveryColumns + ` FROM webhook_deliveries d
		WHERE d.id = ? AND d.endpoint_id = ? AND d.workspace_id = ? AND ` + scopeClause},
	// An endpoint's delivery log, newest first.
	qWebhookDeliveries: {SQL: `SELECT ` + webhookDeliveryColumns + ` FROM webhook_deliveries d
		WHERE d.endpoint_id = ? AND d.workspace_id = ? AND ` + scopeClause + `
		ORDER BY d.created_at DESC, d.id DESC LIMIT ?`},
	// The deliveries due, oldest first, from the partial index.
	qWebhookDue: {SQL: `SELECT id FROM webhook_deliveries
		WHERE status IN ('pending', 'failed') AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?`},
	// Who is told when an endpoint is turned off.
	qWebhookOwners: {SQL: `SELECT u.email, u.language FROM memberships c JOIN users u ON u.id = c.user_id
		WHERE c.workspace_id = ? AND ` + ownerRank + ` = 0 ORDER BY u.id`, BoundedSort: "the owners of one workspace"},
}

// WebhookService implements app.WebhookService and delivers the events it
// queues (webhook_deliver.go).
type WebhookService struct {
	db  *DB
	box *seal.Box
	// Outbound are the rules addresses are checked by when saved and when
	// sent: production's unless WEBHOOK_ALLOW_PRIVATE.
	Outbound outbound.Options
	// Sender makes the attempts; NewWebhookService builds one from
	// Outbound, tests may replace it.
	Sender *webhook.Sender
	// Notice builds the email telling an owner that an endpoint was turned
	// off (to, their saved language, the endpoint's label, why as a
	// sentence of the mail catalog); nil sends none.
	Notice func(to, lang, endpoint string, reason app.Sentence) app.Email
	// Logger records refused addresses and failed attempts (without
	// secrets, paths or query strings); nil logs nothing.
	Logger *slog.Logger
	// Lease is how long a claimed attempt is held before another instance
	// may take it over (after a crash); it must outlast webhook.Timeout.
	Lease time.Duration
	// Concurrency is how many attempts DeliverDue makes at once.
	Concurrency int
	// SignClock is the time attempts are signed with, which receivers
	// compare with their own clock; defaults to time.Now (the store's
	// clock, which tests move, schedules the retries).
	SignClock func() time.Time
}

// NewWebhookService returns the webhook service of db; key (32 bytes)
// seals the signing secrets, as authenticator secrets are sealed.
func NewWebhookService(db *DB, key []byte, opts outbound.Options) *WebhookService {
	return &WebhookService{db: db, box: seal.New(key), Outbound: opts, Sender: webhook.NewSender(opts),
		Lease: time.Minute, Concurrency: 4, SignClock: time.Now}
}

var _ app.WebhookService = (*WebhookService)(nil)

// errKeyManagesWebhooks refuses webhook management to an API key.
var errKeyManagesWebhooks = app.Errorf(app.EFORBIDDEN, "An API key cannot manage webhooks.")

// errEndpointNotFound is the answer for another workspace's endpoint, or
// none.
var errEndpointNotFound = app.Errorf(app.ENOTFOUND, "Webhook endpoint not found.")

// lockWebhookManager checks, inside tx, that the scope's actor is a user
// who may manage the workspace's webhooks.
func (db *DB) lockWebhookManager(ctx context.Context, tx *gorm.DB, sc app.Scope) (*membershipRecord, error) {
	if sc.KeyActs() {
		return nil, errKeyManagesWebhooks
	}
	m, err := db.lockScope(ctx, tx, sc)
	if err != nil {
		return nil, err
	}
	return m, app.CanManageWebhooks(app.Role(m.Role))
}

// checkURL checks an address against the outbound rules, as an error
// beside the url field.
func (s *WebhookService) checkURL(raw string) error {
	if err := outbound.CheckURL(raw, s.Outbound); err != nil {
		return app.FieldErrorf("url", "%s", err.Error())
	}
	return nil
}

// FindWebhookEndpoints implements app.WebhookService.
func (s *WebhookService) FindWebhookEndpoints(ctx context.Context, sc app.Scope) ([]*app.WebhookEndpoint, error) {
	rows, err := s.db.query(ctx, nil, qWebhookEndpoints, withScope(sc, []any{sc.WorkspaceID})...)
	if err != nil {
		return nil, fmt.Errorf("find webhook endpoints: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var out []*app.WebhookEndpoint
	for rows.Next() {
		r, err := scanWebhookEndpoint(rows)
		if err != nil {
			return nil, fmt.Errorf("find webhook endpoints: %w", err)
		}
		out = append(out, r.toApp())
	}
	return out, rows.Err()
}

// findEndpoint reads one of the scope's endpoints, in tx when given.
func (db *DB) findEndpoint(ctx context.Context, tx *gorm.DB, sc app.Scope, id int64) (*webhookEndpointRecord, error) {
	r, err := scanWebhookEndpoint(db.queryRow(ctx, tx, qWebhookEndpointOf, withScope(sc, []any{id, sc.WorkspaceID})...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errEndpointNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("find webhook endpoint %d: %w", id, err)
	}
	return r, nil
}

// FindWebhookEndpoint implements app.WebhookService.
func (s *WebhookService) FindWebhookEndpoint(ctx context.Context, sc app.Scope, id int64) (*app.WebhookEndpoint, error) {
	r, err := s.db.findEndpoint(ctx, nil, sc, id)
	if err != nil {
		return nil, err
	}
	return r.toApp(), nil
}

// CreateWebhookEndpoint implements app.WebhookService.
func (s *WebhookService) CreateWebhookEndpoint(ctx context.Context, sc app.Scope, in app.WebhookEndpointInput) (*app.WebhookEndpoint, error) {
	in, err := app.ValidateWebhookEndpoint(in)
	if err != nil {
		return nil, err
	}
	if err := s.checkURL(in.URL); err != nil {
		return nil, err
	}
	_, text := webhook.NewSecret()
	sealed, err := s.box.Seal(text)
	if err != nil {
		return nil, fmt.Errorf("seal webhook secret: %w", err)
	}
	var out *app.WebhookEndpoint
	err = s.db.transact(ctx, func(tx *gorm.DB) error {
		m, err := s.db.lockWebhookManager(ctx, tx, sc)
		if err != nil {
			return err
		}
		if err := s.db.checkRestricted(ctx, tx, sc.WorkspaceID); err != nil {
			return err
		}
		var n int
		if err := s.db.queryRow(ctx, tx, qWebhookCount, sc.WorkspaceID).Scan(&n); err != nil {
			return fmt.Errorf("count webhook endpoints: %w", err)
		}
		if n >= app.WebhookEndpointsMax {
			return app.Errorf(app.ECONFLICT, "A workspace can have at most %d webhook endpoints. Delete one first.", app.WebhookEndpointsMax)
		}
		now := s.db.now()
		until := now.Add(app.WebhookRevealTTL)
		r := webhookEndpointRecord{WorkspaceID: sc.WorkspaceID, URL: in.URL, Description: in.Description,
			EventTypes: strings.Join(in.EventTypes, " "), SecretSealed: sealed, RevealUserID: &m.UserID, RevealUntil: &until,
			Enabled: true, CreatedByUserID: &m.UserID, CreatedAt: now, UpdatedAt: now}
		if err := tx.Create(&r).Error; err != nil {
			return fmt.Errorf("create webhook endpoint: %w", err)
		}
		out = r.toApp()
		return s.db.audit(ctx, tx, endpointAudit(app.ActionWebhookCreated, &r, map[string]any{"events": in.EventTypes}))
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// endpointAudit is the audit entry of an action on endpoint r: its label,
// never its whole address.
func endpointAudit(action string, r *webhookEndpointRecord, more map[string]any) app.AuditEntry {
	md := map[string]any{"url": app.WebhookURLLabel(r.URL)}
	for k, v := range more {
		md[k] = v
	}
	return app.AuditEntry{WorkspaceID: r.WorkspaceID, Action: action, TargetType: "webhook_endpoint",
		TargetID: fmt.Sprint(r.ID), Metadata: md}
}

// changeEndpoint runs fn on one of the scope's endpoints inside a
// transaction, after checking the actor may manage webhooks.
func (s *WebhookService) changeEndpoint(ctx context.Context, sc app.Scope, id int64, fn func(tx *gorm.DB, m *membershipRecord, r *webhookEndpointRecord) error) error {
	return s.db.transact(ctx, func(tx *gorm.DB) error {
		m, err := s.db.lockWebhookManager(ctx, tx, sc)
		if err != nil {
			return err
		}
		r, err := s.db.findEndpoint(ctx, tx, sc, id)
		if err != nil {
			return err
		}
		return fn(tx, m, r)
	})
}

// UpdateWebhookEndpoint implements app.WebhookService.
func (s *WebhookService) UpdateWebhookEndpoint(ctx context.Context, sc app.Scope, id int64, in app.WebhookEndpointInput) error {
	in, err := app.ValidateWebhookEndpoint(in)
	if err != nil {
		return err
	}
	if err := s.checkURL(in.URL); err != nil {
		return err
	}
	return s.changeEndpoint(ctx, sc, id, func(tx *gorm.DB, _ *membershipRecord, r *webhookEndpointRecord) error {
		err := tx.Model(&webhookEndpointRecord{}).Where("id = ?", r.ID).Updates(map[string]any{"url": in.URL,
			"description": in.Description, "event_types": strings.Join(in.EventTypes, " "), "updated_at": s.db.now()}).Error
		if err != nil {
			return fmt.Errorf("update webhook endpoint: %w", err)
		}
		r.URL = in.URL
		return s.db.audit(ctx, tx, endpointAudit(app.ActionWebhookUpdated, r, map[string]any{"events": in.EventTypes}))
	})
}

// RotateWebhookSecret implements app.WebhookService.
func (s *WebhookService) RotateWebhookSecret(ctx context.Context, sc app.Scope, id int64) error {
	_, text := webhook.NewSecret()
	sealed, err := s.box.Seal(text)
	if err != nil {
		return fmt.Errorf("seal webhook secret: %w", err)
	}
	return s.changeEndpoint(ctx, sc, id, func(tx *gorm.DB, m *membershipRecord, r *webhookEndpointRecord) error {
		now := s.db.now()
		err := tx.Model(&webhookEndpointRecord{}).Where("id = ?", r.ID).Updates(map[string]any{
			"secret_sealed": sealed, "previous_secret_sealed": r.SecretSealed,
			"previous_secret_expires_at": now.Add(app.WebhookRotationOverlap),
			"reveal_user_id":             m.UserID, "reveal_until": now.Add(app.WebhookRevealTTL), "updated_at": now}).Error
		if err != nil {
			return fmt.Errorf("rotate webhook secret: %w", err)
		}
		return s.db.audit(ctx, tx, endpointAudit(app.ActionWebhookSecretRotated, r,
			map[string]any{"previous_until": now.Add(app.WebhookRotationOverlap).Format(time.RFC3339)}))
	})
}

// RevealWebhookSecret implements app.WebhookService: the conditional
// UPDATE makes the showing single-use, even for two requests at once.
func (s *WebhookService) RevealWebhookSecret(ctx context.Context, sc app.Scope, id int64) (string, error) {
	var sealed string
	err := s.changeEndpoint(ctx, sc, id, func(tx *gorm.DB, m *membershipRecord, r *webhookEndpointRecord) error {
		res := tx.Exec(`UPDATE webhook_endpoints SET reveal_user_id = NULL, reveal_until = NULL
			WHERE id = ? AND reveal_user_id = ? AND reveal_until > ?`, r.ID, m.UserID, s.db.now())
		if res.Error != nil {
			return fmt.Errorf("reveal webhook secret: %w", res.Error)
		}
		if res.RowsAffected == 1 {
			sealed = r.SecretSealed
		}
		return nil
	})
	if err != nil || sealed == "" {
		return "", err
	}
	return s.openSecret(sealed)
}

// openSecret opens a sealed signing secret.
func (s *WebhookService) openSecret(sealed string) (string, error) {
	plain, err := s.box.Open(sealed)
	if err != nil {
		return "", fmt.Errorf("open webhook secret (wrong TWO_FACTOR_KEY or altered row): %w", err)
	}
	return plain, nil
}

// SetWebhookEndpointEnabled implements app.WebhookService.
func (s *WebhookService) SetWebhookEndpointEnabled(ctx context.Context, sc app.Scope, id int64, enabled bool) error {
	return s.changeEndpoint(ctx, sc, id, func(tx *gorm.DB, _ *membershipRecord, r *webhookEndpointRecord) error {
		if r.Enabled == enabled {
			return nil
		}
		if !enabled {
			return s.db.disableEndpoint(ctx, tx, r, "Turned off by hand.", nil)
		}
		err := tx.Model(&webhookEndpointRecord{}).Where("id = ?", r.ID).Updates(map[string]any{"enabled": true,
			"disabled_reason": "", "disabled_at": nil, "failing_since": nil, "updated_at": s.db.now()}).Error
		if err != nil {
			return fmt.Errorf("enable webhook endpoint: %w", err)
		}
		return s.db.audit(ctx, tx, endpointAudit(app.ActionWebhookEnabled, r, nil))
	})
}

// disableEndpoint turns r off for reason, gives up its waiting deliveries
// and audits it; notify (when not nil) is called in the transaction to
// tell the owners. An endpoint already off is left alone.
func (db *DB) disableEndpoint(ctx context.Context, tx *gorm.DB, r *webhookEndpointRecord, reason string, notify func(owners []owner) error) error {
	now := db.now()
	res := tx.Exec(`UPDATE webhook_endpoints SET enabled = FALSE, disabled_reason = ?, disabled_at = ?, updated_at = ?
		WHERE id = ? AND enabled = TRUE`, reason, now, now, r.ID)
	if res.Error != nil {
		return fmt.Errorf("disable webhook endpoint: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return nil
	}
	if err := tx.Exec(`UPDATE webhook_deliveries SET status = 'gave_up', last_error = ?
		WHERE endpoint_id = ? AND status IN ('pending', 'failed')`, "The endpoint was turned off.", r.ID).Error; err != nil {
		return fmt.Errorf("give up webhook deliveries: %w", err)
	}
	if err := db.audit(ctx, tx, endpointAudit(app.ActionWebhookDisabled, r, map[string]any{"reason": reason})); err != nil {
		return err
	}
	if notify == nil {
		return nil
	}
	owners, err := db.owners(ctx, tx, r.WorkspaceID)
	if err != nil {
		return err
	}
	return notify(owners)
}

// owner is a workspace owner a notice goes to.
type owner struct {
	Email string
	// Language is their saved language, "" for none.
	Language string
}

// owners returns the owners of a workspace, who are told about its
// webhooks and its billing.
func (db *DB) owners(ctx context.Context, tx *gorm.DB, workspaceID int64) ([]owner, error) {
	rows, err := db.query(ctx, tx, qWebhookOwners, workspaceID)
	if err != nil {
		return nil, fmt.Errorf("find workspace owners: %w", err)
	}
	var out []owner
	for rows.Next() {
		var o owner
		if err := rows.Scan(&o.Email, &o.Language); err != nil {
			_ = rows.Close()
			return nil, fmt.Errorf("find workspace owners: %w", err)
		}
		out = append(out, o)
	}
	_ = rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find workspace owners: %w", err)
	}
	return out, nil
}

// DeleteWebhookEndpoint implements app.WebhookService.
func (s *WebhookService) DeleteWebhookEndpoint(ctx context.Context, sc app.Scope, id int64) error {
	return s.changeEndpoint(ctx, sc, id, func(tx *gorm.DB, _ *membershipRecord, r *webhookEndpointRecord) error {
		if err := tx.Exec(`DELETE FROM webhook_deliveries WHERE endpoint_id = ?`, r.ID).Error; err != nil {
			return fmt.Errorf("delete webhook deliveries: %w", err)
		}
		if err := tx.Exec(`DELETE FROM webhook_endpoints WHERE id = ?`, r.ID).Error; err != nil {
			return fmt.Errorf("delete webhook endpoint: %w", err)
		}
		return s.db.audit(ctx, tx, endpointAudit(app.ActionWebhookDeleted, r, nil))
	})
}
