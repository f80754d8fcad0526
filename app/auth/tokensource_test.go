package auth

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/timebridge/timebridge/app/auth/authtest"
)

// keychain is a SaveFunc that records what was saved; fail makes the next saves fail.
type keychain struct {
	mu    sync.Mutex
	saved map[string]bool // access tokens saved
	saves int
	fail  error
}

func (k *keychain) save(_ context.Context, tok *oauth2.Token) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.saves++
	if k.fail != nil {
		return k.fail
	}
	if k.saved == nil {
		k.saved = map[string]bool{}
	}
	k.saved[tok.AccessToken] = true
	return nil
}

func (k *keychain) has(access string) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.saved[access]
}

func (k *keychain) count() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.saves
}

func (k *keychain) setFail(err error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.fail = err
}

// expiredPair mints a pair at the stub whose access token the client believes has expired.
func expiredPair(srv *authtest.Server) *oauth2.Token {
	access, refresh := srv.IssuePair()
	return &oauth2.Token{AccessToken: access, RefreshToken: refresh, Expiry: time.Now().Add(-time.Minute)}
}

func livePair(srv *authtest.Server) *oauth2.Token {
	access, refresh := srv.IssuePair()
	return &oauth2.Token{AccessToken: access, RefreshToken: refresh, Expiry: time.Now().Add(time.Hour)}
}

func newSource(t *testing.T, srv *authtest.Server, initial *oauth2.Token, k *keychain) *TokenSource {
	return PersistingTokenSource(t.Context(), ConfigRefresher(srv.OAuth2Config(), srv.Client()), initial, k.save)
}

// concurrently runs n callers of get and returns their tokens and errors.
func concurrently(n int, get func() (*oauth2.Token, error), check func(*oauth2.Token)) ([]*oauth2.Token, []error) {
	toks := make([]*oauth2.Token, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			toks[i], errs[i] = get()
			if check != nil && toks[i] != nil {
				check(toks[i])
			}
		})
	}
	wg.Wait()
	return toks, errs
}

func TestTokenSourceSingleFlightAfterExpiry(t *testing.T) {
	srv := newStub(t)
	srv.SlowToken(5 * time.Millisecond) // let the callers pile up
	old := expiredPair(srv)
	k := &keychain{}
	ts := newSource(t, srv, old, k)
	var unsavedSeen sync.Map
	toks, errs := concurrently(20, func() (*oauth2.Token, error) { return ts.TokenContext(t.Context()) }, func(tok *oauth2.Token) {
		if !k.has(tok.AccessToken) { // checked the moment the caller got it
			unsavedSeen.Store(tok.AccessToken, true)
		}
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("caller %d: %v", i, err)
		}
		if toks[i].AccessToken != toks[0].AccessToken {
			t.Fatalf("callers got different tokens")
		}
	}
	unsavedSeen.Range(func(k, _ any) bool { t.Errorf("a caller got token %v before it was saved", k); return true })
	if n := srv.CountRefreshes(); n != 1 {
		t.Errorf("refreshes = %d; want 1", n)
	}
	if n := k.count(); n != 1 {
		t.Errorf("saves = %d; want 1", n)
	}
	if !srv.AccessValid(toks[0].AccessToken) || toks[0].RefreshToken == old.RefreshToken {
		t.Errorf("new pair %+v not live or not rotated", toks[0])
	}
	// The new token is valid now: no more refreshes.
	if _, err := ts.Token(); err != nil || srv.CountRefreshes() != 1 {
		t.Errorf("Token after refresh: %v, refreshes %d", err, srv.CountRefreshes())
	}
}

func TestTokenSourceValidTokenNoRefresh(t *testing.T) {
	srv := newStub(t)
	k := &keychain{}
	live := livePair(srv)
	ts := newSource(t, srv, live, k)
	tok, err := ts.Token()
	if err != nil || tok.AccessToken != live.AccessToken {
		t.Fatalf("Token = %v, %v", tok, err)
	}
	if srv.CountRefreshes() != 0 || k.count() != 0 {
		t.Errorf("refreshes %d, saves %d; want 0", srv.CountRefreshes(), k.count())
	}
}

