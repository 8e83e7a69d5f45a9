package mail

import (
	texttemplate "text/template"

	"atrium/internal/app"
	"atrium/internal/i18n"
)

// twoFactorResetData is what the two-factor reset templates see.
type twoFactorResetData struct {
	tr
	AppName  string
	Reason   string
	LoginURL string
}

var twoFactorResetText = texttemplate.Must(texttemplate.New("twofactor_reset.txt").Parse(
	`{{.T "mail.greeting"}}

{{.T "mail.reset.done" "AppName" .AppName}}

{{.T "mail.reset.reason" "Reason" .Reason}}

{{.T "mail.reset.text.sign_in"}}

{{.LoginURL}}

{{.T "mail.reset.text.then"}}

{{.T "mail.reset.not_you"}}

{{.AppName}}
`))

var twoFactorResetHTML = htmlEmail("twofactor_reset.html", `{{define "title"}}{{.T "mail.reset.title"}}{{end}}
{{define "content"}}
<h1 style="margin:0 0 16px;font-size:20px;">{{.H "mail.reset.title"}}</h1>
<p style="margin:0 0 16px;font-size:15px;line-height:1.5;">{{.H "mail.reset.done" "AppName" .AppName}}</p>
<p style="margin:0 0 16px;font-size:15px;line-height:1.5;">{{.H "mail.reset.reason" "Reason" (.Strong .Reason)}}</p>
<p style="margin:0 0 24px;font-size:15px;line-height:1.5;">{{.H "mail.reset.html.sign_in"}}</p>
<p style="margin:0 0 24px;"><a href="{{.LoginURL}}" style="display:inline-block;background:#2563eb;color:#ffffff;text-decoration:none;font-weight:600;padding:12px 24px;border-radius:6px;">{{.H "mail.button.sign_in"}}</a></p>
<p style="margin:0;font-size:13px;line-height:1.5;color:#52525b;">{{.H "mail.reset.not_you"}}</p>
{{end}}`)

// TwoFactorResetEmail renders the email telling to, in the language of p,
// that an operator reset their two-factor sign-in, with the reason given
// and the sign-in page (loginURL) where an email link gets them back in.
func TwoFactorResetEmail(p *i18n.Printer, appName, to, reason, loginURL string) app.Email {
	d := twoFactorResetData{tr: tr{p}, AppName: appName, Reason: reason, LoginURL: loginURL}
	return app.Email{To: to, Subject: p.T("mail.reset.subject", "AppName", appName),
		Text: render(twoFactorResetText, d), HTML: render(twoFactorResetHTML, d), Ref: "two-factor-reset"}
}
