package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
)

// deployRecipes returns the blocks of RUNBOOK.md that follow a
// "<!-- check: NAME -->" line, by name.
func deployRecipes(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "RUNBOOK.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recipes := map[string]string{}
	var name string
	var body []string
	inBlock := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		switch {
		case !inBlock && strings.HasPrefix(trimmed, "<!-- check:"):
			name = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(trimmed, "<!-- check:"), "-->"))
		case !inBlock && name != "" && strings.HasPrefix(trimmed, "```"):
			inBlock, body = true, nil
		case inBlock && strings.HasPrefix(trimmed, "```"):
			recipes[name] = strings.Join(body, "\n") + "\n"
			inBlock, name = false, ""
		case inBlock:
			body = append(body, line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return recipes
}

// needTool returns the path of a validator, or skips the test with the
// reason (fails under CI=true, whose .ci/run installs it).
func needTool(t *testing.T, name, pkg string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not installed (Debian package %s): .ci/run installs it", name, pkg)
		}
		t.Skipf("%s is not installed (Debian package %s): skipping its check of the RUNBOOK recipe", name, pkg)
	}
	return path
}

// TestRunbook_DeployRecipes checks the RUNBOOK's deploy recipes with the
// tools that will read them: the systemd unit with systemd-analyze verify
// (its ExecStart pointed at a freshly built binary, which verify requires
// to exist), the Caddyfile with caddy validate, and the Compose file
// against the Compose specification's schema, with the services the text
// promises.
func TestRunbook_DeployRecipes(t *testing.T) {
	recipes := deployRecipes(t)
	for _, name := range []string{"systemd", "caddy", "compose"} {
		if strings.TrimSpace(recipes[name]) == "" {
			t.Fatalf("RUNBOOK.md has no %q recipe (a block after <!-- check: %s -->)", name, name)
		}
	}

	t.Run("systemd", func(t *testing.T) {
		tool := needTool(t, "systemd-analyze", "systemd")
		bin := buildAtrium(t)
		unit := strings.ReplaceAll(recipes["systemd"], "/usr/local/bin/atrium", filepath.Join(bin, "atrium"))
		if !strings.Contains(unit, "DynamicUser=yes") || !strings.Contains(unit, "ProtectSystem=strict") ||
			!strings.Contains(unit, "NoNewPrivileges=yes") || !strings.Contains(unit, "EnvironmentFile=") {
			t.Errorf("the unit lacks a hardening line:\n%s", unit)
		}
		path := filepath.Join(t.TempDir(), "atrium.service")
		if err := os.WriteFile(path, []byte(unit), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(tool, "verify", "--man=no", path).CombinedOutput()
		if err != nil || strings.Contains(string(out), "atrium.service:") {
			t.Errorf("systemd-analyze verify: %v\n%s", err, out)
		}
	})

	t.Run("caddy", func(t *testing.T) {
		tool := needTool(t, "caddy", "caddy")
		dir := t.TempDir()
		path := filepath.Join(dir, "Caddyfile")
		if err := os.WriteFile(path, []byte(recipes["caddy"]), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(tool, "validate", "--config", path, "--adapter", "caddyfile")
		cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_DATA_HOME="+dir, "XDG_CONFIG_HOME="+dir)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("caddy validate: %v\n%s", err, out)
		}
	})

	t.Run("compose", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "atrium.env"), []byte("APP_URL=https://atrium.example.com\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		project, err := loader.LoadWithContext(context.Background(), types.ConfigDetails{WorkingDir: dir,
			ConfigFiles: []types.ConfigFile{{Filename: filepath.Join(dir, "compose.yaml"), Content: []byte(recipes["compose"])}},
			Environment: types.Mapping{}})
		if err != nil {
			t.Fatalf("the Compose file does not load under the Compose specification: %v", err)
		}
		for _, name := range []string{"postgres", "redis", "atrium-1", "atrium-2", "caddy"} {
			if _, ok := project.Services[name]; !ok {
				t.Errorf("the Compose file has no %s service", name)
			}
		}
		for _, name := range []string{"atrium-1", "atrium-2"} {
			env := project.Services[name].Environment
			if db := env["DATABASE_URL"]; db == nil || !strings.HasPrefix(*db, "postgres://") || env["REDIS_URL"] == nil {
				t.Errorf("%s does not share PostgreSQL and Redis: %v", name, env)
			}
		}
	})
}
