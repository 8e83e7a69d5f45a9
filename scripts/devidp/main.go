// Command devidp runs an OpenID Connect provider on this machine for
// trying "Sign in with …" locally, without registering the app anywhere:
// github.com/oauth2-proxy/mockoidc, which approves every sign-in at once as
// the person given by -email. It prints the OIDC_* lines to put in .env.
//
//	go run ./scripts/devidp                       # signs in as dev@example.com
//	go run ./scripts/devidp -email ada@example.com -addr 127.0.0.1:5556
//
// Then start Atrium (make dev) and press "Sign in with Test IdP" on the
// sign-in page. It is for development only: APP_ENV=production refuses its
// plain-http issuer.
package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"

	"github.com/oauth2-proxy/mockoidc"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:5556", "address to listen on")
	email := flag.String("email", "dev@example.com", "the email address of the person every sign-in is for")
	subject := flag.String("subject", "", "their subject at the provider (default: derived from -email)")
	unverified := flag.Bool("unverified", false, "say the email address is not verified (to try the refusal)")
	flag.Parse()
	if err := run(*addr, *email, *subject, !*unverified); err != nil {
		fmt.Fprintln(os.Stderr, "devidp:", err)
		os.Exit(1)
	}
}

func run(addr, email, subject string, verified bool) error {
	if subject == "" {
		subject = "dev-" + email
	}
	m, err := mockoidc.NewServer(nil)
	if err != nil {
		return err
	}
	m.ClientID, m.ClientSecret = "atrium-dev", "atrium-dev-secret"
	m.CodeChallengeMethodsSupported = []string{"S256"}
	user := &mockoidc.MockUser{Subject: subject, Email: email, EmailVerified: verified, PreferredUsername: email}
	// Every authorization request signs in as the same person.
	if err := m.AddMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == mockoidc.AuthorizationEndpoint {
				m.QueueUser(user)
			}
			next.ServeHTTP(w, r)
		})
	}); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	if err := m.Start(ln, nil); err != nil {
		return err
	}
	fmt.Printf(`Test identity provider running at %s, signing everyone in as %s.
Put these lines in .env and restart Atrium:

OIDC_DEV_ISSUER=%s
OIDC_DEV_CLIENT_ID=%s
OIDC_DEV_CLIENT_SECRET=%s
OIDC_DEV_LABEL=Test IdP

Press Ctrl+C to stop.
`, m.Addr(), email, m.Issuer(), m.ClientID, m.ClientSecret)
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt)
	<-stop
	return m.Shutdown()
}
