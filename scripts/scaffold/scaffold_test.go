package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
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

	var dry bytes.Buffer
	if err := run([]string{"-root", root, "-name", gadget, "-fields", everyType, "--dry-run"}, &dry); err != nil {
		t.Fatalf("dry run: %v", err)
	}
	for _, want := range []string{"create internal/app/" + gadgetFile + ".go", "create internal/store/" + gadgetFile + ".go",
		"create internal/server/" + gadgetFile + ".go", "create web/page/" + gadgetFile + ".templ", "create migrations/sqlite/", "create migrations/postgres/", "edit   internal/server/routes.go",
		"edit   internal/app/audit_catalog.go", "edit   web/layout/header.templ"} {
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
	goCmd(env, "test", "-count=1", "-timeout", "30m", "-run", gadget+"|"+note+"|Test"+digest+"$|TestHotQueryPlans|TestTenantIsolation|TestCopyTables_Complete|TestMigrat|TestStore_OneReadPath",
		"./internal/app/", "./internal/store/", "./internal/store/ops/", "./internal/server/", "./internal/jobs/")
}
