// Command image builds Atrium's OCI image without a container daemon or a
// base image: an empty base holding only the static binary (built with
// CGO_ENABLED=0, the CA roots and time-zone data compiled in), /etc/passwd
// and /etc/group naming a non-root user, and /data for SQLite. It writes
// an OCI archive (an image layout in a tar file) with one image per
// platform under one index, for `podman load`, `docker load` or any
// registry client. The same commit and settings give the same digest:
// -trimpath, no build id or VCS stamp, and every time in the image is
// SOURCE_DATE_EPOCH.
//
// Usage:
//
//	go run ./scripts/image [-o FILE] [-platforms linux/amd64,linux/arm64] [-version V] [-revision R] [-source URL]
package main

import (
	"archive/tar"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The user the server runs as, and the paths inside the image.
const (
	uid      = 65532
	binPath  = "usr/local/bin/atrium"
	dataPath = "data"
)

// options are what an image is built from.
type options struct {
	out       string
	platforms []v1.Platform
	version   string
	revision  string
	source    string
	created   time.Time
	app       string // the binary's name, cmd/<app>
}

func main() {
	o, err := parseOptions(os.Args[1:], os.Getenv)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(2)
	}
	digest, err := build(o, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
	fmt.Printf("Wrote %s (index %s).\n", o.out, digest)
	fmt.Printf("Next: podman load -i %s   (or docker load -i %s), then\n", o.out, o.out)
	fmt.Printf("      podman run -p 8080:8080 -v atrium-data:/data --env-file .env %s:%s\n", o.app, o.version)
}

func parseOptions(args []string, getenv func(string) string) (*options, error) {
	fs := flag.NewFlagSet("image", flag.ContinueOnError)
	o := &options{app: "atrium"}
	platforms := fs.String("platforms", "linux/amd64,linux/arm64", "comma-separated `os/arch` list")
	fs.StringVar(&o.version, "version", or(getenv("VERSION"), "dev"), "the `version` stamped into the binary and the image")
	fs.StringVar(&o.revision, "revision", getenv("REVISION"), "the source `commit` (org.opencontainers.image.revision)")
	fs.StringVar(&o.source, "source", getenv("SOURCE_URL"), "the source repository's `URL` (org.opencontainers.image.source)")
	fs.StringVar(&o.out, "o", "", "the OCI archive to write (default dist/atrium-VERSION.oci.tar)")
	epoch := fs.Int64("epoch", 0, "every timestamp in the image, in Unix `seconds` (default $SOURCE_DATE_EPOCH, else 1980-01-01)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	for p := range strings.SplitSeq(*platforms, ",") {
		os, arch, ok := strings.Cut(strings.TrimSpace(p), "/")
		if !ok || os != "linux" || arch == "" {
			return nil, fmt.Errorf("-platforms: %q is not linux/ARCH", p)
		}
		o.platforms = append(o.platforms, v1.Platform{OS: os, Architecture: arch})
	}
	if *epoch == 0 {
		if s := getenv("SOURCE_DATE_EPOCH"); s != "" {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("SOURCE_DATE_EPOCH=%q is not a number of seconds", s)
			}
			*epoch = n
		} else {
			*epoch = 315532800 // 1980-01-01, the earliest time ZIP and many tools take
		}
	}
	o.created = time.Unix(*epoch, 0).UTC()
	if o.out == "" {
		o.out = filepath.Join("dist", o.app+"-"+o.version+".oci.tar")
	}
	return o, nil
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// build writes the archive and returns the index's digest.
func build(o *options, log io.Writer) (v1.Hash, error) {
	work, err := os.MkdirTemp("", "atrium-image")
	if err != nil {
		return v1.Hash{}, err
	}
	defer os.RemoveAll(work)
	idx := v1.ImageIndex(empty.Index)
	idx = mutate.IndexMediaType(idx, types.OCIImageIndex)
	for _, p := range o.platforms {
		fmt.Fprintf(log, "==> building %s for %s/%s\n", o.app, p.OS, p.Architecture)
		bin := filepath.Join(work, o.app+"-"+p.Architecture)
		if err := compile(o, p, bin); err != nil {
			return v1.Hash{}, err
		}
		img, err := image(o, p, bin)
		if err != nil {
			return v1.Hash{}, err
		}
		pl := p
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &pl}})
	}
	idx = mutate.Annotations(idx, annotations(o)).(v1.ImageIndex)
	dir := filepath.Join(work, "layout")
	lp, err := layout.Write(dir, empty.Index)
	if err != nil {
		return v1.Hash{}, err
	}
	// podman and docker name the loaded image after this: atrium:VERSION.
	ref := map[string]string{"org.opencontainers.image.ref.name": o.app + ":" + o.version}
	if err := lp.AppendIndex(idx, layout.WithAnnotations(ref)); err != nil {
		return v1.Hash{}, err
	}
	if err := os.MkdirAll(filepath.Dir(o.out), 0o755); err != nil {
		return v1.Hash{}, err
	}
	if err := tarDir(dir, o.out, o.created); err != nil {
		return v1.Hash{}, err
	}
	return idx.Digest()
}

