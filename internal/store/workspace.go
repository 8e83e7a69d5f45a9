package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"time"

	"gorm.io/gorm"

	"atrium/internal/app"
)

type workspaceRecord struct {
	ID                   int64
	Name                 string
	Slug                 string
	Plan                 string
	SubscriptionStatus   string
	StripeCustomerID     string
	StripeSubscriptionID string
	CurrentPeriodEnd     *time.Time
	CancelAtPeriodEnd    bool
	BillingEventAt       *time.Time
	PriceID              string
	SeatQuantity         int
	TrialEnd             *time.Time
	PaymentFailedAt      *time.Time
	PaymentInvoiceURL    string
	RestrictedAt         *time.Time
	ScheduledPriceID     string
	ScheduledChangeAt    *time.Time
	RequireTwoFactor     bool
	CreatedAt            time.Time
	UpdatedAt            time.Time
}

func (workspaceRecord) TableName() string { return "workspaces" }

func (r *workspaceRecord) toApp() *app.Workspace {
	ws := &app.Workspace{ID: r.ID, Name: r.Name, Slug: r.Slug, Plan: r.Plan, SubscriptionStatus: r.SubscriptionStatus,
		StripeCustomerID: r.StripeCustomerID, StripeSubscriptionID: r.StripeSubscriptionID, CancelAtPeriodEnd: r.CancelAtPeriodEnd,
		RequireTwoFactor: r.RequireTwoFactor, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
		PriceID: r.PriceID, SeatQuantity: r.SeatQuantity, PaymentInvoiceURL: r.PaymentInvoiceURL, ScheduledPriceID: r.ScheduledPriceID,
		CurrentPeriodEnd: timeOrZero(r.CurrentPeriodEnd), TrialEnd: timeOrZero(r.TrialEnd), PaymentFailedAt: timeOrZero(r.PaymentFailedAt),
		RestrictedAt: timeOrZero(r.RestrictedAt), ScheduledChangeAt: timeOrZero(r.ScheduledChangeAt)}
	return ws
}

// WorkspaceService implements app.WorkspaceService and
// app.WorkspaceTwoFactorService (the workspace's two-factor policy).
type WorkspaceService struct {
	db *DB
	// MaxOwned caps how many workspaces one person may own when they
	// create another (MAX_WORKSPACES_PER_USER); 0 means no cap.
	MaxOwned int
}

// NewWorkspaceService returns the workspace service of db.
func NewWorkspaceService(db *DB) *WorkspaceService { return &WorkspaceService{db: db} }

var (
	_ app.WorkspaceService          = (*WorkspaceService)(nil)
	_ app.WorkspaceTwoFactorService = (*WorkspaceService)(nil)
)

// createAttempts bounds how often CreateWorkspace tries again after
// another request took the derived address it picked.
const createAttempts = 3

// errSlugRace is the unique violation on a derived slug: another request
// took it between the search and the insert.
var errSlugRace = errors.New("derived slug taken concurrently")

// CreateWorkspace creates a workspace owned by the principal, refusing it
// when they already own MaxOwned. A derived slug that is taken gets the
// next free "-N" suffix, found with one indexed query; when a concurrent
// create takes it first, the whole transaction runs again.
func (s *WorkspaceService) CreateWorkspace(ctx context.Context, name, slug string) (*app.Workspace, error) {
	uid, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	name, err = app.ValidateWorkspaceName(name)
	if err != nil {
		return nil, err
	}
	// An address of only white space asks for a derived one; control
	// characters are refused before that decision.
	if slug, err = app.CleanText("slug", "address", slug, 0); err != nil {
		return nil, err
	}
	derived := slug == ""
	if derived {
		slug = app.Slugify(name)
	} else if slug, err = app.ValidateSlug(slug); err != nil {
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		ws, err := s.createWorkspace(ctx, uid, name, slug, derived)
		if errors.Is(err, errSlugRace) {
			if attempt < createAttempts {
				continue
			}
			return nil, app.Errorf(app.ECONFLICT, "Many workspaces named like this are being created right now. Try again.")
		}
		return ws, err
	}
}

