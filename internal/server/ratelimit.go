package server

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/ulule/limiter/v3"
	"github.com/ulule/limiter/v3/drivers/store/memory"
	redisstore "github.com/ulule/limiter/v3/drivers/store/redis"

	"atrium/internal/app"
	"atrium/internal/config"
	"atrium/internal/i18n"
)

// RateLimiter counts requests per client and magic-link requests per email
// in a ulule/limiter store (memory, or Redis when several instances share
// the budget).
type RateLimiter struct {
	general *limiter.Limiter
	// login counts magic-link requests per address and client network: the
	// budget that answers 429, which a stranger elsewhere cannot spend.
	login *limiter.Limiter
	// loginAddress counts magic-link emails per address from every network:
	// the ceiling that stops mail silently instead of refusing anyone.
	loginAddress *limiter.Limiter
	// webhook counts unverifiable webhook deliveries per client.
	webhook *limiter.Limiter
	// api counts /api/v1 requests per API key per minute; its rate is
	// API_RATE_LIMIT_MAX, and APIKey replaces it with the key's plan's.
	api *limiter.Limiter
	// apiBadKeys counts /api/v1 requests without a usable key per client
	// network per minute.
	apiBadKeys *limiter.Limiter
	// admin counts every request to the operator console per staff member
	// per minute (admin.go).
	admin   *limiter.Limiter
	trusted []netip.Prefix
}

// NewRateLimiter returns a limiter allowing cfg.RateLimitMax state-changing
// requests per client per cfg.RateLimitWindow, cfg.LoginRateLimitMax
// magic-link requests per email and client network and cfg.LoginAddressMax
// magic-link emails per email per cfg.LoginRateLimitWindow.
func NewRateLimiter(store limiter.Store, cfg *config.Config) *RateLimiter {
	return &RateLimiter{
		general:      limiter.New(store, limiter.Rate{Period: cfg.RateLimitWindow, Limit: int64(cfg.RateLimitMax)}),
		login:        limiter.New(store, limiter.Rate{Period: cfg.LoginRateLimitWindow, Limit: int64(cfg.LoginRateLimitMax)}),
		loginAddress: limiter.New(store, limiter.Rate{Period: cfg.LoginRateLimitWindow, Limit: int64(cfg.LoginAddressMax)}),
		webhook:      limiter.New(store, limiter.Rate{Period: time.Minute, Limit: webhookBadBudget}),
		api:          limiter.New(store, limiter.Rate{Period: time.Minute, Limit: int64(cfg.APIRateLimitMax)}),
		apiBadKeys:   limiter.New(store, limiter.Rate{Period: time.Minute, Limit: int64(cfg.APIBadKeyMax)}),
		admin:        limiter.New(store, limiter.Rate{Period: time.Minute, Limit: adminRateLimit}),
		trusted:      cfg.TrustedProxies,
	}
}

// APIKey counts a request of the API key id against perMinute, its
// workspace plan's app.Plan.APIRate (the limiter's own rate when 0).
func (rl *RateLimiter) APIKey(ctx context.Context, id int64, perMinute int) (limiter.Context, error) {
	l := *rl.api
	if perMinute > 0 {
		l.Rate = limiter.Rate{Period: time.Minute, Limit: int64(perMinute)}
	}
	return l.Get(ctx, "apikey:"+strconv.FormatInt(id, 10))
}

