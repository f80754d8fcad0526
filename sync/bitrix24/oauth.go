package bitrix24

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/timebridge/timebridge/sync/connector"
	"github.com/timebridge/timebridge/sync/connector/rest"
)

// DefaultTokenURL is Bitrix24's OAuth server (exchange and refresh, spec §1.3).
const DefaultTokenURL = "https://oauth.bitrix.info/oauth/token/"

// OAuthConfig identifies the registered app.
type OAuthConfig struct {
	ClientID     string
	ClientSecret string
	// TokenURL is a setting (never taken from server_domain); default DefaultTokenURL.
	TokenURL string
	// RedirectURI is sent to both endpoints, e.g. "http://127.0.0.1:7000/callback".
	RedirectURI string
	// DisablePKCE stops sending code_challenge (spec §7 Q2).
	DisablePKCE bool
}

func (o OAuthConfig) tokenURL() string {
	if o.TokenURL != "" {
		return o.TokenURL
	}
	return DefaultTokenURL
}

// Token is one OAuth grant as stored in the keychain (spec §1.8).
type Token struct {
	AccessToken    string
	RefreshToken   string
	Expiry         time.Time // from "expires", else now + expires_in
	Scope          string
	Status         string // F, D, T, P, L, S
	MemberID       string // stable portal id
	UserID         string // token owner
	ClientEndpoint string // REST base; the portal host comes from here
	ServerEndpoint string
}

// String never prints the secrets.
func (t Token) String() string {
	return fmt.Sprintf("bitrix24.Token{user %s, portal %s, expires %s}", t.UserID, hostOf(t.ClientEndpoint), t.Expiry.Format(time.RFC3339))
}

// GoString never prints the secrets either.
func (t Token) GoString() string { return t.String() }

func (o OAuthConfig) oauth2(portalURL string) *oauth2.Config {
	return &oauth2.Config{ClientID: o.ClientID, ClientSecret: o.ClientSecret, RedirectURL: o.RedirectURI,
		Endpoint: oauth2.Endpoint{AuthURL: strings.TrimRight(portalURL, "/") + "/oauth/authorize/",
			TokenURL: o.tokenURL(), AuthStyle: oauth2.AuthStyleInParams}}
}

// AuthorizeURL returns the portal's authorize URL (client_id, state,
// response_type, redirect_uri, PKCE S256 unless disabled) and the PKCE verifier
// to keep for Exchange ("" when PKCE is off).
func AuthorizeURL(portalURL string, o OAuthConfig, state string) (authURL, verifier string) {
	var opts []oauth2.AuthCodeOption
	if !o.DisablePKCE {
		verifier = oauth2.GenerateVerifier()
		opts = append(opts, oauth2.S256ChallengeOption(verifier))
	}
	return o.oauth2(portalURL).AuthCodeURL(state, opts...), verifier
}

// Exchange trades an authorization code for a token (POST form to TokenURL).
// The code lives 30 s: a late or reused code gives ErrUnauthorized with
// "authorization expired, retry". now may be nil.
func Exchange(ctx context.Context, hc *http.Client, o OAuthConfig, code, verifier string, now func() time.Time) (Token, error) {
	if hc == nil {
		hc = http.DefaultClient
	}
	if now == nil {
		now = time.Now
	}
	ctx = context.WithValue(ctx, oauth2.HTTPClient, hc)
	var opts []oauth2.AuthCodeOption
	if verifier != "" {
		opts = append(opts, oauth2.VerifierOption(verifier))
	}
	t, err := o.oauth2("").Exchange(ctx, code, opts...)
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			kind := Classify(re.Response.StatusCode, re.ErrorCode, re.ErrorDescription)
			msg := re.ErrorDescription
			if re.ErrorCode == "invalid_grant" || re.ErrorCode == "expired_token" {
				kind, msg = connector.ErrUnauthorized, "authorization expired, retry"
			}
			if re.ErrorCode == "" {
				msg = rest.Excerpt(re.Body, 120)
			}
			return Token{}, &connector.APIError{Service: service, Op: "oauth/token", Status: re.Response.StatusCode,
				Code: re.ErrorCode, Message: msg, Kind: kind}
		}
		if ctx.Err() != nil {
			return Token{}, ctx.Err()
		}
		return Token{}, &connector.APIError{Service: service, Op: "oauth/token", Kind: connector.ErrTransient, Err: err}
	}
	tok := Token{AccessToken: t.AccessToken, RefreshToken: t.RefreshToken}
	str := func(k string) string {
		switch v := t.Extra(k).(type) {
		case string:
			return v
		case float64:
			return strconv.FormatInt(int64(v), 10)
		case json.Number:
			return v.String()
		}
		return ""
	}
	tok.Scope, tok.Status, tok.MemberID, tok.UserID = str("scope"), str("status"), str("member_id"), str("user_id")
	tok.ClientEndpoint, tok.ServerEndpoint = str("client_endpoint"), str("server_endpoint")
	tok.Expiry = expiry(str("expires"), str("expires_in"), now)
	if tok.ClientEndpoint == "" {
		return Token{}, &connector.APIError{Service: service, Op: "oauth/token", Message: "token reply without client_endpoint", Kind: connector.ErrTransient}
	}
	return tok, nil
}

