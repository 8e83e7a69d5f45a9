package server

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"atrium/internal/app"
	"atrium/internal/i18n"
	"atrium/web/layout"
	"atrium/web/page"
)

// handleAPIKeys handles "GET /w/{slug}/settings/api-keys" (owners and admins).
func (s *Server) handleAPIKeys(w http.ResponseWriter, r *http.Request) {
	s.renderAPIKeys(w, r, http.StatusOK, page.APIKeyForm{Read: true}, nil, "")
}

// apiKeyRevealCookie carries the token that opens a new key's sealed
// secret, from the create POST to the one page that shows it.
const apiKeyRevealCookie = "atrium_key_reveal"

// revealCookie returns the reveal cookie of key keyID in ws: scoped to the
// page that shows the secret, gone after APIKeyRevealTTL.
func (s *Server) revealCookie(ws *app.Workspace, keyID int64, token string, maxAge int) *http.Cookie {
	name := apiKeyRevealCookie
	if s.secure {
		name = "__Secure-" + name
	}
	return &http.Cookie{Name: name, Value: token, Path: wsPath(ws, "/settings/api-keys/"+strconv.FormatInt(keyID, 10)+"/created"),
		MaxAge: maxAge, HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode}
}

// renderAPIKeys renders the keys page with the form, and the secret of a
// key just created (never cached). A created key without its secret says
// that the secret was shown once already.
func (s *Server) renderAPIKeys(w http.ResponseWriter, r *http.Request, status int, form page.APIKeyForm, created *app.APIKey, secret string) {
	sc := scopeFrom(r.Context())
	keys, err := s.APIKeys.FindAPIKeys(r.Context(), sc.scope())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	tz := app.PrincipalFromContext(r.Context()).User.TimeZone
	v := page.APIKeysView{URL: workspaceURL(sc.ws.Slug), Form: form, APIDocsURL: s.Config.AppURL.String() + "/api/v1/docs"}
	for _, k := range keys {
		v.Keys = append(v.Keys, s.apiKeyRow(r.Context(), sc.ws, k, tz))
	}
	if created != nil {
		w.Header().Set("Cache-Control", "no-store")
		v.NewKeyName, v.SecretGone = created.Name, secret == ""
		if secret != "" {
			v.NewSecret = secret
			v.ExampleCURL = `curl -H "Authorization: Bearer ` + secret + `" ` + s.Config.AppURL.String() + "/api/v1/workspace"
		}
	}
	s.render(w, r, status, page.APIKeys(s.workspacePage(w, r, i18n.T(r.Context(), "apikeys.title"), "api-keys"), v))
}

// apiKeyRow formats a key for the list in the viewer's time zone and
// language.
func (s *Server) apiKeyRow(ctx context.Context, ws *app.Workspace, k *app.APIKey, tz string) page.APIKeyRow {
	never := i18n.T(ctx, "apikeys.list.never")
	row := page.APIKeyRow{ID: k.ID, Name: k.Name, Prefix: k.Prefix + "…", Scopes: scopeNames(ctx, k.Scopes),
		CreatedBy: k.CreatedBy(), CreatedAt: s.formatDate(ctx, k.CreatedAt, tz), LastUsed: never, Expires: never,
		Status: i18n.T(ctx, "apikeys.status.active")}
	if k.CreatorName == "" && k.CreatorEmail == "" {
		row.CreatedBy, row.FormerMember = i18n.T(ctx, "apikeys.list.former_member"), true
	}
	if !k.LastUsedAt.IsZero() {
		row.LastUsed = s.formatTime(ctx, k.LastUsedAt, tz)
	}
	if !k.ExpiresAt.IsZero() {
		row.Expires = s.formatDate(ctx, k.ExpiresAt.Add(-time.Second), tz)
	}
	switch {
	case !k.RevokedAt.IsZero():
		row.Status = i18n.T(ctx, "apikeys.status.revoked")
	case !k.Live(s.Now()):
		row.Status = i18n.T(ctx, "apikeys.status.expired")
	default:
		row.RevokePath = wsPath(ws, "/settings/api-keys/"+strconv.FormatInt(k.ID, 10)+"/revoke")
	}
	return row
}

