package bitrix24

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/timebridge/timebridge/sync/bitrix24/bitrix24test"
	"github.com/timebridge/timebridge/sync/connector"
)

type env struct {
	srv   *bitrix24test.Server
	me    int
	other int
	admin int
}

func newEnv(t *testing.T, opts bitrix24test.Options) *env {
	t.Helper()
	srv := bitrix24test.New(opts)
	t.Cleanup(srv.Close)
	e := &env{srv: srv}
	e.admin = srv.AddUser(bitrix24test.User{Name: "Ada", Email: "ada@example.com", Admin: true})
	e.me = srv.AddUser(bitrix24test.User{Name: "Max", LastName: "Mustermann", Email: "max@example.com", TimeZone: "Europe/Berlin"})
	e.other = srv.AddUser(bitrix24test.User{Name: "Olga", Email: "olga@example.com"})
	return e
}

func (e *env) config(user int) Config {
	p := e.srv.IssueToken(user)
	return Config{BaseURL: e.srv.URL + "/rest/",
		OAuth:      &OAuthConfig{ClientID: e.srv.ClientID(), ClientSecret: e.srv.ClientSecret(), TokenURL: e.srv.AuthURL + "/oauth/token/"},
		Token:      Token{AccessToken: p.Access, RefreshToken: p.Refresh, Expiry: p.Expires, ClientEndpoint: e.srv.URL + "/rest/"},
		HTTPClient: e.srv.Client(), Rate: -1, Now: e.srv.Clock.Now,
		Sleep: func(ctx context.Context, d time.Duration) error { e.srv.Clock.Advance(d); return ctx.Err() }}
}