// createWorkspace runs one attempt of CreateWorkspace in a transaction.
func (s *WorkspaceService) createWorkspace(ctx context.Context, uid int64, name, slug string, derived bool) (*app.Workspace, error) {
	var ws *app.Workspace
	err := s.db.transact(ctx, func(tx *gorm.DB) error {
		if s.db.dialect == Postgres {
			// One create at a time per person (for the cap) and per derived
			// address (so concurrent "Team" creates do not pick the same
			// suffix). SQLite's IMMEDIATE transactions already serialize.
			// NO KEY UPDATE leaves the person's sign-ins (foreign-key checks
			// on their row) unblocked.
			if err := tx.Exec("SELECT id FROM users WHERE id = ? FOR NO KEY UPDATE", uid).Error; err != nil {
				return fmt.Errorf("lock user %d: %w", uid, err)
			}
			if derived {
				if err := tx.Exec("SELECT pg_advisory_xact_lock(?)", slugLockKey(slug)).Error; err != nil {
					return fmt.Errorf("lock slug %q: %w", slug, err)
				}
			}
		}
		if s.MaxOwned > 0 {
			var owned int
			if err := s.db.queryRow(ctx, tx, qOwnedBy, uid).Scan(&owned); err != nil {
				return fmt.Errorf("count owned workspaces: %w", err)
			}
			if err := app.CanCreateWorkspace(owned, s.MaxOwned); err != nil {
				return err
			}
		}
		candidate := slug
		if derived {
			var err error
			if candidate, err = s.freeSlug(ctx, tx, slug); err != nil {
				return err
			}
		}
		now := s.db.now()
		r := workspaceRecord{Name: name, Slug: candidate, Plan: app.PlanFree, CreatedAt: now, UpdatedAt: now}
		if err := tx.Create(&r).Error; err != nil {
			switch {
			case isUniqueViolation(err) && derived:
				return errSlugRace
			case isUniqueViolation(err):
				taken := app.Errorf(app.ECONFLICT, "The address %q is taken. Choose another.", candidate)
				taken.Field = "slug"
				return taken
			}
			return fmt.Errorf("create workspace: %w", err)
		}
		m := membershipRecord{WorkspaceID: r.ID, UserID: uid, Role: string(app.RoleOwner), CreatedAt: now, UpdatedAt: now}
		if err := tx.Create(&m).Error; err != nil {
			return fmt.Errorf("create owner membership: %w", err)
		}
		ws = r.toApp()
		return s.db.audit(ctx, tx, app.AuditEntry{WorkspaceID: r.ID, Action: app.ActionWorkspaceCreated,
			TargetType: "workspace", TargetID: fmt.Sprint(r.ID), Metadata: map[string]any{"name": name, "slug": candidate}})
	})
	return ws, err
}

// qFreeSlug finds whether a slug is taken and the highest "-N" variant
// of its base that is.
const qFreeSlug = "free_slug"

// workspaceQueries are the catalog's workspace statements outside the hot
// list.
var workspaceQueries = map[string]hotQuery{
	// An equality lookup and a prefix range over the slug index, whose
	// digit tails are compared in SQL. '.' sorts right after '-' byte by
	// byte: the range is every slug starting "base-". PostgreSQL compares
	// bytes with the operators of workspaces_slug_prefix_idx
	// (text_pattern_ops), whatever the database's collation.
	qFreeSlug: {SQL: `SELECT EXISTS (SELECT 1 FROM workspaces WHERE slug = ?) AS taken,
			COALESCE(MAX(CAST(SUBSTR(slug, ?) AS INTEGER)), 0) AS highest
			FROM workspaces WHERE slug >= ? AND slug < ? AND LENGTH(slug) BETWEEN ? AND ?
			AND SUBSTR(slug, ?) NOT GLOB '*[^0-9]*'`,
		PostgresSQL: `SELECT EXISTS (SELECT 1 FROM workspaces WHERE slug = ?) AS taken,
			COALESCE(MAX(CAST(SUBSTRING(slug FROM ?::int) AS BIGINT)), 0) AS highest
			FROM workspaces WHERE slug ~>=~ ? AND slug ~<~ ? AND LENGTH(slug) BETWEEN ? AND ?
			AND SUBSTRING(slug FROM ?::int) ~ '^[0-9]{1,9}$'`},
}

// freeSlug returns slug when it is free, else slug's "-N" variant one
// above the highest taken, found with one catalogued statement.
func (s *WorkspaceService) freeSlug(ctx context.Context, tx *gorm.DB, slug string) (string, error) {
	base := app.SuffixBase(slug)
	prefix := base + "-"
	var (
		taken   bool
		highest int64
	)
	err := s.db.queryRow(ctx, tx, qFreeSlug, slug, len(prefix)+1, prefix, base+".", len(prefix)+1, len(prefix)+9,
		len(prefix)+1).Scan(&taken, &highest)
	if err != nil {
		return "", fmt.Errorf("find a free address like %q: %w", slug, err)
	}
	if !taken {
		return slug, nil
	}
	return app.SlugWithSuffix(base, int(max(highest, 1)+1)), nil
}

