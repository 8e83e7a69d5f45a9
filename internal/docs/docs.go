// Package docs is the public documentation: Markdown pages embedded in the
// binary (content/*.md, plus the operations page drawn from RUNBOOK.md),
// rendered to HTML once, when the library is built. Raw HTML in the
// Markdown is dropped and links may only use http, https or mailto, so a
// page can never carry script.
package docs

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"net/url"
	"path"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"

	"atrium"
)

// content holds the documentation pages. A file's name orders it and gives
// its address: "10-install.md" is /docs/install, listed before
// "20-configuration.md".
//
//go:embed content/*.md
var content embed.FS

// Heading is an entry of a page's table of contents.
type Heading struct {
	Level int    // 2 or 3
	ID    string // the heading's id, the anchor to link to
	Text  string
}

// Page is one rendered documentation page.
type Page struct {
	Slug    string    // the address: /docs/{Slug}
	Title   string    // from the page's first "# " heading
	Summary string    // the first paragraph, as plain text, for lists and the meta description
	HTML    string    // the body, title heading left out; safe to write into a page as is
	TOC     []Heading // the level 2 and 3 headings, in order
}

// Library is the set of documentation pages, in reading order.
type Library struct {
	pages  []*Page
	bySlug map[string]*Page
}

// Pages returns the pages in reading order.
func (l *Library) Pages() []*Page { return l.pages }

// Page returns the page with the slug.
func (l *Library) Page(slug string) (*Page, bool) {
	p, ok := l.bySlug[slug]
	return p, ok
}

// Source is a page's Markdown before rendering.
type Source struct {
	Name     string // the file name other pages link to, e.g. "10-install.md" or "RUNBOOK.md"
	Slug     string // lower-case letters, digits and dashes
	Title    string // optional; replaces the title taken from the first "# " heading
	Markdown []byte
}

var (
	slugRE    = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	orderedRE = regexp.MustCompile(`^[0-9]+-`)
)

// Builtin returns the embedded pages, content/*.md then RUNBOOK.md as
// "operations", rendered. The sources are compiled into the binary and
// checked by the tests, so a failure is a build defect and panics.
func Builtin() *Library {
	lib, err := New(BuiltinSources()...)
	if err != nil {
		panic("docs: " + err.Error())
	}
	return lib
}

// BuiltinSources returns the sources of the embedded pages, in order.
func BuiltinSources() []Source {
	names, err := fs.Glob(content, "content/*.md")
	if err != nil {
		panic("docs: " + err.Error()) // only a malformed pattern fails
	}
	var out []Source
	for _, name := range names { // Glob sorts them
		md, err := content.ReadFile(name)
		if err != nil {
			panic("docs: read embedded " + name + ": " + err.Error())
		}
		base := path.Base(name)
		slug := orderedRE.ReplaceAllString(strings.TrimSuffix(base, ".md"), "")
		out = append(out, Source{Name: base, Slug: strings.ToLower(slug), Markdown: md})
	}
	return append(out, Source{Name: "RUNBOOK.md", Slug: "operations", Title: "Operations", Markdown: atrium.Runbook()})
}

// New renders the sources into a library, in the order given. Links
// between the sources by file name ("20-configuration.md#section",
// "RUNBOOK.md") become links to their /docs pages.
func New(sources ...Source) (*Library, error) {
	lib := &Library{bySlug: make(map[string]*Page, len(sources))}
	slugs := make(map[string]string, len(sources)) // file name -> slug
	for _, src := range sources {
		if !slugRE.MatchString(src.Slug) {
			return nil, fmt.Errorf("%s: slug %q: expected lower-case letters, digits and dashes", src.Name, src.Slug)
		}
		if _, dup := lib.bySlug[src.Slug]; dup {
			return nil, fmt.Errorf("%s: slug %q is used twice", src.Name, src.Slug)
		}
		lib.bySlug[src.Slug] = nil
		slugs[src.Name] = src.Slug
	}
	md := newMarkdown()
	for _, src := range sources {
		p, err := render(md, src, slugs)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", src.Name, err)
		}
		lib.pages = append(lib.pages, p)
		lib.bySlug[p.Slug] = p
	}
	return lib, nil
}

// newMarkdown returns the Markdown converter: CommonMark with GitHub's
// tables, strikethrough, task lists and autolinks, and heading ids. Raw
// HTML is left out (html.WithUnsafe is deliberately not set), and table
// alignment uses the align attribute, since the CSP refuses style
// attributes.
func newMarkdown() goldmark.Markdown {
	return goldmark.New(
		goldmark.WithExtensions(
			extension.NewTable(extension.WithTableCellAlignMethod(extension.TableCellAlignAttribute)),
			extension.Strikethrough,
			extension.TaskList,
			extension.Linkify,
		),
		goldmark.WithParserOptions(parser.WithAutoHeadingID()),
	)
}

