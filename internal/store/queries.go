package store

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"atrium/internal/app"
)

// The store's rule for talking to the database:
//
//   - Reads: every SELECT is a named entry of this catalog, with one column
//     list and one scan function per row shape (scanWorkspace for every
//     query returning a workspace, and so on; a different shape gets its
//     own type, never a half-filled one). It runs through db.query or
//     db.queryRow (read.go), on the pool or, given a transaction, on the
//     transaction's connection, through one prepared statement.
//   - Scope: a read of a workspace's data (members, invites, keys, audit
//     entries, counts) takes an app.Scope and its SQL includes scopeClause,
//     so it returns nothing unless the acting user is a member or the
//     acting key one of the workspace's own, whichever id the caller
//     passes. A write locks the scope first (db.lockScope) in its
//     transaction and reads under that lock.
//   - Writes: GORM, inside db.transact, with the audit entry in the same
//     transaction.
//
// plan_test.go walks the catalog and fails when a statement reads a whole
// table or sorts rows outside an index, on SQLite and on Postgres; the
// statement budget and the tenant table read it too.

// hotQuery is a catalogued statement. The services run these statements
// and no copies of them.
type hotQuery struct {
	SQL string
	// PostgresSQL, when set, is the statement's text on PostgreSQL, with
	// the same arguments: a locking read (FOR UPDATE) that SQLite, whose
	// write transactions hold the whole database, has no syntax or use
	// for, or a condition each database writes its own way.
	PostgresSQL string
	// BoundedSort names the small set a sort outside an index is allowed
	// on (e.g. "one user's workspaces"); "" allows none.
	BoundedSort string
	// WholeTable says why the statement may read a whole table (and sort
	// what it reads): an operator's check or a maintenance job, never a
	// page view; "" allows none.
	WholeTable string
	// NoPlan says why the plan test skips the statement (a function call
	// that writes); "" for every read.
	NoPlan string
}

// text returns the statement's SQL on dialect.
func (q hotQuery) text(dialect string) string {
	if dialect == Postgres && q.PostgresSQL != "" {
		return q.PostgresSQL
	}
	return q.SQL
}

// addQueries adds a noun's catalogued statements to the catalog q,
// panicking on a name taken twice (a programming error every test run
// catches).
func addQueries(q map[string]hotQuery, more map[string]hotQuery) {
	for name, e := range more {
		if _, dup := q[name]; dup {
			panic("store: hot query " + name + " catalogued twice")
		}
		q[name] = e
	}
}

// The names of the hot queries. Fixed values are written into their SQL
// rather than bound: SQLite plans a statement again each time a bound value
// could change its plan (here, status = 'pending' against the partial
// invite indexes), which cost a seventh of a page view.
const (
	qAuthenticate = "authenticate"
	qWorkspaceFor = "workspace_for_member"
	qWorkspacesOf = "workspaces_of_user"
	qStats        = "workspace_stats"
	qScopedStats  = "workspace_stats_in_scope"
	qMemberPage   = "member_page"
	qMemberSearch = "member_search"
	qInvitePage   = "invite_page"
	qInvitesAfter = "invite_page_after"
	qSessionsOf   = "sessions_of_user"
	qLoginToken   = "login_token"
	qInviteToken  = "invite_by_token"
	qStripeEvent  = "stripe_event"
	qSoleOwner    = "sole_ownerships"
	qInvitesTo    = "invites_for_email"
	qAPIKeyByHash = "api_key_by_hash"
	qAPIKeysOf    = "api_keys_of_workspace"
	qKeysByUser   = "api_keys_by_creator"
	qKeysByUserIn = "api_keys_by_creator_in"
	qMemberCursor = "member_cursor"
	qAuditEntry   = "audit_entry"
	qAuditHead    = "audit_chain_head"
	qAuditPeople  = "audit_people"
	qAuditHeadID  = "audit_head_id"
	qAuditActor   = "audit_actor_by_email"
	qTwoFactorOf  = "two_factor_of_user"
	qWorkspaceID  = "workspace_by_id"
	qWorkspaceBy  = "workspace_by_slug"
	qMembership   = "membership"
	qTargetMember = "target_member"
	qOwnerCount   = "owner_count"
	qOwnedBy      = "workspaces_owned_by"
	qKeysNo2FA    = "api_keys_without_two_factor"
	qMembersNo2FA = "members_without_two_factor"
	qUserHas2FA   = "user_two_factor"
	qInviteOf     = "invite_of_workspace"
	qKeyActs      = "api_key_acts"
	qAPIKeyOf     = "api_key_of_workspace"
)

