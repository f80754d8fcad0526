package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/timebridge/timebridge/app/config"
	"github.com/timebridge/timebridge/app/secrets"
	"github.com/timebridge/timebridge/sync/bitrix24"
	"github.com/timebridge/timebridge/sync/connector"
	"github.com/timebridge/timebridge/sync/engine"
	"github.com/timebridge/timebridge/sync/timedoctor"
	"github.com/timebridge/timebridge/sync/timelog"
)

// bitrix24Token is the keychain record of a Bitrix24 OAuth pair (design §1.8 of
// the spec: one atomic record). Plain strings: secrets.SetJSON stores it whole.
type bitrix24Token struct {
	Access, Refresh string
	Expiry          time.Time
	Scope, Status   string
	MemberID        string
	UserID          string
	ClientEndpoint  string
	ServerEndpoint  string
}

func (t bitrix24Token) token() bitrix24.Token {
	return bitrix24.Token{AccessToken: t.Access, RefreshToken: t.Refresh, Expiry: t.Expiry, Scope: t.Scope, Status: t.Status,
		MemberID: t.MemberID, UserID: t.UserID, ClientEndpoint: t.ClientEndpoint, ServerEndpoint: t.ServerEndpoint}
}

func fromBitrix24(t bitrix24.Token) bitrix24Token {
	return bitrix24Token{Access: t.AccessToken, Refresh: t.RefreshToken, Expiry: t.Expiry, Scope: t.Scope, Status: t.Status,
		MemberID: t.MemberID, UserID: t.UserID, ClientEndpoint: t.ClientEndpoint, ServerEndpoint: t.ServerEndpoint}
}

// timeDoctorToken is the keychain record of a Time Doctor 2 sign-in.
type timeDoctorToken struct {
	Token     string
	ExpiresAt time.Time
	Query     bool // the account wants ?token= instead of the header
}

// errSignIn says a service has no stored credentials (exit 3).
func errSignIn(service string) error {
	return &ExitError{Code: ExitSignIn, Err: fmt.Errorf("%s: not signed in — run \"timebridge authorize %s\" or click Authorize in the window: %w",
		service, service, connector.ErrUnauthorized)}
}

// secret reads a keychain entry; ok is false when it is not there.
func (a *App) secret(ctx context.Context, key string) (secrets.Secret, bool, error) {
	v, err := a.Secrets.Get(ctx, key)
	switch {
	case errors.Is(err, secrets.ErrNotFound):
		return "", false, nil
	case err != nil:
		return "", false, fmt.Errorf("read %s from the keychain: %w", key, err)
	}
	return v, true, nil
}

// bitrix24Client builds the Bitrix24 client from the stored webhook or OAuth pair.
func (a *App) bitrix24Client(ctx context.Context) (*bitrix24.Client, error) {
	hook, ok, err := a.secret(ctx, keyBitrix24Webhook)
	if err != nil {
		return nil, err
	}
	if ok {
		return bitrix24.New(bitrix24.Config{Webhook: hook.Reveal(), Logger: a.Log, UserAgent: "timebridge/" + Version,
			OnMoved: func(newHook string) { a.saveSecret(keyBitrix24Webhook, secrets.Secret(newHook)) }})
	}
	var tok bitrix24Token
	if err := secrets.GetJSON(ctx, a.Secrets, keyBitrix24Token, &tok); errors.Is(err, secrets.ErrNotFound) {
		return nil, errSignIn("bitrix24")
	} else if err != nil {
		return nil, fmt.Errorf("read the Bitrix24 sign-in from the keychain: %w", err)
	}
	oauth, err := a.bitrix24OAuth(ctx)
	if err != nil {
		return nil, err
	}
	base := tok.ClientEndpoint
	if base == "" {
		base = a.Config.Bitrix24.Portal
	}
	return bitrix24.New(bitrix24.Config{BaseURL: base, Token: tok.token(), OAuth: oauth, Logger: a.Log, UserAgent: "timebridge/" + Version,
		OnToken: func(ctx context.Context, t bitrix24.Token) error {
			return secrets.SetJSON(ctx, a.Secrets, keyBitrix24Token, fromBitrix24(t))
		}})
}

// bitrix24OAuth is the local application's OAuth settings (secret from the keychain).
func (a *App) bitrix24OAuth(ctx context.Context) (*bitrix24.OAuthConfig, error) {
	c := a.Config.Bitrix24
	if c.ClientID == "" {
		return nil, usageErr("bitrix24.client_id is not set: ask your admin for the local application's client id and run timebridge config set bitrix24.client_id …")
	}
	sec, ok, err := a.secret(ctx, "bitrix24.client_secret")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, usageErr("bitrix24.client_secret is not set: run timebridge config set bitrix24.client_secret … (it goes to the keychain)")
	}
	return &bitrix24.OAuthConfig{ClientID: c.ClientID, ClientSecret: sec.Reveal(), TokenURL: c.TokenURL,
		RedirectURI: fmt.Sprintf("http://127.0.0.1:%d/callback", c.RedirectPort), DisablePKCE: !c.PKCE}, nil
}

// secretsTimeout bounds keychain writes made from a client callback.
const secretsTimeout = 10 * time.Second

func (a *App) saveSecret(key string, v secrets.Secret) {
	ctx, cancel := context.WithTimeout(context.Background(), secretsTimeout)
	defer cancel()
	if err := a.Secrets.Set(ctx, key, v); err != nil {
		a.Log.Error("save to the keychain", "key", key, "err", err)
	}
}

