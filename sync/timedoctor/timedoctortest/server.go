// Package timedoctortest is an in-process emulator of the Time Doctor 2 API
// (api2.timedoctor.com, /api/1.0 and /api/1.1), written from
// /work/shared/specs/timedoctor.md alone: JWT-header or ?token= sign-in with
// opaque 44-character tokens and no refresh, {"data": …} envelopes with paging,
// {"error", "message"} bodies (also inside HTTP 200), company scoping, role
// permissions, deactivation by DELETE toggle or status, worklogs grouped per
// requested user with the 7-day window rule, and fault knobs that tests switch
// at run time. It runs on a settable Clock.
//
// It imports nothing of timebridge so that it cannot share the client's
// misreadings, and nothing of "testing" so that `timebridge demo` can use it.
//
// Ids are 16-character URL-safe strings. Like MongoDB object ids (TD stores
// `__v` fields) they begin with the creation time, and they are encoded with an
// alphabet in ASCII order, so a later object never has a smaller id.
package timedoctortest

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"

	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Options configure a Server. Zero fields take the defaults shown. Change them
// at run time with Server.Configure.
type Options struct {
	Start    time.Time // initial clock; default 2026-06-15T09:00:00Z
	RealTime bool      // clock follows the wall clock (demo)

	LoginRoutes    string        // "both" (default), "login" (/api/1.0/login only), "authorization" (/authorization/login only)
	TokenTTL       time.Duration // default 180 days
	ExpiryField    string        // "expiresAt" (default), "expires", "both"
	BadLoginStatus int           // wrong password: 401 (default) or 403
	TOTPSignal     string        // "status200" (default: 200 {"data":{"status":"totpNeeded"}}) or "401message"

	HeaderAuthBroken bool // the Authorization header is ignored; only ?token= works
	AcceptBearer     bool // "Bearer <t>" works like "JWT <t>" (default: 401)

	CompanyErrorStatus int    // company missing or foreign: 422 (default) or 403
	EmailFilter        string // filter[email]: "prefix" (default), "exact", "ignored"
	UsersListForbidden string // 403 on /users for: "nonAdmin" (default: role user), "everyone", "none"

	ManagersCreate   bool   // "Allow managers to create projects and tasks"
	UsersCreateTasks bool   // ordinary users may create and change tasks
	AccessWrite      string // PUT /users/{id} onlyProjectIds: "honoured" (default), "ignored", "403"

	DuplicateProjectName string // "allow" (default) or "409"
	DeletedInLists       string // deleted projects/tasks in lists: "hidden" (default) or "flagged"

	TaskArchive         string // "both" (default: DELETE toggles deleted, PUT status and deleted work), "deleteToggle", "status"
	MoveTask            string // PUT project.id: "honoured" (default) or "ignored"
	IgnoreProjectFilter bool   // GET /tasks ignores projects=

	WorklogNoUser   string        // worklog without user=: "own" (default) or "empty"
	MaxWorklogRange time.Duration // default 7 days; wider is refused
	RangeError      string        // "error200" (default: 200 {"error":"mergeRange: range too wide"}) or "400"
	WorklogClip     string        // rows at window edges: "overlap" (default, unclipped), "clip", "startOnly"
	ToInclusive     bool          // rows starting exactly at `to` are included

	DefaultLimit  int    // page size without limit=; default 25
	MaxLimit      int    // silent clamp; default 200; -1: none
	PageMode      string // page=: "offset" (default, rows to skip), "index" (page number from 0), "cursor" (opaque)
	NoPagingBlock bool   // omit "paging" from list replies

	RetryAfter string // Retry-After on 429: "5" (default seconds; any number), "absent", "date"
	// RateLimit answers 429 beyond this many requests per second of the emulator
	// clock (burst: one second's worth); 0: off.
	RateLimit float64

	// AutoApproveManual approves edit-time "add" entries at once; by default
	// (ManualNeedsApproval on) they wait for ApproveEditTime unless an admin
	// posts them with approved: true.
	AutoApproveManual bool

	NoAPIAccess bool // the plan has no API: 403 everywhere after login

	// Classic (v1.1) knobs.
	ClassicClientID     string        // default "timebridge-classic"
	ClassicClientSecret string        // default "classic-secret"
	RedirectURIs        []string      // exact redirect URIs; empty: any http loopback URI
	NoAutoApprove       bool          // /oauth/v2/auth shows a page instead of redirecting
	AccessTTL           time.Duration // default 432000 s
	RefreshTTL          time.Duration // default 14 days
	NoRefreshRotation   bool          // a refresh keeps the old refresh token valid
	OffsetZero          bool          // Classic offset= starts at 0 (default 1)
	ConsolidatedZero    bool          // worklogs without consolidated= are not consolidated (default: 1)
	NumbersAsNumbers    bool          // Classic numbers as JSON numbers (default: strings)
	ClassicNoOwnTasks   bool          // level "user" may not create or change own tasks (default: may)

	// LoseReplyMode is how a lost reply looks: "500" (default) or "drop" (connection closed).
	LoseReplyMode string
}

