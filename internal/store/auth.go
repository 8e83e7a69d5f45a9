package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"atrium/internal/app"
)

type loginTokenRecord struct {
	ID        int64
	TokenHash string
	Email     string
	Next      string
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    *time.Time
}

func (loginTokenRecord) TableName() string { return "login_tokens" }

// loginTokenColumns are the columns of a login token row, in the order
// scanLoginToken reads them.
const loginTokenColumns = `id, token_hash, email, next, created_at, expires_at, used_at`

// scanLoginToken reads a row of loginTokenColumns.
func scanLoginToken(sc scanner) (*loginTokenRecord, error) {
	var r loginTokenRecord
	if err := scanRow(sc, &r.ID, &r.TokenHash, &r.Email, &r.Next, &r.CreatedAt, &r.ExpiresAt, &r.UsedAt); err != nil {
		return nil, err
	}
	return &r, nil
}

type sessionRecord struct {
	ID           int64
	TokenHash    string
	UserID       int64
	IP           string
	UserAgent    string
	CreatedAt    time.Time
	LastSeenAt   time.Time
	ExpiresAt    time.Time
	SecondFactor bool
	VerifiedAt   *time.Time
	// SSOWorkspaceID names the workspace whose identity provider signed
	// the session in.
	SSOWorkspaceID *int64 `gorm:"column:sso_workspace_id"`
}

func (sessionRecord) TableName() string { return "sessions" }

// sessionColumns are the columns of a session row, in the order
// scanSession reads them.
const sessionColumns = `id, token_hash, user_id, ip, user_agent, created_at, last_seen_at, expires_at, second_factor, verified_at`

// scanSession reads a row of sessionColumns.
func scanSession(sc scanner) (*sessionRecord, error) {
	var r sessionRecord
	if err := scanRow(sc, &r.ID, &r.TokenHash, &r.UserID, &r.IP, &r.UserAgent, &r.CreatedAt, &r.LastSeenAt, &r.ExpiresAt,
		&r.SecondFactor, &r.VerifiedAt); err != nil {
		return nil, err
	}
	return &r, nil
}

// The session statements outside the hot list.
const (
	qSessionByHash = "session_by_hash"
	qLiveSessions  = "live_sessions_of_user"
)

// authQueries are the catalog's session statements outside the hot list.
var authQueries = map[string]hotQuery{
	qSessionByHash: {SQL: `SELECT ` + sessionColumns + ` FROM sessions WHERE token_hash = ?`},
	// How many devices stay signed in after an operator's two-factor reset.
	qLiveSessions: {SQL: `SELECT COUNT(*) FROM sessions WHERE user_id = ? AND expires_at > ?`},
}

func (r *sessionRecord) toApp() *app.Session {
	return &app.Session{ID: r.ID, UserID: r.UserID, IP: r.IP, UserAgent: r.UserAgent,
		CreatedAt: r.CreatedAt.UTC(), LastSeenAt: r.LastSeenAt.UTC(), ExpiresAt: r.ExpiresAt.UTC()}
}

// AuthService implements app.AuthService.
type AuthService struct{ db *DB }

// NewAuthService returns the sign-in and session service of db.
func NewAuthService(db *DB) *AuthService { return &AuthService{db: db} }

var _ app.AuthService = (*AuthService)(nil)

// CreateLoginRequest stores the pending sign-in and queues its email in one
// transaction, so a link is never mailed without being stored or vice versa.
// Earlier unused links for the address stay valid until they expire or any
// one link for the address is used.
func (s *AuthService) CreateLoginRequest(ctx context.Context, req app.LoginRequest, msg app.Email) error {
	return s.db.transact(ctx, func(tx *gorm.DB) error {
		r := loginTokenRecord{TokenHash: req.TokenHash, Email: req.Email, Next: req.Next,
			CreatedAt: s.db.now(), ExpiresAt: req.ExpiresAt.UTC()}
		if err := tx.Create(&r).Error; err != nil {
			return fmt.Errorf("create login token: %w", err)
		}
		msg.LinkExpiresAt = r.ExpiresAt
		return s.db.enqueueEmail(tx, msg)
	})
}