func (e *env) client(t *testing.T, user int, mut ...func(*Config)) *Client {
	t.Helper()
	cfg := e.config(user)
	for _, m := range mut {
		m(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func sid(i int) string { return fmt.Sprint(i) }

func TestClassifyEveryErrorRow(t *testing.T) {
	for _, tc := range []struct {
		status     int
		code, desc string
		want       error
	}{
		{400, "ERROR_CORE", "Task title is not specified<br>", connector.ErrInvalid},
		{400, "ERROR_ARGUMENT", "", connector.ErrInvalid},
		{400, "0", "Invalid sorting key (internal error)", connector.ErrInvalid},
		{400, "0", "Action on the task is not allowed (internal error)", connector.ErrForbidden},
		{400, "100", "Invalid select data", connector.ErrInvalid},
		{400, "1048582", "No access to delete the task", connector.ErrForbidden},
		{400, "INVALID_REQUEST", "Https required", connector.ErrInvalid},
		{400, "ERROR_BATCH_LENGTH_EXCEEDED", "Max batch length exceeded", connector.ErrInvalid},
		{405, "ERROR_BATCH_METHOD_NOT_ALLOWED", "", connector.ErrInvalid},
		{401, "expired_token", "The access token provided has expired", connector.ErrUnauthorized},
		{401, "invalid_token", "", connector.ErrUnauthorized},
		{401, "NO_AUTH_FOUND", "Wrong authorization data", connector.ErrUnauthorized},
		{401, "METHOD_CONFIRM_WAITING", "Waiting for confirmation", connector.ErrForbidden},
		{403, "insufficient_scope", "", connector.ErrForbidden},
		{403, "user_access_error", "The user does not have access to the application", connector.ErrForbidden},
		{403, "ACCESS_DENIED", "REST API is available only on commercial plans", connector.ErrForbidden},
		{403, "INVALID_CREDENTIALS", "Invalid request credentials", connector.ErrForbidden},
		{403, "PORTAL_DELETED", "", connector.ErrForbidden},
		{500, "PORTAL_DELETED", "", connector.ErrForbidden},
		{404, "ERROR_METHOD_NOT_FOUND", "Method not found!", connector.ErrUnsupported},
		{429, "OPERATION_TIME_LIMIT", "Method is blocked due to operation time limit.", connector.ErrRateLimited},
		{500, "INTERNAL_SERVER_ERROR", "", connector.ErrTransient},
		{500, "ERROR_UNEXPECTED_ANSWER", "", connector.ErrTransient},
		{500, "ERROR_CORE", "SQL query error!", connector.ErrTransient},
		{503, "QUERY_LIMIT_EXCEEDED", "Too many requests", connector.ErrRateLimited},
		{503, "OVERLOAD_LIMIT", "REST API is blocked due to overload", connector.ErrRateLimited},
		{200, "WRONG_ENCODING", "Wrong request encoding", connector.ErrTransient},
		{403, "allowed_only_intranet_user", "", connector.ErrForbidden},
		{400, "INVALID_ARG_VALUE", "", connector.ErrInvalid},
		{404, "NOT_FOUND", "", connector.ErrNotFound},
		{404, "ERROR_MANIFEST_IS_NOT_AVAILABLE", "", connector.ErrUnsupported},
		{200, "ERROR_ENTITY_NOT_FOUND", "", connector.ErrNotFound},
		{400, "ERROR_CORE", "TASKS_ERROR_EXCEPTION_#4; ; 4/TE/ACTION_NOT_ALLOWED<br>", connector.ErrForbidden},
		{400, "ERROR_CORE", "TASKS_ERROR_EXCEPTION_#1; Task not found; 1/TE/TASK_NOT_FOUND_OR_NOT_ACCESSIBLE<br>", connector.ErrNotFound},
		{400, "ERROR_CORE", "TASKS_ERROR_EXCEPTION_#256; Param #0; 256/TE/WRONG_ARGUMENTS<br>", connector.ErrInvalid},
		{400, "error_core", "TASKS_ERROR_EXCEPTION_#512; x; 512/TE/ITEM_NOT_FOUND_OR_NOT_ACCESSIBLE<br>", connector.ErrNotFound},
		{418, "SOMETHING_NEW", "", connector.ErrInvalid},
		{502, "SOMETHING_NEW", "", connector.ErrTransient},
	} {
		if got := Classify(tc.status, tc.code, tc.desc); got != tc.want {
			t.Errorf("%d %s %q: %v, want %v", tc.status, tc.code, tc.desc, got, tc.want)
		}
	}
}

func TestFlexTypes(t *testing.T) {
	var v struct {
		A, B, C, D FlexInt
		E, F, G    FlexBool
		H, I       FlexMap[FlexString]
		J, K       FlexString
		L          FlexObj[wireGroup]
		M          FlexTime
	}
	in := `{"A":"123","B":45,"C":"","D":null,"E":"Y","F":true,"G":"N","H":[],"I":{"x":"1"},"J":7,"K":null,"L":[],"M":"2025-10-24T19:00:00+02:00"}`
	if err := json.Unmarshal([]byte(in), &v); err != nil {
		t.Fatal(err)
	}
	if v.A != 123 || v.B != 45 || v.C != 0 || v.D != 0 || !bool(v.E) || !bool(v.F) || bool(v.G) || len(v.H) != 0 || v.I["x"] != "1" ||
		v.J != "7" || v.K != "" || v.L.Set || !v.M.Equal(time.Date(2025, 10, 24, 17, 0, 0, 0, time.UTC)) {
		t.Fatalf("%+v", v)
	}
}

func TestMe(t *testing.T) {
	e := newEnv(t, bitrix24test.Options{})
	me, err := e.client(t, e.me).Me(context.Background())
	if err != nil || me.ID != sid(e.me) || me.Email != "max@example.com" || me.TimeZone != "Europe/Berlin" || me.Name != "Max Mustermann" {
		t.Fatalf("%+v %v", me, err)
	}
	// C18: user_brief only.
	b := newEnv(t, bitrix24test.Options{Scopes: []string{"task", "user_brief"}})
	_, err = b.client(t, b.me).Me(context.Background())
	if !errors.Is(err, connector.ErrForbidden) || !strings.Contains(err.Error(), "user_basic") {
		t.Fatalf("user_brief: %v", err)
	}
	// C7: no task scope: typed, not retried, cause named.
	n := newEnv(t, bitrix24test.Options{Scopes: []string{"user_basic"}})
	_, err = n.client(t, n.me).ChangedTasks(context.Background(), sid(n.me), time.Time{})
	if !errors.Is(err, connector.ErrForbidden) || !strings.Contains(err.Error(), "insufficient_scope") || n.srv.CallCount("") != 1 {
		t.Fatalf("no task scope: %v (%d calls)", err, n.srv.CallCount(""))
	}
}

// C5: twenty concurrent calls hit an expired token: one refresh, pair stored first.
func TestConcurrentExpiryRefreshesOnce(t *testing.T) {
	for _, inflight := range []int{1, 20} {
		e := newEnv(t, bitrix24test.Options{})
		var stored atomic.Int32
		var mu sync.Mutex
		var storedTok Token
		c := e.client(t, e.me, func(cfg *Config) {
			cfg.MaxInFlight = inflight
			cfg.OnToken = func(ctx context.Context, tok Token) error {
				stored.Add(1)
				mu.Lock()
				storedTok = tok
				mu.Unlock()
				// The stored pair must be the one the retry will use: nothing was sent with it yet.
				if n := countAuth(e.srv, tok.AccessToken); n != 0 {
					t.Errorf("new token used %d times before it was stored", n)
				}
				return nil
			}
		})
		e.srv.Clock.Advance(2 * time.Hour)
		var wg sync.WaitGroup
		errs := make(chan error, 20)
		for i := 0; i < 20; i++ {
			wg.Go(func() {
				_, err := c.Me(context.Background())
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		refreshes := 0
		for _, call := range e.srv.Calls() {
			if strings.HasPrefix(call.Path, "/oauth/token") {
				refreshes++
			}
		}
		if refreshes != 1 || stored.Load() != 1 || storedTok.AccessToken != c.Token().AccessToken {
			t.Fatalf("inflight %d: %d refreshes, %d stored", inflight, refreshes, stored.Load())
		}
	}
}

func countAuth(srv *bitrix24test.Server, tok string) int {
	n := 0
	for _, c := range srv.Calls() {
		if strings.Contains(c.Body, tok) {
			n++
		}
	}
	return n
}

// C6: a dead refresh token means sign-in, without loops.
func TestRefreshFailureNeedsSignIn(t *testing.T) {
	for _, status := range []int{400, 401} {
		e := newEnv(t, bitrix24test.Options{OAuthErrorStatus: status})
		c := e.client(t, e.me)
		e.srv.Revoke()
		_, err := c.Me(context.Background())
		if !errors.Is(err, connector.ErrUnauthorized) {
			t.Fatalf("after revoke: %v", err)
		}
		if n := e.srv.CallCount(""); n != 1 {
			t.Fatalf("%d REST calls", n)
		}
		if strings.Contains(err.Error(), c.Token().RefreshToken) || strings.Contains(err.Error(), c.Token().AccessToken) {
			t.Fatal("token in error")
		}
	}
	// A refreshed token refused again: stop.
	e := newEnv(t, bitrix24test.Options{AccessTTL: time.Nanosecond})
	c := e.client(t, e.me, func(cfg *Config) {
		// Every new pair is already expired when it is used.
		cfg.OnToken = func(context.Context, Token) error { e.srv.Clock.Advance(time.Second); return nil }
	})
	e.srv.Clock.Advance(time.Second)
	if _, err := c.Me(context.Background()); !errors.Is(err, connector.ErrUnauthorized) || !strings.Contains(err.Error(), "after a refresh") {
		t.Fatalf("second 401: %v", err)
	}
}

// C11 against the emulator's knobs.
func TestErrorClassesFromEmulator(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault func(f *bitrix24test.Faults)
		want  error
	}{
		{"no plan", func(f *bitrix24test.Faults) { f.NoRESTPlan = true }, connector.ErrForbidden},
		{"user access", func(f *bitrix24test.Faults) { f.UserAccessError = true }, connector.ErrForbidden},
		{"payment", func(f *bitrix24test.Faults) { f.PaymentRequired = true }, connector.ErrForbidden},
		{"confirm", func(f *bitrix24test.Faults) { f.ConfirmWaiting = "user.current" }, connector.ErrForbidden},
		{"method off", func(f *bitrix24test.Faults) { f.MethodOff = "user.current" }, connector.ErrUnsupported},
		{"overload", func(f *bitrix24test.Faults) { f.Overload = true }, connector.ErrRateLimited},
		{"operating", func(f *bitrix24test.Faults) { f.OperationLimit = "user.current" }, connector.ErrRateLimited},
		{"500 storm", func(f *bitrix24test.Faults) { f.Fail500 = 10 }, connector.ErrTransient},
		{"wrong encoding", func(f *bitrix24test.Faults) { f.WrongEncoding = 10 }, connector.ErrTransient},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, bitrix24test.Options{})
			c := e.client(t, e.me)
			e.srv.SetFaults(tc.fault)
			_, err := c.Me(context.Background())
			if !errors.Is(err, tc.want) {
				t.Fatalf("%v, want %v", err, tc.want)
			}
			tries := map[bool]int{true: 4, false: 1}[tc.want == connector.ErrTransient]
			if n := e.srv.CallCount("user.current"); n != tries {
				t.Fatalf("%d tries, want %d", n, tries)
			}
			var ae *connector.APIError
			if !errors.As(err, &ae) || ae.Code == "" || !strings.Contains(err.Error(), ae.Code) {
				t.Fatalf("cause not named: %v", err)
			}
		})
	}
}

// C12: 200 reads into a 50-burst bucket: every one succeeds.
func TestRateLimitStorm(t *testing.T) {
	e := newEnv(t, bitrix24test.Options{})
	c := e.client(t, e.me)
	var wg sync.WaitGroup
	var failed atomic.Int32
	for i := 0; i < 200; i++ {
		wg.Go(func() {
			if _, err := c.ServerTime(context.Background()); err != nil {
				failed.Add(1)
				t.Log(err)
			}
		})
	}
	wg.Wait()
	limited := 0
	for _, call := range e.srv.Calls() {
		if call.Status == 503 {
			limited++
		}
	}
	if failed.Load() != 0 || limited == 0 || e.srv.MaxInFlight() != 1 {
		t.Fatalf("%d failed, %d limited replies, %d in flight", failed.Load(), limited, e.srv.MaxInFlight())
	}
}

// L2: only the blocked method waits.
func TestOperatingLimitPausesOneMethod(t *testing.T) {
	e := newEnv(t, bitrix24test.Options{})
	c := e.client(t, e.me)
	ctx := context.Background()
	if _, err := c.ServerTime(ctx); err != nil { // learn operating_reset_at
		t.Fatal(err)
	}
	e.srv.SetFaults(func(f *bitrix24test.Faults) { f.OperationLimit = "user.current" })
	if _, err := c.Me(ctx); !errors.Is(err, connector.ErrRateLimited) {
		t.Fatal(err)
	}
	e.srv.SetFaults(func(f *bitrix24test.Faults) { f.OperationLimit = "" })
	before := e.srv.CallCount("user.current")
	if _, err := c.Me(ctx); !errors.Is(err, connector.ErrRateLimited) || e.srv.CallCount("user.current") != before {
		t.Fatalf("blocked method was sent: %v", err)
	}
	if _, err := c.ServerTime(ctx); err != nil {
		t.Fatalf("other method: %v", err)
	}
	e.srv.Clock.Advance(11 * time.Minute)
	if _, err := c.Me(ctx); err != nil {
		t.Fatalf("after reset: %v", err)
	}
}

// C13: broken replies on reads: at most 3 retries, error names Bitrix24 and an excerpt.
func TestMalformedRepliesOnReads(t *testing.T) {
	e := newEnv(t, bitrix24test.Options{})
	c := e.client(t, e.me)
	e.srv.SetFaults(func(f *bitrix24test.Faults) { f.HTML502 = 10 })
	_, err := c.Me(context.Background())
	if !errors.Is(err, connector.ErrTransient) || !strings.Contains(err.Error(), "bitrix24") || !strings.Contains(err.Error(), "502 Bad Gateway") {
		t.Fatalf("%v", err)
	}
	if n := e.srv.CallCount("user.current"); n != 4 {
		t.Fatalf("%d tries, want 4", n)
	}
	e.srv.SetFaults(func(f *bitrix24test.Faults) { f.HTML502 = 0; f.MalformedJSON = 2 })
	if _, err := c.Me(context.Background()); err != nil {
		t.Fatalf("after two truncated replies: %v", err)
	}
}

// C10: a domain move is followed once with the body intact, and the host kept.
func TestDomainMove(t *testing.T) {
	e := newEnv(t, bitrix24test.Options{})
	old := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, e.srv.URL+r.URL.RequestURI(), http.StatusFound)
	}))
	defer old.Close()
	var moved string
	c := e.client(t, e.me, func(cfg *Config) {
		cfg.BaseURL = old.URL + "/rest/"
		cfg.OnMoved = func(b string) { moved = b }
	})
	if _, err := c.Me(context.Background()); err != nil {
		t.Fatal(err)
	}
	if moved != e.srv.URL+"/rest/" || !strings.HasPrefix(c.BaseURL(), e.srv.URL) || c.Portal() != hostOf(old.URL) {
		t.Fatalf("portal %s base %s moved %s", c.Portal(), c.BaseURL(), moved)
	}
	// The body survived the move: the POST arrived with auth.
	calls := e.srv.Calls()
	if len(calls) != 1 || !strings.Contains(calls[0].Body, `"auth":"`) {
		t.Fatalf("%+v", calls)
	}
}