func TestTokenSourceForceRefreshAfter401(t *testing.T) {
	srv := newStub(t)
	srv.SlowToken(5 * time.Millisecond)
	k := &keychain{}
	rejectedTok := livePair(srv) // Bitrix24: not expired by our clock, but the service said expired_token
	ts := newSource(t, srv, rejectedTok, k)
	toks, errs := concurrently(20, func() (*oauth2.Token, error) { return ts.ForceRefresh(t.Context(), rejectedTok) }, nil)
	for i, err := range errs {
		if err != nil || toks[i].AccessToken == rejectedTok.AccessToken {
			t.Fatalf("caller %d: %v, %v", i, toks[i], err)
		}
	}
	if n := srv.CountRefreshes(); n != 1 {
		t.Errorf("refreshes = %d; want 1 for 20 callers that got a 401 with the same token", n)
	}
	// A late caller with the same rejected token gets the new one without a refresh.
	late, err := ts.ForceRefresh(t.Context(), rejectedTok)
	if err != nil || late.AccessToken != toks[0].AccessToken || srv.CountRefreshes() != 1 {
		t.Errorf("late ForceRefresh = %v, %v; refreshes %d", late, err, srv.CountRefreshes())
	}
	// Invalidate with the current token: the next Token refreshes.
	ts.Invalidate(late)
	next, err := ts.Token()
	if err != nil || next.AccessToken == late.AccessToken || srv.CountRefreshes() != 2 {
		t.Errorf("Token after Invalidate = %v, %v; refreshes %d", next, err, srv.CountRefreshes())
	}
	// Invalidate with an older token does nothing.
	ts.Invalidate(late)
	if again, _ := ts.Token(); again.AccessToken != next.AccessToken || srv.CountRefreshes() != 2 {
		t.Errorf("Invalidate(older token) forced a refresh")
	}
}

func TestTokenSourceReusedRefreshNeedsSignIn(t *testing.T) {
	srv := newStub(t)
	initial := expiredPair(srv)
	first := newSource(t, srv, initial, &keychain{})
	if _, err := first.Token(); err != nil {
		t.Fatalf("first refresh: %v", err)
	}
	// A second instance still holding the spent refresh token.
	k := &keychain{}
	second := newSource(t, srv, initial, k)
	_, err := second.Token()
	if !errors.Is(err, ErrSignInNeeded) {
		t.Fatalf("err = %v; want ErrSignInNeeded", err)
	}
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Errorf("err = %v; want the invalid_grant reply wrapped", err)
	}
	// Sticky: no second request with a dead refresh token.
	if _, err := second.ForceRefresh(t.Context(), nil); !errors.Is(err, ErrSignInNeeded) || srv.CountRefreshes() != 2 {
		t.Errorf("second call: %v, refreshes %d; want ErrSignInNeeded and no new request", err, srv.CountRefreshes())
	}
	if k.count() != 0 {
		t.Errorf("saved %d times after a failed refresh", k.count())
	}
}

func TestTokenSourceNoRefreshToken(t *testing.T) {
	srv := newStub(t)
	for name, initial := range map[string]*oauth2.Token{
		"nil":              nil,
		"no refresh token": {AccessToken: "x", Expiry: time.Now().Add(-time.Minute)},
	} {
		t.Run(name, func(t *testing.T) {
			ts := newSource(t, srv, initial, &keychain{})
			if _, err := ts.Token(); !errors.Is(err, ErrSignInNeeded) {
				t.Errorf("err = %v; want ErrSignInNeeded", err)
			}
		})
	}
}

