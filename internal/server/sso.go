package server

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"time"

	"atrium/internal/app"
	"atrium/internal/config"
	"atrium/internal/i18n"
	"atrium/internal/oidc"
	"atrium/web/layout"
	"atrium/web/page"
)

// dnsTimeout bounds one TXT lookup.
const dnsTimeout = 5 * time.Second

// Workspace single sign-on settings (owners of workspaces whose plan
// includes app.FeatureSSO): the
// connection to the workspace's identity provider, checked by discovery
// when saved; the domains it claims, proved by a TXT record at
// _atrium-challenge.<domain> looked up through the resolver (SSO_DNS_RESOLVER
// or the system's); and the options. Sign-in through it is sso_signin.go.

// Resolver looks up the TXT records that prove domains; *net.Resolver is
// one.
type Resolver interface {
	LookupTXT(ctx context.Context, name string) ([]string, error)
}

// newResolver returns the resolver of cfg: one that asks SSO_DNS_RESOLVER
// only, or the system's.
func newResolver(cfg *config.Config) Resolver {
	if cfg.SSODNSResolver == "" {
		return net.DefaultResolver
	}
	addr := cfg.SSODNSResolver
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}}
}

// ssoView builds the single sign-on page as saved.
func (s *Server) ssoView(r *http.Request) (page.SSOView, error) {
	sc := scopeFrom(r.Context())
	v := page.SSOView{URL: workspaceURL(sc.ws.Slug), Workspace: sc.ws.Name, Pro: s.Config.Plans.CanUse(sc.ws, app.FeatureSSO),
		BillingURL: wsPath(sc.ws, "/billing"), RedirectURI: s.Config.AppURL.String() + oidc.WorkspaceCallbackPath,
		Errors: page.FieldErrors{}, JITRole: string(app.RoleMember)}
	if !v.Pro {
		return v, nil
	}
	conn, domains, err := s.SSO.FindSSO(r.Context(), sc.scope())
	if err != nil {
		return v, err
	}
	if conn != nil {
		v.Connected, v.Issuer, v.ClientID, v.HasSecret = true, conn.Issuer, conn.ClientID, conn.HasSecret
		v.RequireSSO, v.JIT, v.JITRole, v.IdPMFACounts = conn.RequireSSO, conn.JIT, string(conn.JITRole), conn.IdPMFACounts
	}
	tz := app.PrincipalFromContext(r.Context()).User.TimeZone
	for _, d := range domains {
		row := page.SSODomainRow{ID: d.ID, Domain: d.Domain, RecordName: d.RecordName(), RecordValue: d.RecordValue(), Verified: d.Verified()}
		if d.VerifiedAt != nil {
			row.VerifiedAt = s.formatDate(r.Context(), *d.VerifiedAt, tz)
			v.HasVerified = true
		}
		v.Domains = append(v.Domains, row)
	}
	return v, nil
}

// renderSSO renders the page with status.
func (s *Server) renderSSO(w http.ResponseWriter, r *http.Request, status int, v page.SSOView) {
	s.render(w, r, status, page.SSOSettings(s.workspacePage(w, r, i18n.T(r.Context(), "sso.title"), "settings"), v))
}