// scopeNames lists a key's scopes by their names in the reader's language
// ("read, write"); a scope the catalog does not name shows as its code.
func scopeNames(ctx context.Context, scopes []string) string {
	names := make([]string, len(scopes))
	for i, sc := range scopes {
		names[i] = sc
		if sc == app.ScopeRead || sc == app.ScopeWrite {
			names[i] = i18n.T(ctx, "apikeys.scope."+sc)
		}
	}
	return strings.Join(names, ", ")
}

// handleAPIKeyCreate handles "POST /w/{slug}/settings/api-keys": the page
// answers with the new key's secret, shown this once.
func (s *Server) handleAPIKeyCreate(w http.ResponseWriter, r *http.Request) {
	sc := scopeFrom(r.Context())
	name := r.PostFormValue("name") // parses the form
	scopes := r.PostForm["scope"]
	form := page.APIKeyForm{Name: name, Expires: strings.TrimSpace(r.PostFormValue("expires")),
		Read: slices.Contains(scopes, app.ScopeRead), Write: slices.Contains(scopes, app.ScopeWrite)}
	in := app.NewAPIKey{Name: form.Name, Scopes: scopes}
	if form.Expires != "" {
		day, err := time.Parse(time.DateOnly, form.Expires)
		if err != nil {
			form.Errors = page.FieldErrors{"expires": i18n.T(r.Context(), "apikeys.create.expires_invalid")}
			s.renderAPIKeys(w, r, http.StatusUnprocessableEntity, form, nil, "")
			return
		}
		in.ExpiresAt = day.AddDate(0, 0, 1) // through the end of that day
	}
	secret, prefix, hash := app.NewAPIKeySecret()
	in.Prefix, in.TokenHash = prefix, hash
	token, reveal := app.SealAPIKeySecret(secret)
	in.Reveal = reveal
	k, err := s.APIKeys.CreateAPIKey(r.Context(), sc.scope(), in)
	if err != nil {
		if app.ErrorCode(err) != app.EINVALID {
			s.Error(w, r, err)
			return
		}
		form.Errors = fieldErrors(r.Context(), err, "name", "scopes", "expires")
		s.renderAPIKeys(w, r, http.StatusUnprocessableEntity, form, nil, "")
		return
	}
	// The secret is not the answer to the POST, which a reload would send
	// again: it waits, sealed, for the page this redirect leads to.
	setCookie(w, s.revealCookie(sc.ws, k.ID, token, int(app.APIKeyRevealTTL/time.Second)))
	redirect(w, r, wsPath(sc.ws, "/settings/api-keys/"+strconv.FormatInt(k.ID, 10)+"/created"))
}

// handleAPIKeyCreated handles "GET /w/{slug}/settings/api-keys/{keyID}/created":
// the new key's secret, shown to its creator's browser once; a reload (or
// anyone else) is told it was shown once.
func (s *Server) handleAPIKeyCreated(w http.ResponseWriter, r *http.Request) {
	sc := scopeFrom(r.Context())
	id, ok := idParam(r, "keyID")
	if !ok {
		s.errorPage(w, r, http.StatusNotFound, "")
		return
	}
	k, err := s.APIKeys.FindAPIKey(r.Context(), sc.scope(), id)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	secret := ""
	gone := s.revealCookie(sc.ws, id, "", -1)
	if c, err := r.Cookie(gone.Name); err == nil && app.ValidTokenSyntax(c.Value) {
		setCookie(w, gone)
		sealed, err := s.APIKeys.RevealAPIKeySecret(r.Context(), sc.scope(), id, app.HashToken(c.Value))
		switch {
		case err == nil:
			secret, _ = app.OpenAPIKeySecret(c.Value, sealed)
		case app.ErrorCode(err) != app.ENOTFOUND:
			s.Error(w, r, err)
			return
		}
	}
	s.renderAPIKeys(w, r, http.StatusOK, page.APIKeyForm{Read: true}, k, secret)
}

