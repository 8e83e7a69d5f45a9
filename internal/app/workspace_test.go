package app_test

import (
	"regexp"
	"strings"
	"testing"

	"atrium/internal/app"
)

var generatedSlug = regexp.MustCompile(`^workspace-[0-9a-f]{8}$`)

func TestSlugify(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, in string
		want     string // "" means a generated "workspace-xxxxxxxx" slug
	}{
		{name: "TwoWords", in: "Acme Inc", want: "acme-inc"},
		{name: "UpperCase", in: "ACME", want: "acme"},
		{name: "Digits", in: "R2 D2 Labs", want: "r2-d2-labs"},
		{name: "RunsBecomeOneDash", in: "Acme,  Inc. & Co!", want: "acme-inc-co"},
		{name: "DashesAndUnderscores", in: "a--b__c", want: "a-b-c"},
		{name: "TrimsDashes", in: "  --Hello World--  ", want: "hello-world"},
		{name: "NonASCIILettersAreSeparators", in: "Café Zürich", want: "caf-z-rich"},
		{name: "LongNameCutAtMax", in: strings.Repeat("a", 70), want: strings.Repeat("a", app.SlugMax)},
		{name: "CutLeavesNoTrailingDash", in: strings.Repeat("a", 59) + " bcd", want: strings.Repeat("a", 59)},
		{name: "CutBetweenWords", in: strings.Repeat("ab ", 30), want: strings.Repeat("ab-", 19) + "ab"},
		{name: "Empty", in: ""},
		{name: "Spaces", in: "   "},
		{name: "Punctuation", in: "!!! ???"},
		{name: "UnicodeOnly", in: "日本語のチーム"},
		{name: "OneUsableCharacter", in: "A!"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := app.Slugify(tc.in)
			if tc.want == "" {
				if !generatedSlug.MatchString(got) {
					t.Fatalf("Slugify(%q)=%q, want workspace-xxxxxxxx", tc.in, got)
				}
			} else if got != tc.want {
				t.Fatalf("Slugify(%q)=%q, want %q", tc.in, got, tc.want)
			}
			if valid, err := app.ValidateSlug(got); err != nil || valid != got {
				t.Fatalf("Slugify(%q)=%q does not pass ValidateSlug: %q, %v", tc.in, got, valid, err)
			}
		})
	}

	t.Run("GeneratedSlugsDiffer", func(t *testing.T) {
		if a, b := app.Slugify("日本"), app.Slugify("日本"); a == b {
			t.Fatalf("two generated slugs are both %q", a)
		}
	})
}

func TestValidateSlug(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, in string
		want     string // the slug returned
		code     string
	}{
		{name: "Plain", in: "acme-inc", want: "acme-inc"},
		{name: "Shortest", in: "ab", want: "ab"},
		{name: "Digits", in: "r2-d2", want: "r2-d2"},
		{name: "TrimsAndLowers", in: "  Acme-Inc ", want: "acme-inc"},
		{name: "Longest", in: strings.Repeat("a", app.SlugMax), want: strings.Repeat("a", app.SlugMax)},
		{name: "TooLong", in: strings.Repeat("a", app.SlugMax+1), want: strings.Repeat("a", app.SlugMax+1), code: app.EINVALID},
		{name: "TooShort", in: "a", want: "a", code: app.EINVALID},
		{name: "Empty", in: "", want: "", code: app.EINVALID},
		{name: "LeadingDash", in: "-acme", want: "-acme", code: app.EINVALID},
		{name: "TrailingDash", in: "acme-", want: "acme-", code: app.EINVALID},
		{name: "DoubleDash", in: "ac--me", want: "ac--me", code: app.EINVALID},
		{name: "Underscore", in: "acme_inc", want: "acme_inc", code: app.EINVALID},
		{name: "InnerSpace", in: "acme inc", want: "acme inc", code: app.EINVALID},
		{name: "Accent", in: "café", want: "café", code: app.EINVALID},
		{name: "Slash", in: "acme/inc", want: "acme/inc", code: app.EINVALID},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := app.ValidateSlug(tc.in)
			if got != tc.want {
				t.Fatalf("ValidateSlug(%q)=%q, want %q", tc.in, got, tc.want)
			}
			checkRule(t, err, tc.code)
		})
	}
}

func TestSlugWithSuffix(t *testing.T) {
	t.Parallel()
	a := func(n int) string { return strings.Repeat("a", n) }
	cases := []struct {
		name, slug string
		n          int
		want       string
	}{
		{name: "Short", slug: "acme-inc", n: 2, want: "acme-inc-2"},
		{name: "Third", slug: "acme-inc", n: 3, want: "acme-inc-3"},
		{name: "TwoDigits", slug: "acme", n: 12, want: "acme-12"},
		{name: "FitsExactly", slug: a(58), n: 2, want: a(58) + "-2"},
		{name: "OneOver", slug: a(59), n: 2, want: a(58) + "-2"},
		{name: "AtMax", slug: a(app.SlugMax), n: 2, want: a(58) + "-2"},
		{name: "AtMaxTwoDigits", slug: a(app.SlugMax), n: 10, want: a(57) + "-10"},
		{name: "CutAtDash", slug: a(57) + "-bb", n: 2, want: a(57) + "-2"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := app.SlugWithSuffix(tc.slug, tc.n)
			if got != tc.want {
				t.Fatalf("SlugWithSuffix(%q, %d)=%q, want %q", tc.slug, tc.n, got, tc.want)
			}
			if _, err := app.ValidateSlug(got); err != nil {
				t.Fatalf("SlugWithSuffix(%q, %d)=%q does not pass ValidateSlug: %v", tc.slug, tc.n, got, err)
			}
		})
	}
}

func TestValidateWorkspaceName(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, in string
		want     string
		code     string
	}{
		{name: "Plain", in: "Acme Inc", want: "Acme Inc"},
		{name: "CollapsesSpace", in: "  Acme \t  Inc \n", want: "Acme Inc"},
		{name: "Shortest", in: "Ab", want: "Ab"},
		{name: "UnicodeCountsRunes", in: "日本", want: "日本"},
		{name: "Longest", in: strings.Repeat("é", app.WorkspaceNameMax), want: strings.Repeat("é", app.WorkspaceNameMax)},
		{name: "TooLong", in: strings.Repeat("x", app.WorkspaceNameMax+1), want: strings.Repeat("x", app.WorkspaceNameMax+1), code: app.EINVALID},
		{name: "TooShort", in: "A", want: "A", code: app.EINVALID},
		{name: "ShortAfterTrim", in: "  A  ", want: "A", code: app.EINVALID},
		{name: "Empty", in: "", want: "", code: app.EINVALID},
		{name: "OnlySpace", in: " \t ", want: "", code: app.EINVALID},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := app.ValidateWorkspaceName(tc.in)
			if got != tc.want {
				t.Fatalf("ValidateWorkspaceName(%q)=%q, want %q", tc.in, got, tc.want)
			}
			checkRule(t, err, tc.code)
		})
	}
}
