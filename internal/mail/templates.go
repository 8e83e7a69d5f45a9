package mail

import (
	htmltemplate "html/template"
	"io"
	"strings"
	texttemplate "text/template"

	"atrium/internal/app"
)

// magicLinkData is what the magic-link templates see.
type magicLinkData struct {
	AppName string
	Link    string
	Minutes int
}

var magicLinkText = texttemplate.Must(texttemplate.New("login.txt").Parse(
	`Hi,

Use this link to sign in to {{.AppName}}:

{{.Link}}

The link expires in {{.Minutes}} minutes and can be used once.

If you did not ask to sign in, you can ignore this email. Nobody can sign
in without the link.

{{.AppName}}
`))

var magicLinkHTML = htmlEmail("login.html", `{{define "title"}}Sign in to {{.AppName}}{{end}}
{{define "content"}}
<h1 style="margin:0 0 16px;font-size:20px;">Sign in to {{.AppName}}</h1>
<p style="margin:0 0 24px;font-size:15px;line-height:1.5;">Click the button below to sign in.</p>
<p style="margin:0 0 24px;"><a href="{{.Link}}" style="display:inline-block;background:#2563eb;color:#ffffff;text-decoration:none;font-weight:600;padding:12px 24px;border-radius:6px;">Sign in</a></p>
<p style="margin:0 0 16px;font-size:13px;line-height:1.5;color:#52525b;">The link expires in {{.Minutes}} minutes and can be used once. If the button does not work, copy this address into your browser:<br><a href="{{.Link}}" style="color:#2563eb;word-break:break-all;">{{.Link}}</a></p>
<p style="margin:0;font-size:13px;line-height:1.5;color:#52525b;">If you did not ask to sign in, you can ignore this email. Nobody can sign in without the link.</p>
{{end}}`)

// MagicLinkEmail renders the sign-in email that carries link to to.
func MagicLinkEmail(appName, to, link string) app.Email {
	data := magicLinkData{
		AppName: appName,
		Link:    link,
		Minutes: int(app.LoginTokenTTL.Minutes()),
	}
	return app.Email{
		To:      to,
		Subject: "Sign in to " + appName,
		Text:    render(magicLinkText, data),
		HTML:    render(magicLinkHTML, data),
		Ref:     "login",
	}
}

// emailLayout is the frame every HTML email shares: a grey page with one
// white card. Each email defines its "title" and "content" blocks.
var emailLayout = htmltemplate.Must(htmltemplate.New("layout.html").Parse(`<!DOCTYPE html>
<html>
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
