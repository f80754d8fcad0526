package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// ErrSignInNeeded: the refresh token was rejected (invalid_grant: used, revoked or expired) or
// there is none; only a new browser sign-in helps. The token source stays in this state.
var ErrSignInNeeded = errors.New("sign-in needed")

// refreshTimeout bounds one refresh plus its save. A refresh is not cancelled with the caller's
// context: a single-use refresh token that reached the server must not be thrown away.
const refreshTimeout = time.Minute

// expiryDelta: a token this close to its expiry counts as expired (like oauth2's 10 s).
const expiryDelta = 10 * time.Second

// Refresher trades a refresh token for a new token pair.
type Refresher interface {
	Refresh(ctx context.Context, refreshToken string) (*oauth2.Token, error)
}

// RefreshFunc adapts a function to Refresher (e.g. one calling QueryToken).
type RefreshFunc func(ctx context.Context, refreshToken string) (*oauth2.Token, error)

// Refresh calls f.
func (f RefreshFunc) Refresh(ctx context.Context, refreshToken string) (*oauth2.Token, error) {
	return f(ctx, refreshToken)
}

// ConfigRefresher refreshes through conf's token endpoint (standard form POST); client nil
// means http.DefaultClient (or the ctx's oauth2.HTTPClient).
func ConfigRefresher(conf oauth2.Config, client *http.Client) Refresher {
	return RefreshFunc(func(ctx context.Context, refreshToken string) (*oauth2.Token, error) {
		if client != nil {
			ctx = context.WithValue(ctx, oauth2.HTTPClient, client)
		}
		return conf.TokenSource(ctx, &oauth2.Token{RefreshToken: refreshToken}).Token()
	})
}

// SaveFunc stores a token pair (e.g. in the keychain) atomically.
type SaveFunc func(ctx context.Context, tok *oauth2.Token) error

// TokenSource hands out an access token and refreshes it at most once at a time: concurrent
// callers wait for the one refresh and share its result. Each new pair is saved through
// SaveFunc before any caller gets it; if the save fails the refresh fails, and the next call
// retries the save (the old refresh token is already spent). A rejected refresh token
// (invalid_grant and other 4xx except 408/429) leaves it in ErrSignInNeeded for good; other
// failures (network, 5xx) keep the old pair, so a later call retries.
//
// Token refreshes when the token's Expiry has passed (never on a timer). Providers that refresh
// only after a 401 (Bitrix24: expired_token) call ForceRefresh with the token that was
// rejected, then retry the call once. It is an oauth2.TokenSource; safe for concurrent use.
type TokenSource struct {
	ctx       context.Context // for Token
	refresher Refresher
	save      SaveFunc
	now       func() time.Time

	mu      sync.Mutex
	tok     *oauth2.Token // last saved pair
	unsaved *oauth2.Token // a refreshed pair whose save failed
	stale   bool          // tok was invalidated
	dead    error         // sticky ErrSignInNeeded
	flight  *flight
}

type flight struct {
	done chan struct{}
	tok  *oauth2.Token
	err  error
}

// PersistingTokenSource returns a TokenSource starting from initial (as loaded from the
// keychain; nil means sign-in needed). save must not be nil. ctx is used by Token (the
// oauth2.TokenSource method) and its values (e.g. oauth2.HTTPClient) by every refresh.
func PersistingTokenSource(ctx context.Context, r Refresher, initial *oauth2.Token, save SaveFunc) *TokenSource {
	s := &TokenSource{ctx: ctx, refresher: r, save: save, now: time.Now}
	if initial != nil {
		t := *initial
		s.tok = &t
	}
	return s
}

// Token returns a valid access token, refreshing if needed, with the constructor's context.
func (s *TokenSource) Token() (*oauth2.Token, error) { return s.TokenContext(s.ctx) }

// TokenContext returns a valid access token, refreshing if it expired or was invalidated. ctx
// ends the wait, not a refresh already sent.
func (s *TokenSource) TokenContext(ctx context.Context) (*oauth2.Token, error) {
	s.mu.Lock()
	if s.dead != nil {
		defer s.mu.Unlock()
		return nil, s.dead
	}
	if s.flight == nil && s.unsaved == nil && !s.stale && s.valid(s.tok) {
		defer s.mu.Unlock()
		return copyToken(s.tok), nil
	}
	f := s.startLocked(ctx)
	s.mu.Unlock()
	return wait(ctx, f)
}

