package mail

import (
	htmltemplate "html/template"
	"io"
	"strings"
	texttemplate "text/template"

	"atrium/internal/app"
	"atrium/internal/i18n"
)

// magicLinkData is what the magic-link templates see.
type magicLinkData struct {
	tr
	AppName string
	Link    string
	Minutes int
}

var magicLinkText = texttemplate.Must(texttemplate.New("login.txt").Parse(
	`{{.T "mail.greeting"}}

{{.T "mail.login.text.intro" "AppName" .AppName}}

{{.Link}}

{{.T "mail.login.expiry" "Minutes" .Minutes}}

{{.T "mail.login.ignore"}}

{{.AppName}}
`))

var magicLinkHTML = htmlEmail("login.html", `{{define "title"}}{{.T "mail.login.subject" "AppName" .AppName}}{{end}}
{{define "content"}}
<h1 style="margin:0 0 16px;font-size:20px;">{{.H "mail.login.subject" "AppName" .AppName}}</h1>
<p style="margin:0 0 24px;font-size:15px;line-height:1.5;">{{.H "mail.login.html.intro"}}</p>
<p style="margin:0 0 24px;"><a href="{{.Link}}" style="display:inline-block;background:#2563eb;color:#ffffff;text-decoration:none;font-weight:600;padding:12px 24px;border-radius:6px;">{{.H "mail.button.sign_in"}}</a></p>
<p style="margin:0 0 16px;font-size:13px;line-height:1.5;color:#52525b;">{{.H "mail.login.expiry" "Minutes" .Minutes}} {{.H "mail.copy_link"}}<br><a href="{{.Link}}" style="color:#2563eb;word-break:break-all;">{{.Link}}</a></p>
<p style="margin:0;font-size:13px;line-height:1.5;color:#52525b;">{{.H "mail.login.ignore"}}</p>
{{end}}`)

// MagicLinkEmail renders the sign-in email that carries link to to, in
// the language of p.
func MagicLinkEmail(p *i18n.Printer, appName, to, link string) app.Email {
	data := magicLinkData{
		tr:      tr{p},
		AppName: appName,
		Link:    link,
		Minutes: int(app.LoginTokenTTL.Minutes()),
	}
	return app.Email{
		To:      to,
		Subject: p.T("mail.login.subject", "AppName", appName),
		Text:    render(magicLinkText, data),
		HTML:    render(magicLinkHTML, data),
		Ref:     "login",
	}
}

// emailLayout is the frame every HTML email shares: a grey page with one
// white card. Each email defines its "title" and "content" blocks.
var emailLayout = htmltemplate.Must(htmltemplate.New("layout.html").Parse(`<!DOCTYPE html>
<html lang="{{.Lang}}">
<head><meta charset="utf-8"><title>{{template "title" .}}</title></head>
<body style="margin:0;padding:0;background:#f4f4f5;font-family:-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;color:#18181b;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f4f4f5;padding:32px 0;">
<tr><td align="center">
<table role="presentation" width="480" cellpadding="0" cellspacing="0" style="max-width:480px;background:#ffffff;border-radius:8px;padding:32px;">
<tr><td>
{{template "content" .}}
</td></tr>
</table>
</td></tr>
</table>
</body>
</html>
`))

// htmlEmail returns the shared layout with an email's blocks filled in.
func htmlEmail(name, blocks string) *htmltemplate.Template {
	return htmltemplate.Must(htmltemplate.Must(emailLayout.Clone()).New(name).Parse(blocks)).Lookup("layout.html")
}

// template is what text and HTML templates have in common.
type template interface {
	Execute(w io.Writer, data any) error
}

// render executes t. The templates are fixed and the data are plain
// strings, so a failure is a bug in this file.
func render(t template, data any) string {
	var b strings.Builder
	if err := t.Execute(&b, data); err != nil {
		panic("mail: render email template: " + err.Error())
	}
	return b.String()
}
