package auth

import (
	"context"
	"errors"
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/timebridge/timebridge/app/auth/authtest"
)

// browserSim stands in for the system browser: Open follows the URL with an HTTP client
// (redirects included) and records what it saw.
type browserSim struct {
	client *http.Client
	mu     sync.Mutex
	opened []string
	status []int
	bodies []string
	visits int // how many times Open follows the URL (default 1)
	wg     sync.WaitGroup
}

func newBrowser() *browserSim {
	return &browserSim{client: &http.Client{Timeout: 5 * time.Second}, visits: 1}
}

func (b *browserSim) get(u string) (int, string, error) {
	resp, err := b.client.Get(u)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	b.mu.Lock()
	b.status = append(b.status, resp.StatusCode)
	b.bodies = append(b.bodies, string(body))
	b.mu.Unlock()
	return resp.StatusCode, string(body), err
}

func (b *browserSim) Open(u string) error {
	b.wg.Add(1) // before the callback, so before GetToken returns
	defer b.wg.Done()
	b.mu.Lock()
	b.opened = append(b.opened, u)
	b.mu.Unlock()
	for range b.visits {
		if _, _, err := b.get(u); err != nil {
			return err
		}
	}
	return nil
}

func (b *browserSim) statuses() []int {
	b.wg.Wait()
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]int(nil), b.status...)
}

// lastBody waits for Open to finish reading and returns the last page it got.
func (b *browserSim) lastBody() string {
	b.wg.Wait()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.bodies) == 0 {
		return ""
	}
	return b.bodies[len(b.bodies)-1]
}

func newStub(t *testing.T) *authtest.Server {
	t.Helper()
	srv := authtest.NewServer()
	t.Cleanup(srv.Close)
	return srv
}

func testConfig(srv *authtest.Server, b *browserSim) Config {
	return Config{OAuth2: srv.OAuth2Config(), PKCE: true, Open: b.Open, Timeout: 5 * time.Second}
}

func requestsTo(srv *authtest.Server, path string) []authtest.Request {
	var out []authtest.Request
	for _, r := range srv.Requests() {
		if r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

func TestGetTokenHappyPathWithPKCE(t *testing.T) {
	srv := newStub(t)
	srv.SetExtra(map[string]any{"member_id": "a223c6b3710f85df22e9377d6c4f7553", "client_endpoint": "https://portal.example/rest/"})
	b := newBrowser()
	cfg := testConfig(srv, b)
	var ready []string
	cfg.Ready = func(u string) { ready = append(ready, u) }

	tok, err := GetToken(t.Context(), cfg)
	if err != nil {
		t.Fatalf("GetToken: %v", err)
	}
	if !srv.AccessValid(tok.AccessToken) || tok.RefreshToken == "" {
		t.Fatalf("token not issued by the stub: %+v", tok)
	}
	if got := tok.Extra("member_id"); got != "a223c6b3710f85df22e9377d6c4f7553" {
		t.Errorf("Extra(member_id) = %v", got)
	}
	if body := b.lastBody(); !strings.Contains(body, "You can close this tab and return to timebridge") {
		t.Errorf("callback page = %q", body)
	}
	if len(ready) != 1 || len(b.opened) != 1 || ready[0] != b.opened[0] {
		t.Errorf("Ready %q, opened %q: want the same one URL", ready, b.opened)
	}

	auth := requestsTo(srv, "/authorize")
	tokReq := requestsTo(srv, "/token")
	if len(auth) != 1 || len(tokReq) != 1 {
		t.Fatalf("authorize %d, token %d requests; want 1 each", len(auth), len(tokReq))
	}
	q, f := auth[0].Query, tokReq[0].Form
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || f.Get("code_verifier") == "" {
		t.Errorf("PKCE not sent: authorize %v, token form has verifier %v", q, f.Has("code_verifier"))
	}
	// The redirect URI is the bound port on 127.0.0.1 with /callback, the same at both endpoints.
	ru, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || ru.Scheme != "http" || ru.Hostname() != "127.0.0.1" || ru.Port() == "0" || ru.Path != "/callback" {
		t.Errorf("redirect_uri = %q", q.Get("redirect_uri"))
	}
	if f.Get("redirect_uri") != q.Get("redirect_uri") {
		t.Errorf("token redirect_uri %q != authorize %q", f.Get("redirect_uri"), q.Get("redirect_uri"))
	}
	// The listener is closed once the flow returns.
	if c, err := net.DialTimeout("tcp", ru.Host, time.Second); err == nil {
		c.Close()
		t.Errorf("listener %s still accepts connections", ru.Host)
	}
}

func TestGetTokenServerChecksPKCE(t *testing.T) {
	srv := newStub(t)
	b := newBrowser()
	cfg := testConfig(srv, b)
	cfg.Exchange = func(ctx context.Context, conf oauth2.Config, code, verifier string) (*oauth2.Token, error) {
		if verifier == "" {
			t.Error("Exchange got no verifier with PKCE on")
		}
		return conf.Exchange(ctx, code, oauth2.VerifierOption(oauth2.GenerateVerifier())) // the wrong one
	}
	_, err := GetToken(t.Context(), cfg)
	if err == nil || !strings.HasPrefix(err.Error(), "exchange code: ") || !strings.Contains(err.Error(), "invalid_grant") {
		t.Fatalf("err = %v; want exchange code: … invalid_grant", err)
	}
}

func TestGetTokenWrongStateThenRight(t *testing.T) {
	srv := newStub(t)
	srv.ForgeState(1)
	b := newBrowser()
	b.visits = 2 // the user tries the link again
	tok, err := GetToken(t.Context(), testConfig(srv, b))
	if err != nil {
		t.Fatalf("GetToken: %v", err)
	}
	if !srv.AccessValid(tok.AccessToken) {
		t.Error("token not valid at the stub")
	}
	if got := b.statuses(); len(got) != 2 || got[0] != http.StatusBadRequest || got[1] != http.StatusOK {
		t.Errorf("callback statuses = %v; want [400 200]", got)
	}
	if n := srv.CountExchanges(); n != 1 {
		t.Errorf("exchanges = %d; want 1 (the forged callback must not be exchanged)", n)
	}
}

func TestGetTokenDenied(t *testing.T) {
	srv := newStub(t)
	srv.DenyWith("access_denied", "The user denied access.")
	_, err := GetToken(t.Context(), testConfig(srv, newBrowser()))
	if !errors.Is(err, ErrDenied) {
		t.Fatalf("err = %v; want ErrDenied", err)
	}
	var ce *CallbackError
	if !errors.As(err, &ce) || ce.Code != "access_denied" || ce.Description != "The user denied access." {
		t.Errorf("CallbackError = %+v", ce)
	}
	if !strings.HasPrefix(err.Error(), "authorize: ") {
		t.Errorf("err = %q; want the authorize stage", err)
	}
	if n := srv.CountExchanges(); n != 0 {
		t.Errorf("exchanges = %d; want 0", n)
	}
}

var allowLink = regexp.MustCompile(`id="allow-link" href="([^"]+)"`)

func TestGetTokenConsentPage(t *testing.T) {
	for _, tc := range []struct {
		name, decision string
		wantErr        error
	}{
		{"allow", "allow", nil},
		{"deny", "deny", ErrDenied},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newStub(t)
			srv.ConsentPage(true)
			b := newBrowser()
			cfg := testConfig(srv, b)
			cfg.Open = func(u string) error { // a user clicking on the consent page
				_, page, err := b.get(u)
				if err != nil {
					return err
				}
				m := allowLink.FindStringSubmatch(page)
				if m == nil {
					return errors.New("no allow link on the consent page")
				}
				link := strings.Replace(html.UnescapeString(m[1]), "decision=allow", "decision="+tc.decision, 1)
				_, _, err = b.get(srv.URL + link)
				return err
			}
			cfg.Ready = func(string) {} // so an Open error does not end the flow early
			tok, err := GetToken(t.Context(), cfg)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v; want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil || !srv.AccessValid(tok.AccessToken) {
				t.Fatalf("GetToken = %v, %v", tok, err)
			}
		})
	}
}