func TestWebhook(t *testing.T) {
	e := newEnv(t, bitrix24test.Options{})
	hook := e.srv.AddWebhook(e.me)
	_, _, code, _ := ParseWebhook(hook)
	c, err := New(Config{Webhook: hook + "user.current.json", HTTPClient: e.srv.Client(), Rate: -1, Now: e.srv.Clock.Now,
		Sleep: func(ctx context.Context, d time.Duration) error { e.srv.Clock.Advance(d); return nil }})
	if err != nil {
		t.Fatal(err)
	}
	me, err := c.Me(context.Background())
	if err != nil || me.ID != sid(e.me) || c.Portal() != e.srv.Host() {
		t.Fatalf("%+v %v", me, err)
	}
	for _, call := range e.srv.Calls() {
		if strings.Contains(call.Body, "auth") {
			t.Fatalf("auth sent with a webhook: %s", call.Body)
		}
	}
	e.srv.SetFaults(func(f *bitrix24test.Faults) { f.WebhookExpired = true })
	_, err = c.Me(context.Background())
	if !errors.Is(err, connector.ErrUnauthorized) || strings.Contains(err.Error(), code) {
		t.Fatalf("expired webhook: %v", err)
	}
	e.srv.Close()
	_, err = c.Me(context.Background())
	if err == nil || strings.Contains(err.Error(), code) || strings.Contains(c.BaseURL(), code) {
		t.Fatalf("secret leaked: %v", err)
	}
	// A webhook of another user under this user's id.
	e2 := newEnv(t, bitrix24test.Options{})
	h2 := e2.srv.AddWebhook(e2.other)
	_, _, code2, _ := ParseWebhook(h2)
	c2, _ := New(Config{Webhook: e2.srv.URL + "/rest/" + sid(e2.me) + "/" + code2 + "/", HTTPClient: e2.srv.Client(), Rate: -1})
	if _, err := c2.Me(context.Background()); !errors.Is(err, connector.ErrUnauthorized) {
		t.Fatalf("foreign webhook: %v", err)
	}
}

