package mail

import (
	texttemplate "text/template"

	"atrium/internal/app"
)

var identityNoticeText = texttemplate.Must(texttemplate.New("identity.txt").Parse(
	`Hi,

The accounts that can sign in to your {{.AppName}} account changed:

{{.Change}}

If this was you, there is nothing to do.

If it was not, someone is signed in as you. Sign in, unlink the account you
do not recognise, sign out the devices you do not recognise, and change your
email password:

{{.Account}}

{{.AppName}}
`))

var identityNoticeHTML = htmlEmail("identity.html", `{{define "title"}}Sign-in accounts changed{{end}}
{{define "content"}}
<h1 style="margin:0 0 16px;font-size:20px;">Sign-in accounts changed</h1>
<p style="margin:0 0 16px;font-size:15px;line-height:1.5;">{{.Change}}</p>
<p style="margin:0 0 16px;font-size:15px;line-height:1.5;">If this was you, there is nothing to do. <strong>If it was not, someone is signed in as you</strong>: sign in, unlink the account you do not recognise, sign out the devices you do not recognise, and change your email password.</p>
<p style="margin:0;"><a href="{{.Account}}" style="display:inline-block;background:#2563eb;color:#ffffff;text-decoration:none;font-weight:600;padding:12px 24px;border-radius:6px;">Review your account</a></p>
{{end}}`)

// IdentityNotices returns the builder of the email that tells a user an
// account at an identity provider was linked to or unlinked from theirs
// (store.IdentityService.Notice): change is a sentence such as "Your
// google account (ada@example.com) was linked: it can now sign you in.",
// accountURL the account page.
func IdentityNotices(appName, accountURL string) func(to, change string) app.Email {
	return func(to, change string) app.Email {
		d := securityNoticeData{AppName: appName, Change: change, Account: accountURL}
		return app.Email{To: to, Subject: "Sign-in accounts changed on your " + appName + " account",
			Text: render(identityNoticeText, d), HTML: render(identityNoticeHTML, d), Ref: "identity-notice"}
	}
}
