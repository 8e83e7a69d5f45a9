package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"atrium/internal/app"
	"atrium/internal/store"
	"atrium/internal/store/demo"
)

// harness drives one running Atrium and the baseline server beside it.
type harness struct {
	o         *options
	srv       *server
	db        *store.DB
	runID     string
	founderID int64
	cookie    string // "name=value" of the signed-in session
	apiKey    string // the secret of a read key of big, made for this run

	atrium, bare *target
	baseline     *baselineServer
	seq          atomic.Int64

	// hookReceiver answers the webhook_fanout scenario's deliveries at
	// hookURL; nil until that scenario runs.
	hookReceiver *http.Server
	hookURL      string
	// drained is how long the last scenario's stored waited for the job
	// queue to finish its work.
	drained time.Duration
}

// target is a server under load and the client that reaches it.
type target struct {
	host   string
	client *http.Client
}

func newTarget(host string, conns int) *target {
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConns:        conns * 2,
		MaxIdleConnsPerHost: conns,
		MaxConnsPerHost:     conns,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
	}
	return &target{host: host, client: &http.Client{Transport: tr, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func newHarness(ctx context.Context, o *options, srv *server, dbURL string) (*harness, error) {
	db, err := openStore(ctx, dbURL)
	if err != nil {
		return nil, err
	}
	h := &harness{o: o, srv: srv, db: db, runID: strconv.FormatInt(time.Now().UnixNano(), 36)}
	if err := db.SQL().QueryRowContext(ctx, h.sql("SELECT id FROM users WHERE email = ?"), benchEmail).Scan(&h.founderID); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("find %s: %w", benchEmail, err)
	}
	if h.apiKey, err = h.createAPIKey(ctx); err != nil {
		_ = db.Close()
		return nil, err
	}
	h.baseline, err = startBaseline()
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	h.atrium = newTarget(strings.TrimPrefix(srv.base, "http://"), o.conns)
	h.bare = newTarget(h.baseline.host, o.conns)
	if err := h.signIn(ctx); err != nil {
		h.close()
		return nil, err
	}
	return h, nil
}

func (h *harness) close() {
	h.baseline.close()
	if h.hookReceiver != nil {
		_ = h.hookReceiver.Close()
	}
	_ = h.db.Close()
}

// sql adapts a query written with ? to the dialect ($1, $2, … on
// Postgres).
func (h *harness) sql(q string) string {
	if h.db.Dialect() != store.Postgres {
		return q
	}
	var b strings.Builder
	n := 0
	for _, c := range q {
		if c == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

// createAPIKey stores a read key of the big workspace, created by the
// founder, the way the API keys page stores one (the secret's SHA-256 and
// its display prefix, never the secret), and returns its secret. It fails
// unless the founder is an owner or admin of big, as a key acts only
// while its creator may manage keys.
func (h *harness) createAPIKey(ctx context.Context) (string, error) {
	secret, prefix, hash := app.NewAPIKeySecret()
	res, err := h.db.SQL().ExecContext(ctx, h.sql(`INSERT INTO api_keys
		(workspace_id, name, prefix, token_hash, scopes, created_by_user_id, created_at)
		SELECT m.workspace_id, ?, ?, ?, ?, m.user_id, ?
		FROM memberships m JOIN workspaces w ON w.id = m.workspace_id
		WHERE w.slug = ? AND m.user_id = ? AND m.role IN (?, ?)`),
		"bench "+h.runID, prefix, hash, app.ScopeRead, time.Now().UTC(),
		demo.BigSlug, h.founderID, string(app.RoleOwner), string(app.RoleAdmin))
	if err != nil {
		return "", fmt.Errorf("create an API key: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return "", fmt.Errorf("create an API key: %w", err)
	}
	if n != 1 {
		return "", fmt.Errorf("create an API key: %s is not an owner or admin of %s", benchEmail, demo.BigSlug)
	}
	return secret, nil
}

func (h *harness) count(q string, arg any) (int64, error) {
	var n int64
	err := h.db.SQL().QueryRow(h.sql(q), arg).Scan(&n)
	return n, err
}

// signIn signs in as the demo owner the way a person does: it asks for a
// magic link, reads it from the stub mailer's log line, opens it and
// presses the button, keeping the session cookie.
func (h *harness) signIn(ctx context.Context) error {
	form := url.Values{"email": {benchEmail}}
	resp, err := h.do(ctx, http.MethodPost, "/login", form)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusSeeOther {
		return fmt.Errorf("sign in: POST /login answered %d", resp.StatusCode)
	}
	var link string
	select {
	case link = <-h.srv.links:
	case <-time.After(30 * time.Second):
		return fmt.Errorf("sign in: no magic link for %s in the server log\n%s", benchEmail, h.srv.tail())
	case <-ctx.Done():
		return ctx.Err()
	}
	u, err := url.Parse(link)
	if err != nil {
		return err
	}
	token := u.Query().Get("token")
	if resp, err = h.do(ctx, http.MethodGet, "/auth/verify?token="+url.QueryEscape(token), nil); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("sign in: GET /auth/verify answered %d", resp.StatusCode)
	}
	if resp, err = h.do(ctx, http.MethodPost, "/auth/verify", url.Values{"token": {token}}); err != nil {
		return err
	}
	for _, c := range resp.Cookies() {
		if strings.Contains(c.Name, "session") && c.Value != "" {
			h.cookie = c.Name + "=" + c.Value
		}
	}
	if resp.StatusCode != http.StatusSeeOther || h.cookie == "" {
		return fmt.Errorf("sign in: POST /auth/verify answered %d without a session cookie", resp.StatusCode)
	}
	return nil
}

// do sends one request to Atrium and reads the whole answer.
func (h *harness) do(ctx context.Context, method, path string, form url.Values) (*http.Response, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, h.srv.base+path, body)
	if err != nil {
		return nil, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := h.atrium.client.Do(req)
	if err != nil {
		return nil, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp, nil
}

// send sends scenario request n to t, returning the answer's status and
// body (kept only when keep is set).
func (h *harness) send(ctx context.Context, t *target, sc scenario, n int64, keep bool) (*http.Response, []byte, error) {
	req, err := sc.request(h, n)
	if err != nil {
		return nil, nil, err
	}
	req = req.WithContext(ctx)
	req.URL.Scheme, req.URL.Host, req.Host = "http", t.host, t.host
	if sc.signedIn {
		req.Header.Set("Cookie", h.cookie)
	}
	if sc.apiKey {
		req.Header.Set("Authorization", "Bearer "+h.apiKey)
	}
	resp, err := t.client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	if keep {
		b, err := io.ReadAll(resp.Body)
		return resp, b, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	return resp, nil, err
}

// sample is what one side of a scenario measured.
type sample struct {
	ok, errors int64
	elapsed    time.Duration
	latencies  []time.Duration
	firstErr   error
}

// drive runs sc against t with conns closed-loop workers for d, adding to
// into. accepted is called with the n of every successful request.
func (h *harness) drive(ctx context.Context, t *target, sc scenario, d time.Duration, into *sample, accepted func(int64)) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for range h.o.conns {
		wg.Go(func() {
			var lat []time.Duration
			var ok, bad int64
			var firstErr error
			for time.Now().Before(deadline) && ctx.Err() == nil {
				n := h.seq.Add(1)
				t0 := time.Now()
				resp, _, err := h.send(ctx, t, sc, n, false)
				took := time.Since(t0)
				switch {
				case err != nil:
					bad++
					firstErr = cmpErr(firstErr, err)
				case resp.StatusCode != sc.status:
					bad++
					firstErr = cmpErr(firstErr, fmt.Errorf("%s answered %d, want %d", t.host, resp.StatusCode, sc.status))
				default:
					ok++
					lat = append(lat, took)
					if accepted != nil {
						accepted(n)
					}
				}
			}
			mu.Lock()
			into.ok += ok
			into.errors += bad
			into.latencies = append(into.latencies, lat...)
			into.firstErr = cmpErr(into.firstErr, firstErr)
			mu.Unlock()
		})
	}
	wg.Wait()
	into.elapsed += time.Since(start)
}

func cmpErr(have, next error) error {
	if have != nil {
		return have
	}
	return next
}

func (s *sample) rps() float64 {
	if s.elapsed <= 0 {
		return 0
	}
	return float64(s.ok) / s.elapsed.Seconds()
}

// percentile returns the p-th percentile latency in milliseconds.
func (s *sample) percentile(p float64) float64 {
	if len(s.latencies) == 0 {
		return 0
	}
	slices.Sort(s.latencies)
	i := int(p / 100 * float64(len(s.latencies)-1))
	return float64(s.latencies[i].Microseconds()) / 1000
}

// runScenario captures Atrium's answer for the baseline, then alternates
// baseline and Atrium in halves of the scenario's time, and checks that
// every accepted request was stored exactly once.
func (h *harness) runScenario(ctx context.Context, sc scenario) (scenarioResult, error) {
	var accepted atomic.Int64
	count := func(int64) { accepted.Add(1) }
	if sc.setup != nil {
		if err := sc.setup(ctx, h); err != nil {
			return scenarioResult{}, fmt.Errorf("set up: %w", err)
		}
	}
	resp, body, err := h.send(ctx, h.atrium, sc, h.seq.Add(1), true)
	if err != nil {
		return scenarioResult{}, err
	}
	if resp.StatusCode != sc.status {
		return scenarioResult{}, fmt.Errorf("atrium answered %d, want %d", resp.StatusCode, sc.status)
	}
	accepted.Add(1)
	// The baseline: the bare server answering what Atrium answered, or,
	// for a scenario with versus, Atrium answering that other request.
	bare, bsc := h.bare, sc
	if sc.versus != nil {
		bare, bsc.request, bsc.stored = h.atrium, sc.versus, nil
	} else {
		h.baseline.serve(resp, body)
	}
	if sc.pause != "" {
		if err := h.pauseQueue(ctx, sc.pause); err != nil {
			return scenarioResult{}, err
		}
	}
	warm := min(h.o.seconds/8, time.Second)
	var discard sample
	h.drive(ctx, bare, bsc, warm, &discard, nil)
	h.drive(ctx, h.atrium, sc, warm, &discard, count)
	var (
		base, app     sample
		cpu, dbCPU    time.Duration
		cpuOK, dbCPUo = true, h.o.db == store.Postgres
	)
	half := h.o.seconds / 2
	for range 2 {
		h.drive(ctx, bare, bsc, half, &base, nil)
		c0, ok0 := h.srv.cpuTime()
		d0, dok0 := postgresCPU()
		h.drive(ctx, h.atrium, sc, half, &app, count)
		c1, ok1 := h.srv.cpuTime()
		d1, dok1 := postgresCPU()
		cpu, cpuOK = cpu+c1-c0, cpuOK && ok0 && ok1
		dbCPU, dbCPUo = dbCPU+d1-d0, dbCPUo && dok0 && dok1
	}
	if err := ctx.Err(); err != nil {
		return scenarioResult{}, err
	}
	if base.errors > 0 {
		return scenarioResult{}, fmt.Errorf("the baseline failed %d requests: %v", base.errors, base.firstErr)
	}
	r := newScenarioResult(sc, &app, &base)
	r.TargetRatio = sc.target(h.o.db)
	if cpuOK && app.ok > 0 {
		r.CPUUSPerReq = round2(float64(cpu.Microseconds()) / float64(app.ok))
	}
	if dbCPUo && app.ok > 0 {
		r.DBCPUUSPerReq = round2(float64(dbCPU.Microseconds()) / float64(app.ok))
	}
	if discard.errors > 0 {
		r.Errors += discard.errors
		r.FirstError = cmpErr(app.firstErr, discard.firstErr)
	}
	if app.firstErr != nil {
		r.FirstError = app.firstErr
	}
	if sc.pause != "" {
		if err := h.db.Jobs().QueueResume(ctx, sc.pause, nil); err != nil {
			return r, fmt.Errorf("resume the %s queue: %w", sc.pause, err)
		}
	}
	if sc.stored != nil {
		h.drained = 0
		stored, err := sc.stored(h)
		if err != nil {
			return r, fmt.Errorf("count stored rows: %w", err)
		}
		n := accepted.Load()
		r.Accepted, r.Stored, r.ExactlyOnce = &n, stored, new(true)
		if h.drained > 0 {
			r.DrainSeconds = new(round2(h.drained.Seconds()))
		}
		for _, got := range stored {
			if got != n {
				*r.ExactlyOnce = false
			}
		}
	}
	return r, nil
}

// baselineServer is a bare net/http server answering every request with
// the status, headers and body Atrium gave for the scenario.
type baselineServer struct {
	host string
	srv  *http.Server
	page atomic.Pointer[cannedPage]
}

type cannedPage struct {
	status int
	header http.Header
	body   []byte
}

func startBaseline() (*baselineServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	b := &baselineServer{host: ln.Addr().String()}
	b.srv = &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		p := b.page.Load()
		for k, v := range p.header {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(p.body)))
		w.WriteHeader(p.status)
		_, _ = w.Write(p.body)
	})}
	// Serve returns only when close stops it; a failure before that shows
	// up as errors of the baseline, which fail the scenario.
	go func() { _ = b.srv.Serve(ln) }()
	return b, nil
}

// serve makes the baseline answer as resp (with body) did.
func (b *baselineServer) serve(resp *http.Response, body []byte) {
	h := resp.Header.Clone()
	for _, k := range []string{"Date", "Content-Length", "Set-Cookie"} {
		h.Del(k)
	}
	b.page.Store(&cannedPage{status: resp.StatusCode, header: h, body: body})
}

func (b *baselineServer) close() { _ = b.srv.Close() }

// pauseQueue pauses a job queue of the server under test and waits until
// its instance has seen it: River's producers read their queue's settings
// every two seconds when the database has no LISTEN/NOTIFY.
func (h *harness) pauseQueue(ctx context.Context, queue string) error {
	if err := h.db.Jobs().QueuePause(ctx, queue, nil); err != nil {
		return fmt.Errorf("pause the %s queue: %w", queue, err)
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(2500 * time.Millisecond):
		return nil
	}
}