// workspaceColumns are the columns of every read that returns a workspace,
// in the order scanWorkspace reads them (the table is aliased w).
const workspaceColumns = `w.id, w.name, w.slug, w.plan, w.subscription_status, w.stripe_customer_id,
	w.stripe_subscription_id, w.current_period_end, w.cancel_at_period_end, w.require_two_factor,
	w.created_at, w.updated_at, w.price_id, w.seat_quantity, w.trial_end, w.payment_failed_at, w.payment_invoice_url,
	w.restricted_at, w.scheduled_price_id, w.scheduled_change_at`

// ownerRank is memberRank over the alias c, for counting a workspace's
// owners through the same index.
var ownerRank = strings.ReplaceAll(memberRank, "m.", "c.")

// scopeClause is the one condition every scoped read adds: the acting user
// is a member of the workspace, or the acting key is one of its unrevoked
// keys. Both are probes of a unique index (memberships' (workspace_id,
// user_id), api_keys' primary key). Its arguments are scopeArgs's, in
// order.
const scopeClause = `(EXISTS (SELECT 1 FROM memberships sm WHERE sm.workspace_id = ? AND sm.user_id = ?)
	OR EXISTS (SELECT 1 FROM api_keys sk WHERE sk.id = ? AND sk.workspace_id = ? AND sk.revoked_at IS NULL))`

// memberRank orders roles on the members page; the expression matches
// memberships_workspace_rank_idx (migration 00004) word for word.
// It is built from app.Roles, the one order of the roles.
var memberRank = func() string {
	var b strings.Builder
	b.WriteString("(CASE m.role")
	last := len(app.Roles) - 1
	for i, r := range app.Roles[:last] {
		fmt.Fprintf(&b, " WHEN '%s' THEN %d", r, i)
	}
	fmt.Fprintf(&b, " ELSE %d END)", last)
	return b.String()
}()

// hotQueries are the hot statements by name, built once; auditQueryName
// names the audit log's, one per filter combination.
var hotQueries = buildHotQueries()

