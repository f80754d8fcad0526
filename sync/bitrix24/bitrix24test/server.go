// Package bitrix24test is an in-process emulator of a Bitrix24 portal and its
// OAuth server (oauth.bitrix.info), written from /work/shared/specs/bitrix24.md
// alone: string-typed numbers, "[]" for empty maps, envelopes with server-offset
// times, offset paging, batch, positional legacy task.elapseditem.* arguments,
// a leaky-bucket rate limit, single-use rotating refresh tokens, webhooks and
// fault knobs that tests switch at run time. It runs on a settable Clock.
//
// It imports nothing of timebridge so that it cannot share the client's
// misreadings, and nothing of "testing" so that `timebridge demo` can use it.
package bitrix24test

import (
	"crypto/rand"
	"encoding/hex"
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

// Options configure a Server. Zero fields take the defaults shown.
type Options struct {
	Start        time.Time // initial clock; default 2026-01-15T09:00:00Z
	RealTime     bool      // clock follows the wall clock (demo)
	ServerTZ     string    // portal server zone; default "Europe/Moscow"
	ClientID     string    // default "local.5c4032a5b4dd80.50799352"
	ClientSecret string    // default "emulator-secret"
	// RedirectURI is the handler URL registered for the app; default
	// "http://127.0.0.1:7000/callback".
	RedirectURI    string
	RedirectPolicy string        // "exact" (default), "host" (any port), "ignore"
	SkipConsent    bool          // logged-in user skips the consent page
	AuthorizeUser  int           // who is logged in in the browser; default 1
	AccessTTL      time.Duration // default 1h
	RefreshTTL     time.Duration // default 180 days
	CodeTTL        time.Duration // default 30s
	// OldAccessSurvivesRefresh keeps the old access token alive after a refresh.
	OldAccessSurvivesRefresh bool
	OAuthErrorStatus         int    // status of auth-server errors; default 400
	TokenDomain              string // "auth" (default: domain = oauth host) or "portal"
	OmitExpires              bool   // token replies without "expires"
	BadTokenCode             string // unknown access token: "invalid_token" (default) or "NO_AUTH_FOUND"
	Scopes                   []string
	BucketBurst              int     // default 50
	BucketRate               float64 // drain per second; default 2
	PageSize                 int     // default 50
	BatchMax                 int     // default 50
	StartMinusOneTotal       string  // "zero" (default) or "absent"
	MissingTaskOnAdd         string  // "ACTION_NOT_ALLOWED" (default) or "TASK_NOT_FOUND_OR_NOT_ACCESSIBLE"
	ForeignUserID            string  // "allow" (default) or "reject"
	RoleSubfilter            string  // "accept" (default), "reject" (400), "ignore" (over-broad)
	HonourDateStartStop      bool
	ElapsedBumpsChanged      bool
	// Shapes "mixed" flips types in replies as PHP does depending on content:
	// digit strings ↔ numbers, empty [] ↔ {}, null → "" (seeded, deterministic).
	Shapes string
	// DSTQuirk formats tasks.task.* dates with today's offset of the user's zone
	// (wall clock kept): ±1 h across DST (spec §4).
	DSTQuirk bool
	// OnPremise: the portal's /oauth/token/ is not forwarded (404).
	OnPremise bool
	Seed      uint64 // for Shapes "mixed"; default 1
	// Operating is the per-method execution-time limit (spec §2.6, L2).
	Operating Operating
}

// Operating configures the per-method operating limit over a 10-minute window.
type Operating struct {
	Limit       time.Duration // default 480s
	CostPerCall time.Duration // execution time charged per call; default 10.7ms
}

type opEntry struct {
	at   time.Time
	cost time.Duration
}

// CommitThenFail applies the next N writes of Method and then fails the reply.
type CommitThenFail struct {
	Method string
	N      int
	Mode   string // "500" (default), "html", "drop" (connection closed)
}

// Faults are run-time knobs; change them with Server.SetFaults. Counters (N) are
// spent one per REST request (a batch counts once).
type Faults struct {
	Latency           time.Duration // wall-clock delay before each REST reply
	Method            string        // when set, the counted faults below hit only this method
	Fail500           int           // next N replies: 500 INTERNAL_SERVER_ERROR
	HTML502           int           // next N replies: 502 HTML page
	HTMLTimeout       int           // next N replies: 504 HTML page
	MalformedJSON     int           // next N replies: truncated JSON
	WrongEncoding     int           // next N replies: 200 WRONG_ENCODING
	ForceQueryLimit   int           // next N requests: 503 QUERY_LIMIT_EXCEEDED, not executed
	OperationLimit    string        // this method answers 429 OPERATION_TIME_LIMIT
	Overload          bool          // 503 OVERLOAD_LIMIT
	CommitThenFail    CommitThenFail
	ClockSkew         time.Duration // added to the portal's clock
	ShiftBetweenPages bool          // offset pages after the first skip a row (rows moving)
	MovedTo           string        // 302 to this base URL (domain change)
	PaymentRequired   bool
	UserAccessError   bool
	NoRESTPlan        bool
	ConfirmWaiting    string // method answering 401 METHOD_CONFIRM_WAITING
	MethodOff         string // method answering 404 ERROR_METHOD_NOT_FOUND
	WebhookExpired    bool
	AuthorizeFails    bool
	AcceptBearer      bool
}

// Call is one recorded request.
type Call struct {
	Method   string // REST method ("tasks.task.list", "batch") or the OAuth path
	HTTP     string // GET or POST
	Path     string
	Query    string
	Body     string
	Webhook  bool
	Status   int
	Executed bool // false when refused before running (rate limit, auth)
}

// Server is the emulator: a portal and an auth server.
type Server struct {
	// URL is the portal base (https://portal.bitrix24.com equivalent).
	URL string
	// AuthURL is the OAuth server base (https://oauth.bitrix.info equivalent).
	AuthURL string
	// Clock drives tokens, dates, the rate limit and the envelopes.
	Clock *Clock

	opts   Options
	portal *httptest.Server
	auth   *httptest.Server
	loc    *time.Location

	mu       sync.Mutex
	st       *state
	tokens   map[string]*accessToken
	refr     map[string]*refreshToken
	codes    map[string]*authCode
	hooks    map[string]*webhook
	calls    []Call
	bucket   float64
	bucketAt time.Time
	revoked  bool

	fmu    sync.Mutex
	faults Faults

	opUse map[string][]opEntry // guarded by mu

	active, maxActive int // REST requests being handled; guarded by mu
	busy              sync.WaitGroup
	closing           chan struct{}
	closed            sync.Once
	mixN              uint64
}

type accessToken struct {
	user    int
	expires time.Time
	dead    bool
}

type refreshToken struct {
	user    int
	expires time.Time
	used    bool
	access  string
}

type authCode struct {
	user    int
	expires time.Time
	used    bool
	redir   string
}

type webhook struct {
	user   int
	scopes []string
}

// New starts an emulator; call Close when done.
func New(opts Options) *Server {
	if opts.Start.IsZero() {
		opts.Start = time.Date(2026, 1, 15, 9, 0, 0, 0, time.UTC)
	}
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&opts.ServerTZ, "Europe/Moscow")
	def(&opts.ClientID, "local.5c4032a5b4dd80.50799352")
	def(&opts.ClientSecret, "emulator-secret")
	def(&opts.RedirectURI, "http://127.0.0.1:7000/callback")
	def(&opts.RedirectPolicy, "exact")
	def(&opts.TokenDomain, "auth")
	def(&opts.BadTokenCode, "invalid_token")
	def(&opts.StartMinusOneTotal, "zero")
	def(&opts.MissingTaskOnAdd, "ACTION_NOT_ALLOWED")
	def(&opts.ForeignUserID, "allow")
	def(&opts.RoleSubfilter, "accept")
	if opts.AuthorizeUser == 0 {
		opts.AuthorizeUser = 1
	}
	if opts.AccessTTL == 0 {
		opts.AccessTTL = time.Hour
	}
	if opts.RefreshTTL == 0 {
		opts.RefreshTTL = 180 * 24 * time.Hour
	}
	if opts.CodeTTL == 0 {
		opts.CodeTTL = 30 * time.Second
	}
	if opts.OAuthErrorStatus == 0 {
		opts.OAuthErrorStatus = http.StatusBadRequest
	}
	if opts.Scopes == nil {
		opts.Scopes = []string{"task", "user_basic", "sonet_group"}
	}
	if opts.BucketBurst == 0 {
		opts.BucketBurst = 50
	}
	if opts.BucketRate == 0 {
		opts.BucketRate = 2
	}
	if opts.PageSize == 0 {
		opts.PageSize = 50
	}
	if opts.Operating.Limit == 0 {
		opts.Operating.Limit = 480 * time.Second
	}
	if opts.Operating.CostPerCall == 0 {
		opts.Operating.CostPerCall = 10700 * time.Microsecond
	}
	if opts.BatchMax == 0 {
		opts.BatchMax = 50
	}
	loc, err := time.LoadLocation(opts.ServerTZ)
	if err != nil {
		loc = time.FixedZone("+03:00", 3*3600)
	}
	s := &Server{opts: opts, loc: loc, st: newState(), tokens: map[string]*accessToken{},
		refr: map[string]*refreshToken{}, codes: map[string]*authCode{}, hooks: map[string]*webhook{},
		Clock: &Clock{t: opts.Start, running: opts.RealTime, base: time.Now()}, closing: make(chan struct{}), opUse: map[string][]opEntry{}}
	s.bucket = float64(opts.BucketBurst)
	s.bucketAt = opts.Start
	s.portal = httptest.NewServer(http.HandlerFunc(s.servePortal))
	s.auth = httptest.NewServer(http.HandlerFunc(s.serveAuth))
	s.URL, s.AuthURL = s.portal.URL, s.auth.URL
	return s
}

