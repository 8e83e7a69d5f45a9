package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// Workspace limits.
const (
	WorkspaceNameMin = 2
	WorkspaceNameMax = 80
	SlugMax          = 60
)

// Plans.
const (
	PlanFree = "free"
	PlanPro  = "pro"
)

// Workspace is a tenant: the team that owns members, invites, billing and
// an audit log.
type Workspace struct {
	ID                 int64
	Name               string
	Slug               string
	Plan               string
	SubscriptionStatus string
	// Billing state, kept in step with Stripe by its webhook.
	StripeCustomerID     string
	StripeSubscriptionID string
	CurrentPeriodEnd     time.Time
	CancelAtPeriodEnd    bool
	// PriceID is the subscription's Stripe price (its plan and interval
	// in the catalog); SeatQuantity its quantity as Stripe last said.
	PriceID      string
	SeatQuantity int
	// TrialEnd is when the subscription's trial ends (zero: no trial).
	TrialEnd time.Time
	// PaymentFailedAt starts a dunning episode: the first failed payment
	// not yet recovered; PaymentInvoiceURL is the invoice to pay.
	PaymentFailedAt   time.Time
	PaymentInvoiceURL string
	// RestrictedAt is when the grace period of a failed payment ran out:
	// the workspace refuses additions until the invoice is paid.
	RestrictedAt time.Time
	// ScheduledPriceID is a plan change waiting for ScheduledChangeAt
	// (the end of the period: a downgrade).
	ScheduledPriceID  string
	ScheduledChangeAt time.Time
	// RequireTwoFactor keeps members without a second factor out until
	// they set one up.
	RequireTwoFactor bool
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// Membership is a user's place in a workspace.
type Membership struct {
	WorkspaceID int64
	UserID      int64
	Role        Role
	CreatedAt   time.Time
}

// UserWorkspace is one of a user's workspaces with their role in it.
type UserWorkspace struct {
	Workspace
	Role    Role
	Members int
}

// WorkspaceUpdate holds the fields to change; nil fields stay.
type WorkspaceUpdate struct {
	Name *string
	Slug *string
}

// WorkspaceStats are the counts on a workspace dashboard.
type WorkspaceStats struct {
	Members        int
	PendingInvites int // pending and not expired
}

// SeatsUsed counts what the plan's seat limit applies to: members plus
// pending, unexpired invites.
func (st WorkspaceStats) SeatsUsed() int { return st.Members + st.PendingInvites }

// ValidateWorkspaceName checks a name through CleanText, collapsing white
// space, and checks its length. Errors are about the "name" field.
func ValidateWorkspaceName(name string) (string, error) {
	name, err := CleanText("name", "name", name, 0)
	if err != nil {
		return name, err
	}
	n := utf8.RuneCountInString(name)
	if n == 0 {
		return name, FieldErrorf("name", "Enter a name.")
	}
	if n < WorkspaceNameMin || n > WorkspaceNameMax {
		return name, FieldErrorf("name", "Use %d to %d characters for the name.", WorkspaceNameMin, WorkspaceNameMax)
	}
	return name, nil
}

var slugPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// ValidateSlug checks a slug a person typed: lowercase letters, digits and
// single dashes, 2 to SlugMax characters. Errors are about the "slug" field.
func ValidateSlug(slug string) (string, error) {
	slug, err := CleanText("slug", "address", slug, 0)
	if err != nil {
		return "", err
	}
	slug = strings.ToLower(slug)
	if !ValidSlugSyntax(slug) {
		return slug, FieldErrorf("slug", "Use 2 to %d lowercase letters, numbers and single dashes (like acme-inc).", SlugMax)
	}
	return slug, nil
}

// ValidSlugSyntax reports whether s could be a workspace's slug, so that an
// address that cannot name a workspace is answered without a query.
func ValidSlugSyntax(s string) bool {
	return len(s) >= 2 && len(s) <= SlugMax && slugPattern.MatchString(s)
}

// Slugify derives a slug from a name: lower case, each run of other
// characters becomes one dash, no dash at either end, at most SlugMax
// characters. A name with no usable character gets a random slug.
func Slugify(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
		default:
			dash = true
		}
		if b.Len() >= SlugMax {
			break
		}
	}
	s := strings.Trim(b.String(), "-")
	if len(s) > SlugMax {
		s = strings.TrimRight(s[:SlugMax], "-")
	}
	if len(s) < 2 {
		buf := make([]byte, 4)
		_, _ = rand.Read(buf)
		return "workspace-" + hex.EncodeToString(buf)
	}
	return s
}

// CanCreateWorkspace checks the cap on workspaces one person owns: owned
// is how many they own, max the cap (0 = none).
func CanCreateWorkspace(owned, max int) error {
	if max > 0 && owned >= max {
		return &Error{Code: ECONFLICT, Field: "name", Message: "You own " + itoa(owned) +
			" workspaces, the most one person may. Delete one you no longer use, or ask the operator to raise the limit."}
	}
	return nil
}

// SuffixBase returns the start shared by every "-N" variant of slug: slug,
// shortened when it leaves no room for a dash and nine digits.
func SuffixBase(slug string) string {
	if len(slug) > SlugMax-10 {
		slug = strings.TrimRight(slug[:SlugMax-10], "-")
	}
	return slug
}

// SlugWithSuffix returns slug with "-n" appended, shortened to fit SlugMax.
func SlugWithSuffix(slug string, n int) string {
	suffix := "-" + itoa(n)
	if len(slug)+len(suffix) > SlugMax {
		slug = strings.TrimRight(slug[:SlugMax-len(suffix)], "-")
	}
	return slug + suffix
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

// WorkspaceService manages workspaces. A method about one workspace takes
// the Scope it acts in, and its statements enforce that scope (see Scope):
// a caller cannot reach another tenant by passing its id.
type WorkspaceService interface {
	// CreateWorkspace creates a workspace owned by the principal. An empty
	// slug is derived from the name; a taken derived slug gets a suffix.
	CreateWorkspace(ctx context.Context, name, slug string) (*Workspace, error)
	// FindWorkspaceForMember resolves a slug and the principal's membership
	// in one query; ENOTFOUND when either is missing.
	FindWorkspaceForMember(ctx context.Context, slug string, userID int64) (*Workspace, *Membership, error)
	// FindWorkspacesByUser lists a user's workspaces with their role.
	FindWorkspacesByUser(ctx context.Context, userID int64) ([]*UserWorkspace, error)
	// FindSwitcher lists them for the header's switcher: without member
	// counts, and cheap on every page of a signed-in request.
	FindSwitcher(ctx context.Context, userID int64) ([]*UserWorkspace, error)
	// FindWorkspaceStats counts members and pending invites.
	FindWorkspaceStats(ctx context.Context, sc Scope) (*WorkspaceStats, error)
	// UpdateWorkspace renames a workspace or changes its slug.
	UpdateWorkspace(ctx context.Context, sc Scope, upd WorkspaceUpdate) (*Workspace, error)
	// DeleteWorkspace deletes a workspace with its members and invites.
	DeleteWorkspace(ctx context.Context, sc Scope) error
}
