package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"atrium/scripts/internal/repocopy"
)

// everyType names a field of every type FIELDS accepts.
const everyType = "title:string notes:text count:int price:decimal done:bool due:date starts_at:time status:enum(open|in_progress|done) owner:member"

func TestNewResource(t *testing.T) {
	t.Parallel()
	r, err := newResource("ProjectPhase", "", everyType, "00042")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ got, want string }{
		{r.Plural, "ProjectPhases"}, {r.Var, "projectPhase"}, {r.Table, "project_phases"}, {r.Path, "project-phases"},
		{r.Label, "project phase"}, {r.CapPlural, "Project phases"}, {r.Snake, "project_phase"},
		{r.Fields[6].Go, "StartsAt"}, {r.Fields[6].Label, "Starts at"}, {r.Fields[8].Column, "owner_user_id"},
		{strings.Join(r.Fields[7].Values, ","), "open,in_progress,done"}, {r.TitleField().Name, "title"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
	if got := pluralize("Company"); got != "Companies" {
		t.Errorf("pluralize(Company)=%q", got)
	}
	for _, bad := range []struct{ name, fields string }{
		{"project", "title:string"},           // not CamelCase
		{"Project", ""},                       // no fields
		{"Project", "title:varchar"},          // unknown type
		{"Project", "id:int"},                 // reserved
		{"Project", "title:string title:int"}, // twice
		{"Project", "status:enum()"},          // no values
		{"Project", "Title:string"},           // not snake_case
	} {
		if _, err := newResource(bad.name, "", bad.fields, "00042"); err == nil {
			t.Errorf("newResource(%q, %q) accepted", bad.name, bad.fields)
		}
	}
}

func TestInsertAtMarker(t *testing.T) {
	t.Parallel()
	src := "const (\n\tA = 1\n\t// scaffold:x (adds above)\n)\n"
	got, err := insertAtMarker([]byte(src), "scaffold:x", "B = 2\nC = 3\n")
	if err != nil {
		t.Fatal(err)
	}
	if want := "const (\n\tA = 1\n\tB = 2\n\tC = 3\n\t// scaffold:x (adds above)\n)\n"; string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if _, err := insertAtMarker(got, "scaffold:x", "B = 2\n"); err == nil {
		t.Errorf("inserted the same line twice")
	}
	if _, err := insertAtMarker([]byte(src), "scaffold:y", "B = 2\n"); err == nil {
		t.Errorf("inserted without its marker")
	}
	if _, err := insertAtMarker([]byte(src+src), "scaffold:x", "B = 2\n"); err == nil {
		t.Errorf("inserted at a marker that appears twice")
	}
}

// catalogKey matches a key the generated code asks the catalog for; a key
// ending in "." is the start of keys made at run time (enum choices).
var catalogKey = regexp.MustCompile(`i18n\.(?:T\((?:ctx|r\.Context\(\)), |Text\()"([a-z0-9_.]+)"`)

// TestScaffoldCatalog: every key the generated pages, handlers and
// navigation tab ask for is in the catalog the scaffold writes, and every
// key it writes is asked for, with a field of every type, named by a
// string field or by the id, the navigation translated or not.
func TestScaffoldCatalog(t *testing.T) {
	t.Parallel()
	tmpl, err := parseTemplates()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		fields string
		nav    bool
	}{{everyType, true}, {everyType, false}, {"due:date flag:bool", true}} {
		r, err := newResource("ProjectPhase", "", c.fields, "00042")
		if err != nil {
			t.Fatal(err)
		}
		r.NavTranslated = c.nav
		var src bytes.Buffer
		for _, name := range []string{"page.tmpl", "server.tmpl", "insert_workspace_nav"} {
			if err := tmpl.ExecuteTemplate(&src, name, r); err != nil {
				t.Fatal(err)
			}
		}
		cat := r.Catalog()
		used := map[string]bool{}
		for _, m := range catalogKey.FindAllStringSubmatch(src.String(), -1) {
			key := m[1]
			if !strings.HasPrefix(key, r.Area+".") {
				t.Errorf("%s: key %s is not in the area %s", c.fields, key, r.Area)
			}
			if strings.HasSuffix(key, ".") {
				n := 0
				for k := range cat {
					if strings.HasPrefix(k, key) {
						used[k] = true
						n++
					}
				}
				if n == 0 {
					t.Errorf("%s: no key starts with %s", c.fields, key)
				}
				continue
			}
			if _, ok := cat[key]; !ok {
				t.Errorf("%s: the code asks for %s, which the catalog lacks", c.fields, key)
			}
			used[key] = true
		}
		for k := range cat {
			if !used[k] {
				t.Errorf("%s (nav translated %v): the catalog has %s, which no code asks for", c.fields, c.nav, k)
			}
		}
		if strings.Contains(src.String(), "app.ErrorMessage") {
			t.Errorf("the pages show app.ErrorMessage (English); want i18n.ErrorText")
		}
	}
}