func TestGetTokenTimeoutAndCancel(t *testing.T) {
	srv := newStub(t)
	t.Run("abandoned tab", func(t *testing.T) {
		cfg := testConfig(srv, newBrowser())
		cfg.Open = func(string) error { return nil } // the user never finishes
		cfg.Timeout = 20 * time.Millisecond
		_, err := GetToken(t.Context(), cfg)
		if !errors.Is(err, ErrTimeout) {
			t.Fatalf("err = %v; want ErrTimeout", err)
		}
		want := "authorize: the sign-in in the browser was not finished within 20ms — click Retry"
		if err.Error() != want {
			t.Errorf("err = %q; want %q", err, want)
		}
	})
	t.Run("context cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cfg := testConfig(srv, newBrowser())
		cfg.Open = func(string) error { cancel(); return nil }
		_, err := GetToken(ctx, cfg)
		if !errors.Is(err, context.Canceled) || errors.Is(err, ErrTimeout) {
			t.Fatalf("err = %v; want context.Canceled, not ErrTimeout", err)
		}
	})
	t.Run("browser does not open and no Ready", func(t *testing.T) {
		cfg := testConfig(srv, newBrowser())
		cfg.Open = func(string) error { return errors.New("no browser") }
		_, err := GetToken(t.Context(), cfg)
		if err == nil || !strings.Contains(err.Error(), "authorize: open the browser: no browser") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestShortDuration(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{DefaultTimeout, "5m"}, {90 * time.Second, "1m30s"}, {time.Hour, "1h"}, {20 * time.Millisecond, "20ms"}, {30 * time.Second, "30s"},
	} {
		if got := shortDuration(tc.d); got != tc.want {
			t.Errorf("shortDuration(%v) = %q; want %q", tc.d, got, tc.want)
		}
	}
}

func TestBindAddress(t *testing.T) {
	srv := newStub(t)
	t.Run("busy fixed port", func(t *testing.T) {
		busy, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer busy.Close()
		_, port, _ := net.SplitHostPort(busy.Addr().String())
		b := newBrowser()
		cfg := testConfig(srv, b)
		cfg.BindAddress = busy.Addr().String()
		cfg.PortSetting = "bitrix24.redirect_port"
		_, err = GetToken(t.Context(), cfg)
		if !errors.Is(err, ErrPortInUse) {
			t.Fatalf("err = %v; want ErrPortInUse", err)
		}
		for _, want := range []string{"authorize: ", port, "bitrix24.redirect_port"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("err %q does not mention %q", err, want)
			}
		}
		if len(b.opened) != 0 {
			t.Error("the browser was opened although the listener failed")
		}
	})
	t.Run("fixed free port is used as is", func(t *testing.T) {
		l, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		cfg := testConfig(srv, newBrowser())
		cfg.BindAddress = addr
		cfg.CallbackPath = "oauth"
		var got string
		cfg.Ready = func(u string) {
			pu, _ := url.Parse(u)
			got = pu.Query().Get("redirect_uri")
		}
		if _, err := GetToken(t.Context(), cfg); err != nil {
			t.Fatalf("GetToken: %v", err)
		}
		if want := "http://" + addr + "/oauth"; got != want {
			t.Errorf("redirect_uri = %q; want %q", got, want)
		}
	})
	for _, addr := range []string{"0.0.0.0:0", "localhost:0", "[::1]:0", "nonsense"} {
		t.Run("rejects "+addr, func(t *testing.T) {
			cfg := testConfig(srv, newBrowser())
			cfg.BindAddress = addr
			if _, err := GetToken(t.Context(), cfg); err == nil || !strings.HasPrefix(err.Error(), "authorize: bind address") {
				t.Fatalf("err = %v; want a bind address error", err)
			}
		})
	}
}