// buildHotQueries returns the catalog.
func buildHotQueries() map[string]hotQuery {
	q := map[string]hotQuery{
		qAuthenticate: {SQL: `SELECT s.id, s.user_id, s.ip, s.user_agent, s.created_at, s.last_seen_at, s.expires_at,
			s.second_factor, s.verified_at, u.email, u.name, u.time_zone, u.language, u.two_factor, u.created_at, u.updated_at,
			u.auth_version, s.sso_workspace_id
			FROM sessions s JOIN users u ON u.id = s.user_id
			WHERE s.token_hash = ? AND s.expires_at > ?`},
		qAuthVersion: {SQL: `SELECT auth_version FROM users WHERE id = ?`},
		qWorkspaceFor: {SQL: `SELECT ` + workspaceColumns + `, m.role, m.created_at
			FROM workspaces w JOIN memberships m ON m.workspace_id = w.id AND m.user_id = ?
			WHERE w.slug = ?`},
		qWorkspacesOf: {SQL: `SELECT ` + workspaceColumns + `, m.role, m.created_at AS member_since, w.members_count
			FROM workspaces w JOIN memberships m ON m.workspace_id = w.id
			WHERE m.user_id = ? ORDER BY LOWER(w.name), w.id`, BoundedSort: "one user's workspaces"},
		qStats: {SQL: `SELECT
			(SELECT members_count FROM workspaces WHERE id = ?) AS members,
			(SELECT COUNT(*) FROM invites WHERE workspace_id = ? AND status = 'pending' AND expires_at > ?) AS pending_invites`},
		// The dashboard's counts, in scope.
		qScopedStats: {SQL: `SELECT
			(SELECT members_count FROM workspaces WHERE id = ?) AS members,
			(SELECT COUNT(*) FROM invites WHERE workspace_id = ? AND status = 'pending' AND expires_at > ?) AS pending_invites
			WHERE ` + scopeClause},
		// One page of members with the counts the role rules need, so the
		// page costs one statement however large the workspace.
		qMemberPage: {SQL: `SELECT m.user_id, m.role, m.created_at, u.email, u.name, u.two_factor,
			(SELECT members_count FROM workspaces WHERE id = ?) AS members,
			(SELECT COUNT(*) FROM memberships c WHERE c.workspace_id = ? AND ` + strings.ReplaceAll(memberRank, "m.", "c.") + ` = 0) AS owners,
			(SELECT COUNT(*) FROM invites WHERE workspace_id = ? AND status = 'pending' AND expires_at > ?) AS pending_invites
			FROM memberships m JOIN users u ON u.id = m.user_id
			WHERE m.workspace_id = ? AND ` + scopeClause + `
			ORDER BY ` + memberRank + `, m.id LIMIT ? OFFSET ?`},
		// The members whose email or name starts with a prefix, a page at a
		// time. Not a prefix index: it walks the workspace's members in
		// rank order through memberships_workspace_rank_idx, filters each
		// by the prefix, and stops once a page is full; the cost is bounded
		// by the workspace's size, never the tables'.
		qMemberSearch: {SQL: `SELECT m.user_id, m.role, m.created_at, u.email, u.name, u.two_factor,
			(SELECT members_count FROM workspaces WHERE id = ?) AS members,
			(SELECT COUNT(*) FROM memberships c WHERE c.workspace_id = ? AND ` + strings.ReplaceAll(memberRank, "m.", "c.") + ` = 0) AS owners,
			(SELECT COUNT(*) FROM invites WHERE workspace_id = ? AND status = 'pending' AND expires_at > ?) AS pending_invites
			FROM memberships m JOIN users u ON u.id = m.user_id
			WHERE m.workspace_id = ? AND ` + scopeClause + ` AND (LOWER(u.email) LIKE ? ESCAPE '!' OR LOWER(u.name) LIKE ? ESCAPE '!')
			ORDER BY ` + memberRank + `, m.id LIMIT ? OFFSET ?`},
		// One page of pending invites: the page's ids come first, from
		// invites_pending_created_idx read backwards, and only they are
		// joined. Written as one join, PostgreSQL's generic plan for the
		// prepared statement (used after five executions, and estimated for
		// the average workspace, which has one or two pending invites) could
		// read every pending invite of a large workspace, join each and sort
		// them; here the worst plan sorts the ids alone.
		qInvitePage: {SQL: strings.Replace(inviteSelect, "FROM invites i", `FROM (SELECT id, workspace_id, email, role, status,
			invited_by_user_id, invited_by_api_key_id, expires_at, created_at FROM invites
			WHERE workspace_id = ? AND `+scopeClause+` AND status = 'pending'
			ORDER BY created_at DESC, id DESC LIMIT ?) i`, 1) +
			` ORDER BY i.created_at DESC, i.id DESC`},
		// The pages after the first, from a cursor: the same shape.
		qInvitesAfter: {SQL: strings.Replace(inviteSelect, "FROM invites i", `FROM (SELECT id, workspace_id, email, role, status,
			invited_by_user_id, invited_by_api_key_id, expires_at, created_at FROM invites
			WHERE workspace_id = ? AND `+scopeClause+` AND status = 'pending' AND (created_at, id) < (?, ?)
			ORDER BY created_at DESC, id DESC LIMIT ?) i`, 1) +
			` ORDER BY i.created_at DESC, i.id DESC`},
		qInviteToken: {SQL: inviteSelect + ` WHERE i.token_hash = ?`},
		qInvitesTo: {SQL: inviteSelect + ` WHERE i.email = ? AND i.status = 'pending' AND i.expires_at > ?
			ORDER BY i.created_at DESC, i.id DESC`, BoundedSort: "the invites of one address"},
		qSessionsOf: {SQL: `SELECT ` + sessionColumns + `
			FROM sessions WHERE user_id = ? AND expires_at > ? ORDER BY last_seen_at DESC, id DESC`,
			BoundedSort: "one user's live sessions"},
		qLoginToken: {SQL: `SELECT ` + loginTokenColumns + ` FROM login_tokens WHERE token_hash = ?`},
		// The account page names the workspaces that block deleting the
		// account; owners are counted through the rank index.
		qSoleOwner: {SQL: `SELECT w.name, w.slug FROM memberships m JOIN workspaces w ON w.id = m.workspace_id
			WHERE m.user_id = ? AND m.role = 'owner'
			AND (SELECT COUNT(*) FROM memberships c WHERE c.workspace_id = m.workspace_id AND ` +
			strings.ReplaceAll(memberRank, "m.", "c.") + ` = 0) = 1
			ORDER BY w.name`, BoundedSort: "the workspaces one user owns"},
		// The API: a key by its hash on every call, members by cursor.
		qAPIKeyByHash: {SQL: `SELECT ` + workspaceColumns + `, k.id, k.workspace_id, k.name, k.prefix, k.token_hash,
			k.scopes, k.created_by_user_id, k.created_at, k.last_used_at, k.expires_at, k.revoked_at,
			COALESCE(m.role, '')
			FROM api_keys k JOIN workspaces w ON w.id = k.workspace_id
			LEFT JOIN memberships m ON m.workspace_id = k.workspace_id AND m.user_id = k.created_by_user_id
			WHERE k.token_hash = ?`},
		qAPIKeysOf: {SQL: `SELECT k.id, k.workspace_id, k.name, k.prefix, k.scopes, k.created_by_user_id,
			k.created_at, k.last_used_at, k.expires_at, k.revoked_at,
			COALESCE(u.name, '') AS creator_name, COALESCE(u.email, '') AS creator_email
			FROM api_keys k LEFT JOIN users u ON u.id = k.created_by_user_id
			WHERE k.workspace_id = ? AND ` + scopeClause + ` ORDER BY k.created_at DESC, k.id DESC`, BoundedSort: "one workspace's API keys"},
		// The account page and the member confirmations: how many live
		// keys a person's removal, demotion or deletion would revoke.
		qKeysByUser: {SQL: `SELECT COUNT(*) FROM api_keys WHERE created_by_user_id = ?
			AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)`},
		qKeysByUserIn: {SQL: `SELECT COUNT(*) FROM api_keys WHERE created_by_user_id = ? AND workspace_id = ?
			AND ` + scopeClause + ` AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)`},
		qMemberCursor: {SQL: `SELECT m.user_id, m.role, m.created_at, u.email, u.name, u.two_factor, m.id
			FROM memberships m JOIN users u ON u.id = m.user_id
			WHERE m.workspace_id = ? AND ` + scopeClause + ` AND m.id > ? ORDER BY m.id LIMIT ?`},
		qStripeEvent: {SQL: `SELECT ` + stripeEventColumns + ` FROM stripe_events WHERE id = ?`},
		// The account page's two-factor card: what the user has enrolled
		// and their passkeys, in one statement.
		qTwoFactorOf: {SQL: `SELECT
			(SELECT COUNT(*) FROM user_totp WHERE user_id = u.id AND confirmed_at IS NOT NULL),
			(SELECT COUNT(*) FROM recovery_codes WHERE user_id = u.id AND used_at IS NULL),
			(SELECT locked_until FROM two_factor_locks WHERE user_id = u.id AND locked_until > ?),
			p.id, p.name, p.created_at, p.last_used_at
			FROM users u LEFT JOIN passkeys p ON p.user_id = u.id
			WHERE u.id = ? ORDER BY p.created_at, p.id`, BoundedSort: "one user's passkeys"},
		// One workspace, for the writes that read it first and the
		// operator's commands.
		qWorkspaceID: {SQL: `SELECT ` + workspaceColumns + ` FROM workspaces w WHERE w.id = ?`},
		qWorkspaceBy: {SQL: `SELECT ` + workspaceColumns + ` FROM workspaces w WHERE w.slug = ?`},
		// The principal's membership, read by the writes that check it.
		qMembership: {SQL: `SELECT id, workspace_id, user_id, role, created_at, updated_at
			FROM memberships WHERE workspace_id = ? AND user_id = ?`},
		// Another member's membership and email, for the audit entry that
		// names them.
		qTargetMember: {SQL: `SELECT m.id, m.workspace_id, m.user_id, m.role, m.created_at, m.updated_at, u.email
			FROM memberships m JOIN users u ON u.id = m.user_id
			WHERE m.workspace_id = ? AND m.user_id = ?`},
		qOwnerCount: {SQL: `SELECT COUNT(*) FROM memberships c WHERE c.workspace_id = ? AND ` + ownerRank + ` = 0`},
		qOwnedBy:    {SQL: `SELECT COUNT(*) FROM memberships WHERE user_id = ? AND role = 'owner'`},
		// A workspace's live API keys whose creator has no second factor,
		// or no longer has an account: requiring two-factor sign-in does
		// not reach them, as nobody signs in with a key.
		qKeysNo2FA: {SQL: `SELECT k.id, k.name, k.prefix, COALESCE(u.name, ''), COALESCE(u.email, '')
			FROM api_keys k LEFT JOIN users u ON u.id = k.created_by_user_id
			WHERE k.workspace_id = ? AND ` + scopeClause + ` AND k.revoked_at IS NULL
			AND (k.expires_at IS NULL OR k.expires_at > ?)
			AND (u.id IS NULL OR u.two_factor = ?) ORDER BY k.created_at, k.id`, BoundedSort: "one workspace's API keys"},
		qMembersNo2FA: {SQL: `SELECT COUNT(*) FROM memberships m JOIN users u ON u.id = m.user_id
			WHERE m.workspace_id = ? AND ` + scopeClause + ` AND u.two_factor = ?`},
		qUserHas2FA: {SQL: `SELECT two_factor FROM users WHERE id = ?`},
		// An acting key's workspace and its creator's role there, read
		// by the writes a key makes, under the workspace's lock.
		qKeyActs: {SQL: `SELECT k.workspace_id, COALESCE(m.role, '') FROM api_keys k
			LEFT JOIN memberships m ON m.workspace_id = k.workspace_id AND m.user_id = k.created_by_user_id
			WHERE k.id = ? AND k.revoked_at IS NULL`},
		// One of a workspace's invites, in any state.
		qInviteOf: {SQL: inviteSelect + ` WHERE i.id = ? AND i.workspace_id = ? AND ` + scopeClause},
		// One of a workspace's API keys.
		qAPIKeyOf: {SQL: `SELECT k.id, k.workspace_id, k.name, k.prefix, k.scopes, k.created_by_user_id,
			k.created_at, k.last_used_at, k.expires_at, k.revoked_at,
			COALESCE(u.name, '') AS creator_name, COALESCE(u.email, '') AS creator_email
			FROM api_keys k LEFT JOIN users u ON u.id = k.created_by_user_id
			WHERE k.id = ? AND k.workspace_id = ? AND ` + scopeClause},
		// scaffold:hot-queries (make scaffold adds its list queries above this line)
	}
	// One entry of a workspace, for its detail view.
	q[qAuditEntry] = hotQuery{SQL: `SELECT ` + auditColumns + ` FROM audit_logs a WHERE a.id = ? AND a.workspace_id = ? AND ` + scopeClause}
	// Each audit append locks and reads its chain's head (creating it the
	// first time) in the writing transaction: one read by primary key.
	q[qAuditHead] = hotQuery{SQL: `INSERT INTO audit_chains (workspace_id) VALUES (?)
		ON CONFLICT (workspace_id) DO UPDATE SET head_id = audit_chains.head_id RETURNING head_hash`}
	// The audit page's person filter: everyone who acted in the workspace.
	// With the head of the workspace's chain, read in the same statement:
	// every append moves the head and keeps audit_actors, so an unmoved
	// head means an unchanged list (FindAuditPeople keeps it in memory).
	q[qAuditPeople] = hotQuery{SQL: `SELECT user_id, email, name,
		COALESCE((SELECT head_id FROM audit_chains WHERE workspace_id = ?), 0)
		FROM audit_actors WHERE workspace_id = ? AND ` + scopeClause + `
		ORDER BY LOWER(CASE WHEN name = '' THEN email ELSE name END), user_id`, BoundedSort: "the people who acted in one workspace"}
	// The audit filter's actor by email, among the workspace's own actors
	// only: users is not read, so whether an address has an account
	// elsewhere cannot be timed.
	q[qAuditActor] = hotQuery{SQL: `SELECT user_id FROM audit_actors WHERE workspace_id = ? AND ` + scopeClause + ` AND email = ?
		ORDER BY user_id LIMIT 1`}
	// The newest entry of a workspace's chain and the last one pruned:
	// while both stay, every page of entries read stays the same.
	q[qAuditHeadID] = hotQuery{SQL: `SELECT c.head_id, c.pruned_id FROM audit_chains c
		WHERE c.workspace_id = ? AND ` + scopeClause}
	// The statements each noun's file catalogues next to its record type
	// and scan function.
	for _, more := range []map[string]hotQuery{
		userQueries, authQueries, twoFactorQueries, totpQueries, recoveryCodeQueries, passkeyQueries, challengeQueries, codeLockQueries,
		billingQueries, jobQueries, outboxStatsQueries, secretQueries, stripeEventQueries, migrateQueries,
		auditChainQueries, inviteQueries, apiKeyQueries, seedQueries, workspaceQueries, outboxQueries, inviteMailQueries,
		identityQueries,
		adminQueries, impersonationQueries,
		webhookQueries, ssoQueries,
		seatQueries, dunningQueries, scheduledChangeQueries,
	} {
		addQueries(q, more)
	}
	for mask := range auditFilterCombinations {
		q[auditQueryName(mask)] = hotQuery{SQL: auditQueries[mask<<1|auditByWorkspace]}
		// The operator's commands: a workspace's log without the scope
		// clause, and the log of every workspace.
		q[auditOperatorQueryName(mask)] = hotQuery{SQL: auditSQL(mask<<1 | auditByWorkspace | auditOperator)}
		q[auditAllQueryName(mask)] = hotQuery{SQL: auditQueries[mask<<1],
			WholeTable: "the operator's read of every workspace's log"}
	}
	return q
}