// NewLimiterStore returns the Redis store when redisURL is set (checking
// that Redis answers) and an in-memory store otherwise. close releases it.
func NewLimiterStore(ctx context.Context, redisURL string) (store limiter.Store, close func() error, err error) {
	if redisURL == "" {
		return memory.NewStoreWithOptions(limiter.StoreOptions{Prefix: "atrium", CleanUpInterval: time.Minute}),
			func() error { return nil }, nil
	}
	opts, err := redis.ParseURL(redisURL)
	if err != nil {
		return nil, nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	client := redis.NewClient(opts)
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := client.Ping(pctx).Err(); err != nil {
		_ = client.Close()
		return nil, nil, fmt.Errorf("connect to Redis at REDIS_URL: %w", err)
	}
	st, err := redisstore.NewStoreWithOptions(client, limiter.StoreOptions{Prefix: "atrium:ratelimit"})
	if err != nil {
		_ = client.Close()
		return nil, nil, fmt.Errorf("redis rate-limit store: %w", err)
	}
	return st, client.Close, nil
}

// ClientIP returns the address of the client behind r. The socket's peer
// is the client unless it is a trusted proxy; then X-Forwarded-For is read
// from the right, skipping trusted proxies, so a client cannot forge its
// way to a fresh budget by sending the header itself.
func (rl *RateLimiter) ClientIP(r *http.Request) netip.Addr {
	peer := remoteAddr(r)
	if !rl.isTrusted(peer) {
		return peer
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	addr := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return addr
		}
		addr = a.Unmap()
		if !rl.isTrusted(addr) {
			return addr
		}
	}
	return addr
}

func remoteAddr(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.IPv4Unspecified()
	}
	return a.Unmap()
}

func (rl *RateLimiter) isTrusted(a netip.Addr) bool {
	for _, p := range rl.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// clientKey is the rate-limit key of a client: its IPv4 address, or the
// /64 of an IPv6 address (one subscriber's usual allocation).
func clientKey(a netip.Addr) string {
	if a.Is6() {
		p, _ := a.Prefix(64)
		return "ip:" + p.String()
	}
	return "ip:" + a.String()
}

// loginKeys returns the keys of a magic-link request for email from r: the
// refusing budget's (address and client network) and the ceiling's
// (address). The address is hashed: keys may sit in a shared Redis.
func (rl *RateLimiter) loginKeys(r *http.Request, email string) (network, address string) {
	address = "login:" + app.HashToken(email)
	return address + ":" + clientKey(rl.ClientIP(r)), address
}

// setLimitHeaders writes the X-RateLimit-* headers, and Retry-After when
// the limit is reached.
func setLimitHeaders(w http.ResponseWriter, lc limiter.Context, now time.Time) {
	h := w.Header()
	h.Set("X-RateLimit-Limit", strconv.FormatInt(lc.Limit, 10))
	h.Set("X-RateLimit-Remaining", strconv.FormatInt(lc.Remaining, 10))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(lc.Reset, 10))
	if lc.Reached {
		h.Set("Retry-After", strconv.FormatInt(max(1, lc.Reset-now.Unix()), 10))
	}
}

// rateLimit counts every state-changing request (POST, PUT, PATCH, DELETE)
// against the client's budget. Over budget: 429 with Retry-After. A failing
// store: 503 and a log line (ulule's default handler would panic).
func (s *Server) rateLimit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			next.ServeHTTP(w, r)
			return
		}
		lc, err := s.Limiter.general.Get(r.Context(), clientKey(s.Limiter.ClientIP(r)))
		if !s.limitAllows(w, r, lc, err) {
			return
		}
		next.ServeHTTP(w, r)
	})
}

// limitAllows writes the rate-limit headers and, when the request may not
// go on, the 429 or 503 page. It reports whether the request may go on.
func (s *Server) limitAllows(w http.ResponseWriter, r *http.Request, lc limiter.Context, err error) bool {
	if err != nil && clientGone(r) {
		markClientGone(r.Context())
		return false
	}
	if err != nil {
		s.Logger.ErrorContext(r.Context(), "rate limiter unavailable", "request_id", requestIDFrom(r.Context()), "error", err.Error())
		w.Header().Set("Retry-After", "30")
		s.errorPage(w, r, http.StatusServiceUnavailable, i18n.T(r.Context(), "errorpage.limiter_unavailable"))
		return false
	}
	// The limiter's stores keep real time, so Retry-After is computed
	// against the wall clock, not the server's (test-settable) clock.
	setLimitHeaders(w, lc, time.Now())
	if lc.Reached {
		s.Logger.WarnContext(r.Context(), "rate limit reached", "request_id", requestIDFrom(r.Context()),
			"path", loggablePath(r), "limit", lc.Limit)
		s.errorPage(w, r, http.StatusTooManyRequests, i18n.T(r.Context(), "errorpage.rate_limited"))
		return false
	}
	return true
}
