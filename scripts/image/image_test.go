package main

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

// TestImage builds the image for this machine's architecture twice and
// checks what an operator relies on: the same inputs give the same
// digest and bytes; the image runs atrium serve as a non-root user with
// /data for SQLite and carries its source annotations; and, as root, the
// unpacked layer alone runs the server in a chroot (nothing else from a
// base image is needed): /readyz answers 200, SIGTERM ends it cleanly, and
// a second start finds the database the first one migrated.
func TestImage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary for the image")
	}
	root := repoRoot(t)
	t.Chdir(root)
	dir := t.TempDir()
	opts := func(out string) *options {
		o, err := parseOptions([]string{"-platforms", "linux/" + runtime.GOARCH, "-version", "v9.9.9", "-revision", "abc123",
			"-source", "https://example.com/atrium", "-epoch", "1700000000", "-o", out}, func(string) string { return "" })
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	first, second := filepath.Join(dir, "a.oci.tar"), filepath.Join(dir, "b.oci.tar")
	d1, err := build(opts(first), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	d2, err := build(opts(second), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(first)
	b, _ := os.ReadFile(second)
	if d1 != d2 || !bytes.Equal(a, b) {
		t.Fatalf("two builds of the same inputs differ: %s and %s", d1, d2)
	}

	img := platformImage(t, first, dir)
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	c := cf.Config
	if c.User != "65532:65532" || !slices.Equal(c.Entrypoint, []string{"/usr/local/bin/atrium"}) || !slices.Equal(c.Cmd, []string{"serve"}) ||
		c.WorkingDir != "/data" || !slices.Contains(c.Env, "DATABASE_URL=sqlite:/data/atrium.db") {
		t.Errorf("config: user %q entrypoint %q cmd %q workdir %q env %q", c.User, c.Entrypoint, c.Cmd, c.WorkingDir, c.Env)
	}
	if cf.Architecture != runtime.GOARCH || cf.OS != "linux" {
		t.Errorf("platform %s/%s", cf.OS, cf.Architecture)
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{"org.opencontainers.image.revision": "abc123",
		"org.opencontainers.image.version": "v9.9.9", "org.opencontainers.image.source": "https://example.com/atrium"} {
		if got := m.Annotations[k]; got != want {
			t.Errorf("annotation %s = %q, want %q", k, got, want)
		}
	}

	rootfs := filepath.Join(dir, "rootfs")
	unpack(t, img, rootfs)
	if os.Geteuid() != 0 {
		t.Skip("running the image's files in a chroot needs root; the build, its digest and its configuration were checked")
	}
	port := freePort(t)
	env := []string{"PATH=/usr/local/bin", "DATABASE_URL=sqlite:/data/atrium.db", fmt.Sprintf("PORT=%d", port),
		fmt.Sprintf("APP_URL=http://127.0.0.1:%d", port), "LOG_LEVEL=warn"}
	run := func(args ...string) *exec.Cmd {
		cmd := exec.Command("/usr/local/bin/atrium", args...)
		cmd.Env, cmd.Dir = env, "/"
		cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: rootfs, Credential: &syscall.Credential{Uid: uid, Gid: uid}}
		return cmd
	}
	if out, err := run("version").CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != "atrium v9.9.9" {
		t.Fatalf("atrium version in the chroot: %v %q", err, out)
	}
	for start := range 2 {
		var logs bytes.Buffer
		srv := run("serve")
		srv.Stdout, srv.Stderr = &logs, &logs
		if err := srv.Start(); err != nil {
			t.Fatal(err)
		}
		if err := waitReady(port, srv, 60*time.Second); err != nil {
			_ = srv.Process.Kill()
			_ = srv.Wait()
			t.Fatalf("start %d: %v\n%s", start+1, err, logs.String())
		}
		_ = srv.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- srv.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("start %d: after SIGTERM: %v\n%s", start+1, err, logs.String())
			}
		case <-time.After(30 * time.Second):
			_ = srv.Process.Kill()
			t.Fatalf("start %d: still running 30 s after SIGTERM\n%s", start+1, logs.String())
		}
	}
	out, err := run("migrate", "status").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "All migrations are applied.") {
		t.Errorf("after two starts, migrate status: %v\n%s", err, out)
	}
	if fi, err := os.Stat(filepath.Join(rootfs, "data", "atrium.db")); err != nil || fi.Sys().(*syscall.Stat_t).Uid != uid {
		t.Errorf("the database in /data: %v (owned by the server's user?)", err)
	}
}

