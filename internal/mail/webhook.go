package mail

import (
	texttemplate "text/template"

	"atrium/internal/app"
	"atrium/internal/i18n"
)

// webhookDisabledData is what the endpoint-turned-off templates see.
type webhookDisabledData struct {
	tr
	AppName  string
	Endpoint string // the endpoint's label: scheme and host, never its path
	Reason   app.Sentence
	Link     string
}

var webhookDisabledText = texttemplate.Must(texttemplate.New("webhook_disabled.txt").Parse(
	`{{.T "mail.greeting"}}

{{.T "mail.webhook.turned_off" "AppName" .AppName "Endpoint" .Endpoint "Reason" (.S .Reason)}}

{{.T "mail.webhook.text.next"}}

{{.Link}}

{{.AppName}}
`))

var webhookDisabledHTML = htmlEmail("webhook_disabled.html", `{{define "title"}}{{.T "mail.webhook.title"}}{{end}}
{{define "content"}}
<h1 style="margin:0 0 16px;font-size:20px;">{{.H "mail.webhook.title"}}</h1>
<p style="margin:0 0 16px;font-size:15px;line-height:1.5;">{{.H "mail.webhook.turned_off" "AppName" .AppName "Endpoint" (.Strong .Endpoint) "Reason" (.S .Reason)}}</p>
<p style="margin:0 0 16px;font-size:15px;line-height:1.5;">{{.H "mail.webhook.html.next"}}</p>
<p style="margin:0;"><a href="{{.Link}}" style="display:inline-block;background:#2563eb;color:#ffffff;text-decoration:none;font-weight:600;padding:12px 24px;border-radius:6px;">{{.H "mail.webhook.button" "AppName" .AppName}}</a></p>
{{end}}`)

// WebhookDisabledNotices returns the builder of the email that tells a
// workspace's owners one of its webhook endpoints was turned off
// (store.WebhookService.Notice), each in their saved language lang (else
// English) from catalog; reason is a sentence of the mail catalog
// (mail.webhook.reason.*), link is where they sign in.
func WebhookDisabledNotices(catalog *i18n.Catalog, appName, link string) func(to, lang, endpoint string, reason app.Sentence) app.Email {
	return func(to, lang, endpoint string, reason app.Sentence) app.Email {
		p := printerFor(catalog, lang)
		d := webhookDisabledData{tr: tr{p}, AppName: appName, Endpoint: endpoint, Reason: reason, Link: link}
		return app.Email{To: to, Subject: p.T("mail.webhook.subject", "Endpoint", endpoint),
			Text: render(webhookDisabledText, d), HTML: render(webhookDisabledHTML, d), Ref: "webhook_disabled"}
	}
}
