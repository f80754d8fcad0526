// Package timelog is the TimeLog REST v1 connector: a connector.Tracker (tasks,
// day totals) and a connector.TimeWriter (registrations written from Bitrix24),
// following the project's TimeLog API specification.
//
// It signs in with a personal access token (Bearer), or with OAuth access tokens
// from login.timelog.com through Config.OAuth, against the site URL
// https://app<N>.timelog.com/<account>/api. Reads are paced and retried (429,
// 5xx, malformed replies); writes are sent once and reconciled by the
// registration GUID (UUIDv5, connector.RegistrationGUID) before any re-send, so a
// lost reply never duplicates a row.
//
// Registrations we wrote from Bitrix24 must not flow back as TimeLog time:
// DayTotals leaves out every row whose integer id Config.IsOurID accepts, whose
// GUID Config.IsOurGUID accepts (the GUID is looked up once per row with GET
// /v1/time-registration/{id} and cached), and every row this client wrote or
// resolved itself.
//
// Forecast. The design follows the model of the Forecast ↔ TimeLog integration,
// which synced every 15 minutes: tasks flow from the planning tool into TimeLog,
// time registrations flow both ways, and linked users are allocated to the tasks.
// timebridge plays Forecast's part with Bitrix24 as the planning tool. A Forecast
// connector is not built in v1: Forecast's API (api.forecast.it, JSON, an
// X-FORECAST-API-KEY made by an admin with full access, no OAuth) has no
// per-employee credential. It would be cheap to add as a Tracker later, because
// Forecast offers what TimeLog lacks: change feeds (updated_after) and delete
// feeds for tasks and time registrations, so no window re-reads would be needed.
package timelog

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/timebridge/timebridge/sync/connector"
	"github.com/timebridge/timebridge/sync/connector/rest"
)

const service = connector.TrackerTimeLog

// Config configures a Client.
type Config struct {
	// BaseURL is the site URL: https://app<N>.timelog.com/<account>, with or without
	// "/api" or "/api/v1" and a trailing slash. https only; http for loopback hosts.
	BaseURL string
	// Token is the personal access token; spaces and quotes around it are removed.
	Token string
	// HTTPClient sends the requests; nil: a client with a 60 s timeout.
	HTTPClient *http.Client
	// Pacer paces and retries requests; zero fields: 5 req/s, burst 10, 3 retries,
	// backoff 2 s doubling to 8 s (spec §2.4). Rate < 0: unlimited (tests).
	Pacer rest.PacerConfig
	// Now is the clock (task start dates); nil: time.Now.
	Now func() time.Time
	// Logger receives request and retry logs (never the token); nil: discarded.
	Logger *slog.Logger
	// PageSize is $pagesize on every list; default 500.
	PageSize int
	// OAuth, when set, replaces Token: TimeLog OAuth (design §3, spec §2.3) with
	// access tokens that expire and are refreshed by the caller.
	OAuth TokenProvider
	// IsOurGUID reports whether a registration GUID is one we wrote from Bitrix24
	// (e.g. the store knows it); such rows are left out of DayTotals. nil: only
	// rows this Client wrote or resolved are left out.
	IsOurGUID func(guid string) bool
	// IsOurID is the same test by integer TimeRegistrationID (the store keeps the
	// ids UpsertRegistration returned); a row it accepts is left out without a GUID
	// lookup. Either may be nil.
	IsOurID func(id string) bool

	// Capability switches (spec §5.5; unconfirmed behaviour stays switchable).

	// NoCreateTask turns Features.CreateTask off (no project-management rights).
	NoCreateTask bool
	// RegistrationAllTasks: the user may register on every active task, so
	// CreateTask does not allocate the user (Privileges.RegistrationAllTasks).
	RegistrationAllTasks bool
	// Portal is the Bitrix24 portal host (connector.TaskSource.Portal); when set
	// and TimeLog has a "Bitrix24" external system, CreateTask writes the task's
	// external key "<portal>/task/<id>".
	Portal string
	// MaxReplays bounds re-sends of one create after unresolved failures; default 3.
	MaxReplays int
}

