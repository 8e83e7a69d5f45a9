package mail

import (
	"strings"
	texttemplate "text/template"
	"unicode"

	"atrium/internal/app"
	"atrium/internal/i18n"
)

// inviteData is what the invite templates see.
type inviteData struct {
	tr
	AppName   string
	Workspace string
	Inviter   string
	Role      string
	Link      string
	Days      int
	Test      bool
}

var inviteText = texttemplate.Must(texttemplate.New("invite.txt").Parse(
	`{{.T "mail.greeting"}}
{{if .Test}}
{{.T "mail.test_invite.text" "AppName" .AppName}}
{{else}}
{{.T "mail.invite.invited" "Inviter" .Inviter "Workspace" .Workspace "AppName" .AppName "Role" .Role}}

{{.T "mail.invite.text.accept"}}

{{.Link}}

{{.T "mail.invite.validity" "Days" .Days}}
{{.T "mail.invite.text.ignore"}}
{{end}}
{{.AppName}}
`))

var inviteHTML = htmlEmail("invite.html", `{{define "title"}}{{if .Test}}{{.T "mail.test_invite.title"}}{{else}}{{.T "mail.invite.title" "Workspace" .Workspace}}{{end}}{{end}}
{{define "content"}}
{{if .Test}}
<h1 style="margin:0 0 16px;font-size:20px;">{{.H "mail.test_invite.subject" "AppName" .AppName}}</h1>
<p style="margin:0;font-size:15px;line-height:1.5;">{{.H "mail.test_invite.html"}}</p>
{{else}}
<h1 style="margin:0 0 16px;font-size:20px;">{{.H "mail.invite.title" "Workspace" .Workspace}}</h1>
<p style="margin:0 0 24px;font-size:15px;line-height:1.5;">{{.H "mail.invite.invited" "Inviter" .Inviter "Workspace" (.Strong .Workspace) "AppName" .AppName "Role" .Role}}</p>
<p style="margin:0 0 24px;"><a href="{{.Link}}" style="display:inline-block;background:#2563eb;color:#ffffff;text-decoration:none;font-weight:600;padding:12px 24px;border-radius:6px;">{{.H "mail.invite.button"}}</a></p>
<p style="margin:0;font-size:13px;line-height:1.5;color:#52525b;">{{.H "mail.invite.validity" "Days" .Days}} {{.H "mail.copy_link"}}<br><a href="{{.Link}}" style="color:#2563eb;word-break:break-all;">{{.Link}}</a></p>
{{end}}
{{end}}`)

// InviteEmail renders the email inviting to to join workspace, in the
// language of p.
func InviteEmail(p *i18n.Printer, appName, to, workspace, inviter string, role app.Role, link string) app.Email {
	d := inviteData{tr: tr{p}, AppName: appName, Workspace: workspace, Inviter: inviter, Role: p.T("mail.role." + string(role)),
		Link: link, Days: int(app.InviteTTL.Hours() / 24)}
	return app.Email{To: to, Subject: p.T("mail.invite.subject", "Inviter", SubjectName(inviter), "Workspace", SubjectName(workspace),
		"AppName", appName), Text: render(inviteText, d), HTML: render(inviteHTML, d)}
}

// TestInviteEmail renders the invite-style email an operator sends to
// themselves to check SMTP, in the language of p; it carries no link and
// grants nothing.
func TestInviteEmail(p *i18n.Printer, appName, to string) app.Email {
	d := inviteData{tr: tr{p}, AppName: appName, Test: true}
	return app.Email{To: to, Subject: p.T("mail.test_invite.subject", "AppName", appName), Text: render(inviteText, d),
		HTML: render(inviteHTML, d), Ref: "test-invite"}
}

// MaxSubjectName is the most characters of a user-chosen name a subject
// line shows.
const MaxSubjectName = 60

// SubjectName returns a name someone chose (a display name, a workspace
// name) as a subject line shows it: in quotes, so it cannot pass for the
// sentence around it; without control or bidirectional-formatting
// characters and with runs of spaces collapsed; and at most MaxSubjectName
// characters, cut with an ellipsis.
func SubjectName(name string) string {
	var b strings.Builder
	n, space := 0, false
	for _, r := range name {
		switch {
		case unicode.IsSpace(r):
			space = n > 0
			continue
		case unicode.IsControl(r), unicode.Is(unicode.Bidi_Control, r), r == '\uFEFF', r == '\u200B':
			continue
		case r == '"' || r == '\u201C' || r == '\u201D':
			r = '\''
		}
		if space {
			b.WriteRune(' ')
			n++
			space = false
		}
		b.WriteRune(r)
		n++
	}
	runes := []rune(b.String())
	if len(runes) > MaxSubjectName {
		runes = append(runes[:MaxSubjectName-1], '…')
	}
	return "“" + string(runes) + "”"
}
