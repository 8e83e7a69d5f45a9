package server

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"atrium/internal/app"
	"atrium/internal/i18n"
	"atrium/web/page"
)

// nameStepPath is the optional step that asks a new user for a display name.
const nameStepPath = "/welcome"

// nameStepTTL is how long an invited newcomer's browser remembers to ask
// for a name once they accept the invite.
const nameStepTTL = time.Hour

// afterFirstSignIn returns where a sign-in goes on to: the name step, on
// the way to dest, for a user the sign-in just created without a name. A
// newcomer on their way to an invite goes there first; the cookie set here
// lets accepting it ask for the name instead (handleInviteAccept).
func (s *Server) afterFirstSignIn(w http.ResponseWriter, u *app.User, lt *app.LoginToken, dest string) string {
	if u == nil || lt == nil || !lt.NewUser || u.Name != "" {
		return dest
	}
	if strings.HasPrefix(dest, "/invites/") || strings.HasPrefix(dest, "/invitations/") {
		setCookie(w, &http.Cookie{Name: s.nameStepCookieName(), Value: "1", Path: "/",
			MaxAge: int(nameStepTTL / time.Second), HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
		return dest
	}
	return nameStepURL(dest)
}

// nameStepAfterInvite returns the name step on the way to dest when this
// browser's first sign-in was on its way to an invite and the user still
// has no name, else dest. It forgets the cookie either way.
func (s *Server) nameStepAfterInvite(w http.ResponseWriter, r *http.Request, u *app.User, dest string) string {
	if _, err := r.Cookie(s.nameStepCookieName()); err != nil {
		return dest
	}
	setCookie(w, &http.Cookie{Name: s.nameStepCookieName(), Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: s.secure, SameSite: http.SameSiteLaxMode})
	if u.Name != "" {
		return dest
	}
	return nameStepURL(dest)
}

// nameStepCookieName names the cookie that carries "ask for a name" from
// an invitee's first sign-in to the invite's acceptance.
func (s *Server) nameStepCookieName() string { return s.hostCookie("atrium_name_step") }

// nameStepURL returns the name step's address on the way to dest.
func nameStepURL(dest string) string {
	if dest == appHome {
		return nameStepPath
	}
	return nameStepPath + "?next=" + url.QueryEscape(dest)
}

// handleNameStepShow handles "GET /welcome".
func (s *Server) handleNameStepShow(w http.ResponseWriter, r *http.Request) {
	p := app.PrincipalFromContext(r.Context())
	v := page.NameStepView{Name: p.User.Name, Next: app.SafeNext(r.URL.Query().Get("next"), appHome)}
	s.render(w, r, http.StatusOK, page.NameStep(s.page(w, r, i18n.T(r.Context(), "welcome.title")), v))
}

// handleNameStepSave handles "POST /welcome": it saves the display name,
// or with skip goes on without one, to the step's safe next page.
func (s *Server) handleNameStepSave(w http.ResponseWriter, r *http.Request) {
	next := app.SafeNext(r.PostFormValue("next"), appHome)
	if r.PostFormValue("skip") != "" {
		redirect(w, r, next)
		return
	}
	v := page.NameStepView{Name: r.PostFormValue("name"), Next: next}
	name, err := app.ValidateUserName(v.Name)
	switch {
	case err != nil:
		v.NameError = i18n.ErrorText(r.Context(), err)
	case name == "":
		v.NameError = i18n.T(r.Context(), "welcome.name.required")
	}
	if v.NameError != "" {
		v.Name = formEcho(v.Name)
		s.render(w, r, http.StatusUnprocessableEntity, page.NameStep(s.page(w, r, i18n.T(r.Context(), "welcome.title")), v))
		return
	}
	if _, err := s.Users.UpdateUser(r.Context(), app.UserUpdate{Name: &name}); err != nil {
		s.Error(w, r, err)
		return
	}
	s.setFlash(w, "success", i18n.T(r.Context(), "welcome.thanks", "Name", name))
	redirect(w, r, next)
}
