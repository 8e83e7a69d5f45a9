package demo

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"atrium/internal/app"
)

// volumeHistory is how far back the generated audit log and Stripe events
// reach from volumeEpoch.
const volumeHistory = 730 * day

// volumeStripeAPIVersion is the api_version the generated Stripe events
// carry (stripe-go v76's).
const volumeStripeAPIVersion = "2023-10-16"

// audit writes the audit log oldest first, evenly spaced over two years so
// that ids follow time: AcmeAudit entries in acme by its members, one in
// twenty without a workspace (sign-ins), the rest in volume workspaces by
// their members.
func (s *volumeSeeder) audit(ctx context.Context) error {
	b := s.bulk("audit_logs", "id", "workspace_id", "actor_user_id", "actor_email", "actor_name", "action", "family",
		"target_type", "target_id", "metadata", "ip", "user_agent", "request_id", "created_at", "prev_hash", "hash")
	existing := make(map[int64]bool, len(s.heads))
	for ws := range s.heads {
		existing[ws] = true
	}
	lastID := map[int64]int64{}
	actors := map[[2]int64]bool{}
	acmeActors := append([]int64{s.founder, s.teammate}, s.acmeMembers...)
	n, acme := s.v.Audit, s.v.AcmeAudit
	step := volumeHistory / time.Duration(max(n, 1))
	start := volumeEpoch().Add(-volumeHistory)
	for k := range n {
		at := start.Add(time.Duration(k) * step).Truncate(time.Second)
		var ws *int64
		var actor int64
		switch {
		case (k+1)*acme/n != k*acme/n:
			ws, actor = &s.acme, acmeActors[s.rng.IntN(len(acmeActors))]
		case s.rng.IntN(20) == 0:
			actor = s.userID(s.rng.IntN(s.v.Users))
		default:
			j := s.rng.IntN(s.v.Workspaces)
			id := s.wsID(j)
			ws, actor = &id, s.members[j][s.rng.IntN(len(s.members[j]))]
		}
		action, ttype, target, md := s.auditAction(ws, actor)
		// The entry is chained as appendAudit would: its hash covers the
		// fields as they are read back.
		e := &app.AuditEntry{ID: s.auditBase + 1 + int64(k), ActorID: actor, Action: action, TargetType: ttype,
			TargetID: target, IP: fmt.Sprintf("198.51.100.%d", 1+k%254), CreatedAt: at.UTC()}
		if ws != nil {
			e.WorkspaceID = *ws
		}
		if md != "" && md != "{}" {
			_ = json.Unmarshal([]byte(md), &e.Metadata)
		}
		e.ActorEmail, e.ActorName = s.actor(actor)
		a, _ := app.LookupAuditAction(action)
		chain := int64(0)
		if ws != nil {
			chain = *ws
		}
		e.PrevHash = s.heads[chain]
		e.Hash = app.AuditHash(e.PrevHash, e)
		s.heads[chain], lastID[chain] = e.Hash, e.ID
		if ws != nil {
			actors[[2]int64{*ws, actor}] = true
		}
		if err := b.add(ctx, e.ID, ws, actor, e.ActorEmail, e.ActorName, action, string(a.Family), ttype, target, md,
			e.IP, "", "", at, e.PrevHash, e.Hash); err != nil {
			return err
		}
	}
	if err := b.close(ctx); err != nil {
		return err
	}
	if err := s.auditActors(ctx, actors); err != nil {
		return err
	}
	return s.auditHeads(ctx, existing, lastID)
}

// auditActors records who acted in each workspace, as appendAudit does
// one entry at a time (those already recorded, the demo's, are kept).
func (s *volumeSeeder) auditActors(ctx context.Context, actors map[[2]int64]bool) error {
	keys := make([][2]int64, 0, len(actors))
	for k := range actors {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b [2]int64) int {
		if a[0] != b[0] {
			return cmp.Compare(a[0], b[0])
		}
		return cmp.Compare(a[1], b[1])
	})
	b := s.bulk("audit_actors", "workspace_id", "user_id", "email", "name")
	b.uncounted, b.suffix = true, "ON CONFLICT (workspace_id, user_id) DO NOTHING"
	for _, k := range keys {
		email, name := s.actor(k[1])
		if err := b.add(ctx, k[0], k[1], email, name); err != nil {
			return err
		}
	}
	return b.close(ctx)
}

// actor returns the email and name of an entry's actor.
func (s *volumeSeeder) actor(id int64) (email, name string) {
	if d, ok := s.demo[id]; ok {
		return d[0], d[1]
	}
	i := int(id - s.userBase - 1)
	return volumeUserEmail(i), s.names[i]
}

