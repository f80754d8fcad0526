package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"golang.org/x/oauth2"
)

// QueryToken makes a token request as GET with every parameter in the query, as Time Doctor
// Classic clients do: params (grant_type, code, redirect_uri or refresh_token) plus conf's
// client_id and client_secret. client nil means the ctx's oauth2.HTTPClient or
// http.DefaultClient. The reply's other fields are reachable with Token.Extra. A refused request
// is an *oauth2.RetrieveError, as from oauth2.Config. Errors never contain the URL (it holds
// the secret).
//
// Use it in Config.Exchange and a RefreshFunc:
//
//	Exchange: func(ctx context.Context, conf oauth2.Config, code, _ string) (*oauth2.Token, error) {
//		return auth.QueryToken(ctx, nil, conf, url.Values{"grant_type": {"authorization_code"},
//			"code": {code}, "redirect_uri": {conf.RedirectURL}})
//	}
func QueryToken(ctx context.Context, client *http.Client, conf oauth2.Config, params url.Values) (*oauth2.Token, error) {
	if client == nil {
		client, _ = ctx.Value(oauth2.HTTPClient).(*http.Client)
	}
	if client == nil {
		client = http.DefaultClient
	}
	u, err := url.Parse(conf.Endpoint.TokenURL)
	if err != nil {
		return nil, errors.New("token URL is not a valid URL")
	}
	q := u.Query()
	for k, v := range params {
		q[k] = v
	}
	q.Set("client_id", conf.ClientID)
	if conf.ClientSecret != "" {
		q.Set("client_secret", conf.ClientSecret)
	}
	u.RawQuery = q.Encode()
	where := u.Scheme + "://" + u.Host + u.Path // for errors: no query
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", where, redactURLError(err))
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", where, redactURLError(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("GET %s: read reply: %w", where, err)
	}
	var raw map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	jsonErr := dec.Decode(&raw)
	str := func(k string) string { s, _ := raw[k].(string); return s }
	if resp.StatusCode < 200 || resp.StatusCode > 299 || str("error") != "" {
		return nil, &oauth2.RetrieveError{Response: resp, Body: body,
			ErrorCode: str("error"), ErrorDescription: str("error_description"), ErrorURI: str("error_uri")}
	}
	if jsonErr != nil {
		return nil, fmt.Errorf("GET %s: the token reply is not JSON", where)
	}
	tok := &oauth2.Token{AccessToken: str("access_token"), TokenType: str("token_type"), RefreshToken: str("refresh_token")}
	if tok.AccessToken == "" {
		return nil, fmt.Errorf("GET %s: the token reply has no access_token", where)
	}
	if secs := number(raw["expires_in"]); secs > 0 {
		tok.ExpiresIn = secs
		tok.Expiry = time.Now().Add(time.Duration(secs) * time.Second)
	}
	return tok.WithExtra(raw), nil
}

// number reads a JSON number that may come as a string.
func number(v any) int64 {
	switch n := v.(type) {
	case json.Number:
		i, _ := n.Int64()
		return i
	case string:
		i, _ := strconv.ParseInt(n, 10, 64)
		return i
	}
	return 0
}

// redactURLError drops the URL (with its client_secret) from a *url.Error.
func redactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