// FindLoginToken returns the pending sign-in of a token hash without using it.
func (s *AuthService) FindLoginToken(ctx context.Context, tokenHash string) (*app.LoginToken, error) {
	r, err := scanLoginToken(s.db.queryRow(ctx, nil, qLoginToken, tokenHash))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, app.ErrLoginLinkInvalid
	case err != nil:
		return nil, fmt.Errorf("find login token: %w", err)
	}
	if err := loginTokenState(r, s.db.now()); err != nil {
		return nil, err
	}
	return &app.LoginToken{Email: r.Email, Next: r.Next, ExpiresAt: r.ExpiresAt.UTC()}, nil
}

func loginTokenState(r *loginTokenRecord, now time.Time) error {
	switch {
	case r.UsedAt != nil:
		return app.ErrLoginLinkUsed
	case !r.ExpiresAt.After(now):
		return app.ErrLoginLinkExpired
	}
	return nil
}

// CompleteLogin uses a sign-in token exactly once. The conditional UPDATE
// that marks it used is the guard: of two concurrent requests with the same
// link, only one changes a row.
func (s *AuthService) CompleteLogin(ctx context.Context, tokenHash string, ns app.NewSession) (*app.User, *app.LoginToken, error) {
	var (
		user         *app.User
		token        *app.LoginToken
		secondFactor bool
	)
	now := s.db.now()
	err := s.db.transact(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&loginTokenRecord{}).
			Where("token_hash = ? AND used_at IS NULL AND expires_at > ?", tokenHash, now).
			Update("used_at", now)
		if res.Error != nil {
			return fmt.Errorf("use login token: %w", res.Error)
		}
		r, err := scanLoginToken(s.db.queryRow(ctx, tx, qLoginToken, tokenHash))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return app.ErrLoginLinkInvalid
		case err != nil:
			return fmt.Errorf("read login token: %w", err)
		}
		if res.RowsAffected == 0 {
			if err := loginTokenState(r, now); err != nil {
				return err
			}
			return app.ErrLoginLinkUsed
		}
		token = &app.LoginToken{Email: r.Email, Next: r.Next, ExpiresAt: r.ExpiresAt.UTC()}

		u, created, err := s.findOrCreateUser(ctx, tx, r.Email, ns.TimeZone, now)
		if err != nil {
			return err
		}
		user = u
		token.NewUser = created
		if created {
			if err := s.db.audit(ctx, tx, app.AuditEntry{ActorID: u.ID, Action: app.ActionUserCreated,
				TargetType: "user", TargetID: fmt.Sprint(u.ID)}); err != nil {
				return err
			}
		}
		// Any other link still out for this address is void now.
		if err := tx.Model(&loginTokenRecord{}).
			Where("email = ? AND used_at IS NULL", r.Email).
			Update("used_at", now).Error; err != nil {
			return fmt.Errorf("void other login tokens: %w", err)
		}
		if u.TwoFactor {
			// No session yet: the browser gets a pending sign-in that only
			// a second factor completes.
			if ns.PendingHash == "" {
				return fmt.Errorf("complete login: user %d has a second factor but no pending token was given", u.ID)
			}
			data, _ := json.Marshal(pendingData{Next: r.Next})
			if err := tx.Create(&challengeRecord{TokenHash: ns.PendingHash, Purpose: app.PurposeSecondFactor, UserID: &u.ID,
				Data: string(data), CreatedAt: now, ExpiresAt: now.Add(app.SecondFactorTTL)}).Error; err != nil {
				return fmt.Errorf("store pending sign-in: %w", err)
			}
			secondFactor = true
			return nil
		}
		return s.db.startSession(ctx, tx, u, ns, app.MethodMagicLink, created)
	})
	if err != nil {
		return nil, nil, err
	}
	if secondFactor {
		return user, token, app.ErrSecondFactorRequired
	}
	return user, token, nil
}