func TestTokenSourceSaveFails(t *testing.T) {
	srv := newStub(t)
	k := &keychain{}
	k.setFail(errors.New("keychain locked"))
	ts := newSource(t, srv, expiredPair(srv), k)
	if _, err := ts.Token(); err == nil || errors.Is(err, ErrSignInNeeded) {
		t.Fatalf("err = %v; want a save error, not sign-in needed", err)
	}
	if srv.CountRefreshes() != 1 {
		t.Fatalf("refreshes = %d", srv.CountRefreshes())
	}
	// Still failing: the spent refresh token is not sent again.
	if _, err := ts.Token(); err == nil || srv.CountRefreshes() != 1 {
		t.Fatalf("second try: %v, refreshes %d", err, srv.CountRefreshes())
	}
	// The keychain works again: the pending pair is saved and returned, no new refresh.
	k.setFail(nil)
	tok, err := ts.Token()
	if err != nil {
		t.Fatalf("after the keychain recovered: %v", err)
	}
	if !k.has(tok.AccessToken) || !srv.AccessValid(tok.AccessToken) || srv.CountRefreshes() != 1 {
		t.Errorf("token %v saved %v live %v refreshes %d", tok, k.has(tok.AccessToken), srv.AccessValid(tok.AccessToken), srv.CountRefreshes())
	}
}

func TestTokenSourceTransientFailureKeepsThePair(t *testing.T) {
	srv := newStub(t)
	srv.FailRefresh(http.StatusServiceUnavailable, "")
	ts := newSource(t, srv, expiredPair(srv), &keychain{})
	if _, err := ts.Token(); err == nil || errors.Is(err, ErrSignInNeeded) {
		t.Fatalf("err = %v; want a transient error", err)
	}
	srv.FailRefresh(0, "")
	if tok, err := ts.Token(); err != nil || !srv.AccessValid(tok.AccessToken) {
		t.Fatalf("after recovery: %v, %v", tok, err)
	}
}

func TestTokenSourceCallerCancelDoesNotLoseTheRefresh(t *testing.T) {
	srv := newStub(t)
	srv.SlowToken(5 * time.Millisecond)
	k := &keychain{}
	ts := newSource(t, srv, expiredPair(srv), k)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := ts.TokenContext(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v; want context.Canceled", err)
	}
	tok, err := ts.TokenContext(t.Context()) // joins (or follows) the refresh the first caller started
	if err != nil || !k.has(tok.AccessToken) || srv.CountRefreshes() != 1 {
		t.Fatalf("Token = %v, %v; refreshes %d", tok, err, srv.CountRefreshes())
	}
}

func TestTokenSourceWithQueryRefresh(t *testing.T) {
	srv := newStub(t)
	srv.SetExtra(map[string]any{"member_id": "m1"})
	conf := srv.OAuth2Config()
	r := RefreshFunc(func(ctx context.Context, rt string) (*oauth2.Token, error) {
		return QueryToken(ctx, srv.Client(), conf, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
	})
	k := &keychain{}
	ts := PersistingTokenSource(t.Context(), r, expiredPair(srv), k.save)
	tok, err := ts.Token()
	if err != nil || !srv.AccessValid(tok.AccessToken) || tok.Extra("member_id") != "m1" {
		t.Fatalf("Token = %v, %v", tok, err)
	}
	// As an oauth2.TokenSource behind an HTTP client.
	var _ oauth2.TokenSource = ts
}

func TestRejected(t *testing.T) {
	t.Parallel()
	resp := func(code int) *http.Response { return &http.Response{StatusCode: code} }
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"invalid_grant", &oauth2.RetrieveError{ErrorCode: "invalid_grant"}, true},
		{"bitrix expired_token", &oauth2.RetrieveError{ErrorCode: "expired_token", Response: resp(401)}, true},
		{"bare 400", &oauth2.RetrieveError{Response: resp(400)}, true},
		{"429", &oauth2.RetrieveError{Response: resp(429)}, false},
		{"408", &oauth2.RetrieveError{Response: resp(408)}, false},
		{"503", &oauth2.RetrieveError{ErrorCode: "server_error", Response: resp(503)}, false},
		{"network", errors.New("connection refused"), false},
		{"wrapped", errors.Join(errors.New("x"), &oauth2.RetrieveError{ErrorCode: "invalid_grant"}), true},
	} {
		if got := rejected(tc.err); got != tc.want {
			t.Errorf("%s: rejected = %v; want %v", tc.name, got, tc.want)
		}
	}
}
