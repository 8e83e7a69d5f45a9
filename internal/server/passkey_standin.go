package server

// Stand-ins for the second-factor step's helpers in twofactor.go; removed
// when those land.

import (
	"net/http"
	"strings"

	"atrium/internal/app"
)

// pendingSignIn returns the pending second-factor sign-in of this browser.
func (s *Server) pendingSignIn(r *http.Request) (*app.PendingSignIn, string, bool) {
	return nil, "", false
}

// showRecoveryCodes shows freshly issued recovery codes once.
func (s *Server) showRecoveryCodes(w http.ResponseWriter, r *http.Request, codes []string) {
	s.setFlash(w, "success", "Passkey added. Your recovery codes: "+strings.Join(codes, " "))
	redirect(w, r, accountTwoFactor)
}