// startSession starts a session for u as ns describes, ending the session
// it replaces, and audits the sign-in with its method. The caller has read
// u in tx, so the entry names its actor without reading them again.
func (db *DB) startSession(ctx context.Context, tx *gorm.DB, u *app.User, ns app.NewSession, method string, newUser bool) error {
	// Every way of signing in ends here: a suspended account is refused
	// whatever the method (admin.go).
	if err := db.checkNotSuspended(ctx, tx, u.ID); err != nil {
		return err
	}
	if ns.ReplacesHash != "" {
		if err := tx.Where("token_hash = ?", ns.ReplacesHash).Delete(&sessionRecord{}).Error; err != nil {
			return fmt.Errorf("end replaced session: %w", err)
		}
	}
	now := db.now()
	// Every sign-in proves who it is now; all but a magic link or an
	// identity provider alone prove a second factor.
	sr := sessionRecord{TokenHash: ns.TokenHash, UserID: u.ID, IP: app.SanitizeHeader(ns.IP, 64), UserAgent: app.SanitizeHeader(ns.UserAgent, app.MaxUserAgentLength),
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(app.SessionTTL),
		SecondFactor: method != app.MethodMagicLink && method != app.MethodOIDC && method != app.MethodSSO, VerifiedAt: &now}
	if ns.SSOWorkspaceID != 0 {
		sr.SSOWorkspaceID = &ns.SSOWorkspaceID
		if method == app.MethodSSO && ns.IdPMFA {
			sr.SecondFactor = true
		}
	}
	if err := tx.Create(&sr).Error; err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	if err := tx.Exec(`UPDATE users SET last_sign_in_at = ? WHERE id = ?`, now, u.ID).Error; err != nil {
		return fmt.Errorf("note sign-in: %w", err)
	}
	md := map[string]any{"method": method}
	if method == app.MethodMagicLink || method == app.MethodOIDC || method == app.MethodSSO {
		md["new_user"] = newUser
	}
	if ns.SSOWorkspaceID != 0 {
		md["sso_workspace_id"] = ns.SSOWorkspaceID
		if ns.IdPMFA {
			md["idp_mfa"] = true
		}
	}
	return db.audit(ctx, tx, app.AuditEntry{ActorID: u.ID, ActorEmail: u.Email, ActorName: u.Name, Action: app.ActionSignedIn,
		TargetType: "session", TargetID: fmt.Sprint(sr.ID), Metadata: md})
}

// takeUser reads the user with id in tx.
func (db *DB) takeUser(ctx context.Context, tx *gorm.DB, id int64) (*app.User, error) {
	u, err := db.findUser(ctx, tx, id, app.Errorf(app.ENOTFOUND, "This account no longer exists."))
	if err != nil {
		return nil, err
	}
	return u.toApp(), nil
}

// findOrCreateUser returns the user with email, creating it when missing.
// ON CONFLICT DO NOTHING keeps two first sign-ins racing from failing.
func (s *AuthService) findOrCreateUser(ctx context.Context, tx *gorm.DB, email, tz string, now time.Time) (*app.User, bool, error) {
	if tz == "" {
		tz = "UTC"
	}
	r := userRecord{Email: email, TimeZone: tz, CreatedAt: now, UpdatedAt: now}
	res := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "email"}}, DoNothing: true}).Create(&r)
	if res.Error != nil {
		return nil, false, fmt.Errorf("create user: %w", res.Error)
	}
	created := res.RowsAffected == 1
	if !created || r.ID == 0 {
		found, err := scanUser(s.db.queryRow(ctx, tx, qUserByEmail, email))
		if err != nil {
			return nil, false, fmt.Errorf("find user %s: %w", app.MaskEmail(email), err)
		}
		r = *found
	}
	return r.toApp(), created, nil
}

// Authenticate reads the session and its user with one indexed query, and
// renews the session at most once per app.SessionRenewAfter. It runs on
// every signed-in request, so it scans columns straight into the
// principal, without GORM's reflection.
func (s *AuthService) Authenticate(ctx context.Context, tokenHash string) (*app.Principal, error) {
	now := s.db.now()
	if p, ok := s.db.identities.byToken(tokenHash); ok && now.Before(p.Session.ExpiresAt) &&
		now.Sub(p.Session.LastSeenAt) < app.SessionRenewAfter {
		// Kept from an earlier request: valid while the user's identity
		// version has not moved (identity.go).
		v, err := s.db.authVersion(ctx, p.User.ID)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("authenticate: %w", err)
		}
		if err == nil && v == p.Version {
			return &p, nil
		}
		s.db.identities.drop(tokenHash)
	}
	rows, err := s.db.query(ctx, nil, qAuthenticate, tokenHash, now)
	if err != nil {
		return nil, fmt.Errorf("authenticate: %w", err)
	}
	defer func() { _ = rows.Close() }()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("authenticate: %w", err)
		}
		return nil, app.Errorf(app.EUNAUTHORIZED, "Your session has ended. Sign in again.")
	}
	p := &app.Principal{}
	u, ss := &p.User, &p.Session
	var verified *time.Time
	var ssoWS *int64
	if err := rows.Scan(&ss.ID, &ss.UserID, &ss.IP, &ss.UserAgent, &ss.CreatedAt, &ss.LastSeenAt, &ss.ExpiresAt,
		&ss.SecondFactor, &verified, &u.Email, &u.Name, &u.TimeZone, &u.Language, &u.TwoFactor, &u.CreatedAt, &u.UpdatedAt,
		&p.Version, &ssoWS); err != nil {
		return nil, fmt.Errorf("authenticate: read session: %w", err)
	}
	_ = rows.Close()
	u.ID = ss.UserID
	if ssoWS != nil {
		ss.SSOWorkspaceID = *ssoWS
	}
	if verified != nil {
		ss.VerifiedAt = verified.UTC()
	}
	for _, t := range []*time.Time{&ss.CreatedAt, &ss.LastSeenAt, &ss.ExpiresAt, &u.CreatedAt, &u.UpdatedAt} {
		*t = t.UTC()
	}
	if now.Sub(p.Session.LastSeenAt) >= app.SessionRenewAfter {
		expires := now.Add(app.SessionTTL)
		if err := s.db.gorm.WithContext(ctx).Model(&sessionRecord{}).Where("id = ?", p.Session.ID).
			Updates(map[string]any{"last_seen_at": now, "expires_at": expires}).Error; err != nil {
			return nil, fmt.Errorf("renew session: %w", err)
		}
		p.Session.LastSeenAt, p.Session.ExpiresAt = now, expires
	}
	s.db.identities.put(tokenHash, *p)
	return p, nil
}

