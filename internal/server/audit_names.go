package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"atrium/internal/app"
	"atrium/internal/i18n"
)

// auditNames resolves the ids an audit entry records to names its reader,
// an owner or admin of ws, may see: the people who acted in ws (members
// and former members, as last recorded), ws itself, and ws's invites and
// API keys. Anyone else is named without their address.
type auditNames struct {
	s      *Server
	ws     *app.Workspace
	scope  app.Scope
	people map[int64]app.AuditPerson
}

// auditNames reads the people of the request's workspace once for one
// entry's page.
func (s *Server) auditNames(r *http.Request, sc *workspaceScope) (*auditNames, error) {
	list, err := s.Audit.FindAuditPeople(r.Context(), sc.scope())
	if err != nil {
		return nil, err
	}
	n := &auditNames{s: s, ws: sc.ws, scope: sc.scope(), people: make(map[int64]app.AuditPerson, len(list))}
	for _, p := range list {
		n.people[p.UserID] = p
	}
	return n, nil
}

// person names user id in the request's language: "Name <email>" (or the
// email alone) when they acted in the workspace, with "(account deleted)"
// once their account is gone; fallback (an address the entry itself
// records) otherwise; "a deleted account" for a user whose account no
// longer exists and whom the workspace has no record of.
func (n *auditNames) person(r *http.Request, id int64, fallback string) string {
	u, err := n.s.Users.FindUserByID(r.Context(), id)
	gone := app.ErrorCode(err) == app.ENOTFOUND
	var who string
	if p, ok := n.people[id]; ok {
		who = nameAndEmail(p.Name, p.Email)
	} else if err == nil && (u.Email == fallback || n.isMember(r, id)) {
		who = nameAndEmail(u.Name, u.Email)
	} else if fallback != "" {
		who = fallback
	}
	ctx := r.Context()
	switch {
	case who == "" && gone:
		return i18n.T(ctx, "audit.names.deleted_account")
	case who == "":
		return i18n.T(ctx, "audit.names.outside")
	case gone:
		return i18n.T(ctx, "audit.names.account_deleted", "Who", who)
	}
	return who
}

// isMember reports whether user id belongs to the workspace now.
func (n *auditNames) isMember(r *http.Request, id int64) bool {
	_, _, err := n.s.Workspaces.FindWorkspaceForMember(r.Context(), n.ws.Slug, id)
	return err == nil
}

// nameAndEmail joins a name and an email as "Name <email>".
func nameAndEmail(name, email string) string {
	switch {
	case name == "":
		return email
	case email == "":
		return name
	}
	return name + " <" + email + ">"
}

// actor names who did e; entries without an actor come from the system or
// Stripe.
func (n *auditNames) actor(r *http.Request, e *app.AuditEntry) string {
	if e.ActorID == 0 {
		return auditWho(r.Context(), e)
	}
	if _, ok := n.people[e.ActorID]; !ok && e.ActorEmail != "" {
		n.people[e.ActorID] = app.AuditPerson{UserID: e.ActorID, Email: e.ActorEmail, Name: e.ActorName}
	}
	return n.person(r, e.ActorID, e.ActorEmail)
}

// target names what e changed, in the request's language.
func (n *auditNames) target(r *http.Request, e *app.AuditEntry) string {
	ctx := r.Context()
	id, _ := strconv.ParseInt(e.TargetID, 10, 64)
	email, _ := e.Metadata["email"].(string)
	switch e.TargetType {
	case "":
		return ""
	case "workspace":
		if id == n.ws.ID {
			return i18n.T(ctx, "audit.names.this_workspace", "Name", n.ws.Name)
		}
		return i18n.T(ctx, "audit.names.another_workspace")
	case "user":
		return n.person(r, id, email)
	case "invite":
		if inv, err := n.s.Invites.FindInvite(r.Context(), n.scope, id); err == nil {
			email = inv.Email
		}
		if email == "" {
			return i18n.T(ctx, "audit.names.invite_gone")
		}
		return i18n.T(ctx, "audit.names.invite", "Email", email)
	case "api_key":
		if k, err := n.s.APIKeys.FindAPIKey(r.Context(), n.scope, id); err == nil {
			return i18n.T(ctx, "audit.names.api_key", "Name", k.Name)
		}
		if name, _ := e.Metadata["name"].(string); name != "" {
			return i18n.T(ctx, "audit.names.api_key", "Name", name)
		}
		return i18n.T(ctx, "audit.names.api_key_gone")
	case "session":
		return i18n.T(ctx, "audit.names.session")
	}
	if key := "audit.target." + e.TargetType; i18n.T(ctx, key) != key {
		return i18n.T(ctx, key)
	}
	return strings.ReplaceAll(e.TargetType, "_", " ")
}

// metadataValue formats one metadata value for people in the request's
// language: roles by their label, user ids by name, yes/no, lists and
// objects as compact JSON. recorded reports a value shown as the entry
// recorded it (a name, an address, a code), which is not translated.
func (n *auditNames) metadataValue(r *http.Request, key string, val any) (text string, recorded bool) {
	switch v := val.(type) {
	case string:
		if key == "role" || key == "from" || key == "to" || strings.HasSuffix(key, "_role") {
			if _, err := app.ParseRole(v); err == nil {
				return roleName(r.Context(), app.Role(v)), false
			}
		}
		return v, true
	case bool:
		if v {
			return i18n.T(r.Context(), "audit.value.yes"), false
		}
		return i18n.T(r.Context(), "audit.value.no"), false
	case float64:
		if strings.HasSuffix(key, "user_id") {
			return n.person(r, int64(v), ""), false
		}
		return strconv.FormatFloat(v, 'f', -1, 64), true
	case nil:
		return "—", false
	}
	if b, err := json.Marshal(val); err == nil {
		return string(b), true
	}
	return fmt.Sprint(val), true
}
