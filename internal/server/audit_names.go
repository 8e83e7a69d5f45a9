package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"atrium/internal/app"
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

// deletedAccount names a user whose account no longer exists and whom the
// workspace has no record of.
const deletedAccount = "a deleted account"

// person names user id: "Name <email>" (or the email alone) when they
// acted in the workspace, with "(account deleted)" once their account is
// gone; fallback (an address the entry itself records) otherwise.
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
	switch {
	case who == "" && gone:
		return deletedAccount
	case who == "":
		return "someone outside this workspace"
	case gone:
		return who + " (account deleted)"
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
		return e.Who()
	}
	if _, ok := n.people[e.ActorID]; !ok && e.ActorEmail != "" {
		n.people[e.ActorID] = app.AuditPerson{UserID: e.ActorID, Email: e.ActorEmail, Name: e.ActorName}
	}
	return n.person(r, e.ActorID, e.ActorEmail)
}

// target names what e changed.
func (n *auditNames) target(r *http.Request, e *app.AuditEntry) string {
	id, _ := strconv.ParseInt(e.TargetID, 10, 64)
	email, _ := e.Metadata["email"].(string)
	switch e.TargetType {
	case "":
		return ""
	case "workspace":
		if id == n.ws.ID {
			return "“" + n.ws.Name + "” (this workspace)"
		}
		return "another workspace"
	case "user":
		return n.person(r, id, email)
	case "invite":
		if inv, err := n.s.Invites.FindInvite(r.Context(), n.scope, id); err == nil {
			email = inv.Email
		}
		if email == "" {
			return "an invite that no longer exists"
		}
		return "the invite for " + email
	case "api_key":
		if k, err := n.s.APIKeys.FindAPIKey(r.Context(), n.scope, id); err == nil {
			return "API key “" + k.Name + "”"
		}
		if name, _ := e.Metadata["name"].(string); name != "" {
			return "API key “" + name + "”"
		}
		return "an API key"
	case "session":
		return "a signed-in session"
	}
	return strings.ReplaceAll(e.TargetType, "_", " ")
}

// metadataValue formats one metadata value for people: roles by their
// label, user ids by name, yes/no, lists and objects as compact JSON.
func (n *auditNames) metadataValue(r *http.Request, key string, val any) string {
	switch v := val.(type) {
	case string:
		if key == "role" || key == "from" || key == "to" || strings.HasSuffix(key, "_role") {
			if role, err := app.ParseRole(v); err == nil {
				return role.Label()
			}
		}
		return v
	case bool:
		if v {
			return "Yes"
		}
		return "No"
	case float64:
		if strings.HasSuffix(key, "user_id") {
			return n.person(r, int64(v), "")
		}
		return strconv.FormatFloat(v, 'f', -1, 64)
	case nil:
		return "—"
	}
	if b, err := json.Marshal(val); err == nil {
		return string(b)
	}
	return fmt.Sprint(val)
}
