// Package auth is timebridge's browser sign-in: one OAuth 2 authorization-code flow on a
// loopback listener (random state, optional PKCE S256, a timeout for an abandoned tab), used
// for Bitrix24, Time Doctor Classic and TimeLog; and a token source that refreshes once at a
// time and stores each new pair before using it, for providers whose refresh tokens are
// single-use.
//
// GetToken never needs a real browser: Config.Open receives the URL, so a test follows it with
// an HTTP client (see authtest).
package auth

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/pkg/browser"
	"golang.org/x/oauth2"
)

// Defaults of Config's fields.
const (
	DefaultBindAddress  = "127.0.0.1:0"
	DefaultCallbackPath = "/callback"
	DefaultTimeout      = 5 * time.Minute
	// DefaultPortSetting names the setting in the busy-port error when Config.PortSetting is empty.
	DefaultPortSetting = "the redirect port setting"
)

// exchangeTimeout bounds the code exchange (a code lives 30 s at Bitrix24 anyway).
const exchangeTimeout = time.Minute

var (
	// ErrDenied: the provider redirected back with error=… (the user declined, or the provider
	// refused the request). The error is a *CallbackError with the provider's description.
	ErrDenied = errors.New("the sign-in was refused")
	// ErrTimeout: the browser flow was not finished within Config.Timeout.
	ErrTimeout = errors.New("the sign-in in the browser was not finished")
	// ErrPortInUse: the fixed loopback port is taken by another program.
	ErrPortInUse = errors.New("the sign-in port is in use")
)

// CallbackError is an error= redirect from the provider. errors.Is(err, ErrDenied) is true.
type CallbackError struct {
	Code        string // RFC 6749 error, e.g. "access_denied"
	Description string // error_description, as the provider sent it
	URI         string // error_uri
}

func (e *CallbackError) Error() string {
	msg := ErrDenied.Error() + ": " + e.Code
	if e.Description != "" {
		msg += ": " + e.Description
	}
	return msg
}

// Is makes errors.Is(err, ErrDenied) true.
func (e *CallbackError) Is(target error) bool { return target == ErrDenied }

// Config describes one provider's browser sign-in. Zero fields take the defaults shown.
type Config struct {
	// OAuth2 holds the client id/secret, endpoints and scopes. RedirectURL is overwritten with
	// http://127.0.0.1:<bound port><CallbackPath>.
	OAuth2 oauth2.Config
	// BindAddress is where the loopback listener binds: "127.0.0.1:0" (any free port). Bitrix24
	// passes its registered fixed port, e.g. "127.0.0.1:53682". Only 127.0.0.1 is allowed. A busy
	// fixed port is an error (ErrPortInUse); there is never a fallback to another port.
	BindAddress string
	// PortSetting names the setting that holds the port, for the busy-port error
	// (e.g. "bitrix24.redirect_port"). Default DefaultPortSetting.
	PortSetting string
	// CallbackPath is the redirect handler's path: "/callback".
	CallbackPath string
	// Timeout ends a flow whose browser tab was abandoned: 5m. The error wraps ErrTimeout.
	Timeout time.Duration
	// PKCE sends an S256 code challenge and the verifier at the exchange.
	PKCE bool
	// Open shows the authorize URL to the user: browser.OpenURL (github.com/pkg/browser). Tests
	// follow the URL with an HTTP client. An Open error ends the flow only when Ready is nil.
	Open func(url string) error
	// Ready, if set, receives the authorize URL before Open is called (the window's Copy button,
	// or the command line printing it). It must not block.
	Ready func(url string)
	// AuthCodeOptions are extra authorize-URL parameters (e.g. oauth2.AccessTypeOffline).
	AuthCodeOptions []oauth2.AuthCodeOption
	// ExchangeOptions are extra token-request parameters for the default exchange.
	ExchangeOptions []oauth2.AuthCodeOption
	// Exchange, if set, replaces oauth2.Config.Exchange for non-standard token endpoints (e.g.
	// Time Doctor Classic: GET with query, see QueryToken). conf is OAuth2 with RedirectURL set;
	// verifier is "" without PKCE. ctx carries HTTPClient as oauth2.HTTPClient. Put extra reply
	// fields (Bitrix24's member_id, client_endpoint…) in the token with Token.WithExtra.
	Exchange func(ctx context.Context, conf oauth2.Config, code, verifier string) (*oauth2.Token, error)
	// HTTPClient makes the token request: http.DefaultClient.
	HTTPClient *http.Client
}

