package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/ulule/limiter/v3"
	"github.com/ulule/limiter/v3/drivers/store/memory"
	redisstore "github.com/ulule/limiter/v3/drivers/store/redis"

	"atrium/internal/config"
	"atrium/internal/metrics"
)

// redisBackoff is how long the store stops calling Redis after a call
// failed, so that an outage costs one timeout per second, not one per
// request.
const redisBackoff = time.Second

// fallbackLogEvery throttles the warning that the memory budget is in use.
const fallbackLogEvery = time.Minute

// LimiterStore is the rate limiter's store as serve runs it: in memory
// without REDIS_URL; otherwise Redis with every call bounded by
// REDIS_TIMEOUT_MS and, while Redis fails, the behaviour of
// RATE_LIMIT_STORE_FAILURE (a per-instance memory budget, or errors that
// the limiter turns into 503). It also counts spent budgets in metrics.
type LimiterStore struct {
	mu       sync.Mutex
	primary  limiter.Store // nil until Redis answered once (it loads its scripts then)
	fallback limiter.Store // nil when failures are answered with errors
	client   *redis.Client // nil without Redis
	timeout  time.Duration
	logger   *slog.Logger
	metrics  *metrics.Metrics

	downUntil atomic.Int64 // unix nanos until which Redis is not tried
	warned    logEvery
}

var _ limiter.Store = (*LimiterStore)(nil)

// OpenLimiterStore returns the store for cfg. With Redis it checks that
// Redis answers: when it does not, serve refuses to start with
// RATE_LIMIT_STORE_FAILURE=closed and starts on the memory budget with a
// warning otherwise.
func OpenLimiterStore(ctx context.Context, cfg *config.Config, logger *slog.Logger, m *metrics.Metrics) (*LimiterStore, error) {
	mem := func() limiter.Store {
		return memory.NewStoreWithOptions(limiter.StoreOptions{Prefix: "atrium", CleanUpInterval: time.Minute})
	}
	s := &LimiterStore{timeout: cfg.Cluster.RedisTimeout, logger: logger, metrics: m}
	if cfg.RedisURL == "" {
		s.primary = mem()
		return s, nil
	}
	opts, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		return nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	// One try per call, each step bounded: go-redis's defaults (5 s dial,
	// 3 retries with backoff) stalled every request while Redis was away.
	opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout = s.timeout, s.timeout, s.timeout
	opts.PoolTimeout = s.timeout
	opts.MaxRetries = -1
	opts.ContextTimeoutEnabled = true
	s.client = redis.NewClient(opts)
	if cfg.Cluster.RateLimitStoreFailure == config.StoreFailureMemory {
		s.fallback = mem()
	}
	err = s.Ping(ctx)
	if err == nil {
		_, err = s.redisStore()
	}
	if err != nil {
		if s.fallback == nil {
			_ = s.client.Close()
			return nil, fmt.Errorf("connect to Redis at REDIS_URL: %w", err)
		}
		logger.Warn("Redis is unreachable at start; rate limits use a per-instance budget until it answers (RATE_LIMIT_STORE_FAILURE=memory)",
			"error", err.Error())
	}
	return s, nil
}

// Redis reports whether the store uses Redis.
func (s *LimiterStore) Redis() bool { return s.client != nil }

// FailClosed reports whether requests are refused while Redis fails.
func (s *LimiterStore) FailClosed() bool { return s.client != nil && s.fallback == nil }

// Ping checks that Redis answers within the timeout; nil without Redis.
func (s *LimiterStore) Ping(ctx context.Context) error {
	if s.client == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if err := s.client.Ping(ctx).Err(); err != nil {
		return err
	}
	s.downUntil.Store(0)
	return nil
}

