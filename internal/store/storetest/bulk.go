package storetest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"atrium/internal/store"
)

// Volume says how much data Bulk adds. Zero fields add nothing.
type Volume struct {
	// Users are extra users, each with a live session, a used sign-in link
	// and a membership of one of the small workspaces.
	Users int
	// Workspaces are extra small workspaces the users are spread over.
	Workspaces int
	// WorkspaceID is the big workspace that receives Members members and
	// AuditRows audit entries; 0 creates one named "big".
	WorkspaceID int64
	// Members of the big workspace, taken from the Users (so at most Users).
	Members int
	// AuditRows in the big workspace, one a minute up to now, by its members.
	AuditRows int
	// OtherAuditRows spread over the small workspaces.
	OtherAuditRows int
	// Invites pending in the big workspace, and as many over the small
	// ones; Mail queued outbox messages;
	// StripeEvents recorded webhook events.
	Invites, Mail, StripeEvents int
}

// Sample names rows Bulk created, for queries that need real arguments.
type Sample struct {
	WorkspaceID int64
	Slug        string
	// UserID is a member of the big workspace; SessionHash its session's
	// token hash; Email its address.
	UserID      int64
	SessionHash string
	Email       string
	LoginHash   string
	InviteHash  string
	InviteEmail string
	EventID     string
	// First and Last are the times of the oldest and newest audit entries
	// of the big workspace.
	First, Last time.Time
}

// Bulk adds generated rows to db with multi-row INSERTs (500 rows a
// statement) and refreshes the planner statistics (store.DB.Analyze), so
// tests and benchmarks can look at query plans and timings on a realistic
// volume.
func Bulk(tb testing.TB, db *store.DB, v Volume) Sample {
	tb.Helper()
	ctx := context.Background()
	b := &bulk{tb: tb, db: db, ctx: ctx, now: time.Now().UTC().Truncate(time.Second)}
	tag := fmt.Sprintf("b%d", b.now.UnixNano()%1e9)
	s := Sample{WorkspaceID: v.WorkspaceID}
	if s.WorkspaceID == 0 {
		s.Slug = "big-" + tag
		b.exec(fmt.Sprintf("INSERT INTO workspaces (name, slug, plan, created_at, updated_at) VALUES ('Big', '%s', 'pro', %s, %s)",
			s.Slug, b.ts(b.now), b.ts(b.now)))
		s.WorkspaceID = b.id("SELECT id FROM workspaces WHERE slug = '" + s.Slug + "'")
	} else {
		s.Slug = b.str("SELECT slug FROM workspaces WHERE id = " + fmt.Sprint(s.WorkspaceID))
	}
	b.rows("workspaces (name, slug, plan, created_at, updated_at)", v.Workspaces, func(i int) string {
		return fmt.Sprintf("('Small %d', 'small-%s-%d', 'free', %s, %s)", i, tag, i, b.ts(b.now), b.ts(b.now))
	})
	small := b.ids(fmt.Sprintf("SELECT id FROM workspaces WHERE slug LIKE 'small-%s-%%' ORDER BY id", tag))
	b.rows("users (email, name, time_zone, created_at, updated_at)", v.Users, func(i int) string {
		return fmt.Sprintf("('user%d-%s@example.com', 'User %d', 'UTC', %s, %s)", i, tag, i, b.ts(b.now), b.ts(b.now))
	})
	users := b.ids(fmt.Sprintf("SELECT id FROM users WHERE email LIKE 'user%%-%s@example.com' ORDER BY id", tag))
	later := b.now.Add(24 * time.Hour)
	b.rows("sessions (token_hash, user_id, created_at, last_seen_at, expires_at)", len(users), func(i int) string {
		return fmt.Sprintf("('session-%s-%d', %d, %s, %s, %s)", tag, i, users[i], b.ts(b.now), b.ts(b.now), b.ts(later))
	})
	b.rows("login_tokens (token_hash, email, created_at, expires_at, used_at)", len(users), func(i int) string {
		return fmt.Sprintf("('login-%s-%d', 'user%d-%s@example.com', %s, %s, %s)", tag, i, i, tag, b.ts(b.now), b.ts(later), b.ts(b.now))
	})
	if len(small) > 0 {
		b.rows("memberships (workspace_id, user_id, role, created_at, updated_at)", len(users), func(i int) string {
			role := "member"
			if i < len(small) {
				role = "owner"
			}
			return fmt.Sprintf("(%d, %d, '%s', %s, %s)", small[i%len(small)], users[i], role, b.ts(b.now), b.ts(b.now))
		})
	}
	members := min(v.Members, len(users))
	b.rows("memberships (workspace_id, user_id, role, created_at, updated_at)", members, func(i int) string {
		role := []string{"admin", "member", "member", "member", "member"}[i%5]
		return fmt.Sprintf("(%d, %d, '%s', %s, %s)", s.WorkspaceID, users[i], role, b.ts(b.now), b.ts(b.now))
	})
	actions := []string{"invite.sent", "invite.accepted", "member.role_changed", "workspace.renamed", "member.removed"}
	s.First = b.now.Add(-time.Duration(v.AuditRows) * time.Minute)
	s.Last = b.now
	// Actors are recorded as the audit log records them, with their email
	// and name at the time; family is the action's prefix for these.
	b.rows("audit_logs (workspace_id, actor_user_id, actor_email, actor_name, action, family, target_type, target_id, metadata, created_at)", v.AuditRows, func(i int) string {
		actor := int64(0)
		if members > 0 {
			actor = users[i%members]
		}
		at := s.First.Add(time.Duration(i) * time.Minute)
		action := actions[i%len(actions)]
		family, _, _ := strings.Cut(action, ".")
		return fmt.Sprintf("(%d, %d, COALESCE((SELECT email FROM users WHERE id = %d), ''), COALESCE((SELECT name FROM users WHERE id = %d), ''), '%s', '%s', 'user', '%d', '{\"email\":\"x@example.com\",\"role\":\"member\"}', %s)",
			s.WorkspaceID, actor, actor, actor, action, family, actor, b.ts(at))
	})
	if len(small) > 0 && len(users) > 0 {
		b.rows("audit_logs (workspace_id, actor_user_id, action, target_type, target_id, metadata, created_at)", v.OtherAuditRows, func(i int) string {
			return fmt.Sprintf("(%d, %d, '%s', 'user', '1', '{}', %s)", small[i%len(small)], users[i%len(users)],
				actions[i%len(actions)], b.ts(b.now.Add(-time.Duration(i)*time.Second)))
		})
	}
	// Who acted where, as each append records it.
	b.exec(`INSERT INTO audit_actors (workspace_id, user_id, email, name)
		SELECT workspace_id, actor_user_id, MAX(actor_email), MAX(actor_name) FROM audit_logs
		WHERE workspace_id IS NOT NULL AND actor_user_id IS NOT NULL GROUP BY workspace_id, actor_user_id
		ON CONFLICT (workspace_id, user_id) DO NOTHING`)
	b.rows("invites (workspace_id, email, role, token_hash, status, expires_at, created_at, updated_at)", v.Invites, func(i int) string {
		return fmt.Sprintf("(%d, 'invitee%d-%s@example.com', 'member', 'invite-%s-%d', 'pending', %s, %s, %s)",
			s.WorkspaceID, i, tag, tag, i, b.ts(later), b.ts(b.now), b.ts(b.now))
	})
	if len(small) > 0 {
		b.rows("invites (workspace_id, email, role, token_hash, status, expires_at, created_at, updated_at)", v.Invites, func(i int) string {
			return fmt.Sprintf("(%d, 'other%d-%s@example.com', 'member', 'other-%s-%d', 'pending', %s, %s, %s)",
				small[i%len(small)], i, tag, tag, i, b.ts(later), b.ts(b.now), b.ts(b.now))
		})
	}
	b.rows("mail_outbox (to_addr, subject, text_body, ref, invite_id, status, next_attempt_at, created_at)", v.Mail, func(i int) string {
		status := []string{"sent", "sent", "sent", "failed", "pending"}[i%5]
		return fmt.Sprintf("('to%d@example.com', 'Hello', 'Body', 'invite:%d', %d, '%s', %s, %s)", i, i+1, i+1, status,
			b.ts(b.now.Add(time.Duration(i%100-50)*time.Minute)), b.ts(b.now))
	})
	b.rows("stripe_events (id, type, created_at, received_at, status, payload)", v.StripeEvents, func(i int) string {
		return fmt.Sprintf("('evt_%s_%d', 'customer.subscription.updated', %s, %s, 'processed', '{}')", tag, i, b.ts(b.now), b.ts(b.now))
	})
	if len(users) > 0 {
		s.UserID, s.SessionHash = users[0], "session-"+tag+"-0"
		s.Email, s.LoginHash = "user0-"+tag+"@example.com", "login-"+tag+"-0"
	}
	if v.Invites > 0 {
		s.InviteHash, s.InviteEmail = "invite-"+tag+"-0", "invitee0-"+tag+"@example.com"
	}
	if v.StripeEvents > 0 {
		s.EventID = "evt_" + tag + "_0"
	}
	if err := db.Analyze(ctx); err != nil {
		tb.Fatalf("bulk: %v", err)
	}
	return s
}