// handleSSOSettings handles "GET /w/{slug}/settings/sso" (owners).
func (s *Server) handleSSOSettings(w http.ResponseWriter, r *http.Request) {
	v, err := s.ssoView(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	s.renderSSO(w, r, http.StatusOK, v)
}

// handleSSOConnectionSave handles "POST /w/{slug}/settings/sso" (owners):
// it checks the issuer by reading its discovery document, then saves the
// connection with the secret sealed. The secret typed is never shown back.
func (s *Server) handleSSOConnectionSave(w http.ResponseWriter, r *http.Request) {
	v, err := s.ssoView(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	v.Issuer, v.ClientID = strings.TrimSpace(r.PostFormValue("issuer")), strings.TrimSpace(r.PostFormValue("client_id"))
	issuer, ierr := app.ValidateIssuer(v.Issuer, !s.Config.IsProduction())
	clientID, cerr := app.ValidateClientID(v.ClientID)
	secret, serr := app.ValidateClientSecret(r.PostFormValue("client_secret"), v.HasSecret)
	for _, e := range []error{ierr, cerr, serr} {
		if e != nil {
			v.Errors[app.ErrorField(e)] = i18n.ErrorText(r.Context(), e)
		}
	}
	if ierr == nil {
		if msg, detail := oidc.Discover(r.Context(), s.ssoClient, issuer); msg != "" {
			s.Logger.InfoContext(r.Context(), "sso issuer discovery failed", "request_id", requestIDFrom(r.Context()),
				"issuer", issuer, "error", detail.Error())
			v.Errors["issuer"] = i18n.T(r.Context(), "sso.connection.discovery_failed", "URL", issuer+"/.well-known/openid-configuration")
			if errors.Is(detail, oidc.ErrNoEndpoints) {
				v.Errors["issuer"] = i18n.T(r.Context(), "sso.connection.discovery_incomplete")
			}
		}
	}
	if len(v.Errors) == 0 {
		err = s.SSO.SaveSSOConnection(r.Context(), scopeFrom(r.Context()).scope(), issuer, clientID, secret)
		if app.ErrorCode(err) == app.EINVALID {
			v.Errors = fieldErrors(r.Context(), err, "issuer", "client_id", "client_secret")
		} else if err != nil {
			s.Error(w, r, err)
			return
		}
	}
	if len(v.Errors) > 0 {
		s.renderSSO(w, r, http.StatusUnprocessableEntity, v)
		return
	}
	msg := i18n.T(r.Context(), "sso.flash.connected")
	if v.Connected {
		msg = i18n.T(r.Context(), "sso.flash.saved")
	}
	s.setFlash(w, "success", msg)
	redirect(w, r, wsPath(scopeFrom(r.Context()).ws, "/settings/sso"))
}

// handleSSODomainAdd handles "POST /w/{slug}/settings/sso/domains" (owners).
func (s *Server) handleSSODomainAdd(w http.ResponseWriter, r *http.Request) {
	sc := scopeFrom(r.Context())
	domain, err := app.NormalizeDomain(r.PostFormValue("domain"))
	if err == nil {
		_, err = s.SSO.AddSSODomain(r.Context(), sc.scope(), domain)
	}
	if code := app.ErrorCode(err); code == app.EINVALID || code == app.ECONFLICT {
		v, verr := s.ssoView(r)
		if verr != nil {
			s.Error(w, r, verr)
			return
		}
		v.Domain = strings.TrimSpace(r.PostFormValue("domain"))
		v.Errors = fieldErrors(r.Context(), err, "domain")
		s.renderSSO(w, r, http.StatusUnprocessableEntity, v)
		return
	} else if err != nil {
		s.Error(w, r, err)
		return
	}
	s.setFlash(w, "success", i18n.T(r.Context(), "sso.flash.domain_added", "Domain", domain))
	redirect(w, r, wsPath(sc.ws, "/settings/sso#domains"))
}

// ssoDomain returns the row of the domain named by {domainID} on v, or
// nil (another workspace's id, or none).
func ssoDomain(r *http.Request, v *page.SSOView) *page.SSODomainRow {
	id, ok := idParam(r, "domainID")
	if !ok {
		return nil
	}
	for i := range v.Domains {
		if v.Domains[i].ID == id {
			return &v.Domains[i]
		}
	}
	return nil
}

// handleSSODomainVerify handles "POST /w/{slug}/settings/sso/domains/{domainID}/verify"
// (owners): it looks up the domain's TXT record and, when it holds the
// token, marks the domain verified. A failure is shown beside the domain.
func (s *Server) handleSSODomainVerify(w http.ResponseWriter, r *http.Request) {
	sc := scopeFrom(r.Context())
	v, err := s.ssoView(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	d := ssoDomain(r, &v)
	if d == nil {
		s.errorPage(w, r, http.StatusNotFound, i18n.T(r.Context(), "sso.domains.not_found"))
		return
	}
	if !d.Verified {
		if msg := s.checkTXT(r, d.RecordName, d.RecordValue); msg != "" {
			d.Error = msg
			s.renderSSO(w, r, http.StatusUnprocessableEntity, v)
			return
		}
		if _, err := s.SSO.MarkSSODomainVerified(r.Context(), sc.scope(), d.ID); app.ErrorCode(err) == app.ECONFLICT {
			d.Error = i18n.ErrorText(r.Context(), err)
			s.renderSSO(w, r, http.StatusConflict, v)
			return
		} else if err != nil {
			s.Error(w, r, err)
			return
		}
	}
	s.setFlash(w, "success", i18n.T(r.Context(), "sso.flash.domain_verified", "Domain", d.Domain))
	redirect(w, r, wsPath(sc.ws, "/settings/sso#domains"))
}

// checkTXT looks up the TXT record name and returns why it does not prove
// the domain, or "" when one of its values is want.
func (s *Server) checkTXT(r *http.Request, name, want string) string {
	ctx, cancel := context.WithTimeout(r.Context(), dnsTimeout)
	defer cancel()
	txts, err := s.resolver.LookupTXT(ctx, name)
	var dnsErr *net.DNSError
	switch {
	case err == nil:
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		txts = nil
	default:
		s.Logger.InfoContext(r.Context(), "sso domain lookup failed", "request_id", requestIDFrom(r.Context()), "name", name, "error", err.Error())
		return i18n.T(ctx, "sso.dns.unanswered", "Name", name)
	}
	for _, t := range txts {
		if strings.TrimSpace(t) == want {
			return ""
		}
	}
	if len(txts) == 0 {
		return i18n.T(ctx, "sso.dns.missing", "Name", name)
	}
	return i18n.T(ctx, "sso.dns.mismatch", "Name", name, "Value", want)
}

// handleSSODomainRemove handles "POST /w/{slug}/settings/sso/domains/{domainID}/remove"
// (owners), confirmed.
func (s *Server) handleSSODomainRemove(w http.ResponseWriter, r *http.Request) {
	sc := scopeFrom(r.Context())
	v, err := s.ssoView(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	d := ssoDomain(r, &v)
	if d == nil {
		s.errorPage(w, r, http.StatusNotFound, i18n.T(r.Context(), "sso.domains.not_found"))
		return
	}
	if !s.confirmed(w, r, func() layout.Page { return s.workspacePage(w, r, "", "settings") }, page.ConfirmRemoveSSODomain(r.Context(), v, *d)) {
		return
	}
	if _, err := s.SSO.RemoveSSODomain(r.Context(), sc.scope(), d.ID); app.ErrorCode(err) == app.EINVALID {
		s.setFlash(w, "error", i18n.ErrorText(r.Context(), err))
	} else if err != nil {
		s.Error(w, r, err)
		return
	} else {
		s.setFlash(w, "success", i18n.T(r.Context(), "sso.flash.domain_removed", "Domain", d.Domain))
	}
	redirect(w, r, wsPath(sc.ws, "/settings/sso#domains"))
}

// handleSSOOptions handles "POST /w/{slug}/settings/sso/options" (owners).
// Turning "require single sign-on" on asks for a confirmation first.
func (s *Server) handleSSOOptions(w http.ResponseWriter, r *http.Request) {
	sc := scopeFrom(r.Context())
	set := app.SSOSettings{RequireSSO: r.PostFormValue("require_sso") == "on", JIT: r.PostFormValue("jit") == "on",
		JITRole: app.Role(r.PostFormValue("jit_role")), IdPMFACounts: r.PostFormValue("idp_mfa_counts") == "on"}
	v, err := s.ssoView(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if set.RequireSSO && !v.RequireSSO && v.HasVerified {
		var fields []page.HiddenField
		for _, k := range []string{"require_sso", "jit", "jit_role", "idp_mfa_counts"} {
			if val := r.PostFormValue(k); val != "" {
				fields = append(fields, page.HiddenField{Name: k, Value: val})
			}
		}
		if !s.confirmed(w, r, func() layout.Page { return s.workspacePage(w, r, "", "settings") },
			page.ConfirmRequireSSO(r.Context(), workspaceURL(sc.ws.Slug), sc.ws.Name, fields)) {
			return
		}
	}
	err = s.SSO.SetSSOSettings(r.Context(), sc.scope(), set)
	if app.ErrorCode(err) == app.EINVALID {
		v.RequireSSO, v.JIT, v.JITRole, v.IdPMFACounts = set.RequireSSO, set.JIT, string(set.JITRole), set.IdPMFACounts
		v.Errors = fieldErrors(r.Context(), err, "require_sso", "jit_role")
		s.renderSSO(w, r, http.StatusUnprocessableEntity, v)
		return
	} else if err != nil {
		s.Error(w, r, err)
		return
	}
	msg := i18n.T(r.Context(), "sso.flash.options_saved")
	if set.RequireSSO && !v.RequireSSO {
		msg = i18n.T(r.Context(), "sso.flash.required")
	}
	s.setFlash(w, "success", msg)
	redirect(w, r, wsPath(sc.ws, "/settings/sso"))
}
