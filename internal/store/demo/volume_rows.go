package demo

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"atrium/internal/app"
)

// maxBindVars is SQLite's limit on bind parameters in one statement (Postgres
// allows more): a multi-row INSERT holds as many rows as fit.
const maxBindVars = 32766

// rowsPerTx is how many rows one transaction of SeedVolume writes before it
// commits, which keeps SQLite's write-ahead log small.
const rowsPerTx = 100_000

// bulkInsert writes rows of one table as multi-row INSERTs.
type bulkInsert struct {
	s     *volumeSeeder
	table string
	cols  []string
	per   int // rows per statement
	args  []any
	tx    *sql.Tx
	inTx  int
	full  string // the statement for per rows
	// uncounted rows are not part of the progress total (bookkeeping).
	uncounted bool
	// suffix ends every statement (an ON CONFLICT clause).
	suffix string
}

func (s *volumeSeeder) bulk(table string, cols ...string) *bulkInsert {
	per := maxBindVars / len(cols)
	return &bulkInsert{s: s, table: table, cols: cols, per: per, args: make([]any, 0, per*len(cols))}
}

// add queues one row, writing the queued rows when a statement is full.
func (b *bulkInsert) add(ctx context.Context, vals ...any) error {
	b.args = append(b.args, vals...)
	if len(b.args) >= b.per*len(b.cols) {
		return b.flush(ctx)
	}
	return nil
}

// statement returns the INSERT for rows rows.
func (b *bulkInsert) statement(rows int) string {
	if rows == b.per && b.full != "" {
		return b.full
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "INSERT INTO %s (%s) VALUES ", b.table, strings.Join(b.cols, ", "))
	n := 0
	for r := range rows {
		if r > 0 {
			sb.WriteString(", ")
		}
		sb.WriteByte('(')
		for c := range b.cols {
			if c > 0 {
				sb.WriteString(", ")
			}
			n++
			sb.WriteString(placeholder(b.s.db, n))
		}
		sb.WriteByte(')')
	}
	if b.suffix != "" {
		sb.WriteString(" " + b.suffix)
	}
	q := sb.String()
	if rows == b.per {
		b.full = q
	}
	return q
}

// flush writes the queued rows, committing every rowsPerTx rows.
func (b *bulkInsert) flush(ctx context.Context) error {
	rows := len(b.args) / len(b.cols)
	if rows == 0 {
		return nil
	}
	if b.tx == nil {
		tx, err := b.s.db.SQL().BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("insert into %s: %w", b.table, err)
		}
		b.tx = tx
	}
	if _, err := b.tx.ExecContext(ctx, b.statement(rows), b.args...); err != nil {
		_ = b.tx.Rollback()
		b.tx = nil
		return fmt.Errorf("insert into %s: %w", b.table, err)
	}
	b.args = b.args[:0]
	b.inTx += rows
	if !b.uncounted {
		b.s.done += int64(rows)
		b.s.progress(b.s.done, b.s.total)
	}
	if b.inTx >= rowsPerTx {
		return b.commit()
	}
	return nil
}

func (b *bulkInsert) commit() error {
	if b.tx == nil {
		return nil
	}
	err := b.tx.Commit()
	b.tx, b.inTx = nil, 0
	if err != nil {
		return fmt.Errorf("commit %s: %w", b.table, err)
	}
	return nil
}

// close writes what is queued and commits.
func (b *bulkInsert) close(ctx context.Context) error {
	if err := b.flush(ctx); err != nil {
		return err
	}
	return b.commit()
}

// age returns a random whole-second duration below max.
func (s *volumeSeeder) age(max time.Duration) time.Duration {
	return time.Duration(s.rng.Int64N(int64(max/time.Second))) * time.Second
}

var (
	volumeFirstNames = []string{"Ada", "Ben", "Chloe", "Dev", "Elif", "Femi", "Grace", "Hiro", "Ines", "Jonas",
		"Kemi", "Luis", "Mira", "Noor", "Oskar", "Priya", "Quinn", "Rosa", "Sami", "Tariq"}
	volumeLastNames = []string{"Adams", "Berg", "Costa", "Diaz", "Eze", "Fischer", "Garcia", "Haddad", "Ito", "Jensen",
		"Kowalski", "Lopez", "Moreau", "Nakamura", "Okafor", "Petrov", "Rossi", "Singh", "Tanaka", "Weber"}
	volumeZones = []string{"UTC", "Europe/Paris", "America/New_York", "Asia/Tokyo", "Australia/Sydney"}
	volumeWords = []string{"Northwind", "Blue Harbor", "Cedar", "Quartz", "Lumen", "Orbit", "Maple", "Pioneer",
		"Summit", "Vertex", "Willow", "Atlas", "Beacon", "Copper", "Delta", "Ember"}
)

// volumeUserEmail is the address of volume user i (0-based).
func volumeUserEmail(i int) string { return fmt.Sprintf("user%06d@volume.example.com", i+1) }

