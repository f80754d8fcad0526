// Package authtest is a stub OAuth 2 authorization server for tests and the demo: an authorize
// endpoint that auto-approves (or shows a consent page with Allow/Deny buttons), and a token
// endpoint with single-use codes that expire, PKCE S256 checks and single-use rotating refresh
// tokens, like Bitrix24 and Time Doctor Classic. Fault knobs are race-safe and can be switched
// while a flow runs. It imports nothing of timebridge.
package authtest

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"html/template"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// Client credentials the stub accepts.
const (
	ClientID     = "timebridge-test"
	ClientSecret = "test-client-secret"
	// PublicClientID is a client without a secret (PKCE only), accepted after
	// AllowPublicClient(true).
	PublicClientID = "test-public-client"
)

// Defaults of the lifetimes.
const (
	DefaultCodeTTL   = 30 * time.Second // Bitrix24: an authorization code lives 30 s
	DefaultAccessTTL = time.Hour
)

// Request is one request the stub received.
type Request struct {
	Method string
	Path   string
	Query  url.Values
	Form   url.Values // the parsed body of a POST (nil otherwise)
}

// Clock is the stub's settable clock; code and access-token lifetimes follow it.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Server is the stub authorization server. Create it with NewServer and Close it when done.
type Server struct {
	// URL is the base URL, e.g. http://127.0.0.1:41234.
	URL string
	// Clock drives code and token lifetimes (starts at the real time).
	Clock *Clock

	srv *httptest.Server

	mu         sync.Mutex
	public     bool // PublicClientID accepted (AllowPublicClient)
	reqs       []Request
	codes      map[string]*grant
	refresh    map[string]*pair // refresh token → its pair
	access     map[string]*pair // access token → its pair
	forge      int
	denyCode   string
	denyDesc   string
	slow       time.Duration
	codeTTL    time.Duration
	reuseFails bool
	failStatus int
	failCode   string
	consent    bool
	extra      map[string]any
	refreshes  int
	exchanges  int
}

type grant struct {
	redirectURI string
	challenge   string
	issued      time.Time
	used        bool
}

type pair struct {
	access, refresh string
	expires         time.Time
	used            bool // refresh token spent
	dead            bool // access token revoked
}

// NewServer starts a stub on a loopback port: auto-approve, 30 s codes, single-use refresh tokens.
func NewServer() *Server {
	s := &Server{
		Clock:      &Clock{t: time.Now()},
		codes:      map[string]*grant{},
		refresh:    map[string]*pair{},
		access:     map[string]*pair{},
		codeTTL:    DefaultCodeTTL,
		reuseFails: true,
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/authorize", s.handleAuthorize)
	mux.HandleFunc("/authorize/approve", s.handleApprove)
	mux.HandleFunc("/token", s.handleToken)
	// The same endpoints where IdentityServer-style providers (TimeLog's
	// login.timelog.com) have them.
	mux.HandleFunc("/connect/authorize", s.handleAuthorize)
	mux.HandleFunc("/connect/authorize/approve", s.handleApprove)
	mux.HandleFunc("/connect/token", s.handleToken)
	s.srv = httptest.NewServer(s.record(mux))
	s.URL = s.srv.URL
	return s
}

// Close shuts the stub down.
func (s *Server) Close() { s.srv.Close() }

// Client returns an HTTP client for the stub.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// Endpoint returns the stub's authorize and token URLs.
func (s *Server) Endpoint() oauth2.Endpoint {
	return oauth2.Endpoint{
		AuthURL:   s.URL + "/authorize",
		TokenURL:  s.URL + "/token",
		AuthStyle: oauth2.AuthStyleInParams,
	}
}

// OAuth2Config returns a client configuration the stub accepts (RedirectURL left empty).
func (s *Server) OAuth2Config() oauth2.Config {
	return oauth2.Config{ClientID: ClientID, ClientSecret: ClientSecret, Endpoint: s.Endpoint(), Scopes: []string{"task", "user_basic"}}
}

// ForgeState makes the next n authorize redirects carry a wrong state.
func (s *Server) ForgeState(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.forge = n
}

// DenyWith makes authorize redirect back with error=code (e.g. "access_denied") and the
// description instead of a code, until DenyWith("", "") clears it.
func (s *Server) DenyWith(code, description string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.denyCode, s.denyDesc = code, description
}

// SlowToken delays every token-endpoint reply by d (really waits; keep d at a few ms).
func (s *Server) SlowToken(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.slow = d
}

// CodeTTL sets the lifetime of authorization codes (default 30 s), measured on Clock.
func (s *Server) CodeTTL(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.codeTTL = d
}

// ReuseRefreshFails sets whether a used refresh token is rejected with invalid_grant and its
// access token revoked (default true: single-use, rotating refresh tokens).
func (s *Server) ReuseRefreshFails(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reuseFails = on
}

// FailRefresh makes every refresh_token grant fail with the status and OAuth error code
// (e.g. 503, "" or 400, "invalid_grant") until FailRefresh(0, "") clears it.
func (s *Server) FailRefresh(status int, code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failStatus, s.failCode = status, code
}

// ConsentPage switches authorize between auto-approve (false, default) and an HTML consent page
// with Allow and Deny buttons (ids "allow" and "deny") and an Allow link (id "allow-link").
func (s *Server) ConsentPage(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.consent = on
}

// SetExtra adds fields to every token reply (e.g. Bitrix24's member_id, client_endpoint).
func (s *Server) SetExtra(extra map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.extra = maps.Clone(extra)
}

// CountRefreshes returns how many refresh_token grants reached the token endpoint.
func (s *Server) CountRefreshes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refreshes
}