// handleAPIKeyRevokeConfirm handles "GET /w/{slug}/settings/api-keys/{keyID}/revoke":
// the confirmation step before revoking, as a page.
func (s *Server) handleAPIKeyRevokeConfirm(w http.ResponseWriter, r *http.Request) {
	if c, ok := s.apiKeyRevocation(w, r); ok {
		s.render(w, r, http.StatusOK, page.ConfirmPage(s.keysPage(w, r)(), c))
	}
}

// apiKeyRevocation returns the confirmation of revoking the key named by
// the route, or answers (not found, or a flash when the key no longer
// works) and returns false.
func (s *Server) apiKeyRevocation(w http.ResponseWriter, r *http.Request) (page.Confirm, bool) {
	sc := scopeFrom(r.Context())
	id, ok := idParam(r, "keyID")
	if !ok {
		s.errorPage(w, r, http.StatusNotFound, "")
		return page.Confirm{}, false
	}
	k, err := s.APIKeys.FindAPIKey(r.Context(), sc.scope(), id)
	if err != nil {
		s.Error(w, r, err)
		return page.Confirm{}, false
	}
	if !k.Live(s.Now()) {
		s.setFlash(w, "error", i18n.T(r.Context(), "apikeys.revoke.nothing"))
		redirect(w, r, wsPath(sc.ws, "/settings/api-keys"))
		return page.Confirm{}, false
	}
	return confirmRevokeAPIKey(r.Context(), workspaceURL(sc.ws.Slug), k), true
}

// confirmRevokeAPIKey is page.ConfirmRevokeAPIKey in the reader's language.
func confirmRevokeAPIKey(ctx context.Context, ws layout.WorkspaceURL, k *app.APIKey) page.Confirm {
	c := page.ConfirmRevokeAPIKey(ws, k.ID, k.Name, k.Prefix+"…")
	c.Title = i18n.T(ctx, "apikeys.revoke.title", "Name", k.Name)
	c.Message = i18n.T(ctx, "apikeys.revoke.message", "Prefix", k.Prefix+"…")
	c.Label = i18n.T(ctx, "apikeys.revoke.label")
	return c
}

// keysPage returns a builder of the settings section's frame.
func (s *Server) keysPage(w http.ResponseWriter, r *http.Request) func() layout.Page {
	return func() layout.Page { return s.workspacePage(w, r, "", "api-keys") }
}

// handleAPIKeyRevoke handles "POST /w/{slug}/settings/api-keys/{keyID}/revoke":
// without confirm=yes it answers with the confirmation step and changes
// nothing, as every destructive form does.
func (s *Server) handleAPIKeyRevoke(w http.ResponseWriter, r *http.Request) {
	sc := scopeFrom(r.Context())
	if r.PostFormValue("confirm") != "yes" {
		if c, ok := s.apiKeyRevocation(w, r); ok {
			s.confirmed(w, r, s.keysPage(w, r), c)
		}
		return
	}
	id, ok := idParam(r, "keyID")
	if !ok {
		s.errorPage(w, r, http.StatusNotFound, "")
		return
	}
	if err := s.APIKeys.RevokeAPIKey(r.Context(), sc.scope(), id); err != nil {
		if app.ErrorCode(err) != app.ECONFLICT {
			s.Error(w, r, err)
			return
		}
		s.setFlash(w, "error", i18n.ErrorText(r.Context(), err))
	} else {
		s.setFlash(w, "success", i18n.T(r.Context(), "apikeys.revoke.done"))
	}
	redirect(w, r, wsPath(sc.ws, "/settings/api-keys"))
}
