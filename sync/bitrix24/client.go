// Package bitrix24 is the Bitrix24 REST client: it implements
// connector.TaskSource over OAuth (local or Market app, rotating single-use
// refresh tokens refreshed single-flight) or a personal incoming webhook.
//
// Every call goes one way (spec §2): POST JSON to {client_endpoint}{method}
// with `auth` in the body, decoded leniently (FlexInt, FlexBool, FlexMap),
// errors classified by the `error` code into connector sentinels. Reads are
// retried through a rest.Pacer; adds never are, except after 503
// QUERY_LIMIT_EXCEEDED, which Bitrix24 did not execute. Lists use the
// `>ID` cursor with start=-1; many small reads go through batch.
package bitrix24

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/timebridge/timebridge/sync/connector"
	"github.com/timebridge/timebridge/sync/connector/rest"
)

const service = "bitrix24"

// Config configures a Client. Either Webhook or BaseURL (with OAuth and Token)
// must be set.
type Config struct {
	// BaseURL is the token reply's client_endpoint, e.g.
	// "https://acme.bitrix24.com/rest/"; a bare portal URL gets "/rest/" added.
	// Empty: Token.ClientEndpoint.
	BaseURL string
	// Webhook is a personal incoming-webhook URL
	// (https://{portal}/rest/{user}/{code}/); it replaces OAuth.
	Webhook string
	// OAuth is needed to refresh tokens (client id/secret, token URL).
	OAuth *OAuthConfig
	// Token is the current pair (from the keychain or Exchange).
	Token Token
	// OnToken persists a refreshed pair; it runs before the pair is used.
	OnToken func(ctx context.Context, t Token) error
	// OnMoved is told the new REST base after a domain move (302), to persist
	// it; for webhooks it is the whole new webhook URL (a secret).
	OnMoved func(newBase string)

	HTTPClient *http.Client
	// Rate and Burst pace requests (default 2/s, burst 50; Rate < 0: unpaced).
	Rate  float64
	Burst int
	// MaxInFlight limits concurrent requests per portal (default 1).
	MaxInFlight int
	// Sleep waits between retries; tests replace it (default: a timer).
	Sleep func(ctx context.Context, d time.Duration) error
	// Now is the clock (default time.Now).
	Now       func() time.Time
	Logger    *slog.Logger
	UserAgent string // default "timebridge"
}

// Client talks to one portal as one user. It is safe for concurrent use.
type Client struct {
	cfg      Config
	http     *http.Client
	pacer    *rest.Pacer
	inflight chan struct{}
	log      *slog.Logger
	now      func() time.Time

	mu      sync.Mutex
	base    string // ends in "/"; for webhooks includes /rest/{user}/{code}/
	portal  string // the configured host: stable for the client's life (keys, GUIDs)
	secret  string // webhook code, redacted everywhere
	hookUID string
	tokens  *rest.Refresher[Token] // the OAuth pair; single-flight refresh
	blocked map[string]time.Time   // method → until (429 OPERATION_TIME_LIMIT)
	resetAt time.Time              // last seen time.operating_reset_at
	noSub   bool                   // the portal rejected ::SUBFILTER role filters
	groups  map[string]string      // group id → name seen in task replies
}

var webhookRe = regexp.MustCompile(`^(https?://[^/]+)/rest/(\d+)/([^/]+)/?`)

// ParseWebhook splits a webhook URL into portal base, user id and secret code;
// a trailing method (user.current.json) is allowed.
func ParseWebhook(raw string) (portalURL, userID, code string, err error) {
	m := webhookRe.FindStringSubmatch(strings.TrimSpace(raw))
	if m == nil {
		return "", "", "", fmt.Errorf("bitrix24: %q is not a webhook URL (https://portal/rest/<user>/<code>/)", redactURL(raw))
	}
	return m[1], m[2], m[3], nil
}

func redactURL(raw string) string {
	if m := webhookRe.FindStringSubmatch(raw); m != nil {
		return m[1] + "/rest/" + m[2] + "/***/"
	}
	return raw
}