// compile builds the static binary for one platform.
func compile(o *options, p v1.Platform, out string) error {
	cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-tags", "image,timetzdata",
		"-ldflags", "-s -w -buildid= -X main.version="+o.version, "-o", out, "./cmd/"+o.app)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+p.OS, "GOARCH="+p.Architecture, "GOFLAGS=")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build for %s/%s: %v\n%s", p.OS, p.Architecture, err, msg)
	}
	return nil
}

// image is one platform's image: its single layer and its configuration.
func image(o *options, p v1.Platform, bin string) (v1.Image, error) {
	layerTar, err := rootfs(o, bin)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, err
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err = mutate.Append(img, mutate.Addendum{Layer: layer, History: v1.History{
		Created: v1.Time{Time: o.created}, CreatedBy: "scripts/image: " + o.app + " " + o.version}})
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = p.OS, p.Architecture
	cf.Created = v1.Time{Time: o.created}
	cf.Config = v1.Config{
		Entrypoint:   []string{"/" + binPath},
		Cmd:          []string{"serve"},
		User:         strconv.Itoa(uid) + ":" + strconv.Itoa(uid),
		WorkingDir:   "/" + dataPath,
		Env:          []string{"PATH=/usr/local/bin", "DATABASE_URL=sqlite:/" + dataPath + "/atrium.db"},
		ExposedPorts: map[string]struct{}{"8080/tcp": {}},
		Volumes:      map[string]struct{}{"/" + dataPath: {}},
		Labels:       annotations(o),
		StopSignal:   "SIGTERM",
	}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, err
	}
	return mutate.Annotations(img, annotations(o)).(v1.Image), nil
}

// annotations are the OCI annotations (and labels) of the image.
func annotations(o *options) map[string]string {
	a := map[string]string{
		"org.opencontainers.image.title":   o.app,
		"org.opencontainers.image.version": o.version,
		"org.opencontainers.image.created": o.created.Format(time.RFC3339),
	}
	if o.revision != "" {
		a["org.opencontainers.image.revision"] = o.revision
	}
	if o.source != "" {
		a["org.opencontainers.image.source"] = o.source
	}
	return a
}

// rootfs is the image's one layer: the binary, the user, /data and /tmp.
// Entries are sorted and every time is o.created, so the bytes depend on
// the inputs alone.
func rootfs(o *options, bin string) ([]byte, error) {
	exe, err := os.ReadFile(bin)
	if err != nil {
		return nil, err
	}
	type entry struct {
		name string
		mode int64
		uid  int
		body []byte
		dir  bool
	}
	entries := []entry{
		{name: "etc/", mode: 0o755, dir: true},
		{name: "etc/group", mode: 0o644, body: fmt.Appendf(nil, "root:x:0:\n%s:x:%d:\n", o.app, uid)},
		{name: "etc/passwd", mode: 0o644, body: fmt.Appendf(nil,
			"root:x:0:0:root:/root:/sbin/nologin\n%s:x:%d:%d:%s:/%s:/sbin/nologin\n", o.app, uid, uid, o.app, dataPath)},
		{name: dataPath + "/", mode: 0o750, uid: uid, dir: true},
		{name: "tmp/", mode: 0o1777, dir: true},
		{name: "usr/", mode: 0o755, dir: true},
		{name: "usr/local/", mode: 0o755, dir: true},
		{name: "usr/local/bin/", mode: 0o755, dir: true},
		{name: binPath, mode: 0o755, body: exe},
	}
	slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.name, b.name) })
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: e.mode, Uid: e.uid, Gid: e.uid, ModTime: o.created, Format: tar.FormatPAX,
			Typeflag: tar.TypeReg, Size: int64(len(e.body))}
		if e.dir {
			h.Typeflag, h.Size = tar.TypeDir, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(e.body); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// tarDir writes the files under dir to the tar file out, sorted, with
// every time set to mtime.
func tarDir(dir, out string, mtime time.Time) error {
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(f)
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || path == dir {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		h := &tar.Header{Name: filepath.ToSlash(rel), Mode: 0o644, ModTime: mtime, Format: tar.FormatPAX, Typeflag: tar.TypeReg}
		if d.IsDir() {
			h.Name, h.Mode, h.Typeflag = h.Name+"/", 0o755, tar.TypeDir
			return tw.WriteHeader(h)
		}
		body, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		h.Size = int64(len(body))
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		_, err = tw.Write(body)
		return err
	})
	if err == nil {
		err = tw.Close()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
