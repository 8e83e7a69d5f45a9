package demo

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"atrium/internal/app"
	"atrium/internal/store"
)

// VolumeVersion names the shape of the data SeedVolume writes. Bump it with
// every change to the generator, so that cached copies are rebuilt.
const VolumeVersion = 2

// BigSlug is the slug of the generated workspace with the most members; the
// demo owner owns it.
const BigSlug = "big"

// day is a calendar day of the generated history.
const day = 24 * time.Hour

// volumeEpoch is the fixed "now" of the generated history: rows that pages
// show carry times relative to it, so the same seed gives the same pages.
func volumeEpoch() time.Time { return time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC) }

// Volume is the size of a generated data set. Every volume user has one
// live session; every workspace has an owner.
type Volume struct {
	Name         string
	Users        int // volume users, each with one live session
	Workspaces   int // volume workspaces, BigSlug included
	BigMembers   int // members of BigSlug, its owner included
	AcmeMembers  int // volume users added to the demo workspace acme
	Audit        int // audit entries in all
	AcmeAudit    int // of which in acme, spread over two years
	Invites      int
	StripeEvents int
}

// Volumes lists the data set sizes "atrium seed --volume" knows: small for
// tests, large for the HTTP benchmark.
func Volumes() []Volume {
	return []Volume{
		{Name: "small", Users: 2000, Workspaces: 400, BigMembers: 200, AcmeMembers: 48,
			Audit: 6000, AcmeAudit: 1500, Invites: 500, StripeEvents: 1000},
		{Name: "large", Users: 100_000, Workspaces: 20_000, BigMembers: 2000, AcmeMembers: 48,
			Audit: 1_000_000, AcmeAudit: 100_000, Invites: 50_000, StripeEvents: 200_000},
	}
}

// FindVolume returns the volume named name.
func FindVolume(name string) (Volume, error) {
	var names []string
	for _, v := range Volumes() {
		if v.Name == name {
			return v, nil
		}
		names = append(names, v.Name)
	}
	return Volume{}, app.Errorf(app.EINVALID, "Unknown volume %q: expected one of %s.", name, strings.Join(names, ", "))
}

// VolumeProgress is told how many rows of the total are written so far.
type VolumeProgress func(done, total int64)

// SeedVolume generates the volume's data deterministically (a fixed random
// seed and base time; only session expiry follows the clock, so sessions
// are live) on top of the demo data, which must be seeded first. It writes
// multi-row INSERTs in transactions of rowsPerTx rows, so a failed run
// leaves what it wrote: seed a fresh database again. It ends with ANALYZE
// (DB.Analyze) on either database. It returns false,
// writing nothing, when the database already holds a workspace with BigSlug.
func SeedVolume(ctx context.Context, db *store.DB, v Volume, progress VolumeProgress) (bool, error) {
	var n int
	if err := db.SQL().QueryRowContext(ctx, "SELECT COUNT(*) FROM workspaces WHERE slug = "+placeholder(db, 1), BigSlug).
		Scan(&n); err != nil {
		return false, fmt.Errorf("look for workspace %q: %w", BigSlug, err)
	}
	if n > 0 {
		return false, nil
	}
	s := &volumeSeeder{db: db, v: v, rng: rand.New(rand.NewPCG(20261101, VolumeVersion)), now: db.Now().UTC().Truncate(time.Second)}
	if progress != nil {
		s.progress = progress
	} else {
		s.progress = func(int64, int64) {}
	}
	if err := s.load(ctx); err != nil {
		return false, err
	}
	s.plan()
	s.total = int64(2*v.Users + v.Workspaces + s.memberCount + v.Audit + v.Invites + v.StripeEvents)
	steps := []func(context.Context) error{s.users, s.sessions, s.workspaces, s.memberships, s.invites, s.audit, s.events}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			return false, fmt.Errorf("seed volume %s: %w", v.Name, err)
		}
	}
	if db.Dialect() == store.Postgres {
		for _, table := range []string{"users", "sessions", "workspaces", "memberships", "invites", "audit_logs"} {
			q := fmt.Sprintf("SELECT setval(pg_get_serial_sequence('%s', 'id'), (SELECT MAX(id) FROM %s))", table, table)
			if _, err := db.SQL().ExecContext(ctx, q); err != nil {
				return false, fmt.Errorf("reset the id sequence of %s: %w", table, err)
			}
		}
	}
	// The planner's statistics describe the data it now holds: without them
	// (autovacuum analyzes a real database soon after) plans and benchmarks
	// on the generated data are not those production gets.
	if err := db.Analyze(ctx); err != nil {
		return false, fmt.Errorf("seed volume %s: %w", v.Name, err)
	}
	s.progress(s.total, s.total)
	return true, nil
}

// placeholder returns the n-th (1-based) bind parameter of the dialect.
func placeholder(db *store.DB, n int) string {
	if db.Dialect() == store.Postgres {
		return fmt.Sprintf("$%d", n)
	}
	return "?"
}