func (c Config) withDefaults() Config {
	if c.BindAddress == "" {
		c.BindAddress = DefaultBindAddress
	}
	if c.PortSetting == "" {
		c.PortSetting = DefaultPortSetting
	}
	if c.CallbackPath == "" {
		c.CallbackPath = DefaultCallbackPath
	}
	if !strings.HasPrefix(c.CallbackPath, "/") {
		c.CallbackPath = "/" + c.CallbackPath
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Open == nil {
		c.Open = browser.OpenURL
	}
	return c
}

// GetToken runs one authorization-code flow on a loopback listener and exchanges the code at
// once (Bitrix24 codes live 30 s). Errors are wrapped by stage: "authorize: …" (listener,
// browser, state, error=, timeout) and "exchange code: …".
func GetToken(ctx context.Context, cfg Config) (*oauth2.Token, error) {
	cfg = cfg.withDefaults()
	conf, code, verifier, err := authorize(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("authorize: %w", err)
	}
	tok, err := exchange(ctx, cfg, conf, code, verifier)
	if err != nil {
		return nil, fmt.Errorf("exchange code: %w", err)
	}
	return tok, nil
}

var errTimedOut = errors.New("sign-in timeout")

// authorize binds the listener, shows the URL and waits for the first callback with the right
// state. It returns the OAuth2 config with RedirectURL set, the code and the PKCE verifier.
func authorize(ctx context.Context, cfg Config) (oauth2.Config, string, string, error) {
	conf := cfg.OAuth2
	l, err := listen(ctx, cfg)
	if err != nil {
		return conf, "", "", err
	}
	conf.RedirectURL = "http://" + l.Addr().String() + cfg.CallbackPath

	state := rand.Text() // crypto/rand, 26 base32 characters = 130 bits
	opts := slices.Clone(cfg.AuthCodeOptions)
	var verifier string
	if cfg.PKCE {
		verifier = oauth2.GenerateVerifier()
		opts = append(opts, oauth2.S256ChallengeOption(verifier))
	}
	authURL := conf.AuthCodeURL(state, opts...)

	results := make(chan callbackResult, 1)
	srv := &http.Server{
		Handler:           newCallbackHandler(cfg.CallbackPath, state, results),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() { _ = srv.Serve(l) }()
	defer func() {
		// Shutdown lets the callback's page finish, then closes the listener.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		if srv.Shutdown(sctx) != nil {
			_ = srv.Close()
		}
	}()

	wctx, cancel := context.WithTimeoutCause(ctx, cfg.Timeout, errTimedOut)
	defer cancel()
	if cfg.Ready != nil {
		cfg.Ready(authURL)
	}
	opened := make(chan error, 1)
	go func() { opened <- cfg.Open(authURL) }()
	for {
		select {
		case res := <-results:
			return conf, res.code, verifier, res.err
		case err := <-opened:
			opened = nil
			if err != nil && cfg.Ready == nil {
				return conf, "", "", fmt.Errorf("open the browser: %w", err)
			}
		case <-wctx.Done():
			if ctx.Err() == nil && errors.Is(context.Cause(wctx), errTimedOut) {
				return conf, "", "", fmt.Errorf("%w within %s — click Retry", ErrTimeout, shortDuration(cfg.Timeout))
			}
			return conf, "", "", fmt.Errorf("sign-in cancelled: %w", context.Cause(ctx))
		}
	}
}

// listen binds the loopback listener: 127.0.0.1 only, never another port than asked for.
func listen(ctx context.Context, cfg Config) (net.Listener, error) {
	host, port, err := net.SplitHostPort(cfg.BindAddress)
	if err != nil {
		return nil, fmt.Errorf("bind address %q: %w", cfg.BindAddress, err)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	if host != "127.0.0.1" {
		return nil, fmt.Errorf("bind address %q: the sign-in listener binds to 127.0.0.1 only", cfg.BindAddress)
	}
	addr := net.JoinHostPort(host, port)
	var lc net.ListenConfig
	l, err := lc.Listen(ctx, "tcp4", addr)
	switch {
	case err == nil:
		return l, nil
	case port != "0" && isAddrInUse(err):
		return nil, fmt.Errorf("%w: port %s on 127.0.0.1 is taken by another program — close it or change %s",
			ErrPortInUse, port, cfg.PortSetting)
	case port != "0":
		return nil, fmt.Errorf("cannot listen on %s (check %s): %w", addr, cfg.PortSetting, err)
	default:
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
}

func isAddrInUse(err error) bool {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return false
	}
	const wsaEADDRINUSE = 10048 // Windows
	return errno == syscall.EADDRINUSE || errno == wsaEADDRINUSE
}

// exchange trades the code for a token, with the configured override if any.
func exchange(ctx context.Context, cfg Config, conf oauth2.Config, code, verifier string) (*oauth2.Token, error) {
	ctx, cancel := context.WithTimeout(ctx, exchangeTimeout)
	defer cancel()
	if cfg.HTTPClient != nil {
		ctx = context.WithValue(ctx, oauth2.HTTPClient, cfg.HTTPClient)
	}
	var tok *oauth2.Token
	var err error
	if cfg.Exchange != nil {
		tok, err = cfg.Exchange(ctx, conf, code, verifier)
	} else {
		opts := slices.Clone(cfg.ExchangeOptions)
		if verifier != "" {
			opts = append(opts, oauth2.VerifierOption(verifier))
		}
		tok, err = conf.Exchange(ctx, code, opts...)
	}
	if err != nil {
		return nil, err
	}
	if tok == nil || tok.AccessToken == "" {
		return nil, errors.New("the token reply has no access_token")
	}
	return tok, nil
}

// shortDuration prints 5m rather than 5m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
