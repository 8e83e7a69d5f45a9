package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"text/template"
	"time"
	"unicode"
)

// Job is what the job templates see.
type Job struct {
	Name   string // WeeklyDigest
	Kind   string // weekly_digest
	Var    string // weeklyDigest
	Every  string // "168 * time.Hour", or "" when not periodic
	Module string
}

var jobName = regexp.MustCompile(`^[A-Z][A-Za-z0-9]*$`)

// runJob scaffolds a job kind: its arguments and worker in internal/jobs,
// a test that works one job with rivertest on both databases, and its
// registration (and schedule, with every) at the "scaffold:" markers of
// internal/jobs/register.go.
func runJob(root, name string, every time.Duration, dryRun bool, stdout io.Writer) error {
	if !jobName.MatchString(name) {
		return fmt.Errorf("-job %q: want a name in CamelCase, like WeeklyDigest", name)
	}
	if every < 0 || (every > 0 && (every < time.Minute || every%time.Minute != 0)) {
		return fmt.Errorf("-every %s: want a whole number of minutes, at least one, like 168h", every)
	}
	j := Job{Name: name, Kind: snake(name)}
	r := []rune(name)
	r[0] = unicode.ToLower(r[0])
	j.Var = string(r)
	switch {
	case every > 0 && every%time.Hour == 0:
		j.Every = fmt.Sprintf("%d * time.Hour", every/time.Hour)
	case every > 0:
		j.Every = fmt.Sprintf("%d * time.Minute", every/time.Minute)
	}
	var err error
	if j.Module, err = modulePath(root); err != nil {
		return err
	}
	tmpl, err := template.New("").Delims("[[", "]]").ParseFS(templateFS, "templates/job*.tmpl")
	if err != nil {
		return err
	}
	p := &plan{}
	for _, out := range []struct{ tmpl, path string }{
		{"job", "internal/jobs/" + j.Kind + ".go"},
		{"job_test", "internal/jobs/" + j.Kind + "_test.go"},
	} {
		if _, err := os.Stat(filepath.Join(root, out.path)); err == nil {
			return fmt.Errorf("refusing to overwrite %s", out.path)
		}
		var buf bytes.Buffer
		if err := tmpl.ExecuteTemplate(&buf, out.tmpl, j); err != nil {
			return fmt.Errorf("render %s: %w", out.path, err)
		}
		content, err := tidy(out.path, buf.Bytes())
		if err != nil {
			return err
		}
		p.files = append(p.files, file{path: out.path, content: content})
	}
	const register = "internal/jobs/register.go"
	src, err := os.ReadFile(filepath.Join(root, register))
	if err != nil {
		return fmt.Errorf("read %s: %w", register, err)
	}
	edits := []string{"job_insert_worker"}
	if every > 0 {
		edits = append(edits, "job_insert_periodic")
	}
	for _, name := range edits {
		var buf bytes.Buffer
		if err := tmpl.ExecuteTemplate(&buf, name, j); err != nil {
			return fmt.Errorf("render %s: %w", name, err)
		}
		marker := map[string]string{"job_insert_worker": "scaffold:job-workers", "job_insert_periodic": "scaffold:job-periodic"}[name]
		if src, err = insertAtMarker(src, marker, buf.String()); err != nil {
			return fmt.Errorf("%s: %w", register, err)
		}
	}
	content, err := tidy(register, src)
	if err != nil {
		return err
	}
	p.edits = append(p.edits, file{path: register, content: content})
	if dryRun {
		for _, f := range p.files {
			fmt.Fprintf(stdout, "create %s\n", f.path)
		}
		fmt.Fprintf(stdout, "edit   %s\n", register)
		return nil
	}
	if err := p.apply(root, stdout); err != nil {
		return err
	}
	fmt.Fprintf(stdout, `
Next:
  1. Give %[1]s the fields it needs and write its Work in internal/jobs/%[2]s.go.
  2. Queue it in the transaction of the change that causes it: db.enqueue(tx, jobs.%[1]s{...}) in the store.
  3. Run its test: go test -run 'Test%[1]s' ./internal/jobs/
`, j.Name, j.Kind)
	if every > 0 {
		fmt.Fprintf(stdout, "  4. It is scheduled every %s on the leader instance (internal/jobs/register.go); restart the server.\n", every)
	}
	return nil
}