// volumeSeeder holds one SeedVolume run: its random source, the ids it
// starts from and the plan of who belongs where.
type volumeSeeder struct {
	db       *store.DB
	v        Volume
	rng      *rand.Rand
	now      time.Time
	progress VolumeProgress
	done     int64
	total    int64

	founder, teammate, acme int64
	userBase, wsBase        int64
	sessionBase, memberBase int64
	inviteBase, auditBase   int64

	// members[j] lists the user ids of volume workspace j (0 is big), the
	// owner first; pro[j] marks workspaces on the paid plan.
	members     [][]int64
	pro         []bool
	acmeMembers []int64
	memberCount int
	// names[i] is volume user i's name; demo holds the demo users' email
	// and name; heads the hash of each audit chain's newest entry.
	names []string
	demo  map[int64][2]string
	heads map[int64]string
}

// load finds the demo rows the volume hangs on and the ids to start from.
func (s *volumeSeeder) load(ctx context.Context) error {
	q := func(dst *int64, query string, args ...any) error {
		if err := s.db.SQL().QueryRowContext(ctx, query, args...).Scan(dst); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("the demo data is missing (run the demo seed first): %s", query)
			}
			return fmt.Errorf("%s: %w", query, err)
		}
		return nil
	}
	p := placeholder(s.db, 1)
	for _, c := range []struct {
		dst   *int64
		query string
		arg   any
	}{
		{&s.founder, "SELECT id FROM users WHERE email = " + p, store.DemoOwnerEmail},
		{&s.teammate, "SELECT id FROM users WHERE email = " + p, "teammate@example.com"},
		{&s.acme, "SELECT id FROM workspaces WHERE slug = " + p, "acme"},
	} {
		if err := q(c.dst, c.query, c.arg); err != nil {
			return err
		}
	}
	for _, c := range []struct {
		dst   *int64
		table string
	}{
		{&s.userBase, "users"}, {&s.sessionBase, "sessions"}, {&s.wsBase, "workspaces"},
		{&s.memberBase, "memberships"}, {&s.inviteBase, "invites"}, {&s.auditBase, "audit_logs"},
	} {
		if err := q(c.dst, "SELECT COALESCE(MAX(id), 0) FROM "+c.table); err != nil {
			return err
		}
	}
	s.demo = map[int64][2]string{}
	for _, id := range []int64{s.founder, s.teammate} {
		var email, name string
		if err := s.db.SQL().QueryRowContext(ctx, "SELECT email, name FROM users WHERE id = "+p, id).Scan(&email, &name); err != nil {
			return fmt.Errorf("find demo user %d: %w", id, err)
		}
		s.demo[id] = [2]string{email, name}
	}
	s.heads = map[int64]string{}
	rows, err := s.db.SQL().QueryContext(ctx, "SELECT workspace_id, head_hash FROM audit_chains")
	if err != nil {
		return fmt.Errorf("read audit chain heads: %w", err)
	}
	defer func() { _ = rows.Close() }()
	for rows.Next() {
		var ws int64
		var h string
		if err := rows.Scan(&ws, &h); err != nil {
			return fmt.Errorf("read audit chain heads: %w", err)
		}
		s.heads[ws] = h
	}
	return rows.Err()
}

// userID returns the id of volume user i (0-based).
func (s *volumeSeeder) userID(i int) int64 { return s.userBase + 1 + int64(i) }

// wsID returns the id of volume workspace j (0-based; 0 is big).
func (s *volumeSeeder) wsID(j int) int64 { return s.wsBase + 1 + int64(j) }

// plan draws every workspace's members: big gets the demo owner and the
// first BigMembers-1 users, the others one to nine distinct users each,
// and acme the last AcmeMembers users.
func (s *volumeSeeder) plan() {
	v := s.v
	s.members = make([][]int64, v.Workspaces)
	s.pro = make([]bool, v.Workspaces)
	big := []int64{s.founder}
	for i := 0; i < v.BigMembers-1 && i < v.Users; i++ {
		big = append(big, s.userID(i))
	}
	s.members[0], s.pro[0] = big, true
	for j := 1; j < v.Workspaces; j++ {
		k := 1 + s.rng.IntN(9)
		ids := make([]int64, 0, k)
		for len(ids) < k {
			id := s.userID(s.rng.IntN(v.Users))
			if !containsID(ids, id) {
				ids = append(ids, id)
			}
		}
		s.members[j] = ids
		s.pro[j] = s.rng.IntN(5) == 0
	}
	for i := v.Users - v.AcmeMembers; i < v.Users; i++ {
		s.acmeMembers = append(s.acmeMembers, s.userID(i))
	}
	s.memberCount = len(s.acmeMembers)
	for _, m := range s.members {
		s.memberCount += len(m)
	}
}

func containsID(ids []int64, id int64) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}
