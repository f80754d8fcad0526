package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/timebridge/timebridge/app/auth"
	"github.com/timebridge/timebridge/app/secrets"
	"github.com/timebridge/timebridge/sync/connector"
	"github.com/timebridge/timebridge/sync/timelog"
)

// keyTimeLogOAuth holds the TimeLog OAuth pair (JSON) when timelog.client_id is set.
const keyTimeLogOAuth = "timelog.oauth"

// oauthPair is the keychain record of an OAuth access + refresh token.
type oauthPair struct {
	Access, Refresh string
	Expiry          time.Time
}

// timeLogOAuthConfig is TimeLog's login server (spec §2.3): a public client with
// PKCE; the scopes TimeLog's own clients ask for.
func (a *App) timeLogOAuthConfig() oauth2.Config {
	base := strings.TrimRight(a.Config.TimeLog.OAuthURL, "/")
	return oauth2.Config{ClientID: a.Config.TimeLog.ClientID,
		Endpoint: oauth2.Endpoint{AuthURL: base + "/connect/authorize", TokenURL: base + "/connect/token",
			AuthStyle: oauth2.AuthStyleInParams},
		Scopes: []string{"openid", "profile", "tlp", "offline_access"}}
}

// signInTimeLogOAuth runs the browser flow, checks the token with TimeLog and
// stores the pair.
func (a *App) signInTimeLogOAuth(ctx context.Context, ready func(string), open func(string) error, out io.Writer) error {
	if a.Config.TimeLog.APIURL == "" {
		return usageErr("timelog.api_url is not set: run timebridge config set timelog.api_url https://app.timelog.com/YOUR-ACCOUNT/api first")
	}
	tok, err := auth.GetToken(ctx, auth.Config{OAuth2: a.timeLogOAuthConfig(), PKCE: true, Ready: ready, Open: open,
		HTTPClient: a.httpClient})
	if err != nil {
		return fmt.Errorf("sign in to TimeLog: %w", err)
	}
	pair := oauthPair{Access: tok.AccessToken, Refresh: tok.RefreshToken, Expiry: tok.Expiry}
	c, err := a.timeLogWithOAuth(ctx, pair)
	if err != nil {
		return err
	}
	me, err := c.Me(ctx)
	if err != nil {
		return fmt.Errorf("check the new TimeLog sign-in: %w", err)
	}
	if err := secrets.SetJSON(ctx, a.Secrets, keyTimeLogOAuth, pair); err != nil {
		return fmt.Errorf("store the TimeLog sign-in in the keychain: %w", err)
	}
	fmt.Fprintf(out, "Signed in to TimeLog as %s (%s).\n", me.Name, orDash(me.Email))
	return nil
}

// timeLogWithOAuth builds the TimeLog client on an OAuth pair; each refreshed
// pair is stored in the keychain before it is used (refresh tokens are single-use).
func (a *App) timeLogWithOAuth(ctx context.Context, pair oauthPair) (*timelog.Client, error) {
	conf := a.timeLogOAuthConfig()
	save := func(ctx context.Context, t *oauth2.Token) error {
		return secrets.SetJSON(ctx, a.Secrets, keyTimeLogOAuth, oauthPair{Access: t.AccessToken, Refresh: t.RefreshToken, Expiry: t.Expiry})
	}
	ts := auth.PersistingTokenSource(ctx, auth.ConfigRefresher(conf, a.httpClient),
		&oauth2.Token{AccessToken: pair.Access, RefreshToken: pair.Refresh, Expiry: pair.Expiry}, save)
	return timelog.New(timelog.Config{BaseURL: a.Config.TimeLog.APIURL, OAuth: tokenProvider{ts}, HTTPClient: a.httpClient,
		Logger: a.Log, Portal: a.Config.Bitrix24.Portal})
}

// tokenProvider adapts the persisting token source to timelog.TokenProvider.
type tokenProvider struct{ ts *auth.TokenSource }

func (p tokenProvider) Token(ctx context.Context) (string, error) {
	t, err := p.ts.TokenContext(ctx)
	if err != nil {
		return "", signInErr(err)
	}
	return t.AccessToken, nil
}

func (p tokenProvider) Rejected(ctx context.Context, token string) (string, error) {
	t, err := p.ts.ForceRefresh(ctx, &oauth2.Token{AccessToken: token})
	if err != nil {
		return "", signInErr(err)
	}
	return t.AccessToken, nil
}

func signInErr(err error) error {
	if errors.Is(err, auth.ErrSignInNeeded) {
		return fmt.Errorf("%w: %w", connector.ErrUnauthorized, err)
	}
	return err
}