func (o *Options) defaults() {
	def := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	def(&o.LoginRoutes, "both")
	def(&o.ExpiryField, "expiresAt")
	def(&o.TOTPSignal, "status200")
	def(&o.EmailFilter, "prefix")
	def(&o.UsersListForbidden, "nonAdmin")
	def(&o.AccessWrite, "honoured")
	def(&o.DuplicateProjectName, "allow")
	def(&o.DeletedInLists, "hidden")
	def(&o.TaskArchive, "both")
	def(&o.MoveTask, "honoured")
	def(&o.WorklogNoUser, "own")
	def(&o.RangeError, "error200")
	def(&o.WorklogClip, "overlap")
	def(&o.PageMode, "offset")
	def(&o.RetryAfter, "5")
	def(&o.LoseReplyMode, "500")
	def(&o.ClassicClientID, "timebridge-classic")
	def(&o.ClassicClientSecret, "classic-secret")
	if o.AccessTTL <= 0 {
		o.AccessTTL = 432000 * time.Second
	}
	if o.RefreshTTL <= 0 {
		o.RefreshTTL = 14 * 24 * time.Hour
	}
	if o.TokenTTL <= 0 {
		o.TokenTTL = 180 * 24 * time.Hour
	}
	if o.BadLoginStatus == 0 {
		o.BadLoginStatus = http.StatusUnauthorized
	}
	if o.CompanyErrorStatus == 0 {
		o.CompanyErrorStatus = http.StatusUnprocessableEntity
	}
	if o.MaxWorklogRange <= 0 {
		o.MaxWorklogRange = 7 * 24 * time.Hour
	}
	if o.DefaultLimit <= 0 {
		o.DefaultLimit = 25
	}
	if o.MaxLimit == 0 {
		o.MaxLimit = 200
	}
}

// Clock is the emulator's settable clock. Tests advance it instead of sleeping.
type Clock struct {
	mu     sync.Mutex
	t      time.Time
	real   bool
	offset time.Duration
}

// Now returns the emulated time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.real {
		return time.Now().Add(c.offset).UTC()
	}
	return c.t
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.real {
		c.offset = time.Until(t)
		return
	}
	c.t = t.UTC()
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.real {
		c.offset += d
		return
	}
	c.t = c.t.Add(d)
}

// Request is one recorded request. Tokens in the query and the Authorization
// header are replaced by "REDACTED".
type Request struct {
	Method string
	Path   string
	Query  url.Values
	Auth   string // the Authorization scheme sent ("JWT", "Bearer", "") — never the token
	Body   string // password and totpCode redacted
}

// Rule selects requests for a fault: an empty Method or Path matches all; Path
// is a prefix such as "/api/1.0/tasks".
type Rule struct {
	Method string
	Path   string
	After  int // let this many matching requests through first
}

func (r Rule) match(method, path string) bool {
	return (r.Method == "" || strings.EqualFold(r.Method, method)) && strings.HasPrefix(path, r.Path)
}

type fault struct {
	rule   Rule
	n      int
	status int
	kind   string // malformed kind or error code
}

// Server is a running emulator.
type Server struct {
	// URL is the base URL, e.g. http://127.0.0.1:41234 (append /api/1.0 or not).
	URL   string
	Clock *Clock

	ts *httptest.Server

	mu       sync.Mutex
	opt      Options
	st       state
	requests []Request

	latency     time.Duration
	latencyRule Rule
	fails       []fault
	malformed   []fault
	error200    []fault
	resets      []fault
	loseReply   []fault
	expireAfter int // >0: tokens die after that many more authorized calls
	rlTokens    float64
	rlLast      time.Time
}

// New starts an emulator. Call Close when done.
func New(opts Options) *Server {
	opts.defaults()
	start := opts.Start
	if start.IsZero() {
		start = time.Date(2026, 6, 15, 9, 0, 0, 0, time.UTC)
	}
	s := &Server{opt: opts, Clock: &Clock{t: start.UTC(), real: opts.RealTime}}
	if opts.RealTime {
		s.Clock.offset = time.Until(start)
		if opts.Start.IsZero() {
			s.Clock.offset = 0
		}
	}
	s.st.init()
	s.ts = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.ts.URL
	return s
}