func (s *volumeSeeder) users(ctx context.Context) error {
	b := s.bulk("users", "id", "email", "name", "time_zone", "created_at", "updated_at")
	for i := range s.v.Users {
		at := volumeEpoch().Add(-s.age(730 * day))
		name := volumeFirstNames[s.rng.IntN(len(volumeFirstNames))] + " " + volumeLastNames[s.rng.IntN(len(volumeLastNames))]
		s.names = append(s.names, name)
		if err := b.add(ctx, s.userID(i), volumeUserEmail(i), name, volumeZones[i%len(volumeZones)], at, at); err != nil {
			return err
		}
	}
	return b.close(ctx)
}

// sessions gives every volume user one session, live for SessionTTL from
// its last use in the past week. Its token is a fixed string that is not
// valid token syntax, so no cookie can present it.
func (s *volumeSeeder) sessions(ctx context.Context) error {
	b := s.bulk("sessions", "id", "token_hash", "user_id", "ip", "user_agent", "created_at", "last_seen_at", "expires_at")
	for i := range s.v.Users {
		at := s.now.Add(-s.age(7 * day))
		if err := b.add(ctx, s.sessionBase+1+int64(i), app.HashToken(fmt.Sprintf("atrium-volume-session:%d", i+1)),
			s.userID(i), fmt.Sprintf("203.0.113.%d", 1+i%254), "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Firefox/133.0",
			at, at, at.Add(app.SessionTTL)); err != nil {
			return err
		}
	}
	return b.close(ctx)
}

func (s *volumeSeeder) workspaces(ctx context.Context) error {
	b := s.bulk("workspaces", "id", "name", "slug", "plan", "subscription_status", "stripe_customer_id",
		"stripe_subscription_id", "current_period_end", "cancel_at_period_end", "created_at", "updated_at")
	for j := range s.v.Workspaces {
		name, slug := fmt.Sprintf("%s %d", volumeWords[j%len(volumeWords)], j), fmt.Sprintf("ws-%05d", j)
		if j == 0 {
			name, slug = "Big Co", BigSlug
		}
		at := volumeEpoch().Add(-s.age(730 * day))
		plan, status, customer, sub := app.PlanFree, "", "", ""
		var end *time.Time
		if s.pro[j] {
			plan, status = app.PlanPro, app.SubActive
			customer, sub = fmt.Sprintf("cus_volume_%05d", j), fmt.Sprintf("sub_volume_%05d", j)
			e := volumeEpoch().Add(time.Duration(1+s.rng.IntN(30)) * day)
			end = &e
		}
		if err := b.add(ctx, s.wsID(j), name, slug, plan, status, customer, sub, end, false, at, at); err != nil {
			return err
		}
	}
	return b.close(ctx)
}

func (s *volumeSeeder) memberships(ctx context.Context) error {
	b := s.bulk("memberships", "id", "workspace_id", "user_id", "role", "created_at", "updated_at")
	id := s.memberBase
	add := func(ws, user int64, role app.Role) error {
		id++
		at := volumeEpoch().Add(-s.age(365 * day))
		return b.add(ctx, id, ws, user, string(role), at, at)
	}
	for j, users := range s.members {
		for k, u := range users {
			role := app.RoleMember
			switch {
			case k == 0:
				role = app.RoleOwner
			case j == 0 && k%50 == 0, j > 0 && s.rng.IntN(5) == 0:
				role = app.RoleAdmin
			}
			if err := add(s.wsID(j), u, role); err != nil {
				return err
			}
		}
	}
	for k, u := range s.acmeMembers {
		role := app.RoleMember
		if k%8 == 0 {
			role = app.RoleAdmin
		}
		if err := add(s.acme, u, role); err != nil {
			return err
		}
	}
	return b.close(ctx)
}

// invites spreads the invites over the volume workspaces, one in 25 in
// big, with a mix of statuses; pending ones older than a week show as
// expired.
func (s *volumeSeeder) invites(ctx context.Context) error {
	b := s.bulk("invites", "id", "workspace_id", "email", "role", "token_hash", "status", "invited_by_user_id",
		"expires_at", "created_at", "updated_at")
	statuses := []string{app.InvitePending, app.InvitePending, app.InvitePending, app.InvitePending,
		app.InviteAccepted, app.InviteAccepted, app.InviteAccepted, app.InviteRevoked, app.InviteDeclined, app.InviteExpired}
	for n := range s.v.Invites {
		j := 0
		if n >= s.v.Invites/25 {
			j = 1 + s.rng.IntN(s.v.Workspaces-1)
		}
		role := app.RoleMember
		if s.rng.IntN(6) == 0 {
			role = app.RoleAdmin
		}
		at := volumeEpoch().Add(-s.age(60 * day))
		if err := b.add(ctx, s.inviteBase+1+int64(n), s.wsID(j), fmt.Sprintf("invitee%06d@volume.example.com", n+1),
			string(role), app.HashToken(fmt.Sprintf("atrium-volume-invite:%d", n+1)), statuses[s.rng.IntN(len(statuses))],
			s.members[j][0], at.Add(app.InviteTTL), at, at); err != nil {
			return err
		}
	}
	return b.close(ctx)
}