// New builds a client.
func New(cfg Config) (*Client, error) {
	c := &Client{cfg: cfg, http: cfg.HTTPClient, log: cfg.Logger, now: cfg.Now,
		tokens:  rest.NewRefresher(cfg.Token, func(t Token) string { return t.AccessToken }),
		blocked: map[string]time.Time{}, groups: map[string]string{}}
	if c.http == nil {
		c.http = &http.Client{Timeout: 60 * time.Second}
	}
	// Never follow redirects: a domain move loses the POST body (spec §2.1).
	hc := *c.http
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c.http = &hc
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.now == nil {
		c.now = time.Now
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = cfg.Token.ClientEndpoint
	}
	switch {
	case cfg.Webhook != "":
		p, uid, code, err := ParseWebhook(cfg.Webhook)
		if err != nil {
			return nil, err
		}
		c.base, c.secret, c.hookUID = p+"/rest/"+uid+"/"+code+"/", code, uid
	case cfg.BaseURL != "":
		u, err := url.Parse(cfg.BaseURL)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("bitrix24: bad client_endpoint %q", cfg.BaseURL)
		}
		base := strings.TrimRight(cfg.BaseURL, "/")
		if !strings.HasSuffix(base, "/rest") {
			base += "/rest"
		}
		c.base = base + "/"
	default:
		return nil, errors.New("bitrix24: neither a webhook URL nor a client_endpoint is configured")
	}
	c.portal = hostOf(c.base)
	if err := checkScheme(c.base); err != nil {
		return nil, err
	}
	if cfg.OAuth != nil {
		if err := checkScheme(cfg.OAuth.tokenURL()); err != nil {
			return nil, err
		}
	}
	rate, burst := cfg.Rate, cfg.Burst
	if rate == 0 {
		rate = 2
	}
	if rate < 0 {
		rate = 0
	}
	if burst == 0 {
		burst = 50
	}
	c.pacer = rest.NewPacer(rest.PacerConfig{Rate: rate, Burst: burst, MaxRetries: 4, // ≤ 5 tries after QUERY_LIMIT_EXCEEDED (spec §2.6)
		MinBackoff: time.Second, MaxBackoff: 60 * time.Second, Sleep: cfg.Sleep})
	n := cfg.MaxInFlight
	if n <= 0 {
		n = 1
	}
	c.inflight = make(chan struct{}, n)
	return c, nil
}

// checkScheme accepts https, and plain http only for loopback hosts (design §3).
func checkScheme(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("bitrix24: bad URL: %w", err)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		h := u.Hostname()
		if ip := net.ParseIP(h); h == "localhost" || (ip != nil && ip.IsLoopback()) {
			return nil
		}
	}
	return fmt.Errorf("bitrix24: %s://%s is refused: use https (plain http only for loopback hosts)", u.Scheme, u.Host)
}

func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Host
}

// Portal is the portal host (from client_endpoint or the webhook URL). It stays
// the configured host after a domain move (BaseURL has the new one), so keys
// do not change under a running engine.
func (c *Client) Portal() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.portal
}

// BaseURL is the current REST base; it changes after a domain move (persist it).
func (c *Client) BaseURL() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.secret != "" {
		return redactURL(c.base)
	}
	return c.base
}

// Token returns the current token pair.
func (c *Client) Token() Token { return c.tokens.Current() }

// envelope is the REST reply (spec §2.2–2.3).
type envelope struct {
	Result json.RawMessage `json:"result"`
	Total  *FlexInt        `json:"total"`
	Next   *FlexInt        `json:"next"`
	Time   *replyTime      `json:"time"`
	Error  FlexString      `json:"error"`
	Desc   string          `json:"error_description"`
}

type replyTime struct {
	DateStart        string  `json:"date_start"`
	OperatingResetAt FlexInt `json:"operating_reset_at"`
}

// ServerTime is the envelope's time.date_start (the portal's clock), zero if absent.
func (e *envelope) ServerTime() time.Time {
	if e.Time == nil {
		return time.Time{}
	}
	t, _ := parseTime(e.Time.DateStart)
	return t
}

// callOpts describe a call's retry safety.
type callOpts struct {
	write bool // not idempotent: retry only what was not executed
}

// redacted hides the webhook secret in an error's text while keeping its chain.
type redacted struct {
	msg string
	err error
}

func (r *redacted) Error() string { return r.msg }
func (r *redacted) Unwrap() error { return r.err }

func (c *Client) redact(err error) error {
	if err == nil || c.secret == "" {
		return err
	}
	var ae *connector.APIError
	if errors.As(err, &ae) && ae.Err != nil && strings.Contains(ae.Err.Error(), c.secret) {
		cp := *ae
		cp.Err = &redacted{msg: strings.ReplaceAll(ae.Err.Error(), c.secret, "***"), err: ae.Err}
		return &cp
	}
	if strings.Contains(err.Error(), c.secret) {
		return &redacted{msg: strings.ReplaceAll(err.Error(), c.secret, "***"), err: err}
	}
	return err
}

