// Package timelogtest is an in-process emulator of TimeLog's REST v1 API, written
// from /work/shared/specs/timelog.md (§7) and nothing else: it imports no
// timebridge code, so it cannot share the client's misreadings.
//
// A Server serves http://127.0.0.1:<port>/<account>/api/v1/… with personal access
// tokens, TAF envelopes with string paging numbers and a silent default page size
// of 10, ResponseError bodies, closed weeks (422, ErrorCode 30012), approval locks,
// allocation, and fault knobs (FailNext, Malformed, LoseReplyAfterWrite, latency,
// expired or revoked tokens) that are race-safe and switchable at run time. Its
// clock is settable (srv.Clock); it records every request (Requests).
//
//	srv := timelogtest.New(timelogtest.Options{})
//	defer srv.Close()
//	// srv.URL is the site URL + "/api"; srv.Token signs in as srv.Owner.
package timelogtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Knob values of Options.
const (
	DuplicateReject422 = "reject422" // same GUID twice → 422 Code 102, ErrorCode 99001
	DuplicateReject500 = "reject500" // → 500 Code 102
	DuplicateNoop200   = "noop200"   // → empty 200, nothing changes

	DeleteByGUID = "guid"
	DeleteByInt  = "int"
	DeleteByBoth = "both"

	CreateReplyEmpty = "empty" // POST /time-registration → empty 200
	CreateReplyTAF   = "taf"   // → TAF with TimeRegistrationID and ID

	RoundNone    = "none"
	Round2DP     = "2dp"
	RoundQuarter = "quarter"

	Body401JSON  = "json"
	Body401Empty = "empty"
	Body401HTML  = "html"

	MalformedInvalid   = "invalid"   // not JSON at all
	MalformedTruncated = "truncated" // the first half of the real body
	MalformedHTML      = "html"      // a proxy's HTML page
	MalformedEmpty     = "empty"     // 200 with no body
)

// ErrorCodes the emulator uses. Only 30012 is seen live; the others are placeholders
// (spec §3.3, §9 #13: codes besides 30012 are unconfirmed).
const (
	CodeClosedWeek     = 30012
	CodeDuplicateGUID  = 99001
	CodeLocked         = 30020
	CodeTaskInactive   = 30030
	CodeNoTimeTracking = 30031
	CodeNotAllocated   = 30032
	CodeNoComment      = 30033
	CodeNoUser         = 37040
)

// Options configure a Server. The zero value gives the spec's defaults.
type Options struct {
	Account string         // default "acme"
	Start   time.Time      // initial clock, default 2026-06-03 09:00 UTC
	Zone    *time.Location // tenant zone of LastModified/Created and TrackTime; default UTC
	Owner   User           // the user of Token; zero: Ann Berg, UserID 29, ann@example.com
	// LoginServer checks bearer tokens that are not personal access tokens: access
	// tokens issued by login.timelog.com (OAuth), which the API validates with its
	// identity provider. It returns the user id a valid token belongs to. Nil: only
	// personal access tokens are accepted.
	LoginServer func(token string) (userID int, ok bool)

	DefaultPageSize int // page size without $pagesize; default 10
	MaxPageSize     int // silent cap; 0: none

	RequiredTaskFields []string // POST /task demands; default TaskName, ProjectID, StartDate, EndDate
	// RegistrationAllTasks: users may register on any active task without allocation
	// (site privilege; spec knob RequireAllocation=off).
	RegistrationAllTasks bool
	CommentMandatory     bool // SiteSettings.CommentIsMandatory
	HideEmail            bool // users come without Email (spec knob EmailOnUser=off)

	DuplicateGUID       string   // DuplicateReject422 (default), DuplicateReject500, DuplicateNoop200
	DeleteIDForm        string   // DeleteByBoth (default), DeleteByGUID, DeleteByInt
	CreateReply         string   // CreateReplyEmpty (default), CreateReplyTAF
	Rounding            string   // RoundNone (default), Round2DP, RoundQuarter
	PlainArrayRoutes    []string // route suffixes (e.g. "/v1/user") answered with a bare array
	Unauthorized401Body string   // Body401JSON (default), Body401Empty, Body401HTML
	// NoGUIDRead makes GET /v1/time-registration/{id} answer 404 (its read model
	// is unconfirmed, spec §9 #16), so clients must match rows by values.
	NoGUIDRead bool
	// RateLimit answers 429 (Retry-After: 1) above this many requests per wall-clock
	// second; 0: off. TimeLog documents no limit; this is for pacer tests.
	RateLimit int
}