// Close stops both servers.
func (s *Server) Close() {
	s.closed.Do(func() { close(s.closing) })
	s.portal.Close()
	s.auth.Close()
}

func (s *Server) enter() {
	s.mu.Lock()
	s.active++
	s.maxActive = max(s.maxActive, s.active)
	s.mu.Unlock()
}

func (s *Server) leave() {
	s.mu.Lock()
	s.active--
	s.mu.Unlock()
}

// MaxInFlight is the most REST requests handled at the same time so far.
func (s *Server) MaxInFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxActive
}

// Quiesce waits until no REST request is being handled (a slow write the
// client gave up on has committed or not by then).
func (s *Server) Quiesce() { s.busy.Wait() }

// Client returns an HTTP client for the emulator; it does not follow redirects
// (a 302 domain change must be seen by the client).
func (s *Server) Client() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// Host is the portal host as it appears in client_endpoint.
func (s *Server) Host() string { u, _ := url.Parse(s.URL); return u.Host }

// ClientID and ClientSecret are the registered app's credentials.
func (s *Server) ClientID() string     { return s.opts.ClientID }
func (s *Server) ClientSecret() string { return s.opts.ClientSecret }

// MemberID is the portal's stable id.
func (s *Server) MemberID() string { return "a223c6b3710f85df22e9377d6c4f7553" }

