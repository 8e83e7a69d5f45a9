package docs_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"atrium/internal/app"
	"atrium/internal/docs"
)

// TestBuiltin_WebhooksListsEveryEvent: the webhooks page's table names
// every event of the catalog with its version and fields, so the docs and
// the catalog cannot drift apart.
func TestBuiltin_WebhooksListsEveryEvent(t *testing.T) {
	t.Parallel()
	p, ok := docs.Builtin().Page("webhooks")
	if !ok {
		t.Fatal("no webhooks page")
	}
	rows := map[string]string{}
	parse(t, p.HTML).Find("table tbody tr").Each(func(_ int, tr *goquery.Selection) {
		cells := tr.Find("td")
		rows[strings.TrimSpace(cells.Eq(0).Text())] = strings.TrimSpace(cells.Eq(1).Text()) + " | " + cells.Eq(3).Text()
	})
	for _, e := range app.EventTypes() {
		row, ok := rows[e.Code]
		if !ok {
			t.Errorf("%s is not in the events table", e.Code)
			continue
		}
		version, fields, _ := strings.Cut(row, " | ")
		if version != strconv.Itoa(e.Version) {
			t.Errorf("%s: version %q in the docs, %d in the catalog", e.Code, version, e.Version)
		}
		for _, f := range e.Fields {
			if !strings.Contains(fields, f.Name) {
				t.Errorf("%s: field %q missing from the docs", e.Code, f.Name)
			}
		}
		delete(rows, e.Code)
	}
	for code := range rows {
		t.Errorf("the docs list %q, which is not in the event catalog", code)
	}
}