// call runs one REST method and returns its envelope. params is encoded as JSON
// (a map, or a struct whose field order is the positional order); `auth` is
// appended last.
func (c *Client) call(ctx context.Context, method string, params any, o callOpts) (*envelope, error) {
	if until, ok := c.blockedUntil(method); ok {
		return nil, &connector.APIError{Service: service, Op: method, Code: "OPERATION_TIME_LIMIT",
			Message: "method paused until " + until.Format(time.RFC3339), Kind: connector.ErrRateLimited}
	}
	body, err := json.Marshal(params)
	if err != nil {
		return nil, fmt.Errorf("bitrix24 %s: encode: %w", method, err)
	}
	var env *envelope
	transient, refreshed, moved := 0, false, false
	err = c.pacer.Call(ctx, func() (bool, error) {
		for {
			e, status, used, err := c.once(ctx, method, body)
			if err == nil {
				env = e
				return false, nil
			}
			var ae *connector.APIError
			errors.As(err, &ae)
			switch {
			case ae != nil && status >= 300 && status < 400 && ae.Code == "MOVED":
				if moved {
					return false, err
				}
				moved = true
				continue
			case ae != nil && isTokenExpired(ae.Code) && c.secret == "":
				if refreshed {
					return false, &connector.APIError{Service: service, Op: method, Status: status, Code: ae.Code,
						Message: "token refused right after a refresh", Kind: connector.ErrUnauthorized}
				}
				refreshed = true
				if rerr := c.refresh(ctx, used); rerr != nil {
					return false, rerr
				}
				continue
			case ae != nil && ae.Code == "QUERY_LIMIT_EXCEEDED":
				return true, err // not executed: safe for writes too
			case ae != nil && ae.Code == "OPERATION_TIME_LIMIT":
				c.block(method)
				return false, err
			case errors.Is(err, connector.ErrTransient) && !o.write:
				transient++
				return transient <= 3, err
			}
			return false, err
		}
	})
	return env, c.redact(err)
}

func isTokenExpired(code string) bool {
	return strings.EqualFold(code, "expired_token") || strings.EqualFold(code, "invalid_token")
}

func (c *Client) blockedUntil(method string) (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	until, ok := c.blocked[method]
	if ok && !c.now().Before(until) {
		delete(c.blocked, method)
		return time.Time{}, false
	}
	return until, ok
}

// block pauses a method until the last seen operating_reset_at + 1 s, else 60 s.
func (c *Client) block(method string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	until := c.now().Add(60 * time.Second)
	if !c.resetAt.IsZero() && c.resetAt.After(c.now()) {
		until = c.resetAt.Add(time.Second)
	}
	c.blocked[method] = until
	c.log.Warn("bitrix24 method paused by the operating limit", "method", method, "until", until)
}

// once sends one request: POST JSON, auth in the body.
func (c *Client) once(ctx context.Context, method string, params []byte) (env *envelope, status int, tok string, err error) {
	select {
	case c.inflight <- struct{}{}:
	case <-ctx.Done():
		return nil, 0, "", ctx.Err()
	}
	defer func() { <-c.inflight }()
	c.mu.Lock()
	base, hook := c.base, c.secret != ""
	c.mu.Unlock()
	tok = c.tokens.Current().AccessToken
	env, status, err = c.send(ctx, base, method, params, tok, hook)
	return env, status, tok, err
}

func (c *Client) send(ctx context.Context, base, method string, params []byte, tok string, hook bool) (*envelope, int, error) {
	body := params
	if !hook {
		body = withAuth(params, tok)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+method, bytes.NewReader(body))
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	ua := c.cfg.UserAgent
	if ua == "" {
		ua = "timebridge"
	}
	req.Header.Set("User-Agent", ua)
	resp, raw, err := rest.Do(c.http, req, service, method, 0)
	if err != nil {
		return nil, 0, err
	}
	c.log.Debug("bitrix24 call", "method", method, "status", resp.StatusCode, "bytes", len(raw))
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		loc := resp.Header.Get("Location")
		if nb := c.movedBase(base, loc); nb != "" {
			c.mu.Lock()
			c.base = nb
			c.mu.Unlock()
			c.log.Info("bitrix24 portal moved", "host", hostOf(nb))
			if c.cfg.OnMoved != nil {
				c.cfg.OnMoved(nb)
			}
			return nil, resp.StatusCode, &connector.APIError{Service: service, Op: method, Status: resp.StatusCode,
				Code: "MOVED", Kind: connector.ErrTransient}
		}
		return nil, resp.StatusCode, &connector.APIError{Service: service, Op: method, Status: resp.StatusCode,
			Message: "unexpected redirect", Kind: connector.ErrInvalid}
	}
	if rest.IsHTML(resp, raw) {
		return nil, resp.StatusCode, rest.Malformed(service, method, resp.StatusCode, raw, errors.New("HTML page instead of JSON"))
	}
	env := &envelope{}
	if err := json.Unmarshal(raw, env); err != nil {
		return nil, resp.StatusCode, rest.Malformed(service, method, resp.StatusCode, raw, err)
	}
	if env.Error != "" {
		return nil, resp.StatusCode, apiError(method, resp.StatusCode, string(env.Error), env.Desc)
	}
	if env.Result == nil || resp.StatusCode != http.StatusOK {
		return nil, resp.StatusCode, rest.Malformed(service, method, resp.StatusCode, raw, errors.New("no result"))
	}
	if env.Time != nil && env.Time.OperatingResetAt > 0 {
		c.mu.Lock()
		c.resetAt = time.Unix(int64(env.Time.OperatingResetAt), 0)
		c.mu.Unlock()
	}
	return env, resp.StatusCode, nil
}