// C1, C4, C8: authorize URL, exchange, late code.
func TestOAuthFlow(t *testing.T) {
	for _, opts := range []bitrix24test.Options{{SkipConsent: true}, {SkipConsent: true, TokenDomain: "portal", OmitExpires: true}} {
		e := newEnv(t, opts)
		o := OAuthConfig{ClientID: e.srv.ClientID(), ClientSecret: e.srv.ClientSecret(), TokenURL: e.srv.AuthURL + "/oauth/token/",
			RedirectURI: "http://127.0.0.1:7000/callback"}
		u, verifier := AuthorizeURL(e.srv.URL, o, "state-123")
		if !strings.Contains(u, "client_id=") || !strings.Contains(u, "state=state-123") || !strings.Contains(u, "redirect_uri=") ||
			!strings.Contains(u, "code_challenge_method=S256") || verifier == "" {
			t.Fatalf("authorize URL %s", u)
		}
		code := follow(t, e.srv, u)
		tok, err := Exchange(context.Background(), e.srv.Client(), o, code, verifier, e.srv.Clock.Now)
		if err != nil {
			t.Fatal(err)
		}
		if tok.MemberID != e.srv.MemberID() || hostOf(tok.ClientEndpoint) != e.srv.Host() || tok.UserID != "1" ||
			!tok.Expiry.Equal(e.srv.Clock.Now().Add(time.Hour).Truncate(time.Second)) {
			t.Fatalf("%+v", tok)
		}
		if strings.Contains(fmt.Sprint(tok), tok.AccessToken) {
			t.Fatal("token printed")
		}
		// Late code.
		code = follow(t, e.srv, u)
		e.srv.Clock.Advance(31 * time.Second)
		if _, err := Exchange(context.Background(), e.srv.Client(), o, code, verifier, e.srv.Clock.Now); !errors.Is(err, connector.ErrUnauthorized) ||
			!strings.Contains(err.Error(), "authorization expired") {
			t.Fatalf("late code: %v", err)
		}
	}
	_, v := AuthorizeURL("https://x", OAuthConfig{DisablePKCE: true}, "s")
	if v != "" {
		t.Fatal("PKCE not disabled")
	}
}

