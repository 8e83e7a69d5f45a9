package i18n_test

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/feature/plural"
	"golang.org/x/text/language"

	"atrium/internal/app"
	"atrium/internal/i18n"
)

func catalog(t *testing.T) *i18n.Catalog {
	t.Helper()
	c, err := i18n.New(i18n.Options{Pseudo: true})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// placeholders returns the template actions of a message, sorted.
func placeholders(s string) []string {
	out := regexp.MustCompile(`{{[^}]*}}`).FindAllString(s, -1)
	slices.Sort(out)
	return slices.Compact(out)
}

// verbs returns the fmt verbs of a message (errors.json's formats), in
// order.
func verbs(s string) []string {
	return regexp.MustCompile(`%[-+# 0-9.\[\]]*[a-zA-Z%]`).FindAllString(s, -1)
}

// readFile reads a catalog file as key → forms (a plain string is the form
// "other").
func readFile(t *testing.T, path string) map[string]map[string]string {
	t.Helper()
	buf, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(buf, &raw); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	out := map[string]map[string]string{}
	for k, v := range raw {
		var s string
		if json.Unmarshal(v, &s) == nil {
			out[k] = map[string]string{"other": s}
			continue
		}
		var forms map[string]string
		if err := json.Unmarshal(v, &forms); err != nil {
			t.Fatalf("%s: key %s is neither a string nor plural forms: %v", path, k, err)
		}
		out[k] = forms
	}
	return out
}

// sharedFiles hold keys of many areas: common.json (navigation, dates,
// money) and errors.json (the English formats of app errors, their own
// keys). Every other file's keys start with its name: members.json holds
// members.*.
var sharedFiles = []string{"common.json", "errors.json"}

// languages returns the catalog folders: language tag → file name → key →
// forms.
func languages(t *testing.T) map[string]map[string]map[string]map[string]string {
	t.Helper()
	dirs, _ := filepath.Glob("locales/*")
	out := map[string]map[string]map[string]map[string]string{}
	for _, dir := range dirs {
		files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
		lang := filepath.Base(dir)
		out[lang] = map[string]map[string]map[string]string{}
		for _, f := range files {
			out[lang][filepath.Base(f)] = readFile(t, f)
		}
	}
	return out
}

// TestCatalogs_Complete checks every shipped language against English:
// the same files with the same keys, the same placeholders in every form,
// and the plural forms the language's CLDR rules need; and that each key
// lives in the file its first segment names.
func TestCatalogs_Complete(t *testing.T) {
	langs := languages(t)
	enFiles := langs["en"]
	if len(langs) < 2 || len(enFiles) == 0 {
		t.Fatalf("catalog folders %v: want English and at least one more", slices.Collect(maps.Keys(langs)))
	}
	for file, keys := range enFiles {
		if slices.Contains(sharedFiles, file) {
			continue
		}
		area := strings.TrimSuffix(file, ".json")
		for key := range keys {
			if !strings.HasPrefix(key, area+".") {
				t.Errorf("en/%s: key %s does not start with %q (a key lives in the file of its area)", file, key, area+".")
			}
		}
	}
	for lang, files := range langs {
		tag := language.MustParse(lang)
		for file, en := range enFiles {
			cat, ok := files[file]
			if !ok {
				t.Errorf("%s: the file %s is missing", lang, file)
				continue
			}
			name := lang + "/" + file
			for key, forms := range en {
				got, ok := cat[key]
				if !ok {
					t.Errorf("%s: key %s is missing", name, key)
					continue
				}
				if v, w := verbs(got["other"]), verbs(forms["other"]); !slices.Equal(v, w) {
					t.Errorf("%s: %s has the fmt verbs %v, English has %v (same order: they fill in turn)", name, key, v, w)
				}
				want := placeholders(forms["other"])
				for form, text := range got {
					have := placeholders(text)
					// A form for exactly one may leave the count out ("Ein Mitglied").
					if form == "one" || form == "zero" || form == "two" {
						have = slices.DeleteFunc(have, func(s string) bool { return s == "{{.Count}}" })
						want := slices.DeleteFunc(slices.Clone(want), func(s string) bool { return s == "{{.Count}}" })
						if !slices.Equal(have, want) {
							t.Errorf("%s: %s (%s) has placeholders %v, English has %v", name, key, form, have, want)
						}
						continue
					}
					if !slices.Equal(have, want) {
						t.Errorf("%s: %s (%s) has placeholders %v, English has %v", name, key, form, have, want)
					}
				}
				if len(forms) > 1 {
					for _, need := range pluralForms(tag) {
						if got[need] == "" {
							t.Errorf("%s: %s needs the plural form %q", name, key, need)
						}
					}
				}
			}
			for key := range cat {
				if _, ok := en[key]; !ok {
					t.Errorf("%s: key %s is not in English (a typo, or a key to remove)", name, key)
				}
			}
		}
		for file := range files {
			if _, ok := enFiles[file]; !ok {
				t.Errorf("%s: the file %s has no English original", lang, file)
			}
		}
	}
}

// pluralForms returns the CLDR plural categories tag uses for whole numbers.
func pluralForms(tag language.Tag) []string {
	names := map[plural.Form]string{plural.Zero: "zero", plural.One: "one", plural.Two: "two", plural.Few: "few", plural.Many: "many", plural.Other: "other"}
	var out []string
	for n := range 200 {
		f := names[plural.Cardinal.MatchPlural(tag, n, 0, 0, 0, 0)]
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

func TestPrinter(t *testing.T) {
	c := catalog(t)
	en, de := c.Printer(language.English), c.Printer(language.German)
	day := time.Date(2026, 3, 5, 23, 30, 0, 0, time.UTC)
	berlin, _ := time.LoadLocation("Europe/Berlin")
	for _, tc := range []struct{ got, want string }{
		{en.T("nav.members"), "Members"},
		{de.T("nav.members"), "Mitglieder"},
		{en.N("members.count", 1), "1 member"},
		{en.N("members.count", 1234), "1,234 members"},
		{de.N("members.count", 1), "1 Mitglied"},
		{de.N("members.count", 2), "2 Mitglieder"},
		{en.Date(day, time.UTC), "5 Mar 2026"},
		{de.Date(day, berlin), "6. März 2026"}, // already the next day in Berlin
		{en.Money(123450, "usd"), "$1,234.50"},
		{de.Money(123450, "eur"), "1.234,50 €"},
		{en.Money(1200, "jpy"), "¥1,200"},
		{en.Money(990, "chf"), "9.90 CHF"},
		{de.Money(123450, "chf"), "1.234,50 CHF"},
		{en.Number(1234567), "1,234,567"},
		{de.Number(1234567), "1.234.567"},
		{en.T("no.such.key"), "no.such.key"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestMatch(t *testing.T) {
	c := catalog(t)
	for _, tc := range []struct {
		saved, accept string
		want          language.Tag
	}{
		{"", "", language.English},
		{"", "de-AT,de;q=0.9,en;q=0.5", language.German},
		{"", "fr-FR,fr;q=0.9", language.English},
		{"de", "en-US", language.German},
		{"xx-not-a-tag", "de", language.German},
		{"fr", "de", language.German}, // a saved language no longer shipped
		{"", "\xff\xfe", language.English},
		{"en-XA", "", i18n.Pseudo},
	} {
		if got := c.Match(tc.saved, tc.accept); got != tc.want {
			t.Errorf("Match(%q, %q) = %s, want %s", tc.saved, tc.accept, got, tc.want)
		}
	}
}

func TestPseudo(t *testing.T) {
	c := catalog(t)
	p := c.Printer(i18n.Pseudo)
	got := p.T("nav.members")
	if !strings.HasPrefix(got, "[") || !strings.HasSuffix(got, "]") || strings.ContainsAny(got, "Members") {
		t.Errorf("pseudo nav.members = %q, want it bracketed with no plain letter left", got)
	}
	if len([]rune(got)) < len("Members")*13/10 {
		t.Errorf("pseudo nav.members = %q, want it at least 30%% longer", got)
	}
	if got := p.N("members.count", 3); !strings.HasPrefix(got, "[3 ") {
		t.Errorf("pseudo plural = %q, want the count kept", got)
	}
	if got := i18n.PseudoText(`Hello {{.Name}}, <a href="/x">go</a>`); !strings.Contains(got, "{{.Name}}") || !strings.Contains(got, `<a href="/x">`) {
		t.Errorf("PseudoText broke a placeholder or a tag: %q", got)
	}
	if plain, err := i18n.New(i18n.Options{}); err != nil || slices.Contains(plain.Languages(), i18n.Pseudo) {
		t.Errorf("the pseudo-locale is offered without being asked for (%v)", err)
	}
}

func TestContext(t *testing.T) {
	c := catalog(t)
	berlin, _ := time.LoadLocation("Europe/Berlin")
	ctx := i18n.WithLocale(context.Background(), c.Printer(language.German), berlin)
	at := time.Date(2026, 12, 5, 13, 4, 0, 0, time.UTC)
	for _, tc := range []struct{ got, want string }{
		{i18n.T(ctx, "nav.members"), "Mitglieder"},
		{i18n.Lang(ctx), "de"},
		{i18n.Date(ctx, at), "5. Dez. 2026"},
		{i18n.DateTime(ctx, at), "5. Dez. 2026, 14:04 CET"},
		{i18n.Date(ctx, time.Time{}), ""},
		{i18n.Number(ctx, 1234), "1.234"},
		{i18n.Money(ctx, 2900, "eur"), "29,00 €"},
		// Without a locale: the key shows, which the pseudo-locale tests catch.
		{i18n.T(context.Background(), "nav.members"), "nav.members"},
		{i18n.Lang(context.Background()), "en"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestErrorText(t *testing.T) {
	c := catalog(t)
	en := i18n.WithLocale(context.Background(), c.Printer(language.English), nil)
	xa := i18n.WithLocale(context.Background(), c.Printer(i18n.Pseudo), nil)
	err := app.FieldErrorf("name", "Use 1 to %d characters for the name.", 40)
	if got, want := i18n.ErrorText(en, err), "Use 1 to 40 characters for the name."; got != want {
		t.Errorf("English ErrorText=%q, want %q", got, want)
	}
	if got := i18n.ErrorText(xa, err); !strings.Contains(got, "40") || strings.Contains(got, "characters") {
		t.Errorf("pseudo ErrorText=%q, want the format translated and filled", got)
	}
	// A field's or a role's label is translated with the message; data is
	// not.
	de := i18n.WithLocale(context.Background(), c.Printer(language.German), nil)
	_, bad := app.CleanText("passkey_name", "passkey name", "a\x00b", 10)
	if got, want := i18n.ErrorText(en, bad), "The passkey name holds control or invisible characters. Type it again."; got != want {
		t.Errorf("English label: %q, want %q", got, want)
	}
	if got := i18n.ErrorText(de, bad); !strings.Contains(got, "„Passkey-Name“") {
		t.Errorf("German label: %q, want the field named „Passkey-Name“", got)
	}
	role := app.Errorf(app.EFORBIDDEN, "You can invite people as %s at most.", app.Label(app.RoleOwner.Label()))
	if got, want := i18n.ErrorText(de, role), "Sie können Personen höchstens als Inhaber einladen."; got != want {
		t.Errorf("German role: %q, want %q", got, want)
	}
	if got, want := role.Message, "You can invite people as Owner at most."; got != want {
		t.Errorf("the API's English message: %q, want %q", got, want)
	}
	if got, want := i18n.ErrorText(de, app.Errorf(app.EINVALID, "%s is already a member of this workspace.", "name")),
		"name ist bereits Mitglied dieses Workspace."; got != want {
		t.Errorf("German with data: %q, want %q", got, want)
	}
	if got, want := i18n.ErrorText(en, errors.New("db down: secret detail")), "Something went wrong."; got != want {
		t.Errorf("internal ErrorText=%q, want %q", got, want)
	}
	if got := i18n.ErrorText(en, nil); got != "" {
		t.Errorf("nil ErrorText=%q", got)
	}
	if got := i18n.PseudoText("Use %d or 50%% of %-5.2f"); !strings.Contains(got, "%d") || !strings.Contains(got, "%%") || !strings.Contains(got, "%-5.2f") {
		t.Errorf("PseudoText broke a fmt verb: %q", got)
	}
}

// TestAgo: how long ago, in words, in the reader's language and time
// zone: the activity feed and the jobs console say it this way.
func TestAgo(t *testing.T) {
	c := catalog(t)
	berlin, _ := time.LoadLocation("Europe/Berlin")
	en := i18n.WithLocale(context.Background(), c.Printer(language.English), berlin)
	de := i18n.WithLocale(context.Background(), c.Printer(language.German), berlin)
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		ago    time.Duration
		en, de string
	}{
		{10 * time.Second, "just now", "gerade eben"},
		{time.Minute, "1 minute ago", "vor 1 Minute"},
		{5 * time.Minute, "5 minutes ago", "vor 5 Minuten"},
		{time.Hour, "1 hour ago", "vor 1 Stunde"},
		{2 * time.Hour, "2 hours ago", "vor 2 Stunden"},
		{30 * time.Hour, "yesterday", "gestern"},
		{24 * time.Hour * 3, "3 days ago", "vor 3 Tagen"},
		// From 30 days on, the day in the reader's zone: 23:30 UTC on
		// 29 September is already the 30th in Berlin.
		{60*24*time.Hour + 12*time.Hour + 30*time.Minute, "30 Sep 2026", "30. Sept. 2026"},
	} {
		at := now.Add(-tc.ago)
		if got := i18n.Ago(en, now, at); got != tc.en {
			t.Errorf("%s ago in English: %q, want %q", tc.ago, got, tc.en)
		}
		if got := i18n.Ago(de, now, at); got != tc.de {
			t.Errorf("%s ago in German: %q, want %q", tc.ago, got, tc.de)
		}
	}
}