// auditHeads records the new head of every chain the generator extended:
// the chains that existed are updated, the others inserted.
func (s *volumeSeeder) auditHeads(ctx context.Context, existing map[int64]bool, lastID map[int64]int64) error {
	chains := make([]int64, 0, len(lastID))
	for ws := range lastID {
		chains = append(chains, ws)
	}
	slices.Sort(chains)
	b := s.bulk("audit_chains", "workspace_id", "head_id", "head_hash")
	b.uncounted = true
	for _, ws := range chains {
		if existing[ws] {
			q := fmt.Sprintf("UPDATE audit_chains SET head_id = %s, head_hash = %s WHERE workspace_id = %s",
				placeholder(s.db, 1), placeholder(s.db, 2), placeholder(s.db, 3))
			if _, err := s.db.SQL().ExecContext(ctx, q, lastID[ws], s.heads[ws], ws); err != nil {
				return fmt.Errorf("move the head of audit chain %d: %w", ws, err)
			}
			continue
		}
		if err := b.add(ctx, ws, lastID[ws], s.heads[ws]); err != nil {
			return err
		}
	}
	return b.close(ctx)
}

// auditAction draws an entry's action, target and metadata (the keys the
// audit page reads for that action).
func (s *volumeSeeder) auditAction(ws *int64, actor int64) (action, targetType, targetID, metadata string) {
	if ws == nil {
		return app.ActionSignedIn, "user", fmt.Sprint(actor), "{}"
	}
	n := 1 + s.rng.IntN(s.v.Invites)
	email := fmt.Sprintf("invitee%06d@volume.example.com", n)
	invite := fmt.Sprint(s.inviteBase + int64(n))
	switch r := s.rng.IntN(16); {
	case r < 5:
		return app.ActionInviteSent, "invite", invite, `{"email":"` + email + `","role":"member"}`
	case r < 8:
		return app.ActionInviteAccepted, "invite", invite, `{"email":"` + email + `","role":"member"}`
	case r < 9:
		return app.ActionInviteRevoked, "invite", invite, `{"email":"` + email + `"}`
	case r < 11:
		return app.ActionMemberRoleChanged, "user", fmt.Sprint(actor),
			`{"email":"` + email + `","from":"member","to":"admin"}`
	case r < 12:
		return app.ActionMemberRemoved, "user", fmt.Sprint(actor), `{"email":"` + email + `"}`
	case r < 13:
		return app.ActionWorkspaceRenamed, "workspace", fmt.Sprint(*ws),
			fmt.Sprintf(`{"from":"%s","to":"%s"}`, volumeWords[s.rng.IntN(len(volumeWords))], volumeWords[s.rng.IntN(len(volumeWords))])
	case r < 15:
		return app.ActionInvoicePaid, "workspace", fmt.Sprint(*ws), "{}"
	default:
		return app.ActionSubscriptionUpdated, "workspace", fmt.Sprint(*ws), `{"plan":"pro","status":"active"}`
	}
}

// events writes the stored Stripe events oldest first: events of paying
// volume workspaces are applied, those of unknown customers unmatched, and
// one type in ten is ignored.
func (s *volumeSeeder) events(ctx context.Context) error {
	b := s.bulk("stripe_events", "id", "type", "api_version", "created_at", "received_at", "processed_at",
		"status", "workspace_id", "error", "payload")
	types := []string{"invoice.paid", "invoice.paid", "invoice.paid", "invoice.paid", "invoice.paid",
		"customer.subscription.updated", "customer.subscription.updated", "invoice.payment_failed",
		"checkout.session.completed", "customer.created"}
	n := s.v.StripeEvents
	step := volumeHistory / time.Duration(max(n, 1))
	start := volumeEpoch().Add(-volumeHistory)
	for k := range n {
		id := fmt.Sprintf("evt_volume_%07d", k+1)
		typ := types[s.rng.IntN(len(types))]
		created := start.Add(time.Duration(k) * step).Truncate(time.Second)
		received := created.Add(2 * time.Second)
		j := s.rng.IntN(s.v.Workspaces)
		status, customer := app.EventApplied, fmt.Sprintf("cus_volume_%05d", j)
		var ws *int64
		switch {
		case typ == "customer.created":
			status = app.EventIgnored
		case s.pro[j]:
			id := s.wsID(j)
			ws = &id
		default:
			status, customer = app.EventUnmatched, fmt.Sprintf("cus_volume_gone_%07d", k+1)
		}
		payload := fmt.Sprintf(`{"id":"%s","object":"event","type":"%s","api_version":"%s","created":%d,"livemode":false,`+
			`"data":{"object":{"object":"%s","customer":"%s"}}}`, id, typ, volumeStripeAPIVersion, created.Unix(),
			objectOf(typ), customer)
		if err := b.add(ctx, id, typ, volumeStripeAPIVersion, created, received, received, status, ws, "", payload); err != nil {
			return err
		}
	}
	return b.close(ctx)
}

// objectOf names the kind of data.object an event type carries.
func objectOf(eventType string) string {
	switch eventType {
	case "customer.subscription.updated":
		return "subscription"
	case "checkout.session.completed":
		return "checkout.session"
	case "customer.created":
		return "customer"
	}
	return "invoice"
}
