package server_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestAudit_ExportOutlivesWriteTimeout: a client that reads an export
// slowly but steadily gets every line, though sending it all takes far
// longer than the server's WriteTimeout (half a second here, a minute in
// serve): the deadline moves with each batch sent.
func TestAudit_ExportOutlivesWriteTimeout(t *testing.T) {
	a := newTestApp(t, "sqlite", withEnv(testWriteTimeout, "500ms"))
	owner := a.newBrowser(t)
	owner.signIn("owner@example.com")
	slug := createWorkspace(t, owner, "Acme")
	makePro(t, a, slug) // the export is part of Pro
	const rows = 20000
	pad := strings.Repeat("slow-reader ", 30)
	ctx := context.Background()
	var wsID int64
	if err := a.DB.SQL().QueryRowContext(ctx, "SELECT id FROM workspaces WHERE slug = ?", slug).Scan(&wsID); err != nil {
		t.Fatal(err)
	}
	tx, err := a.DB.SQL().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	at := a.Clock.Now().Add(-time.Hour)
	for i := range rows {
		if _, err := tx.ExecContext(ctx, `INSERT INTO audit_logs (workspace_id, action, family, metadata, user_agent, created_at)
			VALUES (?, 'audit.exported', 'security', '{"format":"csv","rows":1}', ?, ?)`, wsID, pad, at.Add(time.Duration(i)*time.Millisecond)); err != nil {
			t.Fatalf("write entry %d: %v", i, err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}

	// A reader with a small socket buffer, so that the server cannot hand
	// the file to the kernel at once, pausing after each megabyte.
	client := &http.Client{Jar: owner.client.Jar, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err == nil {
				_ = c.(*net.TCPConn).SetReadBuffer(256 << 10)
			}
			return c, err
		}}}
	start := time.Now()
	res, err := client.Get(a.URL + "/w/" + slug + "/audit/export?format=csv")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("export: status %d", res.StatusCode)
	}
	lines, bytes, pauses := 0, 0, 0
	buf := make([]byte, 32<<10)
	for {
		n, err := res.Body.Read(buf)
		bytes += n
		lines += strings.Count(string(buf[:n]), "\n")
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("after %d lines (%d bytes, %s): %v", lines, bytes, time.Since(start).Round(time.Millisecond), err)
		}
		if bytes>>20 > pauses {
			pauses++
			time.Sleep(400 * time.Millisecond)
		}
	}
	took := time.Since(start)
	// The header, the entries written here and those of the sign-up.
	if lines < rows+1 {
		t.Fatalf("export ended after %d lines (%d bytes, %s), want at least %d", lines, bytes, took.Round(time.Millisecond), rows+1)
	}
	if took < 2*time.Second {
		t.Fatalf("the export took %s: the reader was not slow enough to outlive the write timeout", took)
	}
	t.Logf("%d lines, %d bytes in %s", lines, bytes, took.Round(time.Millisecond))
}