// timeDoctorClient builds the Time Doctor 2 client from the stored token.
func (a *App) timeDoctorClient(ctx context.Context) (*timedoctor.Client, error) {
	var tok timeDoctorToken
	if err := secrets.GetJSON(ctx, a.Secrets, keyTimeDoctorToken, &tok); errors.Is(err, secrets.ErrNotFound) {
		return nil, errSignIn("timedoctor")
	} else if err != nil {
		return nil, fmt.Errorf("read the Time Doctor sign-in from the keychain: %w", err)
	}
	return a.newTimeDoctor(tok)
}

func (a *App) newTimeDoctor(tok timeDoctorToken) (*timedoctor.Client, error) {
	return timedoctor.New(timedoctor.Config{BaseURL: a.Config.TimeDoctor.BaseURL(), Token: tok.Token, ExpiresAt: tok.ExpiresAt,
		QueryToken: tok.Query, Company: a.Config.TimeDoctor.Company, Logger: a.Log, UserAgent: "timebridge/" + Version,
		DeviceID: "timebridge-" + deviceID(a.Home)})
}

// deviceID is a stable per-install id for Time Doctor's login (not a secret).
func deviceID(home string) string {
	var h uint32 = 2166136261
	for _, b := range []byte(home) {
		h = (h ^ uint32(b)) * 16777619
	}
	return fmt.Sprintf("%08x", h)
}

// timeLogClient builds the TimeLog client from the stored personal access token.
func (a *App) timeLogClient(ctx context.Context) (*timelog.Client, error) {
	if a.Config.TimeLog.APIURL == "" {
		return nil, usageErr("timelog.api_url is not set: run timebridge config set timelog.api_url https://app.timelog.com/YOUR-ACCOUNT/api")
	}
	if a.Config.TimeLog.ClientID != "" {
		var pair oauthPair
		if err := secrets.GetJSON(ctx, a.Secrets, keyTimeLogOAuth, &pair); err == nil {
			return a.timeLogWithOAuth(ctx, pair)
		} else if !errors.Is(err, secrets.ErrNotFound) {
			return nil, fmt.Errorf("read the TimeLog sign-in from the keychain: %w", err)
		}
	}
	tok, ok, err := a.secret(ctx, keyTimeLogToken)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errSignIn("timelog")
	}
	return timelog.New(timelog.Config{BaseURL: a.Config.TimeLog.APIURL, Token: tok.Reveal(), Logger: a.Log,
		Portal: a.Config.Bitrix24.Portal})
}

// connectors builds the Bitrix24 source and the enabled trackers. A tracker that is
// not signed in is left out (the others keep working) and named in signIn.
func (a *App) connectors(ctx context.Context) (src connector.TaskSource, trackers []connector.Tracker, signIn []string, err error) {
	if a.Config.Bitrix24.Portal == "" {
		if _, ok, _ := a.secret(ctx, keyBitrix24Webhook); !ok {
			return nil, nil, nil, usageErr("bitrix24.portal is not set: run timebridge config set bitrix24.portal https://YOUR.bitrix24.com")
		}
	}
	if len(a.Config.Trackers) == 0 {
		return nil, nil, nil, usageErr("no tracker chosen: run timebridge config set trackers timedoctor (or timelog, or timedoctor,timelog)")
	}
	b24, err := a.bitrix24Client(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	for _, name := range a.Config.Trackers {
		var tr connector.Tracker
		var terr error
		switch name {
		case config.TrackerTimeDoctor:
			if a.isClassic() {
				tr, terr = a.classicClient(ctx)
			} else {
				tr, terr = a.timeDoctorClient(ctx)
			}
		case config.TrackerTimeLog:
			tr, terr = a.timeLogClient(ctx)
		}
		if errors.Is(terr, connector.ErrUnauthorized) {
			signIn = append(signIn, name)
			continue
		}
		if terr != nil {
			return nil, nil, nil, terr
		}
		trackers = append(trackers, tr)
	}
	if len(trackers) == 0 {
		return nil, nil, signIn, errSignIn(strings.Join(signIn, " and "))
	}
	return b24, trackers, signIn, nil
}

// startEngine opens the state file and builds the engine on the real services.
func (a *App) startEngine(ctx context.Context) (*engine.Engine, error) {
	src, trackers, signIn, err := a.connectors(ctx)
	if err != nil {
		return nil, err
	}
	for _, s := range signIn {
		a.Log.Warn("tracker not signed in; syncing the others", "service", s)
		fmt.Fprintf(a.stderr, "timebridge: %s is not signed in (run timebridge authorize %s); the other trackers sync\n", s, s)
	}
	cfg, err := a.engineConfig()
	if err != nil {
		return nil, err
	}
	cfg.SignInNeeded = signIn
	return a.newEngineWith(src, trackers, cfg)
}

// newEngineWith opens the state file and builds an engine over the given connectors.
func (a *App) newEngineWith(src connector.TaskSource, trackers []connector.Tracker, cfg engine.Config) (*engine.Engine, error) {
	st, err := a.openStore(false)
	if err != nil {
		return nil, err
	}
	eng, err := engine.New(cfg, engine.Options{Source: src, Trackers: trackers, Store: st, Logger: a.Log})
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("start the sync engine: %w", err)
	}
	if a.Config.Sync.Paused {
		if err := eng.Pause(0); err != nil {
			st.Close()
			return nil, err
		}
	}
	a.mu.Lock()
	a.store, a.engine = st, eng
	a.mu.Unlock()
	return eng, nil
}
