package mail

import (
	texttemplate "text/template"

	"atrium/internal/app"
)

// twoFactorResetData is what the two-factor reset templates see.
type twoFactorResetData struct {
	AppName  string
	Reason   string
	LoginURL string
}

var twoFactorResetText = texttemplate.Must(texttemplate.New("twofactor_reset.txt").Parse(
	`Hi,

An operator of {{.AppName}} reset two-factor sign-in for your account. Your
authenticator app, passkeys and recovery codes no longer work here.

The reason given: {{.Reason}}

Sign in with a link sent to this email address:

{{.LoginURL}}

Then set up two-factor sign-in again in your account settings. Workspaces
that require it stay closed to you until you do.

If you did not ask for this, contact support straight away: someone may be
trying to get into your account.

{{.AppName}}
`))

var twoFactorResetHTML = htmlEmail("twofactor_reset.html", `{{define "title"}}Two-factor sign-in was reset{{end}}
{{define "content"}}
<h1 style="margin:0 0 16px;font-size:20px;">Two-factor sign-in was reset</h1>
<p style="margin:0 0 16px;font-size:15px;line-height:1.5;">An operator of {{.AppName}} reset two-factor sign-in for your account. Your authenticator app, passkeys and recovery codes no longer work here.</p>
<p style="margin:0 0 16px;font-size:15px;line-height:1.5;">The reason given: <strong>{{.Reason}}</strong></p>
<p style="margin:0 0 24px;font-size:15px;line-height:1.5;">Sign in with a link sent to this email address, then set up two-factor sign-in again in your account settings. Workspaces that require it stay closed to you until you do.</p>
<p style="margin:0 0 24px;"><a href="{{.LoginURL}}" style="display:inline-block;background:#2563eb;color:#ffffff;text-decoration:none;font-weight:600;padding:12px 24px;border-radius:6px;">Sign in</a></p>
<p style="margin:0;font-size:13px;line-height:1.5;color:#52525b;">If you did not ask for this, contact support straight away: someone may be trying to get into your account.</p>
{{end}}`)

// TwoFactorResetEmail renders the email telling to that an operator reset
// their two-factor sign-in, with the reason given and the sign-in page
// (loginURL) where an email link gets them back in.
func TwoFactorResetEmail(appName, to, reason, loginURL string) app.Email {
	d := twoFactorResetData{AppName: appName, Reason: reason, LoginURL: loginURL}
	return app.Email{To: to, Subject: "Two-factor sign-in was reset for your " + appName + " account",
		Text: render(twoFactorResetText, d), HTML: render(twoFactorResetHTML, d), Ref: "two-factor-reset"}
}