func follow(t *testing.T, srv *bitrix24test.Server, u string) string {
	t.Helper()
	resp, err := srv.Client().Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if err != nil {
		t.Fatalf("no redirect: %d", resp.StatusCode)
	}
	return loc.Query().Get("code")
}

func TestNewChecksURLs(t *testing.T) {
	for _, tc := range []struct {
		cfg Config
		ok  bool
	}{
		{Config{BaseURL: "https://acme.bitrix24.com/rest/"}, true},
		{Config{BaseURL: "https://acme.bitrix24.com"}, true},
		{Config{BaseURL: "http://127.0.0.1:8080/rest/"}, true},
		{Config{BaseURL: "http://localhost:8080"}, true},
		{Config{BaseURL: "http://acme.bitrix24.com/rest/"}, false},
		{Config{BaseURL: "https://acme.bitrix24.com/rest/", OAuth: &OAuthConfig{TokenURL: "http://oauth.example.com/oauth/token/"}}, false},
		{Config{Webhook: "https://acme.bitrix24.com/rest/1/abc123/"}, true},
		{Config{Webhook: "https://acme.bitrix24.com/rest/abc/"}, false},
		{Config{Token: Token{ClientEndpoint: "https://acme.bitrix24.com/rest/"}}, true},
		{Config{}, false},
	} {
		c, err := New(tc.cfg)
		if (err == nil) != tc.ok {
			t.Errorf("%+v: %v", tc.cfg, err)
		}
		if err == nil && c.Portal() != "acme.bitrix24.com" && !strings.Contains(tc.cfg.BaseURL, "127.0.0.1") && !strings.Contains(tc.cfg.BaseURL, "localhost") {
			t.Errorf("portal %q", c.Portal())
		}
		if err != nil && strings.Contains(err.Error(), "abc123") {
			t.Errorf("secret in error: %v", err)
		}
	}
}
