package server

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/a-h/templ"

	"atrium/internal/app"
	"atrium/internal/i18n"
	"atrium/web/component"
)

// Audit entries are stored without language: an action code and its
// metadata. Pages write them in the reader's language at read time from
// the audit catalog (locales/*/audit.json): each action has a summary,
// audit.action.<code>.summary, with {{.Actor}} and one placeholder per
// value the app catalog's English template names ({email}, {role|role}
// become {{.email}}, {{.role}}), and a filter label,
// audit.action.<code>.label. The CSV and JSON Lines exports and webhook
// payloads keep the English of app.AuditEntry.Summary.

// auditSlot is one value a summary template takes from the metadata.
type auditSlot struct {
	Key    string // the metadata key, which is also the placeholder's name
	Format string // "role" for a role shown by its label; "" otherwise
}

// auditSlots returns the values an app catalog summary template names,
// in order, without its {actor}.
func auditSlots(summary string) []auditSlot {
	var out []auditSlot
	for rest := summary; ; {
		i := strings.IndexByte(rest, '{')
		if i < 0 {
			return out
		}
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			return out
		}
		key, format, _ := strings.Cut(rest[i+1:i+j], "|")
		if key != "actor" {
			out = append(out, auditSlot{Key: key, Format: format})
		}
		rest = rest[i+j+1:]
	}
}

// auditSummaryKey returns the catalog key of an action's summary.
func auditSummaryKey(code string) string { return "audit.action." + code + ".summary" }

// auditText is what writing an action's summary takes, worked out once per
// action rather than for every row of every page: its catalog key and the
// values its template names.
type auditText struct {
	key   string
	slots []auditSlot
}

// auditTexts holds an *auditText by action code.
var auditTexts sync.Map

func auditTextOf(a app.AuditAction) *auditText {
	if t, ok := auditTexts.Load(a.Code); ok {
		return t.(*auditText)
	}
	t, _ := auditTexts.LoadOrStore(a.Code, &auditText{key: auditSummaryKey(a.Code), slots: auditSlots(a.Summary)})
	return t.(*auditText)
}

// auditSummaryArgs returns the catalog key of e's summary and its values,
// actor first, as name, value pairs for i18n.T or component.Sentence:
// roles and yes/no by their labels, an email nobody recorded as
// "someone", any other missing value as "". An action the audit catalog
// does not translate yet (TestAuditCatalog_Translated fails for it) reads
// in English.
func auditSummaryArgs(ctx context.Context, e *app.AuditEntry, actor any) (string, []any) {
	a, ok := app.LookupAuditAction(e.Action)
	if !ok {
		return "audit.action.unknown.summary", []any{"Actor", actor, "Action", e.Action}
	}
	t := auditTextOf(a)
	if !i18n.Has(ctx, t.key) {
		return "audit.action.untranslated.summary", []any{"Actor", actor, "Text", e.SummaryText()}
	}
	args := make([]any, 2, 2+2*len(t.slots))
	args[0], args[1] = "Actor", actor
	for _, s := range t.slots {
		args = append(args, s.Key, auditSummaryValue(ctx, s, e.Metadata[s.Key]))
	}
	return t.key, args
}

// auditSummaryValue formats one value of a summary.
func auditSummaryValue(ctx context.Context, s auditSlot, v any) string {
	val := ""
	switch v := v.(type) {
	case nil:
	case string:
		val = v
	case bool:
		if v {
			val = i18n.T(ctx, "audit.value.true")
		} else {
			val = i18n.T(ctx, "audit.value.false")
		}
	default:
		val = fmt.Sprint(v)
	}
	switch {
	case s.Format == "role":
		return roleName(ctx, app.Role(val))
	case s.Key == "interval" && (val == string(app.Monthly) || val == string(app.Annual)):
		return i18n.T(ctx, "audit.interval."+val)
	case s.Key == "interval" && val != "":
		return val + "ly"
	case val == "" && s.Key == "email":
		return i18n.T(ctx, "audit.someone")
	}
	return val
}

// auditSummary returns e as one sentence in ctx's language: "Ada Lovelace
// invited grace@example.com as Admin".
func auditSummary(ctx context.Context, e *app.AuditEntry) string {
	key, args := auditSummaryArgs(ctx, e, auditWho(ctx, e))
	return i18n.T(ctx, key, args...)
}

// auditSentence is auditSummary for a page, with actor (the actor's
// name, their email on hover) in its place in the sentence.
func auditSentence(ctx context.Context, e *app.AuditEntry, actor templ.Component) templ.Component {
	key, args := auditSummaryArgs(ctx, e, actor)
	return component.Sentence(key, args...)
}

// auditWho names who an entry names as its actor, as app.AuditEntry.Who
// does, in ctx's language: the name, else the email, else "A deleted
// user", "Stripe" for billing entries without an actor, "System".
func auditWho(ctx context.Context, e *app.AuditEntry) string {
	switch {
	case e.ActorName != "":
		return e.ActorName
	case e.ActorEmail != "":
		return e.ActorEmail
	case e.ActorID != 0:
		return i18n.T(ctx, "audit.who.deleted_user")
	}
	if e.Family() == app.FamilyBilling {
		return i18n.T(ctx, "audit.who.stripe")
	}
	return i18n.T(ctx, "audit.who.system")
}

// auditFamilyLabel returns a family's name ("Billing"), "" for none.
func auditFamilyLabel(ctx context.Context, f app.AuditFamily) string {
	if f == "" {
		return ""
	}
	return i18n.T(ctx, "audit.family."+string(f))
}

// auditActionLabel describes an action for the filter list: its family
// and its summary without the actor, each value shown as "…" ("Invite:
// invited … as …").
func auditActionLabel(ctx context.Context, a app.AuditAction) string {
	label := "audit.action." + a.Code + ".label"
	if s := i18n.T(ctx, label); s != label {
		label = s
	} else {
		label = a.Label() // not translated yet
	}
	return i18n.T(ctx, "audit.filter.action_option", "Family", auditFamilyLabel(ctx, a.Family), "Action", label)
}

// auditMetadataLabel returns the label of a metadata key ("Previous
// role"); a key the catalog does not list has its words spelled out, as
// app.AuditMetadataLabel does.
func auditMetadataLabel(ctx context.Context, key string) string {
	k := "audit.metadata." + key
	if s := i18n.T(ctx, k); s != k {
		return s
	}
	if strings.TrimSpace(key) == "" {
		return i18n.T(ctx, "audit.metadata.detail")
	}
	return app.AuditMetadataLabel(key)
}