// SignOut ends the session with that token hash. Ending a session that is
// already gone is not an error.
func (s *AuthService) SignOut(ctx context.Context, tokenHash string) error {
	return s.db.transact(ctx, func(tx *gorm.DB) error {
		r, err := scanSession(s.db.queryRow(ctx, tx, qSessionByHash, tokenHash))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return nil
		case err != nil:
			return fmt.Errorf("find session: %w", err)
		}
		if err := tx.Delete(&sessionRecord{}, r.ID).Error; err != nil {
			return fmt.Errorf("delete session: %w", err)
		}
		return s.db.audit(ctx, tx, app.AuditEntry{ActorID: r.UserID, Action: app.ActionSignedOut,
			TargetType: "session", TargetID: fmt.Sprint(r.ID)})
	})
}

// FindSessions lists the user's live sessions, most recently used first,
// scanning columns straight into the result (the account page runs it on
// every view).
func (s *AuthService) FindSessions(ctx context.Context, userID int64) ([]*app.Session, error) {
	rows, err := s.db.query(ctx, nil, qSessionsOf, userID, s.db.now())
	if err != nil {
		return nil, fmt.Errorf("find sessions: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var out []*app.Session
	for rows.Next() {
		r, err := scanSession(rows)
		if err != nil {
			return nil, fmt.Errorf("read session: %w", err)
		}
		out = append(out, r.toApp())
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find sessions: %w", err)
	}
	return out, nil
}

// RevokeSession ends one of the user's own sessions; another user's session
// id answers ENOTFOUND.
func (s *AuthService) RevokeSession(ctx context.Context, userID, sessionID int64) error {
	return s.db.transact(ctx, func(tx *gorm.DB) error {
		res := tx.Where("id = ? AND user_id = ?", sessionID, userID).Delete(&sessionRecord{})
		if res.Error != nil {
			return fmt.Errorf("revoke session: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return app.Errorf(app.ENOTFOUND, "That device is already signed out.")
		}
		return s.db.audit(ctx, tx, app.AuditEntry{ActorID: userID, Action: app.ActionSessionRevoked,
			TargetType: "session", TargetID: fmt.Sprint(sessionID)})
	})
}

// RevokeOtherSessions ends every session of the user except keepID.
func (s *AuthService) RevokeOtherSessions(ctx context.Context, userID, keepID int64) (int, error) {
	var n int
	err := s.db.transact(ctx, func(tx *gorm.DB) error {
		res := tx.Where("user_id = ? AND id <> ?", userID, keepID).Delete(&sessionRecord{})
		if res.Error != nil {
			return fmt.Errorf("revoke sessions: %w", res.Error)
		}
		n = int(res.RowsAffected)
		return s.db.audit(ctx, tx, app.AuditEntry{ActorID: userID, Action: app.ActionSessionRevokedAll,
			TargetType: "user", TargetID: fmt.Sprint(userID), Metadata: map[string]any{"count": n}})
	})
	return n, err
}
