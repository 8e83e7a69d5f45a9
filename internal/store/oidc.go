package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"atrium/internal/app"
)

// identityRecord is a row of user_identities: an account at an identity
// provider, by its issuer and subject, linked to a user.
type identityRecord struct {
	ID         int64
	UserID     int64
	Provider   string
	Issuer     string
	Subject    string
	Email      string
	CreatedAt  time.Time
	LastUsedAt *time.Time
}

func (identityRecord) TableName() string { return "user_identities" }

// identityColumns are the columns of an identity row, in the order
// scanIdentity reads them.
const identityColumns = `id, user_id, provider, issuer, subject, email, created_at, last_used_at`

// scanIdentity reads a row of identityColumns.
func scanIdentity(sc scanner) (*identityRecord, error) {
	var r identityRecord
	if err := scanRow(sc, &r.ID, &r.UserID, &r.Provider, &r.Issuer, &r.Subject, &r.Email, &r.CreatedAt, &r.LastUsedAt); err != nil {
		return nil, err
	}
	return &r, nil
}

func (r *identityRecord) toApp() *app.Identity {
	i := &app.Identity{ID: r.ID, UserID: r.UserID, Provider: r.Provider, Issuer: r.Issuer, Subject: r.Subject,
		Email: r.Email, CreatedAt: r.CreatedAt.UTC()}
	if r.LastUsedAt != nil {
		t := r.LastUsedAt.UTC()
		i.LastUsedAt = &t
	}
	return i
}

// The identity statements.
const (
	qIdentityBySubject = "identity_by_subject"
	qIdentitiesOf      = "identities_of_user"
)

// identityQueries are the catalog's identity statements.
var identityQueries = map[string]hotQuery{
	qIdentityBySubject: {SQL: `SELECT ` + identityColumns + ` FROM user_identities WHERE issuer = ? AND subject = ?`},
	qIdentitiesOf:      {SQL: `SELECT ` + identityColumns + ` FROM user_identities WHERE user_id = ? ORDER BY id`},
}

// errIdentityRaced answers the loser of two first sign-ins of one identity.
var errIdentityRaced = app.Errorf(app.ECONFLICT, "Another sign-in with this account finished at the same moment. Start again from the sign-in page.")

// IdentityService implements app.IdentityService.
type IdentityService struct {
	db *DB
	// Notice builds the email telling a user that the accounts that sign
	// in to theirs changed (change is a sentence of the mail catalog, lang
	// the user's saved language); it is queued in the change's
	// transaction. Nil sends none.
	Notice func(to, lang string, change app.Sentence) app.Email
}

// NewIdentityService returns the linked-identity service of db.
func NewIdentityService(db *DB) *IdentityService { return &IdentityService{db: db} }

var _ app.IdentityService = (*IdentityService)(nil)

// findIdentity returns the identity of (issuer, subject) in tx, or nil.
func (s *IdentityService) findIdentity(ctx context.Context, tx *gorm.DB, issuer, subject string) (*identityRecord, error) {
	r, err := scanIdentity(s.db.queryRow(ctx, tx, qIdentityBySubject, issuer, subject))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("find identity: %w", err)
	}
	return r, nil
}