func TestStateIsRandomAndLong(t *testing.T) {
	srv := newStub(t)
	seen := map[string]bool{}
	base32 := regexp.MustCompile(`^[A-Z2-7]+$`)
	for range 3 {
		cfg := testConfig(srv, newBrowser())
		var state string
		cfg.Ready = func(u string) {
			pu, _ := url.Parse(u)
			state = pu.Query().Get("state")
		}
		if _, err := GetToken(t.Context(), cfg); err != nil {
			t.Fatalf("GetToken: %v", err)
		}
		if bits := len(state) * 5; bits < 128 || !base32.MatchString(state) {
			t.Errorf("state %q: %d bits of base32; want ≥ 128", state, bits)
		}
		if seen[state] {
			t.Errorf("state %q repeated", state)
		}
		seen[state] = true
	}
}

func TestGetTokenExpiredCode(t *testing.T) {
	srv := newStub(t)
	srv.CodeTTL(0) // every code is already too old when it is exchanged
	_, err := GetToken(t.Context(), testConfig(srv, newBrowser()))
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" || !strings.HasPrefix(err.Error(), "exchange code: ") {
		t.Fatalf("err = %v; want exchange code: invalid_grant", err)
	}
}

func TestGetTokenQueryExchange(t *testing.T) {
	srv := newStub(t)
	srv.SetExtra(map[string]any{"scope": nil})
	cfg := testConfig(srv, newBrowser())
	cfg.PKCE = false // Time Doctor Classic
	cfg.Exchange = func(ctx context.Context, conf oauth2.Config, code, verifier string) (*oauth2.Token, error) {
		if verifier != "" {
			t.Errorf("verifier %q without PKCE", verifier)
		}
		return QueryToken(ctx, nil, conf, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {conf.RedirectURL}})
	}
	tok, err := GetToken(t.Context(), cfg)
	if err != nil {
		t.Fatalf("GetToken: %v", err)
	}
	if !srv.AccessValid(tok.AccessToken) || tok.Expiry.IsZero() {
		t.Errorf("token = %+v", tok)
	}
	reqs := requestsTo(srv, "/token")
	if len(reqs) != 1 || reqs[0].Method != http.MethodGet || reqs[0].Query.Get("redirect_uri") == "" ||
		reqs[0].Query.Get("client_secret") != authtest.ClientSecret {
		t.Errorf("token request = %+v; want one GET with the parameters in the query", reqs)
	}
	if q := requestsTo(srv, "/authorize")[0].Query; q.Has("code_challenge") {
		t.Errorf("code_challenge sent without PKCE: %v", q)
	}
}

func TestQueryTokenErrorsHideTheSecret(t *testing.T) {
	srv := newStub(t)
	conf := srv.OAuth2Config()
	// Refused: an *oauth2.RetrieveError, as from oauth2.Config.
	_, err := QueryToken(t.Context(), nil, conf, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"nope"}})
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" || !rejected(err) {
		t.Fatalf("err = %v; want invalid_grant", err)
	}
	// Unreachable: the error names the host, not the query with the secret.
	l, _ := net.Listen("tcp4", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	conf.Endpoint.TokenURL = "http://" + addr + "/token"
	_, err = QueryToken(t.Context(), nil, conf, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"rt-secret"}})
	if err == nil || strings.Contains(err.Error(), authtest.ClientSecret) || strings.Contains(err.Error(), "rt-secret") {
		t.Fatalf("err = %v; want an error without secrets", err)
	}
}
