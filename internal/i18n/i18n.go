// Package i18n holds Atrium's message catalogs and formats text, dates,
// numbers and money for a reader's language. Pages, emails and audit
// summaries ask a Printer for a message by its key; the catalogs are JSON
// files in locales/<language>/, one file per area of the product
// (members.json, billing.json, …), embedded in the binary. A key lives in
// exactly one area file; its first segment names the area.
//
// English (en) is the source language: every key is defined there first.
// German (de) is the second shipped language. The pseudo-locale en-XA is
// made from English when asked for (development and tests): accented,
// about 30% longer and bracketed, so a string that escapes translation, or
// a layout that cannot take longer text, shows at a glance.
package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

//go:embed locales/*/*.json
var locales embed.FS

// Source is the language every key is written in first.
var Source = language.English

// Pseudo is the pseudo-locale's tag.
var Pseudo = language.MustParse("en-XA")

// Options configure a Catalog.
type Options struct {
	// Pseudo offers the pseudo-locale en-XA (development and tests).
	Pseudo bool
}

// Catalog is the set of shipped languages and their messages. It is safe
// for concurrent use; build one at start-up.
type Catalog struct {
	bundle   *goi18n.Bundle
	tags     []language.Tag // shipped languages, Source first
	matcher  language.Matcher
	messages map[language.Tag]map[string]*goi18n.Message
	// printers are made once at load, one per language, and only read
	// after that, so requests share them without a lock.
	printers map[language.Tag]*Printer
	// matches keeps Match's answers by Accept-Language header (browsers
	// send a handful of distinct ones), up to maxMatches entries.
	matches sync.Map
	nMatch  atomic.Int64
}

// maxMatches bounds the Accept-Language answers kept, so that a flood of
// made-up headers cannot grow the cache.
const maxMatches = 1024

// New loads the embedded catalogs.
func New(opts Options) (*Catalog, error) {
	return load(locales, "locales", opts)
}

// load reads every dir/<tag>/*.json file of fsys; the folder's name is the
// language tag. A key defined twice in one language is an error.
func load(fsys fs.FS, dir string, opts Options) (*Catalog, error) {
	c := &Catalog{bundle: goi18n.NewBundle(Source), messages: map[language.Tag]map[string]*goi18n.Message{},
		printers: map[language.Tag]*Printer{}}
	names, err := fs.Glob(fsys, path.Join(dir, "*", "*.json"))
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		buf, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		tag, err := language.Parse(path.Base(path.Dir(name)))
		if err != nil {
			return nil, fmt.Errorf("catalog %s: the folder name must be a language tag: %w", name, err)
		}
		// The file's name only helps go-i18n read its format; the
		// language is the folder's.
		msgs, err := c.bundle.ParseMessageBytes(tag, buf, json.Unmarshal)
		if err != nil {
			return nil, fmt.Errorf("catalog %s: %w", name, err)
		}
		for _, m := range msgs {
			if _, dup := c.messages[tag][m.ID]; dup {
				return nil, fmt.Errorf("catalog %s: key %q is already defined in another %s file", name, m.ID, tag)
			}
		}
		c.add(tag, msgs)
	}
	src, ok := c.messages[Source]
	if !ok {
		return nil, fmt.Errorf("no %s catalog in %s", Source, dir)
	}
	if opts.Pseudo {
		var msgs []*goi18n.Message
		for _, m := range src {
			msgs = append(msgs, pseudoMessage(m))
		}
		if err := c.bundle.AddMessages(Pseudo, msgs...); err != nil {
			return nil, err
		}
		c.add(Pseudo, msgs)
	}
	// Source first: the matcher falls back to the first tag.
	c.tags = []language.Tag{Source}
	for tag := range c.messages {
		if tag != Source {
			c.tags = append(c.tags, tag)
		}
	}
	slices.SortFunc(c.tags[1:], func(a, b language.Tag) int { return strings.Compare(a.String(), b.String()) })
	c.matcher = language.NewMatcher(c.tags)
	for _, tag := range c.tags {
		c.printers[tag] = newPrinter(c, tag)
	}
	return c, nil
}

func (c *Catalog) add(tag language.Tag, msgs []*goi18n.Message) {
	if c.messages[tag] == nil {
		c.messages[tag] = map[string]*goi18n.Message{}
	}
	for _, m := range msgs {
		c.messages[tag][m.ID] = m
	}
}

// Languages returns the shipped languages, the source language first.
func (c *Catalog) Languages() []language.Tag { return c.tags }

// Keys returns the keys of a language's catalog.
func (c *Catalog) Keys(tag language.Tag) []string {
	var keys []string
	for id := range c.messages[tag] {
		keys = append(keys, id)
	}
	return keys
}

// Match picks the language for a reader: their saved choice when it is
// shipped, else the best of the Accept-Language header, else English.
func (c *Catalog) Match(saved, acceptLanguage string) language.Tag {
	if saved != "" {
		if tag, err := language.Parse(saved); err == nil {
			if _, ok := c.messages[tag]; ok {
				return tag
			}
		}
	}
	if tag, ok := c.matches.Load(acceptLanguage); ok {
		return tag.(language.Tag)
	}
	tag := c.matchHeader(acceptLanguage)
	if c.nMatch.Load() < maxMatches {
		if _, loaded := c.matches.LoadOrStore(acceptLanguage, tag); !loaded {
			c.nMatch.Add(1)
		}
	}
	return tag
}

// matchHeader returns the shipped language that best matches an
// Accept-Language header, English when none does.
func (c *Catalog) matchHeader(acceptLanguage string) language.Tag {
	wanted, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(wanted) == 0 {
		return Source
	}
	_, i, conf := c.matcher.Match(wanted...)
	if conf == language.No {
		return Source
	}
	return c.tags[i]
}

// Printer returns the printer of a shipped language (English for any other).
func (c *Catalog) Printer(tag language.Tag) *Printer {
	if p, ok := c.printers[tag]; ok {
		return p
	}
	return c.printers[Source]
}

// MustNew is New for start-up: the embedded catalogs are checked by the
// tests, so an error here is a broken build.
func MustNew(opts Options) *Catalog {
	c, err := New(opts)
	if err != nil {
		panic("i18n: " + err.Error())
	}
	return c
}

// Choice is a language offered on the account page.
type Choice struct {
	// Tag is the language's BCP 47 tag, what the account keeps.
	Tag string
	// Name is the language's name in itself ("Deutsch").
	Name string
}

// Choices returns the shipped languages, each named in itself (the
// catalog message language.self), the source language first.
func (c *Catalog) Choices() []Choice {
	out := make([]Choice, 0, len(c.tags))
	for _, tag := range c.tags {
		out = append(out, Choice{Tag: tag.String(), Name: c.Printer(tag).T("language.self")})
	}
	return out
}

// Shipped reports whether tag names a language of the catalog.
func (c *Catalog) Shipped(tag string) bool {
	t, err := language.Parse(tag)
	if err != nil {
		return false
	}
	_, ok := c.messages[t]
	return ok && t.String() == tag
}