// render turns one source into a page.
func render(md goldmark.Markdown, src Source, slugs map[string]string) (*Page, error) {
	doc := md.Parser().Parse(text.NewReader(src.Markdown))
	p := &Page{Slug: src.Slug, Title: src.Title}

	// The first level-1 heading is the title, shown by the page template.
	if h, ok := doc.FirstChild().(*ast.Heading); ok && h.Level == 1 {
		if p.Title == "" {
			p.Title = plainText(h, src.Markdown)
		}
		doc.RemoveChild(doc, h)
	}
	if p.Title == "" {
		return nil, fmt.Errorf("no title: start the page with a \"# Title\" line")
	}

	var links []ast.Node
	err := ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Heading:
			if n.Level == 2 || n.Level == 3 {
				id, _ := n.AttributeString("id")
				idb, _ := id.([]byte)
				p.TOC = append(p.TOC, Heading{Level: n.Level, ID: string(idb), Text: plainText(n, src.Markdown)})
			}
		case *ast.Paragraph:
			if p.Summary == "" && n.Parent() == doc {
				p.Summary = summarize(plainText(n, src.Markdown))
			}
		case *ast.Link, *ast.Image, *ast.AutoLink:
			links = append(links, n)
		}
		return ast.WalkContinue, nil
	})
	if err != nil {
		return nil, err
	}
	for _, n := range links {
		fixLink(n, src.Markdown, slugs)
	}

	var buf bytes.Buffer
	if err := md.Renderer().Render(&buf, src.Markdown, doc); err != nil {
		return nil, fmt.Errorf("render: %w", err)
	}
	// Wide code blocks and tables scroll sideways: tabindex lets a keyboard
	// reach and scroll them, and the label says what the stop is.
	p.HTML = strings.NewReplacer(
		"<pre>", `<pre tabindex="0" aria-label="Code example">`,
		"<table>", `<table tabindex="0" aria-label="Table">`,
	).Replace(buf.String())
	return p, nil
}

// fixLink points a link to another source at its /docs page, and turns a
// link that cannot work here (a scheme other than http, https or mailto, or
// a relative link to a file that is not a page) into plain text. Images
// keep only local addresses the CSP allows.
func fixLink(n ast.Node, source []byte, slugs map[string]string) {
	var dest []byte
	switch n := n.(type) {
	case *ast.Link:
		dest = n.Destination
	case *ast.Image:
		dest = n.Destination
	case *ast.AutoLink:
		dest = n.URL(source)
	}
	u, err := url.Parse(string(dest))
	ok := err == nil
	if ok && u.Scheme == "" && u.Host == "" && u.Path != "" && !strings.HasPrefix(u.Path, "/") {
		slug, known := slugs[path.Base(u.Path)]
		if known {
			u.Path = "/docs/" + slug
			if l, isLink := n.(*ast.Link); isLink {
				l.Destination = []byte(u.String())
			}
		}
		ok = known
	}
	if ok && u.Scheme != "" {
		switch strings.ToLower(u.Scheme) {
		case "http", "https", "mailto":
		default:
			ok = false
		}
	}
	if _, isImage := n.(*ast.Image); isImage && (u == nil || u.Scheme != "" || u.Host != "") {
		ok = false // img-src 'self': an image from elsewhere would not load
	}
	if !ok {
		unwrap(n, source)
	}
}

// unwrap replaces n by its text.
func unwrap(n ast.Node, source []byte) {
	parent := n.Parent()
	var repl ast.Node
	if a, isAuto := n.(*ast.AutoLink); isAuto {
		repl = ast.NewString(a.Label(source))
	} else {
		repl = ast.NewString([]byte(plainText(n, source)))
	}
	parent.ReplaceChild(parent, n, repl)
}

// plainText returns the text inside n, without markup.
func plainText(n ast.Node, source []byte) string {
	var b strings.Builder
	_ = ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch c := c.(type) {
		case *ast.Text:
			b.Write(c.Value(source))
			if c.SoftLineBreak() || c.HardLineBreak() {
				b.WriteByte(' ')
			}
		case *ast.String:
			b.Write(c.Value)
		case *ast.AutoLink:
			b.Write(c.Label(source))
		}
		return ast.WalkContinue, nil
	})
	return strings.Join(strings.Fields(b.String()), " ")
}

// summaryMax is the longest summary, in characters: about what search
// engines show of a description.
const summaryMax = 200

// summarize shortens s to summaryMax characters: to its whole sentences
// that fit, else at a word boundary.
func summarize(s string) string {
	if utf8.RuneCountInString(s) <= summaryMax {
		return s
	}
	cut := string([]rune(s)[:summaryMax])
	if i := strings.LastIndex(cut, ". "); i > 0 {
		return cut[:i+1]
	}
	if i := strings.LastIndexByte(cut, ' '); i > 0 {
		cut = cut[:i]
	}
	return strings.TrimRight(cut, " ,;:.") + "…"
}
