package authtest

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func newServer(t *testing.T) *Server {
	t.Helper()
	s := NewServer()
	t.Cleanup(s.Close)
	return s
}

// authorize runs the authorize endpoint without following the redirect and returns its query.
func authorize(t *testing.T, s *Server, extra url.Values) url.Values {
	t.Helper()
	q := url.Values{"client_id": {ClientID}, "redirect_uri": {"http://127.0.0.1:1/callback"}, "state": {"st"}, "response_type": {"code"}}
	for k, v := range extra {
		q[k] = v
	}
	c := s.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Get(s.URL + "/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize status %d", resp.StatusCode)
	}
	loc, _ := url.Parse(resp.Header.Get("Location"))
	return loc.Query()
}

func token(t *testing.T, s *Server, form url.Values) (int, map[string]any) {
	t.Helper()
	form.Set("client_id", ClientID)
	form.Set("client_secret", ClientSecret)
	resp, err := s.Client().PostForm(s.URL+"/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

func TestCodeIsSingleUseAndChecksPKCE(t *testing.T) {
	s := newServer(t)
	verifier := strings.Repeat("v", 43)
	sum := sha256.Sum256([]byte(verifier))
	back := authorize(t, s, url.Values{"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}})
	if back.Get("state") != "st" || back.Get("code") == "" {
		t.Fatalf("redirect query %v", back)
	}
	ex := url.Values{"grant_type": {"authorization_code"}, "code": {back.Get("code")}, "redirect_uri": {"http://127.0.0.1:1/callback"}}
	bad := url.Values{"code_verifier": {"wrong"}}
	for k, v := range ex {
		bad[k] = v
	}
	if st, m := token(t, s, bad); st != 400 || m["error"] != "invalid_grant" {
		t.Fatalf("wrong verifier: %d %v", st, m)
	}
	// The failed attempt spent the code.
	ex.Set("code_verifier", verifier)
	if st, m := token(t, s, ex); st != 400 || m["error"] != "invalid_grant" {
		t.Fatalf("reused code: %d %v", st, m)
	}
	if n := s.CountExchanges(); n != 2 {
		t.Errorf("exchanges %d", n)
	}
}

func TestCodeExpiresOnTheClock(t *testing.T) {
	s := newServer(t)
	back := authorize(t, s, nil)
	s.Clock.Advance(DefaultCodeTTL)
	st, m := token(t, s, url.Values{"grant_type": {"authorization_code"}, "code": {back.Get("code")}})
	if st != 400 || m["error"] != "invalid_grant" {
		t.Fatalf("late code: %d %v", st, m)
	}
}

func TestRefreshRotatesAndKnobs(t *testing.T) {
	s := newServer(t)
	access, refresh := s.IssuePair()
	st, m := token(t, s, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}})
	if st != 200 || m["refresh_token"] == refresh || m["access_token"] == "" {
		t.Fatalf("refresh: %d %v", st, m)
	}
	if s.AccessValid(access) || !s.AccessValid(m["access_token"].(string)) {
		t.Error("the old access token must die, the new one live")
	}
	if st, m := token(t, s, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}); st != 400 || m["error"] != "invalid_grant" {
		t.Errorf("reused refresh: %d %v", st, m)
	}
	s.ReuseRefreshFails(false)
	_, r2 := s.IssuePair()
	for range 2 {
		if st, _ := token(t, s, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {r2}}); st != 200 {
			t.Errorf("reuse allowed: %d", st)
		}
	}
	s.FailRefresh(503, "")
	if st, m := token(t, s, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {r2}}); st != 503 || m["error"] != "server_error" {
		t.Errorf("FailRefresh: %d %v", st, m)
	}
	if n := s.CountRefreshes(); n != 5 {
		t.Errorf("refreshes %d; want 5", n)
	}
	s.Clock.Advance(DefaultAccessTTL)
	if s.AccessValid(m["access_token"].(string)) {
		t.Error("access token valid after its lifetime")
	}
}

func TestAuthorizeKnobsAndErrors(t *testing.T) {
	s := newServer(t)
	s.ForgeState(1)
	if got := authorize(t, s, nil).Get("state"); got == "st" {
		t.Error("ForgeState(1): state not forged")
	}
	if got := authorize(t, s, nil).Get("state"); got != "st" {
		t.Errorf("second redirect state %q", got)
	}
	s.DenyWith("access_denied", "no")
	if q := authorize(t, s, nil); q.Get("error") != "access_denied" || q.Get("error_description") != "no" || q.Has("code") {
		t.Errorf("DenyWith: %v", q)
	}
	s.DenyWith("", "")
	if q := authorize(t, s, url.Values{"code_challenge": {"x"}, "code_challenge_method": {"plain"}}); q.Get("error") != "invalid_request" {
		t.Errorf("plain PKCE: %v", q)
	}
	for _, bad := range []url.Values{{"client_id": {"other"}}, {"redirect_uri": {"https://evil.example/cb"}}} {
		q := url.Values{"client_id": {ClientID}, "redirect_uri": {"http://127.0.0.1:1/cb"}}
		for k, v := range bad {
			q[k] = v
		}
		resp, err := s.Client().Get(s.URL + "/authorize?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("%v: status %d; want an error page", bad, resp.StatusCode)
		}
	}
	s.SlowToken(time.Millisecond)
	if st, _ := token(t, s, url.Values{"grant_type": {"password"}}); st != 400 {
		t.Errorf("unsupported grant: %d", st)
	}
	if n := len(s.Requests()); n == 0 {
		t.Error("no requests recorded")
	}
}