// slugLockKey is the Postgres advisory lock key of a derived slug.
func slugLockKey(slug string) int64 {
	h := fnv.New64a()
	h.Write([]byte("workspace slug " + slug))
	return int64(h.Sum64())
}

// rowScanner is a row or rows of a catalogued query.
type rowScanner interface{ Scan(dest ...any) error }

// scanWorkspace reads workspaceColumns, the start of every row that carries
// a workspace, and then the row's other columns into rest.
func scanWorkspace(sc rowScanner, rest ...any) (*app.Workspace, error) {
	var (
		r   workspaceRecord
		buf [24]any
	)
	dest := append(append(buf[:0], &r.ID, &r.Name, &r.Slug, &r.Plan, &r.SubscriptionStatus, &r.StripeCustomerID,
		&r.StripeSubscriptionID, &r.CurrentPeriodEnd, &r.CancelAtPeriodEnd, &r.RequireTwoFactor, &r.CreatedAt,
		&r.UpdatedAt, &r.PriceID, &r.SeatQuantity, &r.TrialEnd, &r.PaymentFailedAt, &r.PaymentInvoiceURL, &r.RestrictedAt,
		&r.ScheduledPriceID, &r.ScheduledChangeAt), rest...)
	if err := scanRow(sc, dest...); err != nil {
		return nil, err
	}
	return r.toApp(), nil
}

// findWorkspace reads a workspace by id, inside tx when it is not nil;
// ENOTFOUND when there is none.
func (db *DB) findWorkspace(ctx context.Context, tx *gorm.DB, workspaceID int64) (*app.Workspace, error) {
	ws, err := scanWorkspace(db.queryRow(ctx, tx, qWorkspaceID, workspaceID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, app.Errorf(app.ENOTFOUND, "Workspace not found.")
	}
	if err != nil {
		return nil, fmt.Errorf("find workspace %d: %w", workspaceID, err)
	}
	return ws, nil
}

// FindWorkspaceForMember resolves slug and the user's membership with one
// indexed join. It runs on every workspace page.
func (s *WorkspaceService) FindWorkspaceForMember(ctx context.Context, slug string, userID int64) (*app.Workspace, *app.Membership, error) {
	if ws, m, ok := s.db.identities.workspace(ctx, userID, slug); ok {
		return ws, m, nil
	}
	var (
		role string
		m    time.Time
	)
	ws, err := scanWorkspace(s.db.queryRow(ctx, nil, qWorkspaceFor, userID, slug), &role, &m)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, errNotMember
	}
	if err != nil {
		return nil, nil, fmt.Errorf("find workspace %q: %w", slug, err)
	}
	mb := &app.Membership{WorkspaceID: ws.ID, UserID: userID, Role: app.Role(role), CreatedAt: m.UTC()}
	s.db.identities.putWorkspace(ctx, userID, slug, ws, mb)
	return ws, mb, nil
}

// FindSwitcher lists the user's workspaces for the header's switcher: as
// FindWorkspacesByUser, without the member counts, and kept for the
// request's session while its identity version stays (identity.go).
func (s *WorkspaceService) FindSwitcher(ctx context.Context, userID int64) ([]*app.UserWorkspace, error) {
	if list, ok := s.db.identities.switcher(ctx, userID); ok {
		return list, nil
	}
	list, err := s.FindWorkspacesByUser(ctx, userID)
	if err != nil {
		return nil, err
	}
	for _, uw := range list {
		uw.Members = 0
	}
	s.db.identities.putSwitcher(ctx, userID, list)
	return list, nil
}

// FindWorkspacesByUser lists the user's workspaces, by name.
func (s *WorkspaceService) FindWorkspacesByUser(ctx context.Context, userID int64) ([]*app.UserWorkspace, error) {
	// Every workspace page runs this for the header's switcher.
	rows, err := s.db.query(ctx, nil, qWorkspacesOf, userID)
	if err != nil {
		return nil, fmt.Errorf("find workspaces of user %d: %w", userID, err)
	}
	defer func() { _ = rows.Close() }()
	out := make([]*app.UserWorkspace, 0, 4)
	for rows.Next() {
		var (
			role    string
			since   time.Time
			members int
		)
		ws, err := scanWorkspace(rows, &role, &since, &members)
		if err != nil {
			return nil, fmt.Errorf("read workspace of user %d: %w", userID, err)
		}
		out = append(out, &app.UserWorkspace{Workspace: *ws, Role: app.Role(role), Members: members})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find workspaces of user %d: %w", userID, err)
	}
	return out, nil
}

