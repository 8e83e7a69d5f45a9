package mail

import (
	texttemplate "text/template"

	"atrium/internal/app"
	"atrium/internal/i18n"
)

// codeLockData is what the code-entry lock templates see.
type codeLockData struct {
	tr
	AppName  string
	Failures int
	Minutes  int
	Account  string // the account settings URL
}

var codeLockText = texttemplate.Must(texttemplate.New("locked.txt").Parse(
	`{{.T "mail.greeting"}}

{{.T "mail.locked.entered" "Failures" .Failures "AppName" .AppName "Minutes" .Minutes}}

{{.T "mail.locked.text.past"}}

{{.Account}}

{{.T "mail.locked.if_you" "Minutes" .Minutes}}

{{.AppName}}
`))

var codeLockHTML = htmlEmail("locked.html", `{{define "title"}}{{.T "mail.locked.title"}}{{end}}
{{define "content"}}
<h1 style="margin:0 0 16px;font-size:20px;">{{.H "mail.locked.title"}}</h1>
<p style="margin:0 0 16px;font-size:15px;line-height:1.5;">{{.H "mail.locked.entered" "Failures" .Failures "AppName" .AppName "Minutes" .Minutes}}</p>
<p style="margin:0 0 16px;font-size:15px;line-height:1.5;">{{.H "mail.locked.html.past" "Warning" (.Strong (.T "mail.locked.change_password"))}}</p>
<p style="margin:0 0 24px;"><a href="{{.Account}}" style="display:inline-block;background:#2563eb;color:#ffffff;text-decoration:none;font-weight:600;padding:12px 24px;border-radius:6px;">{{.H "mail.notice.review"}}</a></p>
<p style="margin:0;font-size:13px;line-height:1.5;color:#52525b;">{{.H "mail.locked.if_you" "Minutes" .Minutes}}</p>
{{end}}`)

// CodeLockedEmail tells to, in the language of p, that code entry on their
// account was locked after too many wrong two-factor codes; accountURL is
// the account page.
func CodeLockedEmail(p *i18n.Printer, appName, to, accountURL string) app.Email {
	data := codeLockData{tr: tr{p}, AppName: appName, Failures: app.CodeFailureLimit,
		Minutes: int(app.CodeLockout.Minutes()), Account: accountURL}
	return app.Email{
		To:      to,
		Subject: p.T("mail.locked.subject", "AppName", appName),
		Text:    render(codeLockText, data),
		HTML:    render(codeLockHTML, data),
		Ref:     "two_factor_locked",
	}
}

// securityNoticeData is what the security-change templates see.
type securityNoticeData struct {
	tr
	AppName string
	Change  app.Sentence // "A passkey named “Laptop” was added."
	Account string       // the account settings URL
}

var securityNoticeText = texttemplate.Must(texttemplate.New("security.txt").Parse(
	`{{.T "mail.greeting"}}

{{.T "mail.security.text.intro" "AppName" .AppName}}

{{.S .Change}}

{{.T "mail.notice.if_you"}}

{{.T "mail.security.text.if_not"}}

{{.Account}}

{{.AppName}}
`))

var securityNoticeHTML = htmlEmail("security.html", `{{define "title"}}{{.T "mail.security.title"}}{{end}}
{{define "content"}}
<h1 style="margin:0 0 16px;font-size:20px;">{{.H "mail.security.title"}}</h1>
<p style="margin:0 0 16px;font-size:15px;line-height:1.5;">{{.HS .Change}}</p>
<p style="margin:0 0 16px;font-size:15px;line-height:1.5;">{{.H "mail.notice.if_you"}} {{.H "mail.security.html.if_not" "Warning" (.Strong (.T "mail.notice.someone"))}}</p>
<p style="margin:0;"><a href="{{.Account}}" style="display:inline-block;background:#2563eb;color:#ffffff;text-decoration:none;font-weight:600;padding:12px 24px;border-radius:6px;">{{.H "mail.notice.review"}}</a></p>
{{end}}`)

// SecurityNotices returns the builder of the email that tells a user
// their two-factor sign-in changed (store.TwoFactorService.Notice), in
// their saved language lang (else English) from catalog: change is a
// sentence of the mail catalog such as mail.security.passkey_added ("A
// passkey named “Laptop” was added: …"), accountURL the account page.
func SecurityNotices(catalog *i18n.Catalog, appName, accountURL string) func(to, lang string, change app.Sentence) app.Email {
	return func(to, lang string, change app.Sentence) app.Email {
		p := printerFor(catalog, lang)
		d := securityNoticeData{tr: tr{p}, AppName: appName, Change: change, Account: accountURL}
		return app.Email{To: to, Subject: p.T("mail.security.subject", "AppName", appName),
			Text: render(securityNoticeText, d), HTML: render(securityNoticeHTML, d), Ref: "security-notice"}
	}
}
