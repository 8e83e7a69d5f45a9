package docs_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/go-cmp/cmp"

	"atrium/internal/docs"
)

// parse parses a page's HTML.
func parse(t *testing.T, html string) *goquery.Document {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(html))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// mustNew builds a library from sources, failing the test on error.
func mustNew(t *testing.T, sources ...docs.Source) *docs.Library {
	t.Helper()
	lib, err := docs.New(sources...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return lib
}

// page builds a one-page library from md and returns the page.
func page(t *testing.T, md string) *docs.Page {
	t.Helper()
	p, ok := mustNew(t, docs.Source{Name: "10-page.md", Slug: "page", Markdown: []byte(md)}).Page("page")
	if !ok {
		t.Fatal("page missing")
	}
	return p
}

func TestBuiltin(t *testing.T) {
	t.Parallel()
	lib := docs.Builtin()
	var slugs []string
	for _, p := range lib.Pages() {
		slugs = append(slugs, p.Slug)
		if p.Title == "" || p.Summary == "" || p.HTML == "" || len(p.TOC) == 0 {
			t.Errorf("%s: Title=%q Summary=%q, %d bytes of HTML, %d headings: want all set",
				p.Slug, p.Title, p.Summary, len(p.HTML), len(p.TOC))
		}
		if got, ok := lib.Page(p.Slug); !ok || got != p {
			t.Errorf("Page(%q) does not find the page", p.Slug)
		}
	}
	want := []string{"install", "configuration", "deployment", "billing", "webhooks", "extending", "operations"}
	if diff := cmp.Diff(want, slugs); diff != "" {
		t.Fatalf("pages mismatch (-want +got):\n%s", diff)
	}
	if _, ok := lib.Page("nope"); ok {
		t.Error(`Page("nope") found a page`)
	}
}

// TestBuiltin_OperationsIsTheRunbook checks that the operations page is
// RUNBOOK.md itself: its sections are the runbook's "## " headings.
func TestBuiltin_OperationsIsTheRunbook(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../../RUNBOOK.md")
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, m := range regexp.MustCompile(`(?m)^## +(.+?) *$`).FindAllStringSubmatch(string(raw), -1) {
		want = append(want, strings.ReplaceAll(strings.ReplaceAll(m[1], "`", ""), `\`, ""))
	}
	p, _ := docs.Builtin().Page("operations")
	var got []string
	for _, h := range p.TOC {
		if h.Level == 2 {
			got = append(got, h.Text)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("operations sections differ from RUNBOOK.md's (-runbook +page):\n%s", diff)
	}
	if got, want := p.Title, "Operations"; got != want {
		t.Errorf("Title=%q, want %q", got, want)
	}
}

// TestBuiltin_Links checks that every link between the docs reaches a page
// and, with a fragment, one of its headings.
func TestBuiltin_Links(t *testing.T) {
	t.Parallel()
	lib := docs.Builtin()
	ids := map[string]map[string]bool{}
	for _, p := range lib.Pages() {
		ids[p.Slug] = map[string]bool{}
		parse(t, p.HTML).Find("[id]").Each(func(_ int, s *goquery.Selection) {
			ids[p.Slug][s.AttrOr("id", "")] = true
		})
	}
	for _, p := range lib.Pages() {
		parse(t, p.HTML).Find("a[href]").Each(func(_ int, a *goquery.Selection) {
			href := a.AttrOr("href", "")
			rest, ok := strings.CutPrefix(href, "/docs/")
			if !ok {
				if !strings.HasPrefix(href, "http://") && !strings.HasPrefix(href, "https://") && !strings.HasPrefix(href, "#") {
					t.Errorf("%s: link %q leads outside the docs without a full URL", p.Slug, href)
				}
				return
			}
			slug, frag, _ := strings.Cut(rest, "#")
			if _, ok := lib.Page(slug); !ok {
				t.Errorf("%s: link %q: no page %q", p.Slug, href, slug)
			} else if frag != "" && !ids[slug][frag] {
				t.Errorf("%s: link %q: no heading #%s on %s", p.Slug, href, frag, slug)
			}
		})
	}
}

// TestNew_Inert renders hostile Markdown: raw HTML is dropped, and links
// and images with script URLs lose them.
func TestNew_Inert(t *testing.T) {
	t.Parallel()
	p := page(t, "# Title\n\n"+
		"<script>alert(1)</script>\n\n"+
		"Inline <script>alert(2)</script> and <img src=x onerror=alert(3)> and <a href=\"javascript:alert(4)\">a</a>.\n\n"+
		"<div onclick=\"alert(5)\">block</div>\n\n"+
		"[link](javascript:alert(6)) [upper](JavaScript:alert(7)) [data](data:text/html,<script>alert(8)</script>)\n\n"+
		"![img](javascript:alert(9)) ![remote](https://evil.example/x.png) <javascript:alert(10)>\n\n"+
		"```html\n<script>alert(11)</script>\n```\n")
	doc := parse(t, p.HTML)
	if n := doc.Find("script, iframe, object, embed, style").Length(); n != 0 {
		t.Errorf("%d active elements in:\n%s", n, p.HTML)
	}
	doc.Find("*").Each(func(_ int, s *goquery.Selection) {
		for _, a := range s.Nodes[0].Attr {
			v := strings.ToLower(a.Val)
			if strings.HasPrefix(a.Key, "on") || strings.Contains(v, "javascript:") || strings.HasPrefix(v, "data:") {
				t.Errorf("dangerous attribute %s=%q in:\n%s", a.Key, a.Val, p.HTML)
			}
		}
	})
	if n := doc.Find("img").Length(); n != 0 {
		t.Errorf("%d images kept, want 0:\n%s", n, p.HTML)
	}
	// The code block shows the markup as text.
	if got, want := doc.Find("pre code").Text(), "<script>alert(11)</script>\n"; got != want {
		t.Errorf("code block=%q, want %q", got, want)
	}
	if strings.Contains(p.HTML, "<script") {
		t.Errorf("raw <script in:\n%s", p.HTML)
	}
}

func TestNew_Page(t *testing.T) {
	t.Parallel()
	p := page(t, "# Getting *started*\n\n"+
		"Atrium is one `binary`.\nIt needs [nothing](https://go.dev) else.\n\n"+
		"## Set up\n\ntext\n\n### The `.env` file\n\n#### Deep\n\n## Set up\n\n"+
		"| a | b |\n| :-- | --: |\n| 1 | 2 |\n")
	if got, want := p.Title, "Getting started"; got != want {
		t.Errorf("Title=%q, want %q", got, want)
	}
	if got, want := p.Summary, "Atrium is one binary. It needs nothing else."; got != want {
		t.Errorf("Summary=%q, want %q", got, want)
	}
	want := []docs.Heading{
		{Level: 2, ID: "set-up", Text: "Set up"},
		{Level: 3, ID: "the-env-file", Text: "The .env file"},
		{Level: 2, ID: "set-up-1", Text: "Set up"},
	}
	if diff := cmp.Diff(want, p.TOC); diff != "" {
		t.Errorf("TOC mismatch (-want +got):\n%s", diff)
	}
	doc := parse(t, p.HTML)
	if n := doc.Find("h1").Length(); n != 0 {
		t.Errorf("%d h1 in the body, want 0: the template shows the title", n)
	}
	for _, h := range want {
		if doc.Find("#"+h.ID).Length() != 1 {
			t.Errorf("no element #%s", h.ID)
		}
	}
	// The CSP refuses style attributes: table alignment uses align.
	if got, want := doc.Find("td").Last().AttrOr("align", ""), "right"; got != want {
		t.Errorf("td align=%q, want %q", got, want)
	}
	if doc.Find("[style]").Length() != 0 {
		t.Error("style attribute in the HTML")
	}
}

func TestNew_Links(t *testing.T) {
	t.Parallel()
	lib := mustNew(t,
		docs.Source{Name: "10-install.md", Slug: "install", Markdown: []byte("# Install\n\n" +
			"[config](20-configuration.md#tls) [ops](../../RUNBOOK.md) [readme](README.md) " +
			"[site](https://example.com/a) [mail](mailto:hi@example.com) [here](#top) [abs](/pricing) " +
			"[ftp](ftp://example.com/f)\n")},
		docs.Source{Name: "20-configuration.md", Slug: "configuration", Markdown: []byte("# Configuration\n")},
		docs.Source{Name: "RUNBOOK.md", Slug: "operations", Markdown: []byte("# Ops\n")},
	)
	p, _ := lib.Page("install")
	doc := parse(t, p.HTML)
	got := map[string]string{}
	doc.Find("a").Each(func(_ int, a *goquery.Selection) { got[a.Text()] = a.AttrOr("href", "") })
	want := map[string]string{
		"config": "/docs/configuration#tls",
		"ops":    "/docs/operations",
		"site":   "https://example.com/a",
		"mail":   "mailto:hi@example.com",
		"here":   "#top",
		"abs":    "/pricing",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("links mismatch (-want +got):\n%s", diff)
	}
	// Links that cannot work here keep their text.
	if text := doc.Text(); !strings.Contains(text, "readme") || !strings.Contains(text, "ftp") {
		t.Errorf("unlinked text lost: %q", text)
	}
}

func TestNew_Errors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		sources []docs.Source
		want    string
	}{
		{"BadSlug", []docs.Source{{Name: "a.md", Slug: "Bad Slug", Markdown: []byte("# A\n")}}, `slug "Bad Slug"`},
		{"DuplicateSlug", []docs.Source{
			{Name: "a.md", Slug: "a", Markdown: []byte("# A\n")},
			{Name: "10-a.md", Slug: "a", Markdown: []byte("# A\n")},
		}, `slug "a" is used twice`},
		{"NoTitle", []docs.Source{{Name: "a.md", Slug: "a", Markdown: []byte("text\n")}}, "no title"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := docs.New(tt.sources...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New err=%v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestNew_SummaryIsShortened(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, para, want string
	}{
		{"Short", "One. Two.", "One. Two."},
		{"Sentences", "First sentence. " + strings.Repeat("word ", 50), "First sentence."},
		{"Words", strings.Repeat("word ", 100), strings.TrimSpace(strings.Repeat("word ", 40)) + "…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := page(t, "# T\n\n"+tt.para+"\n").Summary; got != tt.want {
				t.Errorf("Summary=%q, want %q", got, tt.want)
			}
		})
	}
}

// TestRender_CodeBlocksKeyboardScrollable checks that a code block, which
// scrolls sideways when wide, can be reached and scrolled from the
// keyboard and is labelled.
func TestRender_CodeBlocksKeyboardScrollable(t *testing.T) {
	t.Parallel()
	doc := parse(t, page(t, "# Title\n\nIntro.\n\n```\n"+strings.Repeat("x", 200)+"\n```\n").HTML)
	pre := doc.Find("pre")
	if pre.Length() != 1 {
		t.Fatalf("%d pre elements, want 1", pre.Length())
	}
	if got, want := pre.AttrOr("tabindex", ""), "0"; got != want {
		t.Errorf("pre tabindex=%q, want %q", got, want)
	}
	if pre.AttrOr("aria-label", "") == "" {
		t.Error("pre has no aria-label")
	}
}

// TestRender_TablesKeyboardScrollable checks that a table, which scrolls
// sideways when wide, can be reached and scrolled from the keyboard.
func TestRender_TablesKeyboardScrollable(t *testing.T) {
	t.Parallel()
	doc := parse(t, page(t, "# Title\n\nIntro.\n\n| a | b |\n|---|---|\n| "+strings.Repeat("x", 200)+" | y |\n").HTML)
	table := doc.Find("table")
	if table.Length() != 1 {
		t.Fatalf("%d table elements, want 1", table.Length())
	}
	if got, want := table.AttrOr("tabindex", ""), "0"; got != want {
		t.Errorf("table tabindex=%q, want %q", got, want)
	}
	if table.AttrOr("aria-label", "") == "" {
		t.Error("table has no aria-label")
	}
}

// TestBuiltin_Extending checks that /docs/extending says where each kind
// of change goes, with the scaffold as its worked example.
func TestBuiltin_Extending(t *testing.T) {
	t.Parallel()
	p, ok := docs.Builtin().Page("extending")
	if !ok {
		t.Fatal("no /docs/extending page")
	}
	for _, want := range []string{"make scaffold", "New page", "New noun", "New audit action", "New setting", "New email",
		"New migration", "scaffold:", "make rename"} {
		if !strings.Contains(p.HTML, want) {
			t.Errorf("/docs/extending does not mention %q", want)
		}
	}
}

// TestExtendingDoc_PathsExist: every repository path /docs/extending names
// (in backquotes; `app/invite.go` is under internal/) exists, so the doc
// cannot send a forker to a file that moved. The example noun's files,
// which make scaffold writes, and placeholders (NNNNN, <noun>) are skipped.
func TestExtendingDoc_PathsExist(t *testing.T) {
	b, err := os.ReadFile("content/50-extending.md")
	if err != nil {
		t.Fatal(err)
	}
	code := regexp.MustCompile("`([^`\\s]+)`")
	checked := 0
	for _, m := range code.FindAllStringSubmatch(string(b), -1) {
		p := strings.TrimSuffix(m[1], "/")
		if !strings.Contains(p, "/") || strings.ContainsAny(p, "<>…*{}=") || strings.Contains(p, "NNNNN") ||
			strings.Contains(p, "project") || strings.Contains(p, "acme") || strings.HasPrefix(p, "/") {
			continue
		}
		found := false
		for _, dir := range []string{"../..", "../../internal"} {
			if _, err := os.Stat(dir + "/" + p); err == nil {
				found = true
			}
		}
		if !found {
			t.Errorf("/docs/extending names %s, which is not in the repository", p)
		}
		checked++
	}
	if checked < 10 {
		t.Errorf("checked only %d paths: the pattern no longer finds them", checked)
	}
}

// TestExtendingDoc_NamesScaffoldMarkers: every file that holds a make
// scaffold marker (a list each new resource joins) is named by
// /docs/extending, where it says what make scaffold edits.
func TestExtendingDoc_NamesScaffoldMarkers(t *testing.T) {
	b, err := os.ReadFile("content/50-extending.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	marker := regexp.MustCompile(`//\s*scaffold:[a-z-]+ \(`)
	found := 0
	for _, dir := range []string{"internal", "web", "cmd"} {
		err := filepath.WalkDir(filepath.Join("../..", dir), func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || strings.HasSuffix(path, "_templ.go") ||
				!strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, ".templ") {
				return err
			}
			src, err := os.ReadFile(path)
			if err != nil || !marker.Match(src) {
				return err
			}
			found++
			rel, _ := filepath.Rel("../..", path)
			rel = filepath.ToSlash(rel)
			if !strings.Contains(doc, "`"+rel+"`") && !strings.Contains(doc, "`"+filepath.Base(rel)+"`") {
				t.Errorf("/docs/extending does not name %s, which holds a make scaffold marker", rel)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if found < 5 {
		t.Errorf("found %d files with scaffold markers: the pattern no longer finds them", found)
	}
}
