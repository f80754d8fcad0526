package auth_test

import (
	"context"
	"fmt"
	"net/http"

	"golang.org/x/oauth2"

	"github.com/timebridge/timebridge/app/auth"
	"github.com/timebridge/timebridge/app/auth/authtest"
)

// Bitrix24: a fixed registered port, PKCE, the extra reply fields kept; then a token source
// that refreshes once after a 401 and stores each new pair first.
func Example() {
	srv := authtest.NewServer() // stands in for the portal and oauth.bitrix.info
	defer srv.Close()
	srv.SetExtra(map[string]any{"member_id": "a223c6b3710f85df22e9377d6c4f7553"})

	cfg := auth.Config{
		OAuth2:      srv.OAuth2Config(),
		BindAddress: "127.0.0.1:0", // the app: "127.0.0.1:53682" from bitrix24.redirect_port
		PortSetting: "bitrix24.redirect_port",
		PKCE:        true,
		Ready:       func(url string) {}, // the window's Copy button
		Open: func(url string) error { // the app leaves Open nil: the system browser
			resp, err := http.Get(url)
			if err == nil {
				resp.Body.Close()
			}
			return err
		},
	}
	ctx := context.Background()
	tok, err := auth.GetToken(ctx, cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("member_id:", tok.Extra("member_id"))

	save := func(ctx context.Context, tok *oauth2.Token) error { return nil } // the keychain
	ts := auth.PersistingTokenSource(ctx, auth.ConfigRefresher(cfg.OAuth2, nil), tok, save)
	// … a call answered 401 expired_token with tok:
	fresh, err := ts.ForceRefresh(ctx, tok)
	fmt.Println(err == nil, fresh.AccessToken != tok.AccessToken, srv.CountRefreshes())
	// Output:
	// member_id: a223c6b3710f85df22e9377d6c4f7553
	// true true 1
}