// The parts of an audit query's WHERE clause, as bits of a mask.
const (
	auditByWorkspace = 1 << iota
	auditByActor
	auditByAction
	auditByFamily
	auditFrom
	auditTo
	auditBefore
	auditAfter
	// auditFilterCombinations counts the masks of the filters the audit
	// page combines (every bit above auditByWorkspace).
	auditFilterCombinations = 1 << (iota - 1)
	// auditOperator drops the scope clause from the workspace condition:
	// the operator's commands read a workspace's log as its owner would.
	auditOperator = auditFilterCombinations << 1
)

// auditQueryName names the workspace audit query of a filter mask (bits
// above auditByWorkspace, shifted down).
func auditQueryName(mask int) string { return auditNameOf("audit", mask) }

// auditOperatorQueryName names the operator's query of a workspace's log
// of a filter mask (as auditQueryName's).
func auditOperatorQueryName(mask int) string { return auditNameOf("audit_operator", mask) }

// auditAllQueryName names the query of every workspace's log of a filter
// mask (as auditQueryName's).
func auditAllQueryName(mask int) string { return auditNameOf("audit_all", mask) }

// auditNameOf names an audit query: prefix, then the filters of mask.
func auditNameOf(prefix string, mask int) string {
	parts := []string{prefix}
	for i, name := range []string{"actor", "action", "family", "from", "to", "before", "after"} {
		if mask&(1<<i) != 0 {
			parts = append(parts, name)
		}
	}
	return strings.Join(parts, "_")
}