// Client talks to one TimeLog site as one user. It is safe for concurrent use.
type Client struct {
	base    string // site + "/api"
	token   string
	http    *http.Client
	pacer   *rest.Pacer
	now     func() time.Time
	log     *slog.Logger
	size    int
	ours    func(string) bool
	cfg     Config
	replays int

	mu     sync.Mutex
	me     *meModel
	guidOf map[int]string // TimeRegistrationID → GUID, learned once (GUIDs never change)
	idOf   map[string]int // GUID → TimeRegistrationID
	wrote  map[string]bool
	tasks  map[int]taskInfo
}

var (
	_ connector.Tracker    = (*Client)(nil)
	_ connector.TimeWriter = (*Client)(nil)
)

// TokenProvider hands out OAuth access tokens. Token returns the current one;
// Rejected is told once that a token got a 401 and returns a refreshed one (or
// an error wrapping connector.ErrUnauthorized when a new sign-in is needed).
type TokenProvider interface {
	Token(ctx context.Context) (string, error)
	Rejected(ctx context.Context, token string) (string, error)
}

// New checks cfg and builds a Client. It sends no request: call Me to validate.
func New(cfg Config) (*Client, error) {
	base, err := NormalizeURL(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	tok := CleanToken(cfg.Token)
	if tok == "" && cfg.OAuth == nil {
		return nil, &connector.APIError{Service: service, Op: "config", Kind: connector.ErrUnauthorized,
			Message: "no personal access token; make one at login.timelog.com/personaltoken"}
	}
	c := &Client{base: base, token: tok, http: cfg.HTTPClient, now: cfg.Now, log: cfg.Logger, size: cfg.PageSize,
		ours: cfg.IsOurGUID, cfg: cfg, replays: cfg.MaxReplays,
		guidOf: map[int]string{}, idOf: map[string]int{}, wrote: map[string]bool{}, tasks: map[int]taskInfo{}}
	if c.http == nil {
		c.http = &http.Client{Timeout: 60 * time.Second}
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.size <= 0 {
		c.size = 500
	}
	if c.replays <= 0 {
		c.replays = 3
	}
	pc := cfg.Pacer
	switch {
	case pc.Rate == 0:
		pc.Rate, pc.Burst = 5, 10
	case pc.Rate < 0:
		pc.Rate = 0
	}
	if pc.MinBackoff == 0 {
		pc.MinBackoff = 2 * time.Second
	}
	if pc.MaxBackoff == 0 {
		pc.MaxBackoff = 8 * time.Second
	}
	c.pacer = rest.NewPacer(pc)
	return c, nil
}

// CleanToken removes spaces and quotes a paste may carry around a token.
func CleanToken(tok string) string { return strings.Trim(strings.TrimSpace(tok), "\"' \t\r\n") }

// NormalizeURL turns any accepted form of the site URL into site + "/api". It never
// rewrites the host; a URL without an account path is refused.
func NormalizeURL(raw string) (string, error) {
	bad := func(why string) error {
		return &connector.APIError{Service: service, Op: "config", Kind: connector.ErrInvalid,
			Message: fmt.Sprintf("bad TimeLog URL %q: %s (want https://app<N>.timelog.com/<account>)", raw, why)}
	}
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" {
		return "", bad("not a URL")
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", bad("no user, query or fragment allowed")
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !isLoopback(u.Hostname()) {
			return "", bad("https is required")
		}
	default:
		return "", bad("https is required")
	}
	p := strings.TrimRight(u.Path, "/")
	lower := strings.ToLower(p)
	switch {
	case strings.HasSuffix(lower, "/api/v1"):
		p = p[:len(p)-len("/v1")]
	case strings.HasSuffix(lower, "/api"):
	default:
		p += "/api"
	}
	if account := strings.Trim(p[:len(p)-len("/api")], "/"); account == "" {
		return "", bad("the account is missing from the path")
	}
	return u.Scheme + "://" + u.Host + p, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Name is "timelog".
func (c *Client) Name() string { return connector.TrackerTimeLog }

// Features: TimeLog REST creates tasks but cannot create projects or rename, move,
// close or reopen tasks (spec §5.5).
func (c *Client) Features() connector.Features {
	return connector.Features{CreateTask: !c.cfg.NoCreateTask}
}

// ---- transport ----

// request is one call. Query values are appended with a literal "$" in keys.
type request struct {
	method string
	path   string      // after /api, e.g. "/v1/user/me"
	query  [][2]string // in order
	body   any
	retry  bool // reads and idempotent writes
}

func (r request) op() string { return r.method + " " + r.path }

func (c *Client) url(r request) string {
	var b strings.Builder
	b.WriteString(c.base)
	b.WriteString(r.path)
	for i, kv := range r.query {
		if i == 0 {
			b.WriteByte('?')
		} else {
			b.WriteByte('&')
		}
		k := url.QueryEscape(kv[0])
		k = strings.ReplaceAll(k, "%24", "$") // "$page" literally (spec §3.2)
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(kv[1]))
	}
	return b.String()
}

// call sends r (paced, retried when r.retry) and returns the body of a 2xx reply.
func (c *Client) call(ctx context.Context, r request) ([]byte, error) {
	var payload []byte
	if r.body != nil {
		var err error
		if payload, err = json.Marshal(r.body); err != nil {
			return nil, fmt.Errorf("timelog %s: %w", r.op(), err)
		}
	}
	var out []byte
	err := c.pacer.Call(ctx, func() (bool, error) {
		body, err := c.once(ctx, r, payload)
		if err != nil {
			retry := r.retry && connector.Retryable(err)
			c.log.Debug("timelog request failed", "op", r.op(), "retry", retry, "err", err)
			return retry, err
		}
		out = body
		return false, nil
	})
	return out, err
}

func (c *Client) once(ctx context.Context, r request, payload []byte) ([]byte, error) {
	var rd *bytes.Reader
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	var req *http.Request
	var err error
	if rd != nil {
		req, err = http.NewRequestWithContext(ctx, r.method, c.url(r), rd)
	} else {
		req, err = http.NewRequestWithContext(ctx, r.method, c.url(r), nil)
	}
	if err != nil {
		return nil, &connector.APIError{Service: service, Op: r.op(), Kind: connector.ErrInvalid, Err: err}
	}
	tok, err := c.bearer(ctx, "")
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Accept", "application/json")
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, body, err := rest.Do(c.http, req, service, r.op(), 0)
	if err == nil && resp.StatusCode == http.StatusUnauthorized && c.cfg.OAuth != nil {
		// An expired OAuth access token: refresh once and send again.
		if tok, err = c.bearer(ctx, tok); err != nil {
			return nil, err
		}
		if payload != nil {
			req.Body = io.NopCloser(bytes.NewReader(payload))
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, body, err = rest.Do(c.http, req, service, r.op(), 0)
	}
	if err != nil {
		var ae *connector.APIError
		if errors.As(err, &ae) {
			return nil, err
		}
		return nil, &connector.APIError{Service: service, Op: r.op(), Kind: connector.ErrTransient, Err: err}
	}
	c.log.Debug("timelog request", "op", r.op(), "status", resp.StatusCode)
	if resp.StatusCode/100 == 2 {
		if rest.IsHTML(resp, body) {
			return nil, rest.Malformed(service, r.op(), resp.StatusCode, body, errors.New("HTML instead of JSON"))
		}
		return body, nil
	}
	return nil, c.statusError(r, resp, body)
}

// responseError is TimeLog's ResponseError; Details is a string or a list.
type responseError struct {
	Code    json.RawMessage `json:"Code"`
	Message string          `json:"Message"`
	Details json.RawMessage `json:"Details"`
}

type errDetail struct {
	Message   string `json:"Message"`
	ErrorCode int    `json:"ErrorCode"`
}

// ClosedWeekCode is the ErrorCode of "Date is closed by Timesheet".
const ClosedWeekCode = 30012

// statusError maps a non-2xx reply to a typed error (spec §3.3).
func (c *Client) statusError(r request, resp *http.Response, body []byte) error {
	status := resp.StatusCode
	e := &connector.APIError{Service: service, Op: r.op(), Status: status}
	var rb responseError
	parsed := json.Unmarshal(body, &rb) == nil
	var details []errDetail
	var detailText string
	if parsed && len(rb.Details) > 0 {
		if json.Unmarshal(rb.Details, &details) != nil {
			_ = json.Unmarshal(rb.Details, &detailText)
		}
	}
	e.Message = strings.TrimSpace(rb.Message)
	if len(details) > 0 {
		e.Code = strconv.Itoa(details[0].ErrorCode)
		e.Message = details[0].Message
	} else if detailText != "" {
		e.Message = strings.TrimSpace(e.Message + " " + detailText)
	}
	if !parsed && status != http.StatusUnauthorized {
		e.Message = rest.Excerpt(body, 120)
	}
	switch status {
	case http.StatusUnauthorized:
		e.Message = "TimeLog rejected the token — make a new one at login.timelog.com/personaltoken"
		e.Kind = connector.ErrUnauthorized
	case http.StatusForbidden:
		e.Kind = connector.ErrForbidden
	case http.StatusNotFound:
		e.Kind = connector.ErrNotFound
		if e.Message == "" || strings.HasPrefix(e.Message, "No HTTP resource") {
			e.Message = "no TimeLog account or route at " + c.base + r.path
		}
	case http.StatusMethodNotAllowed:
		e.Kind = connector.ErrUnsupported
	case http.StatusUnprocessableEntity:
		e.Kind = connector.ErrInvalid
		for _, d := range details {
			if d.ErrorCode == ClosedWeekCode {
				e.Kind, e.Code, e.Message = connector.ErrClosedPeriod, strconv.Itoa(d.ErrorCode), "week closed in TimeLog: "+d.Message
			}
		}
	case http.StatusBadRequest:
		e.Kind = connector.ErrInvalid
	case http.StatusTooManyRequests:
		e.Kind = connector.ErrRateLimited
	default:
		e.Kind = rest.KindForStatus(status)
		if status == http.StatusInternalServerError {
			switch {
			case isNotFoundText(e.Message):
				e.Kind = connector.ErrNotFound
			case len(details) > 0 && details[0].ErrorCode != 0:
				e.Kind = connector.ErrInvalid // a business rule (e.g. 37040): rejected, not transient
			}
		}
	}
	if e.Kind == connector.ErrRateLimited || e.Kind == connector.ErrTransient {
		if after := rest.ParseRetryAfter(resp.Header, c.now()); after > 0 {
			return &rest.RetryAfterError{After: after, Err: e}
		}
	}
	return e
}

func isNotFoundText(msg string) bool {
	m := strings.ToLower(msg)
	return strings.Contains(m, "does not exist") || strings.Contains(m, "not found") ||
		strings.Contains(m, "no user matching") || strings.Contains(m, "no time tracking item matching") ||
		(strings.HasPrefix(m, "no ") && strings.Contains(m, " matching"))
}

// ---- TAF decoding ----

// flexInt decodes 41, "41" and null.
type flexInt int

func (f *flexInt) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "" || s == "null" {
		*f = 0
		return nil
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("not a number: %s", b)
	}
	*f = flexInt(n)
	return nil
}

type envelope struct {
	Properties json.RawMessage `json:"Properties"`
	Entities   []struct {
		Properties json.RawMessage `json:"Properties"`
	} `json:"Entities"`
}

type paging struct {
	TotalRecord flexInt `json:"TotalRecord"`
	TotalPage   flexInt `json:"TotalPage"`
	PageNumber  flexInt `json:"PageNumber"`
	bare        bool    // a bare array: no paging numbers, a short page is the last
}

// single decodes a TAF single-object envelope into v.
func single(op string, body []byte, v any) error {
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil || len(env.Properties) == 0 {
		if err == nil {
			err = errors.New("no Properties")
		}
		return rest.Malformed(service, op, 200, body, err)
	}
	if err := json.Unmarshal(env.Properties, v); err != nil {
		return rest.Malformed(service, op, 200, body, err)
	}
	return nil
}

// listAll reads every page of a list and decodes each entity with add. It fails as a
// whole if any page fails: callers infer nothing from a partial read.
func listAll[T any](ctx context.Context, c *Client, path string, query [][2]string) ([]T, error) {
	var out []T
	for page := 1; ; page++ {
		q := append(append([][2]string{}, query...), [2]string{"$page", strconv.Itoa(page)}, [2]string{"$pagesize", strconv.Itoa(c.size)})
		r := request{method: http.MethodGet, path: path, query: q, retry: true}
		var items []T
		var pg paging
		err := c.pacer.Call(ctx, func() (bool, error) {
			body, err := c.once(ctx, r, nil)
			if err == nil {
				items, pg, err = decodeList[T](r.op(), body)
			}
			if err != nil {
				return connector.Retryable(err), err
			}
			return false, nil
		})
		if err != nil {
			return nil, err
		}
		out = append(out, items...)
		if pg.bare {
			if len(items) < c.size {
				return out, nil
			}
			continue
		}
		if len(items) == 0 || pg.TotalPage == 0 || int(pg.PageNumber) >= int(pg.TotalPage) || page >= int(pg.TotalPage) {
			return out, nil
		}
	}
}

// decodeList accepts a TAF list or a bare array.
func decodeList[T any](op string, body []byte) ([]T, paging, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) > 0 && trimmed[0] == '[' {
		var items []T
		if err := json.Unmarshal(trimmed, &items); err != nil {
			return nil, paging{}, rest.Malformed(service, op, 200, body, err)
		}
		return items, paging{bare: true}, nil
	}
	var env envelope
	if err := json.Unmarshal(trimmed, &env); err != nil {
		return nil, paging{}, rest.Malformed(service, op, 200, body, err)
	}
	var pg paging
	if len(env.Properties) > 0 {
		if err := json.Unmarshal(env.Properties, &pg); err != nil {
			return nil, paging{}, rest.Malformed(service, op, 200, body, err)
		}
	} else if env.Entities == nil {
		return nil, paging{}, rest.Malformed(service, op, 200, body, errors.New("neither Properties nor Entities"))
	}
	items := make([]T, 0, len(env.Entities))
	for _, e := range env.Entities {
		var v T
		if err := json.Unmarshal(e.Properties, &v); err != nil {
			return nil, paging{}, rest.Malformed(service, op, 200, body, err)
		}
		items = append(items, v)
	}
	return items, pg, nil
}

