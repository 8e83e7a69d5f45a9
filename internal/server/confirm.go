package server

import (
	"net/http"

	"atrium/internal/app"
	"atrium/web/layout"
	"atrium/web/page"
)

// confirmed reports whether a destructive POST carries the explicit
// confirmation (confirm=yes). When it does not, it answers with the
// confirmation page for c, which posts the same form again confirmed, and
// the caller changes nothing. frame builds the page's frame, only when
// it is shown.
func (s *Server) confirmed(w http.ResponseWriter, r *http.Request, frame func() layout.Page, c page.Confirm) bool {
	if r.PostFormValue("confirm") == "yes" {
		return true
	}
	s.render(w, r, http.StatusOK, page.ConfirmPage(frame(), c))
	return false
}

// inWorkspace returns a builder of the members section's frame, for
// confirmations inside a workspace.
func (s *Server) inWorkspace(w http.ResponseWriter, r *http.Request) func() layout.Page {
	return func() layout.Page { return s.workspacePage(w, r, "", "members") }
}

// inAccount returns a builder of the account section's frame.
func (s *Server) inAccount(w http.ResponseWriter, r *http.Request) func() layout.Page {
	return func() layout.Page {
		pg := s.page(w, r, "")
		pg.Section = "account"
		return pg
	}
}

// confirmMember checks, before asking to confirm an action on a member,
// that the member exists and that allowed lets the viewer act on their
// role (the store checks again, whole, when the action runs). It returns
// how the member is named: their name or email.
func (s *Server) confirmMember(r *http.Request, userID int64, allowed func(target app.Role, self bool) error) (string, error) {
	sc := scopeFrom(r.Context())
	_, m, err := s.Workspaces.FindWorkspaceForMember(r.Context(), sc.ws.Slug, userID)
	if err != nil {
		return "", err
	}
	if err := allowed(m.Role, userID == app.PrincipalFromContext(r.Context()).User.ID); err != nil {
		return "", err
	}
	u, err := s.Users.FindUserByID(r.Context(), userID)
	if err != nil {
		return "", err
	}
	if u.Name != "" {
		return u.Name, nil
	}
	return u.Email, nil
}
