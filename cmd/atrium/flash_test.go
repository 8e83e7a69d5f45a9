package main

import (
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"atrium/internal/config"
)

// TestServe_FlashKeyKeptInDatabase checks that without FLASH_KEY the flash
// cookie's key is made once and kept in the database: a message signed
// before a restart still shows after it, and a cookie signed with another
// key does not.
func TestServe_FlashKeyKeptInDatabase(t *testing.T) {
	t.Parallel()
	db := "sqlite:" + filepath.Join(t.TempDir(), "atrium.db")
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	flashFrom := func(srv *testServer) *http.Cookie {
		t.Helper()
		res, err := noFollow.Post(srv.URL+"/logout", "application/x-www-form-urlencoded", nil)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		for _, c := range res.Cookies() {
			if c.Name == "atrium_flash" {
				return c
			}
		}
		t.Fatalf("POST /logout set no flash cookie: %v", res.Header.Values("Set-Cookie"))
		return nil
	}
	shows := func(srv *testServer, c *http.Cookie) bool {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/login", nil)
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return strings.Contains(string(body), "You have signed out.")
	}

	first := startServe(t, config.Env{"DATABASE_URL": db})
	cookie := flashFrom(first)
	if err := first.Stop(t); err != nil {
		t.Fatal(err)
	}
	second := startServe(t, config.Env{"DATABASE_URL": db})
	if !shows(second, cookie) {
		t.Fatal("after a restart the flash message signed before it is not shown: the key changed")
	}
	if err := second.Stop(t); err != nil {
		t.Fatal(err)
	}
	withKey := startServe(t, config.Env{"DATABASE_URL": db, "FLASH_KEY": strings.Repeat("f", 32)})
	if shows(withKey, cookie) {
		t.Fatal("with FLASH_KEY set, a cookie signed with the database's key is still shown")
	}
	if !shows(withKey, flashFrom(withKey)) {
		t.Fatal("with FLASH_KEY set, its own flash message is not shown")
	}
}