// SignInWithIdentity signs in with a verified identity (see
// app.IdentityService). The identity is found by (issuer, subject) only;
// an email address leads to an account only when the provider vouched for
// it, so an unverified or reassigned address takes over nobody's account.
func (s *IdentityService) SignInWithIdentity(ctx context.Context, id app.ExternalIdentity, next string, ns app.NewSession) (*app.IdentitySignIn, error) {
	res := &app.IdentitySignIn{}
	secondFactor := false
	now := s.db.now()
	err := s.db.transact(ctx, func(tx *gorm.DB) error {
		r, err := s.findIdentity(ctx, tx, id.Issuer, id.Subject)
		if err != nil {
			return err
		}
		var u *app.User
		if r != nil {
			if u, err = s.db.takeUser(ctx, tx, r.UserID); err != nil {
				return err
			}
			if err := tx.Model(&identityRecord{}).Where("id = ?", r.ID).Update("last_used_at", now).Error; err != nil {
				return fmt.Errorf("use identity: %w", err)
			}
		} else {
			if !id.EmailVerified || id.Email == "" {
				return app.ErrIdentityEmailUnverified
			}
			auth := &AuthService{db: s.db}
			created := false
			if u, created, err = auth.findOrCreateUser(ctx, tx, id.Email, ns.TimeZone, now); err != nil {
				return err
			}
			res.NewUser = created
			if created {
				if err := s.db.audit(ctx, tx, app.AuditEntry{ActorID: u.ID, Action: app.ActionUserCreated,
					TargetType: "user", TargetID: fmt.Sprint(u.ID), Metadata: map[string]any{"provider": id.Provider}}); err != nil {
					return err
				}
			}
			if _, err := s.link(ctx, tx, u, id, &now); errors.Is(err, app.ErrIdentityTaken) {
				// Another callback of the same new identity (a double
				// click) linked it first.
				return errIdentityRaced
			} else if err != nil {
				return err
			}
			res.Linked = true
		}
		res.User = u
		if u.TwoFactor {
			if ns.PendingHash == "" {
				return fmt.Errorf("identity sign-in: user %d has a second factor but no pending token was given", u.ID)
			}
			data, _ := json.Marshal(pendingData{Next: next, First: app.MethodOIDC})
			if err := tx.Create(&challengeRecord{TokenHash: ns.PendingHash, Purpose: app.PurposeSecondFactor, UserID: &u.ID,
				Data: string(data), CreatedAt: now, ExpiresAt: now.Add(app.SecondFactorTTL)}).Error; err != nil {
				return fmt.Errorf("store pending sign-in: %w", err)
			}
			secondFactor = true
			return nil
		}
		return s.db.startSession(ctx, tx, u, ns, app.MethodOIDC, res.NewUser)
	})
	if err != nil {
		return nil, err
	}
	if secondFactor {
		return res, app.ErrSecondFactorRequired
	}
	return res, nil
}

// link inserts the identity for u, audits it and queues the notice, in tx.
// used is its first use when the link is a sign-in.
func (s *IdentityService) link(ctx context.Context, tx *gorm.DB, u *app.User, id app.ExternalIdentity, used *time.Time) (*identityRecord, error) {
	r := identityRecord{UserID: u.ID, Provider: id.Provider, Issuer: id.Issuer, Subject: id.Subject,
		Email: id.Email, CreatedAt: s.db.now(), LastUsedAt: used}
	if err := tx.Create(&r).Error; err != nil {
		if isUniqueViolation(err) {
			return nil, app.ErrIdentityTaken
		}
		return nil, fmt.Errorf("link identity: %w", err)
	}
	if err := s.db.audit(ctx, tx, app.AuditEntry{ActorID: u.ID, ActorEmail: u.Email, ActorName: u.Name,
		Action: app.ActionIdentityLinked, TargetType: "user", TargetID: fmt.Sprint(u.ID),
		Metadata: map[string]any{"provider": providerWord(id.Provider), "email": id.Email, "issuer": id.Issuer}}); err != nil {
		return nil, err
	}
	return &r, s.notify(tx, u, identityChange("mail.identity.linked", id.Provider, id.Email))
}

// providerWord names a provider in notices and audit entries: a
// workspace's own provider ("sso-<workspace id>") as "single sign-on".
func providerWord(provider string) string {
	if strings.HasPrefix(provider, "sso-") {
		return "single sign-on"
	}
	return provider
}

// describeAddress returns " (address)" or "" for none.
func describeAddress(email string) string {
	if email == "" {
		return ""
	}
	return " (" + email + ")"
}