// Request is one recorded request.
type Request struct {
	Method string
	Path   string // escaped path as sent, e.g. /acme/api/v1/user/me
	Query  string // raw query as sent
	Body   string
	// Auth describes the Authorization header without the secret: "" (none),
	// "Bearer valid" (a known token, sent exactly), "Bearer unknown", or "other".
	Auth string
}

// Clock is the emulator's settable clock. It never moves by itself.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// Now returns the current emulator time.
func (c *Clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// Set sets the clock.
func (c *Clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// Server is a running emulator.
type Server struct {
	// URL is the TimeLog "api_url": http://127.0.0.1:<port>/<account>/api.
	URL string
	// Root is the bare httptest URL, http://127.0.0.1:<port>.
	Root string
	// Token is a personal access token of Owner, valid for two years.
	Token string
	// Owner is the user of Token.
	Owner User
	// Clock is the emulator's clock; tokens expire and LastModified is set by it.
	Clock *Clock

	opts Options
	hs   *httptest.Server

	mu       sync.Mutex
	st       state
	faults   faults
	requests []Request
}

type faults struct {
	fail      []failRule
	malformed []malformedRule
	loseN     int
	dropN     int
	latency   time.Duration
	forbid    bool
	window    time.Time // rate limit: current wall-clock second
	inWindow  int
}

// FailRule makes matching requests fail without being executed.
type FailRule struct {
	Method     string        // "" matches any
	Path       string        // substring of the path; "" matches any
	Query      string        // substring of the decoded query, e.g. "$page=2"; "" matches any
	After      int           // let this many matching requests through first
	N          int           // then fail this many (0: 1)
	Status     int           // 401, 429, 500, 502, 503, 504 …
	RetryAfter time.Duration // Retry-After on the reply when > 0 (whole seconds)
}

type failRule struct {
	FailRule
	retryAfter string
}

type malformedRule struct {
	n    int
	kind string
}

// New starts a Server.
func New(opts Options) *Server {
	if opts.Account == "" {
		opts.Account = "acme"
	}
	if opts.Start.IsZero() {
		opts.Start = time.Date(2026, 6, 3, 9, 0, 0, 0, time.UTC)
	}
	if opts.Zone == nil {
		opts.Zone = time.UTC
	}
	if opts.DefaultPageSize <= 0 {
		opts.DefaultPageSize = 10
	}
	if opts.RequiredTaskFields == nil {
		opts.RequiredTaskFields = []string{"TaskName", "ProjectID", "StartDate", "EndDate"}
	}
	if opts.DuplicateGUID == "" {
		opts.DuplicateGUID = DuplicateReject422
	}
	if opts.DeleteIDForm == "" {
		opts.DeleteIDForm = DeleteByBoth
	}
	if opts.CreateReply == "" {
		opts.CreateReply = CreateReplyEmpty
	}
	if opts.Rounding == "" {
		opts.Rounding = RoundNone
	}
	if opts.Unauthorized401Body == "" {
		opts.Unauthorized401Body = Body401JSON
	}
	s := &Server{opts: opts, Clock: &Clock{t: opts.Start}}
	s.st = newState()
	owner := opts.Owner
	if owner.UserID == 0 && owner.Email == "" {
		owner = User{UserID: 29, FirstName: "Ann", LastName: "Berg", Initials: "AB", Email: "ann@example.com"}
	}
	s.Owner = s.AddUser(owner)
	s.Token = s.IssueToken(s.Owner.UserID, opts.Start.AddDate(2, 0, 0))
	s.hs = httptest.NewServer(http.HandlerFunc(s.serve))
	s.Root = s.hs.URL
	s.URL = s.hs.URL + "/" + opts.Account + "/api"
	return s
}

// Close shuts the server down.
func (s *Server) Close() { s.hs.Close() }

// Client returns an *http.Client that reaches the server.
func (s *Server) Client() *http.Client { return s.hs.Client() }

// SiteURL is the TimeLog site URL, http://127.0.0.1:<port>/<account>.
func (s *Server) SiteURL() string { return s.Root + "/" + s.opts.Account }

// Requests returns a copy of every request received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// CountRequests counts the recorded requests with this method whose path ends in
// suffix (e.g. "/v1/time-registration").
func (s *Server) CountRequests(method, suffix string) int {
	n := 0
	for _, r := range s.Requests() {
		if (method == "" || r.Method == method) && strings.HasSuffix(r.Path, suffix) {
			n++
		}
	}
	return n
}

// ResetRequests forgets the recorded requests.
func (s *Server) ResetRequests() { s.mu.Lock(); s.requests = nil; s.mu.Unlock() }

// FailNext makes the next n requests answer status (429, 500, 502, 503, 504, 401 …)
// without executing them.
func (s *Server) FailNext(n, status int) { s.FailOn("", "", n, status, 0) }

// FailOn makes the next n requests matching method ("" any) and whose route contains
// path ("" any) answer status without executing them; a 429 carries Retry-After
// when retryAfter > 0.
func (s *Server) FailOn(method, path string, n, status int, retryAfter time.Duration) {
	s.Fail(FailRule{Method: method, Path: path, N: n, Status: status, RetryAfter: retryAfter})
}

// Fail adds a failure rule; rules are tried in the order added.
func (s *Server) Fail(rule FailRule) {
	if rule.N <= 0 {
		rule.N = 1
	}
	ra := ""
	if rule.RetryAfter > 0 {
		ra = fmt.Sprint(int(rule.RetryAfter.Round(time.Second) / time.Second))
	}
	s.mu.Lock()
	s.faults.fail = append(s.faults.fail, failRule{FailRule: rule, retryAfter: ra})
	s.mu.Unlock()
}

// Malformed makes the next n replies broken in the given way (Malformed* constants).
// The request itself is executed.
func (s *Server) Malformed(n int, kind string) {
	s.mu.Lock()
	s.faults.malformed = append(s.faults.malformed, malformedRule{n: n, kind: kind})
	s.mu.Unlock()
}

// LoseReplyAfterWrite makes the next n successful writes (POST, PUT, DELETE other
// than validate-new-task) commit and then answer 500 instead of their reply.
func (s *Server) LoseReplyAfterWrite(n int) { s.mu.Lock(); s.faults.loseN += n; s.mu.Unlock() }

// DropReplyAfterWrite is LoseReplyAfterWrite but the connection is dropped instead.
func (s *Server) DropReplyAfterWrite(n int) { s.mu.Lock(); s.faults.dropN += n; s.mu.Unlock() }

// SetLatency delays every reply by d (0: none); a client timeout shorter than d fails.
func (s *Server) SetLatency(d time.Duration) { s.mu.Lock(); s.faults.latency = d; s.mu.Unlock() }

// ForbidCreate makes task creation (and validate-new-task) answer 403 for everybody,
// as for a user without project-management rights.
func (s *Server) ForbidCreate(forbid bool) { s.mu.Lock(); s.faults.forbid = forbid; s.mu.Unlock() }

// ExpireAuth revokes Token (the owner's personal access token).
func (s *Server) ExpireAuth() { s.RevokeToken(s.Token) }

// serve records the request, applies faults, routes, and post-processes the reply.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	auth := ""
	if h := r.Header.Get("Authorization"); h != "" {
		auth = "other"
		if tok, ok := strings.CutPrefix(h, "Bearer "); ok {
			auth = "Bearer unknown"
			if s.st.tokens[tok] != nil {
				auth = "Bearer valid"
			} else if s.opts.LoginServer != nil {
				if _, ok := s.opts.LoginServer(tok); ok {
					auth = "Bearer valid"
				}
			}
		}
	}
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.RawQuery,
		Body: string(body), Auth: auth})
	latency := s.faults.latency
	var fail *failRule
	query, _ := url.QueryUnescape(r.URL.RawQuery)
	for i := range s.faults.fail {
		f := &s.faults.fail[i]
		if f.N <= 0 || (f.Method != "" && f.Method != r.Method) || !strings.Contains(r.URL.Path, f.Path) ||
			!strings.Contains(query, f.Query) {
			continue
		}
		if f.After > 0 {
			f.After--
			continue
		}
		f.N--
		cp := *f
		fail = &cp
		break
	}
	limited := false
	if s.opts.RateLimit > 0 {
		sec := time.Now().Truncate(time.Second)
		if !sec.Equal(s.faults.window) {
			s.faults.window, s.faults.inWindow = sec, 0
		}
		s.faults.inWindow++
		limited = s.faults.inWindow > s.opts.RateLimit
	}
	s.mu.Unlock()
	if limited {
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusTooManyRequests, 100, "Too many requests.", nil)
		return
	}
	if latency > 0 {
		t := time.NewTimer(latency)
		select {
		case <-r.Context().Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
	if fail != nil {
		if fail.retryAfter != "" {
			w.Header().Set("Retry-After", fail.retryAfter)
		}
		if fail.Status == http.StatusUnauthorized {
			s.write401(w)
			return
		}
		writeError(w, fail.Status, 100, "An error has occurred.", nil)
		return
	}

	rec := &recorder{header: http.Header{}, status: http.StatusOK}
	write := s.handle(rec, r, body)

	s.mu.Lock()
	lose, drop := false, false
	if write && rec.status/100 == 2 {
		switch {
		case s.faults.dropN > 0:
			s.faults.dropN--
			drop = true
		case s.faults.loseN > 0:
			s.faults.loseN--
			lose = true
		}
	}
	malformed := ""
	if !lose && !drop {
		for i := range s.faults.malformed {
			if m := &s.faults.malformed[i]; m.n > 0 {
				m.n--
				malformed = m.kind
				break
			}
		}
	}
	s.mu.Unlock()
	switch {
	case drop:
		panic(http.ErrAbortHandler)
	case lose:
		writeError(w, http.StatusInternalServerError, 100, "An error has occurred.", nil)
		return
	}
	out := rec.buf.Bytes()
	switch malformed {
	case MalformedInvalid:
		out, rec.status = []byte(`{"Properties": {"UserID": 29, "Email": `+"\x00"+`oops`), http.StatusOK
	case MalformedTruncated:
		if len(out) < 2 {
			out = []byte(`{"Properties": {`)
		}
		out, rec.status = out[:len(out)/2], http.StatusOK
	case MalformedHTML:
		rec.header.Set("Content-Type", "text/html; charset=utf-8")
		out, rec.status = []byte("<html><body><h1>Service Unavailable</h1></body></html>"), http.StatusOK
	case MalformedEmpty:
		out, rec.status = nil, http.StatusOK
	}
	for k, v := range rec.header {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.status)
	_, _ = w.Write(out)
}

// recorder buffers a reply so faults can replace it after the handler ran.
type recorder struct {
	header http.Header
	status int
	buf    bytes.Buffer
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(b []byte) (int, error) { return r.buf.Write(b) }
func (r *recorder) WriteHeader(status int)      { r.status = status }

// errorBody is TimeLog's ResponseError.
type errorBody struct {
	Code          int    `json:"Code"`
	Message       string `json:"Message"`
	Details       any    `json:"Details"`
	Parameters    string `json:"Parameters,omitempty"`
	URL           string `json:"Url,omitempty"`
	DeveloperNote string `json:"DeveloperNote,omitempty"`
}

// detail is one business-rule detail of a 422/500 Code 102 reply.
type detail struct {
	Message   string `json:"Message"`
	ErrorCode int    `json:"ErrorCode"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status, code int, msg string, details any) {
	if details == nil {
		details = []detail{}
	}
	writeJSON(w, status, errorBody{Code: code, Message: msg, Details: details})
}

// writeRule answers a business-rule violation: Code 102 with one detail.
func writeRule(w http.ResponseWriter, status, errorCode int, msg string) {
	writeError(w, status, 102, "The request could not be processed.", []detail{{Message: msg, ErrorCode: errorCode}})
}

// writeValidation answers a model validation failure: 400, string Details, Parameters.
func writeValidation(w http.ResponseWriter, model string, msg string, body []byte) {
	writeJSON(w, http.StatusBadRequest, errorBody{Code: 100, Message: "The request is invalid.", Details: msg,
		Parameters: model + ": " + string(bytes.TrimSpace(body))})
}

func (s *Server) write401(w http.ResponseWriter) {
	switch s.opts.Unauthorized401Body {
	case Body401Empty:
		w.WriteHeader(http.StatusUnauthorized)
	case Body401HTML:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, "<html><body>401 - Unauthorized</body></html>")
	default:
		writeError(w, http.StatusUnauthorized, 100, "Authorization has been denied for this request.", nil)
	}
}
