package mail

import (
	texttemplate "text/template"

	"atrium/internal/app"
	"atrium/internal/i18n"
)

// Impersonation is what the email after a staff write session tells the
// user, preformatted (the times in the user's language and time zone).
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
	tr
	AppName string
	Impersonation
}

var impersonationText = texttemplate.Must(texttemplate.New("impersonation.txt").Parse(
	`{{.T "mail.greeting"}}

{{.T "mail.impersonation.used" "AppName" .AppName "Staff" .Staff "Started" .Started "Ended" .Ended}}

{{.T "mail.impersonation.reason" "Reason" .Reason}}
{{.T "mail.impersonation.write_reason" "Reason" .WriteReason}}

{{.T "mail.impersonation.recorded"}}

{{.T "mail.impersonation.text.workspaces" "URL" .AuditURL}}

{{.T "mail.impersonation.help"}}

{{.AppName}}
`))

var impersonationHTML = htmlEmail("impersonation.html", `{{define "title"}}{{.T "mail.impersonation.title"}}{{end}}
{{define "content"}}
<h1 style="margin:0 0 16px;font-size:20px;">{{.H "mail.impersonation.title"}}</h1>
<p style="margin:0 0 16px;font-size:15px;line-height:1.5;">{{.H "mail.impersonation.used" "AppName" .AppName "Staff" (.Strong .Staff) "Started" .Started "Ended" .Ended}}</p>
<p style="margin:0 0 8px;font-size:15px;line-height:1.5;">{{.H "mail.impersonation.reason" "Reason" (.Strong .Reason)}}</p>
<p style="margin:0 0 16px;font-size:15px;line-height:1.5;">{{.H "mail.impersonation.write_reason" "Reason" (.Strong .WriteReason)}}</p>
<p style="margin:0 0 16px;font-size:15px;line-height:1.5;">{{.H "mail.impersonation.recorded"}}</p>
<p style="margin:0 0 24px;"><a href="{{.AuditURL}}" style="display:inline-block;background:#2563eb;color:#ffffff;text-decoration:none;font-weight:600;padding:12px 24px;border-radius:6px;">{{.H "mail.impersonation.button"}}</a></p>
<p style="margin:0;font-size:13px;line-height:1.5;color:#52525b;">{{.H "mail.impersonation.help"}}</p>
{{end}}`)

// ImpersonationEmail renders the email telling to, in the language of p,
// that a staff member made changes in their account during a write
// session, and why.
func ImpersonationEmail(p *i18n.Printer, appName, to string, d Impersonation) app.Email {
	data := impersonationData{tr: tr{p}, AppName: appName, Impersonation: d}
	return app.Email{To: to, Subject: p.T("mail.impersonation.subject", "AppName", appName),
		Text: render(impersonationText, data), HTML: render(impersonationHTML, data), Ref: "impersonation"}
}
