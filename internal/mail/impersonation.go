package mail

import (
	texttemplate "text/template"

	"atrium/internal/app"
)

// Impersonation is what the email after a staff write session tells the
// user, preformatted.
type Impersonation struct {
	Staff       string
	Reason      string
	WriteReason string
	Started     string
	Ended       string
	// AuditURL is where the user finds their workspaces (and, as an
	// admin, their audit logs).
	AuditURL string
}

type impersonationData struct {
	AppName string
	Impersonation
}

var impersonationText = texttemplate.Must(texttemplate.New("impersonation.txt").Parse(
	`Hi,

A member of the {{.AppName}} support staff, {{.Staff}}, used your account
from {{.Started}} to {{.Ended}}, with permission to make changes.

Why they opened your account: {{.Reason}}
Why they made changes: {{.WriteReason}}

Everything they changed is recorded in the audit log of each workspace, as
made by them on your behalf. They could not see or change your sign-in
methods, sessions, email address or API keys, and your own sessions were
not touched.

Your workspaces: {{.AuditURL}}

If you did not ask for help, reply to this email or contact support.

{{.AppName}}
`))

var impersonationHTML = htmlEmail("impersonation.html", `{{define "title"}}Support made changes in your account{{end}}
{{define "content"}}
<h1 style="margin:0 0 16px;font-size:20px;">Support made changes in your account</h1>
<p style="margin:0 0 16px;font-size:15px;line-height:1.5;">A member of the {{.AppName}} support staff, <strong>{{.Staff}}</strong>, used your account from {{.Started}} to {{.Ended}}, with permission to make changes.</p>
<p style="margin:0 0 8px;font-size:15px;line-height:1.5;">Why they opened your account: <strong>{{.Reason}}</strong></p>
<p style="margin:0 0 16px;font-size:15px;line-height:1.5;">Why they made changes: <strong>{{.WriteReason}}</strong></p>
<p style="margin:0 0 16px;font-size:15px;line-height:1.5;">Everything they changed is recorded in the audit log of each workspace, as made by them on your behalf. They could not see or change your sign-in methods, sessions, email address or API keys, and your own sessions were not touched.</p>
<p style="margin:0 0 24px;"><a href="{{.AuditURL}}" style="display:inline-block;background:#2563eb;color:#ffffff;text-decoration:none;font-weight:600;padding:12px 24px;border-radius:6px;">Your workspaces</a></p>
<p style="margin:0;font-size:13px;line-height:1.5;color:#52525b;">If you did not ask for help, reply to this email or contact support.</p>
{{end}}`)

// ImpersonationEmail renders the email telling to that a staff member
// made changes in their account during a write session, and why.
func ImpersonationEmail(appName, to string, d Impersonation) app.Email {
	data := impersonationData{AppName: appName, Impersonation: d}
	return app.Email{To: to, Subject: "Support made changes in your " + appName + " account",
		Text: render(impersonationText, data), HTML: render(impersonationHTML, data), Ref: "impersonation"}
}
