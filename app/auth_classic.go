package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/oauth2"

	"github.com/timebridge/timebridge/app/auth"
	"github.com/timebridge/timebridge/app/config"
	"github.com/timebridge/timebridge/app/secrets"
	"github.com/timebridge/timebridge/sync/timedoctor"
)

// keyTimeDoctorClassic holds the Time Doctor Classic OAuth pair (JSON).
const keyTimeDoctorClassic = "timedoctor.classic"

// classicConfig is the Classic client's settings; the secret comes from the keychain.
func (a *App) classicConfig(ctx context.Context) (timedoctor.ClassicConfig, error) {
	td := a.Config.TimeDoctor
	if td.ClientID == "" {
		return timedoctor.ClassicConfig{}, usageErr("timedoctor.client_id is not set: Time Doctor Classic needs the registered app's client id (timebridge config set timedoctor.client_id …)")
	}
	sec, ok, err := a.secret(ctx, "timedoctor.client_secret")
	if err != nil {
		return timedoctor.ClassicConfig{}, err
	}
	if !ok {
		return timedoctor.ClassicConfig{}, usageErr("timedoctor.client_secret is not set: run timebridge config set timedoctor.client_secret … (it goes to the keychain)")
	}
	return timedoctor.ClassicConfig{BaseURL: td.BaseURL(), ClientID: td.ClientID, ClientSecret: sec.Reveal(),
		Company: td.Company, HTTP: a.httpClient, Logger: a.Log, UserAgent: "timebridge/" + Version,
		SaveToken: func(t timedoctor.ClassicToken) error {
			ctx, cancel := context.WithTimeout(context.Background(), secretsTimeout)
			defer cancel()
			return secrets.SetJSON(ctx, a.Secrets, keyTimeDoctorClassic, classicPair{Access: t.Access, Refresh: t.Refresh, Expiry: t.Expiry})
		}}, nil
}

// classicPair is the keychain form of timedoctor.ClassicToken (plain strings).
type classicPair oauthPair

// classicClient builds the Time Doctor Classic client from the stored pair.
func (a *App) classicClient(ctx context.Context) (*timedoctor.Classic, error) {
	cfg, err := a.classicConfig(ctx)
	if err != nil {
		return nil, err
	}
	var p classicPair
	if err := secrets.GetJSON(ctx, a.Secrets, keyTimeDoctorClassic, &p); errors.Is(err, secrets.ErrNotFound) {
		return nil, errSignIn("timedoctor")
	} else if err != nil {
		return nil, fmt.Errorf("read the Time Doctor sign-in from the keychain: %w", err)
	}
	cfg.Token = timedoctor.ClassicToken{Access: p.Access, Refresh: p.Refresh, Expiry: p.Expiry}
	return timedoctor.NewClassic(cfg)
}

// signInClassic runs Time Doctor Classic's OAuth code flow in the browser; the
// code is exchanged on Classic's GET token route and the pair stored before use.
func (a *App) signInClassic(ctx context.Context, ready func(string), open func(string) error, out io.Writer) error {
	cfg, err := a.classicConfig(ctx)
	if err != nil {
		return err
	}
	base := strings.TrimSuffix(strings.TrimRight(a.Config.TimeDoctor.BaseURL(), "/"), "/v1.1")
	var client *timedoctor.Classic
	_, err = auth.GetToken(ctx, auth.Config{
		OAuth2: oauth2.Config{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret,
			Endpoint: oauth2.Endpoint{AuthURL: base + "/oauth/v2/auth", TokenURL: base + "/oauth/v2/token"}},
		Ready: ready, Open: open, HTTPClient: a.httpClient,
		Exchange: func(ctx context.Context, conf oauth2.Config, code, _ string) (*oauth2.Token, error) {
			c := cfg
			c.RedirectURI = conf.RedirectURL
			cl, err := timedoctor.NewClassic(c)
			if err != nil {
				return nil, err
			}
			t, err := cl.Exchange(ctx, code) // saves the pair through SaveToken
			if err != nil {
				return nil, err
			}
			client = cl
			return &oauth2.Token{AccessToken: t.Access, RefreshToken: t.Refresh, Expiry: t.Expiry}, nil
		},
	})
	if err != nil {
		return fmt.Errorf("sign in to Time Doctor Classic: %w", err)
	}
	me, err := client.Me(ctx)
	if err != nil {
		return fmt.Errorf("check the new Time Doctor sign-in: %w", err)
	}
	fmt.Fprintf(out, "Signed in to Time Doctor Classic as %s (%s).\n", me.Name, orDash(me.Email))
	return nil
}

// isClassic reports whether the Time Doctor edition is Classic.
func (a *App) isClassic() bool { return a.Config.TimeDoctor.Edition == config.EditionClassic }
