package app

import (
	"context"
	"fmt"
	"io"
	"strings"

	"golang.org/x/oauth2"

	"github.com/timebridge/timebridge/app/auth"
	"github.com/timebridge/timebridge/app/secrets"
	"github.com/timebridge/timebridge/sync/bitrix24"
)

// authorizeBitrix24OAuth runs the OAuth code flow in the system browser (state,
// PKCE, the registered loopback port), exchanges the code at once, checks the
// pair with user.current and stores it in the keychain. out gets the URL to open
// by hand when no browser starts.
func (a *App) authorizeBitrix24OAuth(ctx context.Context, env Env) error {
	return a.signInBitrix24(ctx, func(url string) {
		fmt.Fprintf(env.Stderr, "Opening your browser to sign in to Bitrix24. If it does not open, visit:\n  %s\n", url)
	}, nil, env.Stdout)
}

// signInBitrix24 is the browser sign-in shared by the terminal and the window.
// open replaces the system browser when not nil (tests).
func (a *App) signInBitrix24(ctx context.Context, ready func(url string), open func(url string) error, out io.Writer) error {
	portal := strings.TrimRight(a.Config.Bitrix24.Portal, "/")
	if portal == "" {
		return usageErr("bitrix24.portal is not set: run timebridge config set bitrix24.portal https://YOUR.bitrix24.com")
	}
	oc, err := a.bitrix24OAuth(ctx)
	if err != nil {
		return err
	}
	var got bitrix24.Token
	cfg := auth.Config{
		OAuth2: oauth2.Config{ClientID: oc.ClientID, ClientSecret: oc.ClientSecret,
			Endpoint: oauth2.Endpoint{AuthURL: portal + "/oauth/authorize/", TokenURL: oc.TokenURL}},
		BindAddress: fmt.Sprintf("127.0.0.1:%d", a.Config.Bitrix24.RedirectPort),
		PortSetting: "bitrix24.redirect_port",
		PKCE:        !oc.DisablePKCE,
		Ready:       ready,
		Open:        open,
		HTTPClient:  a.httpClient,
		// Bitrix24's token reply carries client_endpoint, member_id … that the
		// client needs: exchange with the Bitrix24 client and keep its Token.
		Exchange: func(ctx context.Context, conf oauth2.Config, code, verifier string) (*oauth2.Token, error) {
			o := *oc
			o.RedirectURI = conf.RedirectURL
			t, err := bitrix24.Exchange(ctx, a.httpClient, o, code, verifier, nil)
			if err != nil {
				return nil, err
			}
			got = t
			return &oauth2.Token{AccessToken: t.AccessToken, RefreshToken: t.RefreshToken, Expiry: t.Expiry}, nil
		},
	}
	if _, err := auth.GetToken(ctx, cfg); err != nil {
		return fmt.Errorf("sign in to Bitrix24: %w", err)
	}
	base := got.ClientEndpoint
	if base == "" {
		base = portal
	}
	c, err := bitrix24.New(bitrix24.Config{BaseURL: base, Token: got, OAuth: oc, HTTPClient: a.httpClient, Logger: a.Log,
		OnToken: func(ctx context.Context, t bitrix24.Token) error { got = t; return nil }})
	if err != nil {
		return err
	}
	me, err := c.Me(ctx)
	if err != nil {
		return fmt.Errorf("check the new Bitrix24 sign-in: %w", err)
	}
	if err := secrets.SetJSON(ctx, a.Secrets, keyBitrix24Token, fromBitrix24(got)); err != nil {
		return fmt.Errorf("store the Bitrix24 sign-in in the keychain: %w", err)
	}
	if err := a.Secrets.Delete(ctx, keyBitrix24Webhook); err != nil {
		a.Log.Warn("remove the old webhook", "err", err)
	}
	fmt.Fprintf(out, "Signed in to Bitrix24 as %s (%s) on %s.\n", me.Name, orDash(me.Email), c.Portal())
	return nil
}
