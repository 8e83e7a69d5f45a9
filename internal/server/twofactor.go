package server

import "net/http"

// handleSecondFactorShow handles "GET /login/two-factor".
func (s *Server) handleSecondFactorShow(w http.ResponseWriter, r *http.Request) {
	s.errorPage(w, r, http.StatusNotImplemented, "")
}

// handleSecondFactorCode handles "POST /login/two-factor".
func (s *Server) handleSecondFactorCode(w http.ResponseWriter, r *http.Request) {
	s.errorPage(w, r, http.StatusNotImplemented, "")
}

// handleTOTPShow handles "GET /settings/account/two-factor/app".
func (s *Server) handleTOTPShow(w http.ResponseWriter, r *http.Request) {
	s.errorPage(w, r, http.StatusNotImplemented, "")
}

// handleTOTPConfirm handles "POST /settings/account/two-factor/app".
func (s *Server) handleTOTPConfirm(w http.ResponseWriter, r *http.Request) {
	s.errorPage(w, r, http.StatusNotImplemented, "")
}

// handleTOTPDisable handles "POST /settings/account/two-factor/app/disable".
func (s *Server) handleTOTPDisable(w http.ResponseWriter, r *http.Request) {
	s.errorPage(w, r, http.StatusNotImplemented, "")
}

// handleRecoveryCodesRegenerate handles "POST /settings/account/two-factor/recovery-codes".
func (s *Server) handleRecoveryCodesRegenerate(w http.ResponseWriter, r *http.Request) {
	s.errorPage(w, r, http.StatusNotImplemented, "")
}