// FindWorkspaceStats counts members and pending, unexpired invites;
// ENOTFOUND out of scope.
func (s *WorkspaceService) FindWorkspaceStats(ctx context.Context, sc app.Scope) (*app.WorkspaceStats, error) {
	var (
		st      app.WorkspaceStats
		members sql.NullInt64
	)
	err := s.db.queryRow(ctx, nil, qScopedStats, withScope(sc, []any{sc.WorkspaceID, sc.WorkspaceID, s.db.now()})...).
		Scan(&members, &st.PendingInvites)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNotMember
	}
	if err != nil {
		return nil, fmt.Errorf("workspace stats: %w", err)
	}
	st.Members = int(members.Int64)
	return &st, nil
}

// UpdateWorkspace renames a workspace or changes its slug (owners only).
func (s *WorkspaceService) UpdateWorkspace(ctx context.Context, sc app.Scope, upd app.WorkspaceUpdate) (*app.Workspace, error) {
	var out *app.Workspace
	err := s.db.transact(ctx, func(tx *gorm.DB) error {
		m, err := s.db.lockMemberScope(ctx, tx, sc)
		if err != nil {
			return err
		}
		if err := app.CanEditWorkspace(app.Role(m.Role)); err != nil {
			return err
		}
		r, err := s.db.findWorkspace(ctx, tx, sc.WorkspaceID)
		if err != nil {
			return err
		}
		changes := map[string]any{}
		if upd.Name != nil {
			name, err := app.ValidateWorkspaceName(*upd.Name)
			if err != nil {
				return err
			}
			if name != r.Name {
				changes["name"] = name
				if err := s.db.audit(ctx, tx, app.AuditEntry{WorkspaceID: r.ID, Action: app.ActionWorkspaceRenamed,
					TargetType: "workspace", TargetID: fmt.Sprint(r.ID), Metadata: map[string]any{"from": r.Name, "to": name}}); err != nil {
					return err
				}
				r.Name = name
			}
		}
		if upd.Slug != nil {
			slug, err := app.ValidateSlug(*upd.Slug)
			if err != nil {
				return err
			}
			if slug != r.Slug {
				changes["slug"] = slug
				if err := s.db.audit(ctx, tx, app.AuditEntry{WorkspaceID: r.ID, Action: app.ActionWorkspaceSlugChanged,
					TargetType: "workspace", TargetID: fmt.Sprint(r.ID), Metadata: map[string]any{"from": r.Slug, "to": slug}}); err != nil {
					return err
				}
				r.Slug = slug
			}
		}
		if len(changes) > 0 {
			r.UpdatedAt = s.db.now()
			changes["updated_at"] = r.UpdatedAt
			if err := tx.Model(&workspaceRecord{}).Where("id = ?", r.ID).Updates(changes).Error; err != nil {
				if isUniqueViolation(err) {
					return app.Errorf(app.ECONFLICT, "The address %q is taken. Choose another.", r.Slug)
				}
				return fmt.Errorf("update workspace: %w", err)
			}
		}
		out = r
		return nil
	})
	return out, err
}

// DeleteWorkspace deletes a workspace (owners only); members and invites
// go with it by cascade. The audit log keeps every entry, the deletion's
// included.
func (s *WorkspaceService) DeleteWorkspace(ctx context.Context, sc app.Scope) error {
	return s.db.transact(ctx, func(tx *gorm.DB) error {
		m, err := s.db.lockMemberScope(ctx, tx, sc)
		if err != nil {
			return err
		}
		if err := app.CanDeleteWorkspace(app.Role(m.Role)); err != nil {
			return err
		}
		r, err := s.db.findWorkspace(ctx, tx, sc.WorkspaceID)
		if err != nil {
			return err
		}
		if r.HasLiveSubscription() {
			// Deleting it would leave Stripe charging for a workspace that
			// no longer exists. The server says how to cancel it.
			return app.Errorf(app.ECONFLICT, "This workspace has an active subscription; it must be cancelled before the workspace can be deleted.")
		}
		if err := tx.Delete(&workspaceRecord{}, sc.WorkspaceID).Error; err != nil {
			return fmt.Errorf("delete workspace: %w", err)
		}
		return s.db.audit(ctx, tx, app.AuditEntry{WorkspaceID: r.ID, Action: app.ActionWorkspaceDeleted,
			TargetType: "workspace", TargetID: fmt.Sprint(r.ID), Metadata: map[string]any{"name": r.Name, "slug": r.Slug}})
	})
}