// SetOwnRegistrations implements connector.RegistrationFilter: DayTotals leaves out
// the rows these functions accept (see Config.IsOurID and Config.IsOurGUID).
func (c *Client) SetOwnRegistrations(isOurID, isOurGUID func(string) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cfg.IsOurID = isOurID
	c.ours = isOurGUID
}

var _ connector.RegistrationFilter = (*Client)(nil)

// bearer is the token to send: the personal access token, or the OAuth access
// token (refreshed when rejected is the one that got a 401).
func (c *Client) bearer(ctx context.Context, rejected string) (string, error) {
	if c.cfg.OAuth == nil {
		return c.token, nil
	}
	var tok string
	var err error
	if rejected == "" {
		tok, err = c.cfg.OAuth.Token(ctx)
	} else {
		tok, err = c.cfg.OAuth.Rejected(ctx, rejected)
	}
	switch {
	case errors.Is(err, connector.ErrUnauthorized):
		return "", &connector.APIError{Service: service, Op: "oauth token", Kind: connector.ErrUnauthorized,
			Message: "TimeLog sign-in expired — sign in again", Err: err}
	case err != nil:
		return "", &connector.APIError{Service: service, Op: "oauth token", Kind: connector.ErrTransient, Err: err}
	}
	return tok, nil
}