// Close shuts the server down.
func (s *Server) Close() { s.ts.Close() }

// Client returns an *http.Client that reaches the server.
func (s *Server) Client() *http.Client { return s.ts.Client() }

// Configure changes options at run time, race-safely.
func (s *Server) Configure(f func(o *Options)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(&s.opt)
	s.opt.defaults()
}

// Requests returns a copy of the request log.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// ResetRequests clears the request log.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = nil
}

// Count returns how many recorded requests match method ("" any) and path prefix.
func (s *Server) Count(method, pathPrefix string) int {
	n := 0
	for _, r := range s.Requests() {
		if (method == "" || r.Method == method) && strings.HasPrefix(r.Path, pathPrefix) {
			n++
		}
	}
	return n
}

// SetLatency delays every reply matching rule by d of wall-clock time (0: off).
func (s *Server) SetLatency(d time.Duration, rule Rule) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency, s.latencyRule = d, rule
}

// FailNext makes the next n requests answer status (429 with Retry-After per
// Options.RetryAfter, 500/502/503 with an error body) without executing them.
func (s *Server) FailNext(n, status int) { s.FailNextOn(Rule{}, n, status) }

// FailNextOn is FailNext for requests matching rule.
func (s *Server) FailNextOn(rule Rule, n, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fails = append(s.fails, fault{rule: rule, n: n, status: status})
}

// Malformed makes the next n matching replies broken after executing the request:
// kind "invalid" (not JSON), "truncated" (cut in half), "html" (a proxy page),
// "empty" (200 with no body).
func (s *Server) Malformed(rule Rule, n int, kind string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.malformed = append(s.malformed, fault{rule: rule, n: n, kind: kind})
}

// Error200 makes the next n matching requests answer 200 {"error": code,
// "message": …} without executing them.
func (s *Server) Error200(rule Rule, n int, code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.error200 = append(s.error200, fault{rule: rule, n: n, kind: code})
}

// Reset makes the next n matching requests end with a closed connection, unexecuted.
func (s *Server) Reset(rule Rule, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resets = append(s.resets, fault{rule: rule, n: n})
}

// LoseReplyAfterWrite applies the next n writes (POST, PUT, PATCH, DELETE), then
// loses the reply as Options.LoseReplyMode says.
func (s *Server) LoseReplyAfterWrite(n int) { s.LoseReply(Rule{}, n) }

// LoseReply is LoseReplyAfterWrite for writes matching rule.
func (s *Server) LoseReply(rule Rule, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loseReply = append(s.loseReply, fault{rule: rule, n: n})
}

// ExpireAfterCalls makes every token expire after n more authorized calls.
func (s *Server) ExpireAfterCalls(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expireAfter = n
}

// ExpireTokenAt sets the expiry of every issued token to t.
func (s *Server) ExpireTokenAt(t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, tok := range s.st.tokens {
		tok.expiresAt = t
	}
}

// ExpireTokens makes every issued token expired now.
func (s *Server) ExpireTokens() { s.ExpireTokenAt(s.Clock.Now().Add(-time.Second)) }

// RevokeToken revokes one token; "" revokes all.
func (s *Server) RevokeToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for v, tok := range s.st.tokens {
		if token == "" || v == token {
			tok.revoked = true
		}
	}
}

// spend takes one use of the first matching fault in list.
func spend(list []fault, method, path string) (fault, bool) {
	for i := range list {
		if list[i].n > 0 && list[i].rule.match(method, path) {
			if list[i].rule.After > 0 {
				list[i].rule.After--
				continue
			}
			list[i].n--
			return list[i], true
		}
	}
	return fault{}, false
}

func isWrite(method string) bool {
	switch method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return true
	}
	return false
}

// reply is what a handler returns: a status and a value to encode as JSON.
type reply struct {
	status int
	body   any
	header http.Header
}

func ok(v any) reply { return reply{status: http.StatusOK, body: map[string]any{"data": v}} }

func errReply(status int, code, msg string) reply {
	return reply{status: status, body: map[string]any{"error": code, "message": msg}}
}

var redactBodyKeys = []string{"password", "totpCode"}