// CountExchanges returns how many authorization_code grants reached the token endpoint.
func (s *Server) CountExchanges() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.exchanges
}

// Requests returns a copy of every request received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.reqs)
}

// IssuePair mints a token pair as if a sign-in had happened (for token-source tests).
func (s *Server) IssuePair() (accessToken, refreshToken string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.newPairLocked()
	return p.access, p.refresh
}

// AccessValid reports whether an access token is live: issued, not expired, not revoked.
func (s *Server) AccessValid(token string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.access[token]
	return p != nil && !p.dead && s.Clock.Now().Before(p.expires)
}

func (s *Server) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req := Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query()}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
			if err := r.ParseForm(); err != nil {
				http.Error(w, "bad form", http.StatusBadRequest)
				return
			}
			req.Form = maps.Clone(r.PostForm)
		}
		s.mu.Lock()
		s.reqs = append(s.reqs, req)
		s.mu.Unlock()
		next.ServeHTTP(w, r)
	})
}

var consentPage = template.Must(template.New("consent").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>Authorize timebridge</title></head>
<body><h1>Allow timebridge to access your account?</h1>
<form method="get" action="/authorize/approve">
{{range $k, $v := .Params}}{{range $v}}<input type="hidden" name="{{$k}}" value="{{.}}">
{{end}}{{end}}<button id="allow" name="decision" value="allow" type="submit">Allow</button>
<button id="deny" name="decision" value="deny" type="submit">Deny</button>
</form>
<p><a id="allow-link" href="{{.AllowHref}}">Allow</a></p>
</body></html>`))

// handleAuthorize is the authorize endpoint. Bad client or redirect URI → an error page, no
// redirect (as Bitrix24 does); otherwise a redirect (auto-approve) or the consent page.
func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if !s.checkAuthorize(w, q) {
		return
	}
	s.mu.Lock()
	consent := s.consent
	s.mu.Unlock()
	if !consent {
		s.redirect(w, r, q, true)
		return
	}
	allow := maps.Clone(q)
	allow.Set("decision", "allow")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = consentPage.Execute(w, struct {
		Params    url.Values
		AllowHref template.URL
	}{q, template.URL("/authorize/approve?" + allow.Encode())})
}

// handleApprove is where the consent page's buttons go.
func (s *Server) handleApprove(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if !s.checkAuthorize(w, q) {
		return
	}
	s.redirect(w, r, q, q.Get("decision") == "allow")
}

func (s *Server) checkAuthorize(w http.ResponseWriter, q url.Values) bool {
	s.mu.Lock()
	public := s.public
	s.mu.Unlock()
	if q.Get("client_id") != ClientID && (!public || q.Get("client_id") != PublicClientID) {
		http.Error(w, "Unknown application (client_id).", http.StatusBadRequest)
		return false
	}
	ru, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || ru.Scheme != "http" || ru.Hostname() != "127.0.0.1" || ru.Port() == "" {
		http.Error(w, "redirect_uri must be http://127.0.0.1:PORT/…", http.StatusBadRequest)
		return false
	}
	if rt := q.Get("response_type"); rt != "" && rt != "code" {
		http.Error(w, "unsupported response_type", http.StatusBadRequest)
		return false
	}
	return true
}

func (s *Server) redirect(w http.ResponseWriter, r *http.Request, q url.Values, allow bool) {
	ru, _ := url.Parse(q.Get("redirect_uri")) // checked
	back := ru.Query()
	state := q.Get("state")
	s.mu.Lock()
	if s.forge > 0 {
		s.forge--
		state = "forged-" + randomHex(16)
	}
	denyCode, denyDesc := s.denyCode, s.denyDesc
	if allow && denyCode == "" {
		if m := q.Get("code_challenge_method"); q.Get("code_challenge") != "" && m != "S256" {
			denyCode, denyDesc = "invalid_request", "only code_challenge_method=S256 is supported"
		}
	}
	if !allow && denyCode == "" {
		denyCode, denyDesc = "access_denied", "The user denied access."
	}
	if denyCode != "" {
		back.Set("error", denyCode)
		if denyDesc != "" {
			back.Set("error_description", denyDesc)
		}
	} else {
		code := randomHex(16)
		s.codes[code] = &grant{redirectURI: ru.String(), challenge: q.Get("code_challenge"), issued: s.Clock.Now()}
		back.Set("code", code)
	}
	s.mu.Unlock()
	if state != "" {
		back.Set("state", state)
	}
	ru.RawQuery = back.Encode()
	http.Redirect(w, r, ru.String(), http.StatusFound)
}

// handleToken is the token endpoint: POST form or GET with query (Time Doctor Classic style).
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		tokenError(w, http.StatusMethodNotAllowed, "invalid_request", "use POST or GET")
		return
	}
	if err := r.ParseForm(); err != nil {
		tokenError(w, http.StatusBadRequest, "invalid_request", "bad form")
		return
	}
	f := r.Form
	s.mu.Lock()
	slow := s.slow
	s.mu.Unlock()
	if slow > 0 {
		select {
		case <-time.After(slow):
		case <-r.Context().Done():
			return
		}
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = f.Get("client_id"), f.Get("client_secret")
	}
	s.mu.Lock()
	public := s.public
	s.mu.Unlock()
	if id == PublicClientID && public && secret == "" {
		// A public client (no secret) must prove itself with PKCE: checked at the code.
		id, secret = ClientID, ClientSecret
		if f.Get("grant_type") == "authorization_code" && f.Get("code_verifier") == "" {
			tokenError(w, http.StatusBadRequest, "invalid_request", "a public client must use PKCE")
			return
		}
	}
	if id != ClientID || subtle.ConstantTimeCompare([]byte(secret), []byte(ClientSecret)) != 1 {
		tokenError(w, http.StatusUnauthorized, "invalid_client", "Invalid client credentials.")
		return
	}
	switch f.Get("grant_type") {
	case "authorization_code":
		s.exchangeCode(w, f)
	case "refresh_token":
		s.refreshToken(w, f)
	default:
		tokenError(w, http.StatusBadRequest, "unsupported_grant_type", "grant_type must be authorization_code or refresh_token")
	}
}

func (s *Server) exchangeCode(w http.ResponseWriter, f url.Values) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.exchanges++
	g := s.codes[f.Get("code")]
	switch {
	case g == nil || g.used:
		tokenError(w, http.StatusBadRequest, "invalid_grant", "Unknown or already used authorization code.")
		return
	case !s.Clock.Now().Before(g.issued.Add(s.codeTTL)):
		g.used = true
		tokenError(w, http.StatusBadRequest, "invalid_grant", "The authorization code has expired.")
		return
	}
	g.used = true
	if ru := f.Get("redirect_uri"); ru != "" && ru != g.redirectURI {
		tokenError(w, http.StatusBadRequest, "invalid_grant", "redirect_uri does not match the authorize request.")
		return
	}
	if g.challenge != "" {
		sum := sha256.Sum256([]byte(f.Get("code_verifier")))
		if f.Get("code_verifier") == "" || base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
			tokenError(w, http.StatusBadRequest, "invalid_grant", "PKCE verification failed.")
			return
		}
	}
	s.writePairLocked(w, s.newPairLocked())
}

func (s *Server) refreshToken(w http.ResponseWriter, f url.Values) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refreshes++
	if s.failStatus != 0 {
		code := s.failCode
		if code == "" {
			code = "server_error"
		}
		tokenError(w, s.failStatus, code, "refresh failed (fault knob)")
		return
	}
	p := s.refresh[f.Get("refresh_token")]
	if p == nil {
		tokenError(w, http.StatusBadRequest, "invalid_grant", "Unknown refresh token.")
		return
	}
	if s.reuseFails {
		if p.used {
			tokenError(w, http.StatusBadRequest, "invalid_grant", "The refresh token has already been used.")
			return
		}
		p.used, p.dead = true, true
	}
	s.writePairLocked(w, s.newPairLocked())
}

func (s *Server) newPairLocked() *pair {
	p := &pair{access: randomHex(35), refresh: randomHex(35), expires: s.Clock.Now().Add(DefaultAccessTTL)}
	s.access[p.access] = p
	s.refresh[p.refresh] = p
	return p
}

func (s *Server) writePairLocked(w http.ResponseWriter, p *pair) {
	reply := map[string]any{}
	maps.Copy(reply, s.extra)
	reply["access_token"] = p.access
	reply["refresh_token"] = p.refresh
	reply["token_type"] = "bearer"
	reply["expires_in"] = int(DefaultAccessTTL / time.Second)
	reply["expires"] = p.expires.Unix()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(reply)
}

func tokenError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// AllowPublicClient lets PublicClientID sign in without a secret (with PKCE).
func (s *Server) AllowPublicClient(allow bool) {
	s.mu.Lock()
	s.public = allow
	s.mu.Unlock()
}
