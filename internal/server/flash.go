package server

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"atrium/web/layout"
)

// flashCookieName is the flash cookie's name over plain HTTP; under HTTPS
// it carries the __Host- prefix, which pins it to this host, path / and
// HTTPS.
const flashCookieName = "atrium_flash"

// setFlash stores a one-time message shown on the next page.
func (s *Server) setFlash(w http.ResponseWriter, kind, msg string) {
	s.writeFlash(w, kind, msg, "")
}

// setFlashLink stores a one-time success message with a link to copy. Only
// links to this site are ever shown.
func (s *Server) setFlashLink(w http.ResponseWriter, msg, link string) {
	s.writeFlash(w, "success", msg, link)
}

// flashTTL is how long a flash message may wait to be shown: the cookie's
// Max-Age and the expiry signed inside its value.
const flashTTL = 2 * time.Minute

// writeFlash sets the flash cookie: "expiry:kind:message[:link]" (expiry
// in Unix seconds, the rest query-escaped), then "." and its HMAC-SHA256
// under the flash key, so that a message shown on a page is one this
// server wrote in the last flashTTL: a copied cookie cannot be replayed
// later, whatever Max-Age the browser is told.
func (s *Server) writeFlash(w http.ResponseWriter, kind, msg, link string) {
	v := strconv.FormatInt(s.Now().Add(flashTTL).Unix(), 10) + ":" + kind + ":" + url.QueryEscape(msg)
	if link != "" {
		v += ":" + url.QueryEscape(link)
	}
	setCookie(w, &http.Cookie{Name: s.flashCookie, Value: v + "." + s.flashMAC(v), Path: "/",
		MaxAge: int(flashTTL / time.Second), HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
}

// flashMAC returns the URL-safe base64 HMAC-SHA256 of the cookie's name and
// payload under the flash key.
func (s *Server) flashMAC(payload string) string {
	m := hmac.New(sha256.New, s.flashKey)
	m.Write([]byte(s.flashCookie + "=" + payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// takeFlash reads and clears the flash message. An unsigned, tampered or
// expired cookie is cleared and shows nothing. A HEAD request leaves it for the
// GET that shows it.
func (s *Server) takeFlash(w http.ResponseWriter, r *http.Request) *layout.Flash {
	c, err := r.Cookie(s.flashCookie)
	if err != nil {
		return nil
	}
	if r.Method == http.MethodHead {
		return nil
	}
	setCookie(w, &http.Cookie{Name: s.flashCookie, Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
	dot := strings.LastIndexByte(c.Value, '.')
	if dot < 0 || !hmac.Equal([]byte(c.Value[dot+1:]), []byte(s.flashMAC(c.Value[:dot]))) {
		return nil
	}
	rawExp, rest, _ := strings.Cut(c.Value[:dot], ":")
	if exp, err := strconv.ParseInt(rawExp, 10, 64); err != nil || s.Now().Unix() > exp {
		return nil
	}
	kind, raw, ok := strings.Cut(rest, ":")
	raw, rawLink, _ := strings.Cut(raw, ":")
	msg, err := url.QueryUnescape(raw)
	if !ok || err != nil || msg == "" {
		return nil
	}
	link, _ := url.QueryUnescape(rawLink)
	if !strings.HasPrefix(link, s.Config.AppURL.String()+"/") {
		link = ""
	}
	switch kind {
	case "success", "error", "info":
	default:
		kind = "info"
	}
	return &layout.Flash{Kind: kind, Message: msg, Link: link}
}