func TestMergeCatalog(t *testing.T) {
	t.Parallel()
	src := []byte("{\n  \"b\": \"Bé <b>\",\n  \"d\": {\n    \"one\": \"x\",\n    \"other\": \"y\"\n  }\n}\n")
	got, changed, err := mergeCatalog(src, map[string]string{"b": "changed", "a": "A & <A>", "c": "“C”"})
	if err != nil || !changed {
		t.Fatalf("mergeCatalog: %v, changed %v", err, changed)
	}
	want := "{\n  \"a\": \"A & <A>\",\n  \"b\": \"Bé <b>\",\n  \"c\": \"“C”\",\n  \"d\": {\n    \"one\": \"x\",\n    \"other\": \"y\"\n  }\n}\n"
	if string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if again, changed, _ := mergeCatalog(got, map[string]string{"a": "other"}); changed || !bytes.Equal(again, got) {
		t.Errorf("a merge with nothing to add changed the file:\n%s", again)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// snapshot returns the content of every file under dir, by path.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		files[path] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestScaffold generates a resource with a field of every type in a copy
// of the repository, then builds and vets the copy and runs the generated
// tests there with the tests the resource joins (hot-query plans, tenant
// isolation, the table list of migrate-data): on SQLite, and on
// PostgreSQL too when TEST_DATABASE_URL is set.
func TestScaffold(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the test that builds a generated copy of the repository")
	}
	root := repocopy.Copy(t, "../..")
	before := snapshot(t, root)
	// Names no resource of the repository has yet: it may have been
	// scaffolded with the usual examples already.
	free := func(name string) string {
		for i := 2; ; i++ {
			if _, err := os.Stat(filepath.Join(root, "internal", "app", snake(name)+".go")); err != nil {
				return name
			}
			name = strings.TrimRight(name, "0123456789") + strconv.Itoa(i)
		}
	}
	gadget, note := free("Gadget"), free("Note")
	gadgetFile := snake(gadget)
	gadgetArea := gadgetFile + "s"
	locales := filepath.Join(root, "internal", "i18n", "locales")

	var dry bytes.Buffer
	if err := run([]string{"-root", root, "-name", gadget, "-fields", everyType, "--dry-run"}, &dry); err != nil {
		t.Fatalf("dry run: %v", err)
	}
	for _, want := range []string{"create internal/app/" + gadgetFile + ".go", "create internal/store/" + gadgetFile + ".go",
		"create internal/server/" + gadgetFile + ".go", "create web/page/" + gadgetFile + ".templ", "create migrations/sqlite/", "create migrations/postgres/", "edit   internal/server/routes.go",
		"edit   internal/app/audit_catalog.go", "edit   web/layout/header.templ",
		"create internal/i18n/locales/en/" + gadgetArea + ".json", "create internal/i18n/locales/de/" + gadgetArea + ".json",
		"edit   internal/i18n/locales/de/errors.json", "edit   internal/i18n/locales/de/audit.json"} {
		if !strings.Contains(dry.String(), want) {
			t.Errorf("the dry run does not list %q:\n%s", want, &dry)
		}
	}
	if after := snapshot(t, root); len(after) != len(before) {
		t.Fatalf("the dry run wrote files (%d before, %d after)", len(before), len(after))
	}

	var out bytes.Buffer
	if err := run([]string{"-root", root, "-name", gadget, "-fields", everyType}, &out); err != nil {
		t.Fatalf("scaffold: %v\n%s", err, &out)
	}
	// It ends by saying what to do next: restart, and where the page is.
	gadgetPath := strings.ReplaceAll(gadgetFile, "_", "-") + "s"
	if i := strings.LastIndex(out.String(), "\nNext:\n"); i < 0 || !strings.Contains(out.String()[i:], "Restart the server") ||
		!strings.Contains(out.String()[i:], "http://localhost:8080/w/acme/"+gadgetPath) {
		t.Errorf("the output does not end with the next steps (restart, http://localhost:8080/w/acme/%s):\n%s", gadgetPath, &out)
	}
	if !strings.Contains(out.String(), "internal/i18n/locales/de/"+gadgetArea+".json") {
		t.Errorf("the next steps do not name the catalog to translate, de/%s.json:\n%s", gadgetArea, &out)
	}
	// The catalogs keep every entry they had, translations included, and
	// list every app error the generated code returns.
	for path, was := range before {
		if filepath.Dir(filepath.Dir(path)) != locales {
			continue
		}
		var old, now map[string]any
		if err := json.Unmarshal([]byte(was), &old); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if err := json.Unmarshal([]byte(readFile(t, path)), &now); err != nil {
			t.Fatalf("%s after the scaffold: %v", path, err)
		}
		for k, v := range old {
			if !reflect.DeepEqual(now[k], v) {
				t.Errorf("%s: %s is %v, was %v", path, k, now[k], v)
			}
		}
	}
	errorFormat := regexp.MustCompile(`Errorf\((?:app\.)?E[A-Z]+, "([^"]*)"|FieldErrorf\([^,]+, "([^"]*)"`)
	var formats []string
	for _, path := range []string{"internal/app/" + gadgetFile + ".go", "internal/store/" + gadgetFile + ".go", "internal/app/roles.go"} {
		for _, m := range errorFormat.FindAllStringSubmatch(readFile(t, filepath.Join(root, path)), -1) {
			// roles.go holds every resource's rules: the gadgets' name them.
			if f := m[1] + m[2]; path != "internal/app/roles.go" || strings.Contains(f, " "+gadgetArea+".") {
				formats = append(formats, f)
			}
		}
	}
	for _, lang := range []string{"en", "de"} {
		var errs map[string]any
		if err := json.Unmarshal([]byte(readFile(t, filepath.Join(locales, lang, "errors.json"))), &errs); err != nil {
			t.Fatal(err)
		}
		for _, f := range formats {
			if _, ok := errs[f]; !ok {
				t.Errorf("%s/errors.json lacks the app error %q", lang, f)
			}
		}
	}
	if !slices.Contains(formats, "Enter the title.") || !slices.Contains(formats, "Only owners and admins can delete "+gadgetArea+".") {
		t.Errorf("found the app errors %q, want \"Enter the title.\" and the delete rule's among them", formats)
	}
	// A resource whose catalog area is another's is refused.
	if err := run([]string{"-root", root, "-name", "Gizmo", "-plural", "Account", "-fields", "title:string"}, &out); err == nil ||
		!strings.Contains(err.Error(), `catalog area "account" is taken`) {
		t.Errorf("a resource in the catalog area account: %v, want it refused", err)
	}
	// The new tab comes before the tabs only admins see.
	header := readFile(t, filepath.Join(root, "web", "layout", "header.templ"))
	tabAt, adminAt := strings.Index(header, `"nav-ws-`+gadgetPath+`"`), strings.Index(header, "if w.CanManage")
	if tabAt < 0 || adminAt < 0 || tabAt > adminAt {
		t.Errorf("the %s tab is not before the admins' tabs in web/layout/header.templ (at %d, admins' at %d)", gadget, tabAt, adminAt)
	}
	// A date field is a browser date picker: no typed-format hint that
	// disagrees with the picker's own format.
	if pg := readFile(t, filepath.Join(root, "web", "page", gadgetFile+".templ")); strings.Contains(pg, "YYYY-MM-DD") || strings.Contains(pg, "HH:MM") {
		t.Errorf("the generated form hints a typed date or time format beside the browser's picker")
	}
	if err := run([]string{"-root", root, "-name", gadget, "-fields", "title:string"}, &out); err == nil || !strings.Contains(err.Error(), "refusing to overwrite") {
		t.Errorf("a second run: %v, want it to refuse to overwrite", err)
	}
	// A second resource, named by its id (no string field), with the next
	// migration number and beside the first at every marker.
	out.Reset()
	if err := run([]string{"-root", root, "-name", note, "-fields", "due:date flag:bool"}, &out); err != nil {
		t.Fatalf("scaffold %s: %v\n%s", note, err, &out)
	}
	if strings.Count(out.String(), "create migrations/sqlite/") != 1 {
		t.Errorf("want one SQLite migration per resource:\n%s", &out)
	}

	// A periodic background job beside them.
	digest := "WeeklyDigest"
	for i := 2; ; i++ {
		if _, err := os.Stat(filepath.Join(root, "internal", "jobs", snake(digest)+".go")); err != nil {
			break
		}
		digest = "WeeklyDigest" + strconv.Itoa(i)
	}
	out.Reset()
	if err := run([]string{"-root", root, "-job", digest, "-every", "168h"}, &out); err != nil {
		t.Fatalf("scaffold -job %s: %v\n%s", digest, err, &out)
	}
	for _, want := range []string{"create internal/jobs/" + snake(digest) + ".go", "create internal/jobs/" + snake(digest) + "_test.go",
		"edit   internal/jobs/register.go", "Next:"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("scaffold -job does not say %q:\n%s", want, &out)
		}
	}
	if reg := readFile(t, filepath.Join(root, "internal", "jobs", "register.go")); !strings.Contains(reg, "&"+digest+"Worker{") ||
		!strings.Contains(reg, "PeriodicInterval("+strings.ToLower(digest[:1])+digest[1:]+"Every)") {
		t.Errorf("internal/jobs/register.go does not register and schedule %s", digest)
	}

	goCmd := func(env []string, args ...string) {
		t.Helper()
		cmd := exec.Command("go", args...)
		cmd.Dir, cmd.Env = root, env
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, b)
		}
	}
	// templ runs as make generate runs it, so its own build is cached;
	// build, vet and test share one set of flags (repocopy.BuildEnv).
	goCmd(os.Environ(), "tool", "templ", "generate")
	env := repocopy.BuildEnv()
	goCmd(env, "build", "./...")
	goCmd(env, "vet", "./...")
	if b, err := exec.Command("gofmt", "-l", root).Output(); err != nil || len(b) > 0 {
		t.Errorf("gofmt -l: %v\n%s", err, b)
	}
	goCmd(env, "test", "-count=1", "-timeout", "30m", "-run", gadget+"|"+note+"|Test"+digest+"$|TestHotQueryPlans|TestTenantIsolation|TestCopyTables_Complete|TestMigrat|TestStore_OneReadPath"+
		"|TestI18n_EveryPage|TestCatalogs_Complete|TestErrorsCatalog_Complete|TestAuditCatalog_Translated|TestAuditSummary_EnglishUnchanged",
		"./internal/app/", "./internal/store/", "./internal/store/ops/", "./internal/server/", "./internal/jobs/", "./internal/i18n/")
}
