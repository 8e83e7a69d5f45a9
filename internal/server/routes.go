package server

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"atrium/internal/app"
	"atrium/web/static"
)

// routes lists every route and the middleware in front of it.
func (s *Server) routes() http.Handler {
	r := chi.NewRouter()
	r.Use(s.measureRequests, s.logRequests, s.recoverPanics, s.securityHeaders, headAsGet, s.localize)
	// The 404 page reads the session, so signed-in visitors keep their
	// header and get a way back into their workspace.
	r.NotFound(s.loadSession(s.viewAs(http.HandlerFunc(s.handleNotFound))).ServeHTTP)
	r.MethodNotAllowed(s.loadSession(s.viewAs(http.HandlerFunc(s.handleMethodNotAllowed))).ServeHTTP)

	r.Get("/healthz", s.handleHealthz)
	r.Get("/readyz", s.handleReadyz)
	r.Handle("/static/*", http.StripPrefix("/static", static.Handler()))

	// Stripe's webhook: outside the session and CSRF groups; it trusts only
	// the signature and limits unsigned floods itself.
	r.Post("/api/billing/webhook", s.handleStripeWebhook)

	// The JSON API: outside the session and CSRF groups; it trusts only a
	// workspace API key sent as a bearer token (api.go).
	r.Route("/api/v1", s.apiRoutes)

	// Browser routes: CSRF protection, the session, and the rate limit on
	// every state-changing request.
	r.Group(func(r chi.Router) {
		r.Use(limitBody, s.crossOrigin, s.rateLimit, s.loadSession, s.viewAs)

		// The public site: anyone may read it, signed in or not.
		r.Get("/", s.handleHome)
		r.Get("/pricing", s.handlePricing)
		r.Get("/docs", s.handleDocsIndex)
		r.Get("/docs/{slug}", s.handleDoc)
		r.Get("/docs/webhooks/events.json", s.handleWebhookSchemas)
		r.Get("/terms", s.handleTerms)
		r.Get("/privacy", s.handlePrivacy)
		r.Get("/robots.txt", s.handleRobots)
		r.Get("/sitemap.xml", s.handleSitemap)

		r.Get("/login", s.handleLoginShow)
		r.Post("/login", s.handleLoginCreate)
		r.Get("/login/sent", s.handleLoginSent)
		r.Get("/auth/verify", s.handleVerifyShow)
		r.Post("/auth/verify", s.handleVerify)
		r.Post("/logout", s.handleLogout)

		// Two-factor sign-in (twofactor.go, passkey.go): the step after a
		// magic link when the user has a second factor, and passkey
		// sign-in, which needs no email.
		r.Get("/login/two-factor", s.handleSecondFactorShow)
		r.Post("/login/two-factor", s.handleSecondFactorCode)
		r.Post("/login/passkey/begin", s.handlePasskeyLoginBegin)
		r.Post("/login/passkey/finish", s.handlePasskeyLoginFinish)

		// Sign-in with an identity provider (oidc.go): the start is a
		// POST; the provider sends the browser back to the callback, a
		// GET whose state is its CSRF defence.
		r.Post("/auth/oidc/{provider}/start", s.handleOIDCStart)
		r.Get("/auth/oidc/{provider}/callback", s.handleOIDCCallback)
		// A workspace's own identity provider (sso_signin.go): the sign-in
		// page starts it for addresses in the workspace's verified domains.
		r.Get("/auth/sso/callback", s.handleSSOCallback)

		// Invite links work signed out too: the handler sends visitors to
		// sign in as the invited address.
		r.Get("/invites/{token}", s.handleInviteShow)

		// The operator console (admin*.go): staff only, 404 for everyone
		// else; its own rate limit.
		r.Route("/admin", func(r chi.Router) {
			r.Use(s.requireStaff, s.adminRateLimited)
			r.Get("/", s.handleAdminHome)
			r.Get("/users", s.handleAdminUsers)
			r.Get("/users/{userID}", s.handleAdminUser)
			r.Get("/users/{userID}/view-as", s.handleViewAsConfirm)
			r.Post("/users/{userID}/view-as", s.handleViewAsStart)
			for _, a := range []string{"suspend", "unsuspend", "end-sessions", "send-link"} {
				r.Get("/users/{userID}/"+a, s.adminConfirm(a, true))
				r.Post("/users/{userID}/"+a, s.adminDo(a, true))
			}
			r.Get("/workspaces", s.handleAdminWorkspaces)
			r.Get("/workspaces/{workspaceID}", s.handleAdminWorkspace)
			for _, a := range []string{"suspend", "unsuspend", "billing-sync"} {
				r.Get("/workspaces/{workspaceID}/"+a, s.adminConfirm(a, false))
				r.Post("/workspaces/{workspaceID}/"+a, s.adminDo(a, false))
			}
			r.Get("/jobs", s.handleAdminJobs)
			r.Get("/jobs/{jobID}", s.handleAdminJob)
			for _, a := range []string{"retry", "cancel"} {
				r.Get("/jobs/{jobID}/"+a, s.adminJobConfirm(a))
				r.Post("/jobs/{jobID}/"+a, s.adminJobDo(a))
			}
			r.Get("/view-as/write", s.handleViewAsWriteShow)
			r.Post("/view-as/write", s.handleViewAsWrite)
			r.Post("/view-as/stop", s.handleViewAsStop)
		})

		r.Group(func(r chi.Router) {
			r.Use(s.requireUser)
			r.Get("/app", s.handleAppHome)
			r.Get("/welcome", s.handleNameStepShow)
			r.Post("/welcome", s.handleNameStepSave)
			r.Get("/billing", s.handleBillingShortcut)
			r.Get("/settings/account", s.handleAccountShow)
			r.Post("/settings/account", s.handleAccountUpdate)
			r.Post("/settings/account/delete", s.handleAccountDelete)
			r.Post("/settings/account/sessions/{id}/revoke", s.handleSessionRevoke)
			r.Post("/settings/account/sessions/revoke-others", s.handleSessionRevokeOthers)
			r.Get("/settings/account/confirm", s.handleReauthShow)
			r.Post("/settings/account/confirm", s.handleReauthCode)
			r.Post("/settings/account/confirm/passkey/begin", s.handleReauthPasskeyBegin)
			r.Post("/settings/account/confirm/passkey", s.handleReauthPasskey)
			r.Get("/settings/account/two-factor/app", s.handleTOTPShow)
			r.Post("/settings/account/two-factor/app", s.handleTOTPConfirm)
			r.Post("/settings/account/two-factor/app/disable", s.handleTOTPDisable)
			r.Get("/settings/account/two-factor/recovery-codes", s.handleRecoveryCodesShow)
			r.Post("/settings/account/two-factor/recovery-codes", s.handleRecoveryCodesRegenerate)
			r.Post("/settings/account/passkeys/begin", s.handlePasskeyRegisterBegin)
			r.Post("/settings/account/passkeys", s.handlePasskeyRegisterFinish)
			r.Post("/settings/account/passkeys/{passkeyID}/remove", s.handlePasskeyRemove)
			r.Post("/settings/account/identities/{provider}/link", s.handleIdentityLink)
			r.Post("/settings/account/identities/{identityID}/unlink", s.handleIdentityUnlink)
			r.Get("/settings/workspaces", s.handleWorkspaces)
			r.Post("/settings/workspaces/test-invite", s.handleTestInvite)
			r.Get("/workspaces/new", s.handleWorkspaceNew)
			r.Post("/workspaces", s.handleWorkspaceCreate)

			r.Post("/invites/{token}/accept", s.handleInviteAccept)
			r.Post("/invites/{token}/decline", s.handleInviteDecline)
			r.Get("/invitations/{inviteID}", s.handleInvitationShow)
			r.Post("/invitations/{inviteID}/accept", s.handleInviteAccept)
			r.Post("/invitations/{inviteID}/decline", s.handleInviteDecline)

			// Workspace routes: membership is checked for every one of them
			// (404 for non-members), roles per route.
			r.Route("/w/{slug}", func(r chi.Router) {
				r.Use(s.loadWorkspace)
				// Leaving stays open to members the two-factor policy keeps
				// out; every other route waits for their second factor.
				r.Post("/leave", s.handleLeave)
				// The single sign-on walkthrough's start stays open to the
				// members the policy keeps out (sso_signin.go).
				r.Post("/sso/start", s.handleSSOStart)
				r.Group(func(r chi.Router) {
					r.Use(s.requireSSOPolicy, s.requireTwoFactorPolicy)
					r.Get("/", s.handleDashboard)
					r.Get("/members", s.handleMembers)

					r.Group(func(r chi.Router) {
						r.Use(s.requireRole(app.RoleAdmin))
						r.Get("/settings", s.handleWorkspaceSettings)
						r.Get("/audit", s.handleAudit)
						r.Get("/audit/export", s.handleAuditExport)
						r.Get("/audit/{entryID}", s.handleAuditEntry)
						r.Get("/billing", s.handleBilling)
						r.Get("/billing/return", s.handleBillingReturn)
						r.Get("/billing/plan", s.handleChangePlan)
						r.Post("/invites", s.handleInviteCreate)
						r.Post("/invites/{inviteID}/revoke", s.handleInviteRevoke)
						r.Post("/invites/{inviteID}/resend", s.handleInviteResend)
						r.Get("/members/{userID}", s.handleMember)
						r.Post("/members/{userID}/role", s.handleMemberRole)
						r.Post("/members/{userID}/remove", s.handleMemberRemove)
						r.Get("/settings/api-keys", s.handleAPIKeys)
						r.Post("/settings/api-keys", s.handleAPIKeyCreate)
						r.Get("/settings/api-keys/{keyID}/created", s.handleAPIKeyCreated)
						r.Get("/settings/api-keys/{keyID}/revoke", s.handleAPIKeyRevokeConfirm)
						r.Post("/settings/api-keys/{keyID}/revoke", s.handleAPIKeyRevoke)
						// Outgoing webhooks (webhook.go).
						r.Get("/settings/webhooks", s.handleWebhooks)
						r.Post("/settings/webhooks", s.handleWebhookCreate)
						r.Get("/settings/webhooks/{endpointID}", s.handleWebhook)
						r.Post("/settings/webhooks/{endpointID}", s.handleWebhookUpdate)
						r.Get("/settings/webhooks/{endpointID}/secret", s.handleWebhookSecret)
						r.Post("/settings/webhooks/{endpointID}/rotate", s.handleWebhookRotate)
						r.Post("/settings/webhooks/{endpointID}/enable", s.handleWebhookEnable)
						r.Post("/settings/webhooks/{endpointID}/disable", s.handleWebhookDisable)
						r.Post("/settings/webhooks/{endpointID}/test", s.handleWebhookTest)
						r.Post("/settings/webhooks/{endpointID}/replay", s.handleWebhookReplaySince)
						r.Post("/settings/webhooks/{endpointID}/deliveries/{deliveryID}/replay", s.handleWebhookReplay)
						r.Post("/settings/webhooks/{endpointID}/delete", s.handleWebhookDelete)
					})
					r.Group(func(r chi.Router) {
						r.Use(s.requireRole(app.RoleOwner))
						r.Post("/settings", s.handleWorkspaceUpdate)
						r.Post("/settings/two-factor", s.handleWorkspaceTwoFactor)
						// Single sign-on (sso.go).
						r.Get("/settings/sso", s.handleSSOSettings)
						r.Post("/settings/sso", s.handleSSOConnectionSave)
						r.Post("/settings/sso/options", s.handleSSOOptions)
						r.Post("/settings/sso/domains", s.handleSSODomainAdd)
						r.Post("/settings/sso/domains/{domainID}/verify", s.handleSSODomainVerify)
						r.Post("/settings/sso/domains/{domainID}/remove", s.handleSSODomainRemove)
						r.Post("/delete", s.handleWorkspaceDelete)
						r.Post("/transfer", s.handleTransfer)
						r.Post("/billing/checkout", s.handleCheckout)
						r.Post("/billing/portal", s.handlePortal)
						r.Post("/billing/demo-upgrade", s.handleDemoUpgrade)
						r.Post("/billing/demo-downgrade", s.handleDemoDowngrade)
						// In-app plan changes (billing_change.go).
						r.Get("/billing/plan/preview", s.handleChangePlanPreview)
						r.Post("/billing/plan", s.handleChangePlanConfirm)
						r.Post("/billing/plan/keep", s.handleKeepPlan)
						r.Get("/billing/cancel", s.handleCancelConfirm)
						r.Post("/billing/cancel", s.handleCancelSubscription)
						r.Post("/billing/resume", s.handleResumeSubscription)
					})

					// scaffold:routes (make scaffold adds its resources' routes above this line)
				})
			})
		})
	})
	return r
}