// redisStore returns the Redis store, making it on first use: making it
// loads the limiter's scripts into Redis, which needs Redis to answer.
func (s *LimiterStore) redisStore() (limiter.Store, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.primary != nil {
		return s.primary, nil
	}
	st, err := redisstore.NewStoreWithOptions(s.client, limiter.StoreOptions{Prefix: "atrium:ratelimit"})
	if err != nil {
		return nil, fmt.Errorf("redis rate-limit store: %w", err)
	}
	s.primary = st
	return st, nil
}

// Close releases the Redis connections.
func (s *LimiterStore) Close() error {
	if s.client == nil {
		return nil
	}
	return s.client.Close()
}

// Get implements limiter.Store.
func (s *LimiterStore) Get(ctx context.Context, key string, rate limiter.Rate) (limiter.Context, error) {
	lc, err := s.call(ctx, key, func(ctx context.Context, st limiter.Store) (limiter.Context, error) {
		return st.Get(ctx, key, rate)
	})
	if err == nil && lc.Reached {
		s.metrics.RateLimited(budgetOf(key))
	}
	return lc, err
}

// Peek implements limiter.Store.
func (s *LimiterStore) Peek(ctx context.Context, key string, rate limiter.Rate) (limiter.Context, error) {
	lc, err := s.call(ctx, key, func(ctx context.Context, st limiter.Store) (limiter.Context, error) {
		return st.Peek(ctx, key, rate)
	})
	if err == nil && (lc.Reached || lc.Remaining == 0) {
		s.metrics.RateLimited(budgetOf(key))
	}
	return lc, err
}

// Reset implements limiter.Store.
func (s *LimiterStore) Reset(ctx context.Context, key string, rate limiter.Rate) (limiter.Context, error) {
	return s.call(ctx, key, func(ctx context.Context, st limiter.Store) (limiter.Context, error) {
		return st.Reset(ctx, key, rate)
	})
}

// Increment implements limiter.Store.
func (s *LimiterStore) Increment(ctx context.Context, key string, count int64, rate limiter.Rate) (limiter.Context, error) {
	return s.call(ctx, key, func(ctx context.Context, st limiter.Store) (limiter.Context, error) {
		return st.Increment(ctx, key, count, rate)
	})
}

// errRedisDown is returned, without calling Redis, for a second after a
// Redis call failed, when failures are not answered from memory.
var errRedisDown = errors.New("redis rate-limit store: unreachable (retrying shortly)")

// call runs op on Redis within the timeout, or on the memory fallback
// while Redis fails.
func (s *LimiterStore) call(ctx context.Context, key string, op func(context.Context, limiter.Store) (limiter.Context, error)) (limiter.Context, error) {
	if s.client == nil {
		return op(ctx, s.primary)
	}
	var err error
	if time.Now().UnixNano() >= s.downUntil.Load() {
		var st limiter.Store
		var lc limiter.Context
		if st, err = s.redisStore(); err == nil {
			rctx, cancel := context.WithTimeout(ctx, s.timeout)
			lc, err = op(rctx, st)
			cancel()
		}
		if err == nil {
			return lc, nil
		}
		if ctx.Err() != nil {
			return lc, err // the client left; Redis is not to blame
		}
		s.downUntil.Store(time.Now().Add(redisBackoff).UnixNano())
	} else {
		err = errRedisDown
	}
	if s.fallback == nil {
		return limiter.Context{}, err
	}
	s.metrics.LimiterFallback()
	if s.warned.allow(time.Now(), fallbackLogEvery) {
		s.logger.WarnContext(ctx, "Redis rate-limit store failed; using this instance's memory budget (logged at most once a minute)",
			"error", err.Error(), "budget", budgetOf(key))
	}
	return op(ctx, s.fallback)
}

// budgetOf names the budget of a limiter key by its prefix: "ip:…" is the
// general budget, "login:…" the sign-in link budget.
func budgetOf(key string) string {
	prefix, _, _ := strings.Cut(key, ":")
	switch prefix {
	case "ip":
		return "general"
	case "webhook-bad":
		return "webhook"
	default:
		return prefix
	}
}