// platformImage opens the archive and returns its image for this machine.
func platformImage(t *testing.T, archive, dir string) v1.Image {
	t.Helper()
	lay := filepath.Join(dir, "layout")
	untar(t, archive, lay)
	p, err := layout.FromPath(lay)
	if err != nil {
		t.Fatal(err)
	}
	top, err := p.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	tm, err := top.IndexManifest()
	if err != nil || len(tm.Manifests) != 1 {
		t.Fatalf("index.json: %v, %d entries", err, len(tm.Manifests))
	}
	// podman load and docker load name the image after this annotation.
	if got, want := tm.Manifests[0].Annotations["org.opencontainers.image.ref.name"], "atrium:v9.9.9"; got != want {
		t.Errorf("index.json names the image %q, want %q", got, want)
	}
	idx, err := top.ImageIndex(tm.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range im.Manifests {
		if d.Platform != nil && d.Platform.Architecture == runtime.GOARCH {
			img, err := idx.Image(d.Digest)
			if err != nil {
				t.Fatal(err)
			}
			return img
		}
	}
	t.Fatalf("no image for linux/%s", runtime.GOARCH)
	return nil
}

// unpack writes the image's files under dir, with their modes and, as
// root, their owners.
func unpack(t *testing.T, img v1.Image, dir string) {
	t.Helper()
	// The root of the image's tree is /: anyone may look up paths in it.
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	rc := mutate.Extract(img)
	defer rc.Close()
	extract(t, rc, dir, true)
}

// untar writes the files of a tar file (the OCI archive) under dir.
func untar(t *testing.T, archive, dir string) {
	t.Helper()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	extract(t, f, dir, false)
}

// extract writes the entries of a tar stream under dir. With asImage, each
// keeps its mode and, as root, its owner, and only folders and regular
// files may appear; otherwise folders are 0755 and files 0644.
func extract(t *testing.T, r io.Reader, dir string, asImage bool) {
	t.Helper()
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, filepath.FromSlash(h.Name))
		dirMode, fileMode := os.FileMode(0o755), os.FileMode(0o644)
		if asImage {
			dirMode, fileMode = os.FileMode(h.Mode).Perm(), os.FileMode(h.Mode).Perm()
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(path, dirMode); err != nil {
				t.Fatal(err)
			}
		case tar.TypeReg:
			body, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, body, fileMode); err != nil {
				t.Fatal(err)
			}
		default:
			t.Fatalf("%s: unexpected entry type %c", h.Name, h.Typeflag)
		}
		if asImage && os.Geteuid() == 0 {
			if err := os.Lchown(path, h.Uid, h.Gid); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, fileMode|modeBits(h.Mode)); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// modeBits turns a tar header's sticky bit into the os.FileMode flag.
func modeBits(mode int64) os.FileMode {
	if mode&0o1000 != 0 {
		return os.ModeSticky
	}
	return 0
}

func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		t.Fatalf("no go.mod two folders up: %v", err)
	}
	return dir
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// waitReady polls /readyz until it answers 200, the process exits or the
// time is up.
func waitReady(port int, cmd *exec.Cmd, within time.Duration) error {
	url := fmt.Sprintf("http://127.0.0.1:%d/readyz", port)
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if cmd.ProcessState != nil {
			return fmt.Errorf("the server exited: %v", cmd.ProcessState)
		}
		resp, err := http.Get(url)
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("/readyz did not answer 200 within %s", within)
}