// auditColumns are the columns every audit read returns, in the order
// scanAudit reads them.
const auditColumns = `a.id, a.workspace_id, a.actor_user_id, a.actor_email, a.actor_name, a.action, a.target_type,
		a.target_id, a.metadata, a.ip, a.user_agent, a.request_id, a.created_at, a.prev_hash, a.hash`

// auditSQL builds the audit query for a mask. Arguments go in the order of
// the bits: workspace (then scopeArgs), actor, action, family, from, to, before (created_at,
// then id), after (the same), and last the limit. With auditAfter the rows
// come oldest first (the index read upwards from the cursor); the caller
// reverses them.
func auditSQL(mask int) string {
	where := []string{"1 = 1"}
	add := func(bit int, cond string) {
		if mask&bit != 0 {
			where = append(where, cond)
		}
	}
	switch {
	case mask&auditOperator != 0:
		add(auditByWorkspace, "a.workspace_id = ?")
	default:
		add(auditByWorkspace, "a.workspace_id = ? AND "+scopeClause)
	}
	add(auditByActor, "a.actor_user_id = ?")
	add(auditByAction, "a.action = ?")
	add(auditByFamily, "a.family = ?")
	add(auditFrom, "a.created_at >= ?")
	add(auditTo, "a.created_at < ?")
	add(auditBefore, "(a.created_at, a.id) < (?, ?)")
	add(auditAfter, "(a.created_at, a.id) > (?, ?)")
	order := "a.created_at DESC, a.id DESC"
	if mask&auditAfter != 0 {
		order = "a.created_at, a.id"
	}
	return fmt.Sprintf(`SELECT %s
		FROM audit_logs a
		WHERE %s ORDER BY %s LIMIT ?`, auditColumns, strings.Join(where, " AND "), order)
}

