package mail

import (
	texttemplate "text/template"

	"atrium/internal/app"
)

// codeLockData is what the code-entry lock templates see.
type codeLockData struct {
	AppName  string
	Failures int
	Minutes  int
	Account  string // the account settings URL
}

var codeLockText = texttemplate.Must(texttemplate.New("locked.txt").Parse(
	`Hi,

Someone entered {{.Failures}} wrong two-factor codes while signing in to your
{{.AppName}} account, so code entry is locked for {{.Minutes}} minutes. A passkey
still works.

They got past your sign-in link, so they may have access to your email. If it
was not you, change your email password now, then review your signed-in devices:

{{.Account}}

If it was you, wait {{.Minutes}} minutes and try again, or use a recovery code.

{{.AppName}}
`))

var codeLockHTML = htmlEmail("locked.html", `{{define "title"}}Two-factor code entry locked{{end}}
{{define "content"}}
<h1 style="margin:0 0 16px;font-size:20px;">Two-factor code entry locked</h1>
<p style="margin:0 0 16px;font-size:15px;line-height:1.5;">Someone entered {{.Failures}} wrong two-factor codes while signing in to your {{.AppName}} account, so code entry is locked for {{.Minutes}} minutes. A passkey still works.</p>
<p style="margin:0 0 16px;font-size:15px;line-height:1.5;">They got past your sign-in link, so they may have access to your email. <strong>If it was not you, change your email password now</strong>, then review your signed-in devices.</p>
<p style="margin:0 0 24px;"><a href="{{.Account}}" style="display:inline-block;background:#2563eb;color:#ffffff;text-decoration:none;font-weight:600;padding:12px 24px;border-radius:6px;">Review your account</a></p>
<p style="margin:0;font-size:13px;line-height:1.5;color:#52525b;">If it was you, wait {{.Minutes}} minutes and try again, or use a recovery code.</p>
{{end}}`)

// CodeLockedEmail tells to that code entry on their account was locked
// after too many wrong two-factor codes; accountURL is the account page.
func CodeLockedEmail(appName, to, accountURL string) app.Email {
	data := codeLockData{AppName: appName, Failures: app.CodeFailureLimit,
		Minutes: int(app.CodeLockout.Minutes()), Account: accountURL}
	return app.Email{
		To:      to,
		Subject: "Two-factor code entry locked on your " + appName + " account",
		Text:    render(codeLockText, data),
		HTML:    render(codeLockHTML, data),
		Ref:     "two_factor_locked",
	}
}

// securityNoticeData is what the security-change templates see.
type securityNoticeData struct {
	AppName string
	Change  string // a sentence: "A passkey named “Laptop” was added."
	Account string // the account settings URL
}

var securityNoticeText = texttemplate.Must(texttemplate.New("security.txt").Parse(
	`Hi,

Two-factor sign-in on your {{.AppName}} account changed:

{{.Change}}

If this was you, there is nothing to do.

If it was not, someone is signed in as you. Sign in, undo the change, sign
out the devices you do not recognise, and change your email password:

{{.Account}}

{{.AppName}}
`))

var securityNoticeHTML = htmlEmail("security.html", `{{define "title"}}Two-factor sign-in changed{{end}}
{{define "content"}}
<h1 style="margin:0 0 16px;font-size:20px;">Two-factor sign-in changed</h1>
<p style="margin:0 0 16px;font-size:15px;line-height:1.5;">{{.Change}}</p>
<p style="margin:0 0 16px;font-size:15px;line-height:1.5;">If this was you, there is nothing to do. <strong>If it was not, someone is signed in as you</strong>: sign in, undo the change, sign out the devices you do not recognise, and change your email password.</p>
<p style="margin:0;"><a href="{{.Account}}" style="display:inline-block;background:#2563eb;color:#ffffff;text-decoration:none;font-weight:600;padding:12px 24px;border-radius:6px;">Review your account</a></p>
{{end}}`)

// SecurityNotices returns the builder of the email that tells a user
// their two-factor sign-in changed (store.TwoFactorService.Notice):
// change is a sentence such as "A passkey named “Laptop” was added.",
// accountURL the account page.
func SecurityNotices(appName, accountURL string) func(to, change string) app.Email {
	return func(to, change string) app.Email {
		d := securityNoticeData{AppName: appName, Change: change, Account: accountURL}
		return app.Email{To: to, Subject: "Two-factor sign-in changed on your " + appName + " account",
			Text: render(securityNoticeText, d), HTML: render(securityNoticeHTML, d), Ref: "security-notice"}
	}
}