// movedBase maps a redirect Location onto our base path (host change only).
func (c *Client) movedBase(base, loc string) string {
	if loc == "" {
		return ""
	}
	nu, err := url.Parse(loc)
	if err != nil || nu.Host == "" {
		return ""
	}
	bu, err := url.Parse(base)
	if err != nil {
		return ""
	}
	bu.Scheme, bu.Host = nu.Scheme, nu.Host
	if checkScheme(bu.String()) != nil {
		return ""
	}
	return bu.String()
}

// withAuth appends "auth" as the last member of a JSON object.
func withAuth(body []byte, tok string) []byte {
	b := bytes.TrimSpace(body)
	if len(b) < 2 || b[0] != '{' {
		return body
	}
	a, _ := json.Marshal(tok)
	inner := bytes.TrimSpace(b[1 : len(b)-1])
	out := make([]byte, 0, len(b)+len(a)+10)
	out = append(out, '{')
	if len(inner) > 0 {
		out = append(out, inner...)
		out = append(out, ',')
	}
	out = append(out, `"auth":`...)
	out = append(out, a...)
	return append(out, '}')
}

// apiError classifies a Bitrix24 error reply (spec §2.3): by `error`, not status.
func apiError(method string, status int, code, desc string) *connector.APIError {
	desc = strings.TrimSuffix(strings.TrimSpace(desc), "<br>")
	return &connector.APIError{Service: service, Op: method, Status: status, Code: code, Message: desc,
		Kind: Classify(status, code, desc)}
}

// Classify maps an error code (and, for legacy task.* errors, the symbol in the
// description) to a connector sentinel.
func Classify(status int, code, desc string) error {
	switch strings.ToUpper(code) {
	case "EXPIRED_TOKEN", "INVALID_TOKEN", "NO_AUTH_FOUND", "INVALID_GRANT":
		return connector.ErrUnauthorized
	case "METHOD_CONFIRM_WAITING", "INSUFFICIENT_SCOPE", "INVALID_SCOPE", "USER_ACCESS_ERROR", "ACCESS_DENIED",
		"INVALID_CREDENTIALS", "ALLOWED_ONLY_INTRANET_USER", "PAYMENT_REQUIRED", "PORTAL_DELETED", "INVALID_CLIENT",
		"1048582":
		return connector.ErrForbidden
	case "ERROR_METHOD_NOT_FOUND", "ERROR_MANIFEST_IS_NOT_AVAILABLE":
		return connector.ErrUnsupported
	case "QUERY_LIMIT_EXCEEDED", "OPERATION_TIME_LIMIT", "OVERLOAD_LIMIT":
		return connector.ErrRateLimited
	case "INTERNAL_SERVER_ERROR", "ERROR_UNEXPECTED_ANSWER", "WRONG_ENCODING":
		return connector.ErrTransient
	case "NOT_FOUND", "ERROR_ENTITY_NOT_FOUND":
		return connector.ErrNotFound
	case "INVALID_REQUEST", "ERROR_BATCH_LENGTH_EXCEEDED", "ERROR_BATCH_METHOD_NOT_ALLOWED", "ERROR_ARGUMENT",
		"INVALID_ARG_VALUE", "WRONG_AUTH_TYPE", "100":
		return connector.ErrInvalid
	case "ERROR_CORE", "0":
		if status >= 500 {
			return connector.ErrTransient
		}
		d := strings.ToUpper(desc)
		switch {
		case strings.Contains(d, "ACTION_NOT_ALLOWED"), strings.Contains(d, "ACCESS_DENIED"),
			strings.Contains(d, "NOT ALLOWED"), strings.Contains(d, "NO ACCESS"):
			return connector.ErrForbidden
		case strings.Contains(d, "NOT_FOUND"):
			return connector.ErrNotFound
		}
		return connector.ErrInvalid
	}
	return rest.KindForStatus(status)
}

// decode unmarshals a result into out, naming the method on failure.
func decode(method string, raw json.RawMessage, out any) error {
	if err := json.Unmarshal(raw, out); err != nil {
		return rest.Malformed(service, method, http.StatusOK, raw, err)
	}
	return nil
}