func expiry(expires, expiresIn string, now func() time.Time) time.Time {
	if n, err := strconv.ParseInt(expires, 10, 64); err == nil && n > 0 {
		return time.Unix(n, 0)
	}
	n, _ := strconv.ParseInt(expiresIn, 10, 64)
	if n <= 0 {
		n = 3600
	}
	return now().Add(time.Duration(n) * time.Second)
}

type tokenReply struct {
	AccessToken    string     `json:"access_token"`
	RefreshToken   string     `json:"refresh_token"`
	Expires        FlexInt    `json:"expires"`
	ExpiresIn      FlexInt    `json:"expires_in"`
	Scope          string     `json:"scope"`
	Status         string     `json:"status"`
	ClientEndpoint string     `json:"client_endpoint"`
	ServerEndpoint string     `json:"server_endpoint"`
	MemberID       string     `json:"member_id"`
	UserID         FlexString `json:"user_id"`
	Error          FlexString `json:"error"`
	Desc           string     `json:"error_description"`
}

// refresh renews the pair once for everybody whose call failed with token
// used (single-flight; refresh tokens are single-use). The new pair is stored
// through OnToken before anyone uses it.
func (c *Client) refresh(ctx context.Context, used string) error {
	_, err := c.tokens.Refresh(ctx, used, func(ctx context.Context, old Token) (Token, error) {
		if c.cfg.OAuth == nil || old.RefreshToken == "" {
			return Token{}, &connector.APIError{Service: service, Op: "oauth/token", Message: "access token expired and no refresh token", Kind: connector.ErrUnauthorized}
		}
		tok, err := c.doRefresh(ctx, old)
		if err == nil && c.cfg.OnToken != nil {
			if perr := c.cfg.OnToken(ctx, tok); perr != nil {
				err = fmt.Errorf("bitrix24: storing the refreshed token failed: %w", perr)
			}
		}
		if err != nil {
			c.log.Warn("bitrix24 token refresh failed", "err", err)
			return Token{}, err
		}
		c.log.Info("bitrix24 token refreshed", "expires", tok.Expiry)
		return tok, nil
	})
	return err
}

func (c *Client) doRefresh(ctx context.Context, old Token) (Token, error) {
	o := *c.cfg.OAuth
	form := url.Values{"grant_type": {"refresh_token"}, "client_id": {o.ClientID}, "client_secret": {o.ClientSecret},
		"refresh_token": {old.RefreshToken}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, o.tokenURL(), strings.NewReader(form.Encode()))
	if err != nil {
		return Token{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, raw, err := rest.Do(c.http, req, service, "oauth/token", 1<<20)
	if err != nil {
		return Token{}, err
	}
	var r tokenReply
	if jerr := json.Unmarshal(raw, &r); jerr != nil {
		return Token{}, rest.Malformed(service, "oauth/token", resp.StatusCode, raw, jerr)
	}
	if r.Error != "" || resp.StatusCode != http.StatusOK || r.AccessToken == "" {
		code := string(r.Error)
		kind := Classify(resp.StatusCode, code, r.Desc)
		if strings.EqualFold(code, "invalid_grant") || strings.EqualFold(code, "expired_token") {
			kind = connector.ErrUnauthorized
		}
		return Token{}, &connector.APIError{Service: service, Op: "oauth/token", Status: resp.StatusCode, Code: code,
			Message: r.Desc, Kind: kind}
	}
	tok := Token{AccessToken: r.AccessToken, RefreshToken: r.RefreshToken, Scope: r.Scope, Status: r.Status,
		MemberID: r.MemberID, UserID: string(r.UserID), ClientEndpoint: r.ClientEndpoint, ServerEndpoint: r.ServerEndpoint}
	tok.Expiry = expiry(r.Expires.String(), r.ExpiresIn.String(), c.now)
	if tok.ClientEndpoint == "" {
		tok.ClientEndpoint = old.ClientEndpoint
	}
	if tok.MemberID == "" {
		tok.MemberID = old.MemberID
	}
	return tok, nil
}
