package app

import "context"

type contextKey int

const (
	principalKey contextKey = iota + 1
	requestMetaKey
)

// RequestMeta is what the audit log records about the request behind a change.
type RequestMeta struct {
	RequestID string
	IP        string
	UserAgent string
}

// WithPrincipal returns a context carrying the signed-in principal.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey, p)
}

// PrincipalFromContext returns the signed-in principal, or nil.
func PrincipalFromContext(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey).(*Principal)
	return p
}

// UserIDFromContext returns the signed-in user's id, or 0.
func UserIDFromContext(ctx context.Context) int64 {
	if p := PrincipalFromContext(ctx); p != nil {
		return p.User.ID
	}
	return 0
}

// WithRequestMeta returns a context carrying the request's audit details.
func WithRequestMeta(ctx context.Context, m RequestMeta) context.Context {
	return context.WithValue(ctx, requestMetaKey, m)
}

// RequestMetaFromContext returns the request's audit details (zero outside a request).
func RequestMetaFromContext(ctx context.Context) RequestMeta {
	m, _ := ctx.Value(requestMetaKey).(RequestMeta)
	return m
}
