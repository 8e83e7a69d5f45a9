package server

import "net/http"

// handlePasskeyLoginBegin handles "POST /login/passkey/begin".
func (s *Server) handlePasskeyLoginBegin(w http.ResponseWriter, r *http.Request) {
	s.errorPage(w, r, http.StatusNotImplemented, "")
}

// handlePasskeyLoginFinish handles "POST /login/passkey/finish".
func (s *Server) handlePasskeyLoginFinish(w http.ResponseWriter, r *http.Request) {
	s.errorPage(w, r, http.StatusNotImplemented, "")
}

// handlePasskeyRegisterBegin handles "POST /settings/account/passkeys/begin".
func (s *Server) handlePasskeyRegisterBegin(w http.ResponseWriter, r *http.Request) {
	s.errorPage(w, r, http.StatusNotImplemented, "")
}

// handlePasskeyRegisterFinish handles "POST /settings/account/passkeys".
func (s *Server) handlePasskeyRegisterFinish(w http.ResponseWriter, r *http.Request) {
	s.errorPage(w, r, http.StatusNotImplemented, "")
}

// handlePasskeyRemove handles "POST /settings/account/passkeys/{passkeyID}/remove".
func (s *Server) handlePasskeyRemove(w http.ResponseWriter, r *http.Request) {
	s.errorPage(w, r, http.StatusNotImplemented, "")
}