// ForceRefresh refreshes after the service rejected rejected (a 401 such as Bitrix24's
// expired_token) and returns the new token. If the current token is already a different one
// (another caller refreshed meanwhile) it is returned without a refresh; a refresh in flight is
// joined. rejected nil forces a refresh.
func (s *TokenSource) ForceRefresh(ctx context.Context, rejected *oauth2.Token) (*oauth2.Token, error) {
	s.mu.Lock()
	if s.dead != nil {
		defer s.mu.Unlock()
		return nil, s.dead
	}
	if s.flight == nil && s.unsaved == nil && rejected != nil && s.tok != nil &&
		s.tok.AccessToken != rejected.AccessToken && !s.stale {
		defer s.mu.Unlock()
		return copyToken(s.tok), nil
	}
	f := s.startLocked(ctx)
	s.mu.Unlock()
	return wait(ctx, f)
}

// Invalidate marks the current token as rejected if it is rejected (nil: whatever it is), so
// the next Token call refreshes; for clients that use the oauth2.TokenSource interface.
func (s *TokenSource) Invalidate(rejected *oauth2.Token) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tok != nil && (rejected == nil || rejected.AccessToken == s.tok.AccessToken) {
		s.stale = true
	}
}

func (s *TokenSource) valid(t *oauth2.Token) bool {
	return t != nil && t.AccessToken != "" && (t.Expiry.IsZero() || s.now().Add(expiryDelta).Before(t.Expiry))
}

// startLocked joins the refresh in flight or starts one.
func (s *TokenSource) startLocked(ctx context.Context) *flight {
	if s.flight != nil {
		return s.flight
	}
	f := &flight{done: make(chan struct{})}
	s.flight = f
	go s.run(context.WithoutCancel(ctx), f)
	return f
}

func (s *TokenSource) run(ctx context.Context, f *flight) {
	ctx, cancel := context.WithTimeout(ctx, refreshTimeout)
	defer cancel()
	tok, err := s.refresh(ctx)
	s.mu.Lock()
	s.flight = nil
	if err == nil {
		s.tok, s.unsaved, s.stale = tok, nil, false
	} else if errors.Is(err, ErrSignInNeeded) {
		s.dead = err
	}
	f.tok, f.err = tok, err
	s.mu.Unlock()
	close(f.done)
}

// refresh runs in the flight's goroutine; it reads the state under the lock.
func (s *TokenSource) refresh(ctx context.Context) (*oauth2.Token, error) {
	s.mu.Lock()
	base, pending := s.tok, s.unsaved
	s.mu.Unlock()
	if pending != nil { // a refreshed pair whose save failed: save it first
		if err := s.save(ctx, pending); err != nil {
			return nil, fmt.Errorf("refresh token: save the new token: %w", err)
		}
		s.mu.Lock()
		s.tok, s.unsaved, s.stale = pending, nil, false
		s.mu.Unlock()
		if s.valid(pending) {
			return pending, nil
		}
		base = pending
	}
	if base == nil || base.RefreshToken == "" {
		return nil, fmt.Errorf("refresh token: %w: no refresh token stored", ErrSignInNeeded)
	}
	tok, err := s.refresher.Refresh(ctx, base.RefreshToken)
	if err != nil {
		if rejected(err) {
			return nil, fmt.Errorf("refresh token: %w: %w", ErrSignInNeeded, err)
		}
		return nil, fmt.Errorf("refresh token: %w", err)
	}
	if tok == nil || tok.AccessToken == "" {
		return nil, errors.New("refresh token: the reply has no access_token")
	}
	tok = copyToken(tok)
	if tok.RefreshToken == "" { // providers that do not rotate
		tok.RefreshToken = base.RefreshToken
	}
	if err := s.save(ctx, tok); err != nil {
		s.mu.Lock()
		s.unsaved = tok
		s.mu.Unlock()
		return nil, fmt.Errorf("refresh token: save the new token: %w", err)
	}
	return tok, nil
}

// rejected reports whether the token endpoint refused the refresh token for good.
func rejected(err error) bool {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		return false
	}
	switch re.ErrorCode {
	case "invalid_grant", "expired_token", "invalid_client", "unauthorized_client":
		return true
	}
	if re.Response == nil {
		return false
	}
	c := re.Response.StatusCode
	return c >= 400 && c < 500 && c != http.StatusRequestTimeout && c != http.StatusTooManyRequests
}

func wait(ctx context.Context, f *flight) (*oauth2.Token, error) {
	select {
	case <-f.done:
		if f.err != nil {
			return nil, f.err
		}
		return copyToken(f.tok), nil
	case <-ctx.Done():
		return nil, fmt.Errorf("refresh token: %w", context.Cause(ctx))
	}
}

func copyToken(t *oauth2.Token) *oauth2.Token {
	c := *t
	return &c
}