// auditQueries are the SQL of every mask, built once.
var auditQueries = func() []string {
	out := make([]string, auditFilterCombinations<<1)
	for mask := range out {
		out[mask] = auditSQL(mask)
	}
	return out
}()

// catalogSQL holds the text of every catalogued statement.
var catalogSQL = func() map[string]bool {
	set := make(map[string]bool, len(hotQueries)+len(auditQueries))
	for _, q := range hotQueries {
		set[q.SQL] = true
		if q.PostgresSQL != "" {
			set[q.PostgresSQL] = true
		}
	}
	for _, q := range auditQueries {
		set[q] = true
	}
	return set
}()

// catalogLog notes the reads that are not catalogued, once tracking is on.
type catalogLog struct {
	on  atomic.Bool
	mu  sync.Mutex
	off []string
}

func (l *catalogLog) note(sql string) {
	if !strings.HasPrefix(strings.TrimSpace(sql), "SELECT") || catalogSQL[sql] {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.off = append(l.off, sql)
}

// TrackCatalog makes the store note every SELECT it runs that is not one of
// the catalogued hot queries; StatementsOffCatalog returns them. Tests use
// it to hold page views to statements whose plans TestHotQueryPlans checks.
// It works on SQLite (Postgres statements carry rewritten placeholders).
func (db *DB) TrackCatalog() { db.catalog.on.Store(true) }

// StatementsOffCatalog returns the SELECTs run outside the catalog since
// TrackCatalog, and forgets them.
func (db *DB) StatementsOffCatalog() []string {
	db.catalog.mu.Lock()
	defer db.catalog.mu.Unlock()
	off := db.catalog.off
	db.catalog.off = nil
	return off
}