// SetFaults changes the fault knobs atomically.
func (s *Server) SetFaults(fn func(f *Faults)) {
	s.fmu.Lock()
	fn(&s.faults)
	s.fmu.Unlock()
}

// Faults returns a copy of the current knobs.
func (s *Server) Faults() Faults {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	return s.faults
}

// Calls returns every request so far.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// CallCount counts recorded requests of a REST method ("" = all REST requests).
func (s *Server) CallCount(method string) int {
	n := 0
	for _, c := range s.Calls() {
		if strings.HasPrefix(c.Path, "/oauth/") {
			continue
		}
		if method == "" || strings.EqualFold(c.Method, method) {
			n++
		}
	}
	return n
}

// ResetCalls forgets the recorded requests.
func (s *Server) ResetCalls() {
	s.mu.Lock()
	s.calls = nil
	s.mu.Unlock()
}

// Revoke uninstalls the app: every token and refresh token dies.
func (s *Server) Revoke() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revoked = true
	for _, t := range s.tokens {
		t.dead = true
	}
	for _, r := range s.refr {
		r.used = true
	}
}

// ExpireAccess makes every access token expired (refresh tokens stay valid).
func (s *Server) ExpireAccess() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.tokens {
		t.expires = s.Clock.Now().Add(-time.Second)
	}
}

// now is the portal's clock (with skew), in the server zone.
func (s *Server) now() time.Time {
	s.fmu.Lock()
	skew := s.faults.ClockSkew
	s.fmu.Unlock()
	return s.Clock.Now().Add(skew).In(s.loc)
}

// take spends a counted fault; it returns true when one was spent.
func (s *Server) take(method string, counter *int) bool {
	if *counter <= 0 {
		return false
	}
	if s.faults.Method != "" && !strings.EqualFold(s.faults.Method, method) {
		return false
	}
	*counter--
	return true
}

func randHex(n int) string {
	b := make([]byte, (n+1)/2)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)[:n]
}

// record appends a call and returns its index.
func (s *Server) record(c Call) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, c)
	return len(s.calls) - 1
}

func (s *Server) setStatus(i, status int, executed bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[i].Status, s.calls[i].Executed = status, executed
}

func readBody(r *http.Request) []byte {
	b, _ := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	return b
}

// writeJSON writes v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func htmlPage(w http.ResponseWriter, status int, title string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<html><head><title>%d %s</title></head><body><center><h1>%d %s</h1></center><hr><center>nginx</center></body></html>\n", status, title, status, title)
}

// restErr is an error reply of a REST method.
type restErr struct {
	status int
	code   string
	desc   string
}

func (e *restErr) Error() string { return e.code + ": " + e.desc }

func errf(status int, code, desc string, a ...any) *restErr {
	return &restErr{status: status, code: code, desc: fmt.Sprintf(desc, a...)}
}

func (e *restErr) body() map[string]any {
	return map[string]any{"error": e.code, "error_description": e.desc}
}

// taskErr builds the legacy task.* ERROR_CORE text (spec §3.8).
func taskErr(code int, msg, symbol string) *restErr {
	return errf(400, "ERROR_CORE", "TASKS_ERROR_EXCEPTION_#%d; %s; %d/TE/%s<br>", code, msg, code, symbol)
}