type bulk struct {
	tb  testing.TB
	db  *store.DB
	ctx context.Context
	now time.Time
}

// ts is a timestamp literal both databases read, in the format the SQLite
// driver writes.
func (b *bulk) ts(t time.Time) string {
	return "'" + t.UTC().Format("2006-01-02 15:04:05.999999999-07:00") + "'"
}

func (b *bulk) exec(q string) {
	b.tb.Helper()
	if _, err := b.db.SQL().ExecContext(b.ctx, q); err != nil {
		b.tb.Fatalf("bulk: %v\n%.300s", err, q)
	}
}

// rows inserts n rows into table (with its column list), 500 a statement.
func (b *bulk) rows(table string, n int, row func(i int) string) {
	b.tb.Helper()
	for start := 0; start < n; start += 500 {
		var sb strings.Builder
		sb.WriteString("INSERT INTO " + table + " VALUES ")
		for i := start; i < min(start+500, n); i++ {
			if i > start {
				sb.WriteByte(',')
			}
			sb.WriteString(row(i))
		}
		b.exec(sb.String())
	}
}

func (b *bulk) ids(q string) []int64 {
	b.tb.Helper()
	rows, err := b.db.SQL().QueryContext(b.ctx, q)
	if err != nil {
		b.tb.Fatalf("bulk: %v", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			b.tb.Fatalf("bulk: %v", err)
		}
		out = append(out, id)
	}
	if err := rows.Err(); err != nil {
		b.tb.Fatalf("bulk: %v", err)
	}
	return out
}

func (b *bulk) id(q string) int64 {
	b.tb.Helper()
	ids := b.ids(q)
	if len(ids) != 1 {
		b.tb.Fatalf("bulk: %s: %d rows", q, len(ids))
	}
	return ids[0]
}

func (b *bulk) str(q string) string {
	b.tb.Helper()
	var s string
	if err := b.db.SQL().QueryRowContext(b.ctx, q).Scan(&s); err != nil {
		b.tb.Fatalf("bulk: %v", err)
	}
	return s
}
