package mail

import (
	texttemplate "text/template"

	"atrium/internal/app"
	"atrium/internal/i18n"
)

var identityNoticeText = texttemplate.Must(texttemplate.New("identity.txt").Parse(
	`{{.T "mail.greeting"}}

{{.T "mail.identity.text.intro" "AppName" .AppName}}

{{.S .Change}}

{{.T "mail.notice.if_you"}}

{{.T "mail.identity.text.if_not"}}

{{.Account}}

{{.AppName}}
`))

var identityNoticeHTML = htmlEmail("identity.html", `{{define "title"}}{{.T "mail.identity.title"}}{{end}}
{{define "content"}}
<h1 style="margin:0 0 16px;font-size:20px;">{{.H "mail.identity.title"}}</h1>
<p style="margin:0 0 16px;font-size:15px;line-height:1.5;">{{.HS .Change}}</p>
<p style="margin:0 0 16px;font-size:15px;line-height:1.5;">{{.H "mail.notice.if_you"}} {{.H "mail.identity.html.if_not" "Warning" (.Strong (.T "mail.notice.someone"))}}</p>
<p style="margin:0;"><a href="{{.Account}}" style="display:inline-block;background:#2563eb;color:#ffffff;text-decoration:none;font-weight:600;padding:12px 24px;border-radius:6px;">{{.H "mail.notice.review"}}</a></p>
{{end}}`)

// IdentityNotices returns the builder of the email that tells a user an
// account at an identity provider was linked to or unlinked from theirs
// (store.IdentityService.Notice), in their saved language lang (else
// English) from catalog: change is a sentence of the mail catalog such as
// mail.identity.linked ("Your google account (ada@example.com) was
// linked: it can now sign you in."), accountURL the account page.
func IdentityNotices(catalog *i18n.Catalog, appName, accountURL string) func(to, lang string, change app.Sentence) app.Email {
	return func(to, lang string, change app.Sentence) app.Email {
		p := printerFor(catalog, lang)
		d := securityNoticeData{tr: tr{p}, AppName: appName, Change: change, Account: accountURL}
		return app.Email{To: to, Subject: p.T("mail.identity.subject", "AppName", appName),
			Text: render(identityNoticeText, d), HTML: render(identityNoticeHTML, d), Ref: "identity-notice"}
	}
}