func (s *Server) record(r *http.Request, body []byte) {
	q := r.URL.Query()
	if q.Has("token") {
		q.Set("token", "REDACTED")
	}
	scheme, _, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	b := string(body)
	var m map[string]any
	if len(body) > 0 && json.Unmarshal(body, &m) == nil {
		changed := false
		for _, k := range redactBodyKeys {
			if _, ok := m[k]; ok {
				m[k] = "REDACTED"
				changed = true
			}
		}
		if changed {
			nb, _ := json.Marshal(m)
			b = string(nb)
		}
	}
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Query: q, Auth: scheme, Body: b})
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	path := strings.TrimSuffix(r.URL.Path, "/")

	s.mu.Lock()
	s.record(r, body)
	delay := time.Duration(0)
	if s.latency > 0 && s.latencyRule.match(r.Method, path) {
		delay = s.latency
	}
	s.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}

	s.mu.Lock()
	if _, hit := spend(s.resets, r.Method, path); hit {
		s.mu.Unlock()
		hijackClose(w)
		return
	}
	status := 0
	if f, hit := spend(s.fails, r.Method, path); hit {
		status = f.status
	} else if s.limited() {
		status = http.StatusTooManyRequests
	}
	if status != 0 {
		f := fault{status: status}
		rep := errReply(f.status, "serverError", http.StatusText(f.status))
		if f.status == http.StatusTooManyRequests {
			rep = errReply(f.status, "tooManyRequests", "Too many requests, please slow down.")
			rep.header = http.Header{}
			switch s.opt.RetryAfter {
			case "absent":
			case "date":
				rep.header.Set("Retry-After", s.Clock.Now().Add(2*time.Second).Format(http.TimeFormat))
			default:
				rep.header.Set("Retry-After", s.opt.RetryAfter)
			}
		}
		s.mu.Unlock()
		writeReply(w, rep)
		return
	}
	if f, hit := spend(s.error200, r.Method, path); hit {
		s.mu.Unlock()
		writeReply(w, errReply(http.StatusOK, f.kind, "Something went wrong"))
		return
	}
	rep := s.route(r, path, body)
	lose := false
	if isWrite(r.Method) && rep.status < 300 {
		_, lose = spend(s.loseReply, r.Method, path)
	}
	mal, broken := spend(s.malformed, r.Method, path)
	mode := s.opt.LoseReplyMode
	s.mu.Unlock()

	if lose {
		if mode == "drop" {
			hijackClose(w)
			return
		}
		writeReply(w, errReply(http.StatusInternalServerError, "serverError", "Internal Server Error"))
		return
	}
	if broken {
		writeMalformed(w, rep, mal.kind)
		return
	}
	writeReply(w, rep)
}

// limited spends one request of the rate-limit bucket; s.mu is held.
func (s *Server) limited() bool {
	if s.opt.RateLimit <= 0 {
		return false
	}
	now := s.Clock.Now()
	burst := max(s.opt.RateLimit, 1)
	if s.rlLast.IsZero() {
		s.rlTokens = burst
	} else {
		s.rlTokens = min(burst, s.rlTokens+now.Sub(s.rlLast).Seconds()*s.opt.RateLimit)
	}
	s.rlLast = now
	if s.rlTokens < 1 {
		return true
	}
	s.rlTokens--
	return false
}

func hijackClose(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

func writeReply(w http.ResponseWriter, rep reply) {
	for k, v := range rep.header {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(rep.status)
	if rep.body != nil {
		_ = json.NewEncoder(w).Encode(rep.body)
	}
}

func writeMalformed(w http.ResponseWriter, rep reply, kind string) {
	var buf bytes.Buffer
	_ = json.NewEncoder(&buf).Encode(rep.body)
	switch kind {
	case "html":
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, "<html><body><h1>Service temporarily unavailable</h1></body></html>")
	case "empty":
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
	case "truncated":
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		w.Write(buf.Bytes()[:buf.Len()/2])
	default:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, `{"data": [oops`)
	}
}

// idAlphabet is base64's 64 URL-safe characters in ASCII order, so that ids
// compare as strings the way their bytes compare.
const idAlphabet = "-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"

// encodeID turns 12 bytes into 16 characters.
func encodeID(b [12]byte) string {
	var sb strings.Builder
	for i := 0; i < 12; i += 3 {
		v := uint32(b[i])<<16 | uint32(b[i+1])<<8 | uint32(b[i+2])
		for shift := 18; shift >= 0; shift -= 6 {
			sb.WriteByte(idAlphabet[(v>>uint(shift))&63])
		}
	}
	return sb.String()
}

func newToken() string {
	b := make([]byte, 33)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b) // 44 characters
}

func fmtTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func fmtOptTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return fmtTime(t)
}