// identityChange is the notice's sentence about an identity of provider
// (with address email) linked or unlinked (key): a workspace's own
// provider is "single sign-on", a sentence of its own (key + "_sso").
func identityChange(key, provider, email string) app.Sentence {
	if strings.HasPrefix(provider, "sso-") {
		return app.Say(key+"_sso", "Address", describeAddress(email))
	}
	return app.Say(key, "Provider", providerWord(provider), "Address", describeAddress(email))
}

// notify queues the Notice about change to u, when there is one.
func (s *IdentityService) notify(tx *gorm.DB, u *app.User, change app.Sentence) error {
	if s.Notice == nil {
		return nil
	}
	return s.db.enqueueEmail(tx, s.Notice(u.Email, u.Language, change))
}

// LinkIdentity links an identity to a signed-in user.
func (s *IdentityService) LinkIdentity(ctx context.Context, userID int64, id app.ExternalIdentity) (*app.Identity, error) {
	var out *app.Identity
	err := s.db.transact(ctx, func(tx *gorm.DB) error {
		r, err := s.findIdentity(ctx, tx, id.Issuer, id.Subject)
		switch {
		case err != nil:
			return err
		case r != nil && r.UserID == userID:
			return app.ErrIdentityAlreadyLinked
		case r != nil:
			return app.ErrIdentityTaken
		}
		u, err := s.db.takeUser(ctx, tx, userID)
		if err != nil {
			return err
		}
		nr, err := s.link(ctx, tx, u, id, nil)
		if err != nil {
			return err
		}
		out = nr.toApp()
		return nil
	})
	return out, err
}

// FindIdentities lists a user's linked identities, oldest first.
func (s *IdentityService) FindIdentities(ctx context.Context, userID int64) ([]*app.Identity, error) {
	rows, err := s.db.query(ctx, nil, qIdentitiesOf, userID)
	if err != nil {
		return nil, fmt.Errorf("find identities: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var out []*app.Identity
	for rows.Next() {
		r, err := scanIdentity(rows)
		if err != nil {
			return nil, fmt.Errorf("read identity: %w", err)
		}
		out = append(out, r.toApp())
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find identities: %w", err)
	}
	return out, nil
}

// UnlinkIdentity removes one of the user's identities. The account's
// address always takes a magic link, so removing the last identity never
// locks anyone out.
func (s *IdentityService) UnlinkIdentity(ctx context.Context, userID, identityID int64) (*app.Identity, error) {
	var out *app.Identity
	err := s.db.transact(ctx, func(tx *gorm.DB) error {
		u, err := s.db.takeUser(ctx, tx, userID)
		if err != nil {
			return err
		}
		r, err := takeIdentity(tx, userID, identityID)
		if err != nil {
			return err
		}
		out = r.toApp()
		if err := s.db.audit(ctx, tx, app.AuditEntry{ActorID: u.ID, ActorEmail: u.Email, ActorName: u.Name,
			Action: app.ActionIdentityUnlinked, TargetType: "user", TargetID: fmt.Sprint(u.ID),
			Metadata: map[string]any{"provider": providerWord(r.Provider), "email": r.Email, "issuer": r.Issuer}}); err != nil {
			return err
		}
		return s.notify(tx, u, identityChange("mail.identity.unlinked", r.Provider, r.Email))
	})
	return out, err
}

// takeIdentity deletes and returns the user's identity in tx: of two
// requests racing, one gets it and the other ErrIdentityUnknown.
func takeIdentity(tx *gorm.DB, userID, identityID int64) (*identityRecord, error) {
	var rs []identityRecord
	res := tx.Clauses(clause.Returning{}).Where("id = ? AND user_id = ?", identityID, userID).Delete(&rs)
	if res.Error != nil {
		return nil, fmt.Errorf("unlink identity: %w", res.Error)
	}
	if res.RowsAffected == 0 || len(rs) == 0 {
		return nil, app.ErrIdentityUnknown
	}
	return &rs[0], nil
}
