package bitrix24test

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// TokenPair is an issued access/refresh pair.
type TokenPair struct {
	Access  string
	Refresh string
	Expires time.Time
	UserID  int
}

// IssueToken creates a token pair for a user without the browser flow.
func (s *Server) IssueToken(user int) TokenPair {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issueLocked(user)
}

func (s *Server) issueLocked(user int) TokenPair {
	now := s.Clock.Now()
	p := TokenPair{Access: randHex(70), Refresh: randHex(70), Expires: now.Add(s.opts.AccessTTL), UserID: user}
	s.tokens[p.Access] = &accessToken{user: user, expires: p.Expires}
	s.refr[p.Refresh] = &refreshToken{user: user, expires: now.Add(s.opts.RefreshTTL), access: p.Access}
	return p
}

// AddWebhook creates an incoming webhook for user (default scopes task,
// user_basic, sonet_group) and returns its base URL ending in "/".
func (s *Server) AddWebhook(user int, scopes ...string) string {
	if len(scopes) == 0 {
		scopes = []string{"task", "user_basic", "sonet_group"}
	}
	code := randHex(16)
	s.mu.Lock()
	s.hooks[itoa(user)+"/"+code] = &webhook{user: user, scopes: scopes}
	s.mu.Unlock()
	return s.URL + "/rest/" + itoa(user) + "/" + code + "/"
}

func (s *Server) serveAuth(w http.ResponseWriter, r *http.Request) {
	body := readBody(r)
	idx := s.record(Call{Method: r.URL.Path, HTTP: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Body: string(body)})
	form, _ := url.ParseQuery(r.URL.RawQuery)
	if bf, err := url.ParseQuery(string(body)); err == nil {
		for k, v := range bf {
			form[k] = v
		}
	}
	status := 200
	switch strings.TrimSuffix(r.URL.Path, "/") {
	case "/oauth/authorize":
		status = s.authorize(w, form, false)
	case "/oauth/authorize/allow":
		status = s.authorize(w, form, true)
	case "/oauth/token":
		status = s.token(w, form)
	default:
		status = 404
		htmlPage(w, 404, "Not Found")
	}
	s.setStatus(idx, status, status < 400)
}

func errorPage(w http.ResponseWriter, msg string) int {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(200)
	fmt.Fprintf(w, "<html><body><div class=\"error\">%s</div></body></html>", html.EscapeString(msg))
	return 200
}

func (s *Server) redirectOK(given string) (string, bool) {
	reg := s.opts.RedirectURI
	if given == "" {
		return reg, true
	}
	switch s.opts.RedirectPolicy {
	case "ignore":
		return given, true
	case "host":
		g, err1 := url.Parse(given)
		rg, err2 := url.Parse(reg)
		if err1 != nil || err2 != nil {
			return "", false
		}
		return given, g.Scheme == rg.Scheme && g.Hostname() == rg.Hostname() && g.Path == rg.Path
	}
	return given, given == reg
}

func (s *Server) authorize(w http.ResponseWriter, form url.Values, allow bool) int {
	if s.Faults().AuthorizeFails {
		return errorPage(w, "Application authorization error")
	}
	if form.Get("client_id") != s.opts.ClientID {
		return errorPage(w, "Application not found")
	}
	redir, ok := s.redirectOK(form.Get("redirect_uri"))
	if !ok {
		return errorPage(w, "Wrong redirect_uri")
	}
	if !allow && !s.opts.SkipConsent {
		q := url.Values{"client_id": {form.Get("client_id")}, "state": {form.Get("state")}, "redirect_uri": {redir}}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<html><body><h1>Allow access?</h1><form method="get" action="/oauth/authorize/allow">`)
		for k, v := range q {
			fmt.Fprintf(w, `<input type="hidden" name="%s" value="%s">`, html.EscapeString(k), html.EscapeString(v[0]))
		}
		fmt.Fprintf(w, `<button type="submit">Allow</button></form><a id="allow" href="/oauth/authorize/allow?%s">Allow</a></body></html>`,
			html.EscapeString(q.Encode()))
		return 200
	}
	code := randHex(32)
	s.mu.Lock()
	s.codes[code] = &authCode{user: s.opts.AuthorizeUser, expires: s.Clock.Now().Add(s.opts.CodeTTL), redir: redir}
	s.mu.Unlock()
	authHost, _ := url.Parse(s.AuthURL)
	q := url.Values{"code": {code}, "state": {form.Get("state")}, "domain": {s.Host()}, "member_id": {s.MemberID()},
		"scope": {strings.Join(s.opts.Scopes, ",")}, "server_domain": {authHost.Host}}
	sep := "?"
	if strings.Contains(redir, "?") {
		sep = "&"
	}
	w.Header().Set("Location", redir+sep+q.Encode())
	w.WriteHeader(http.StatusFound)
	return http.StatusFound
}

func (s *Server) oauthErr(w http.ResponseWriter, code, desc string) int {
	writeJSON(w, s.opts.OAuthErrorStatus, map[string]any{"error": code, "error_description": desc})
	return s.opts.OAuthErrorStatus
}

func (s *Server) token(w http.ResponseWriter, form url.Values) int {
	if s.Faults().PaymentRequired {
		return s.oauthErr(w, "PAYMENT_REQUIRED", "Payment required")
	}
	if form.Get("client_id") != s.opts.ClientID || form.Get("client_secret") != s.opts.ClientSecret {
		return s.oauthErr(w, "invalid_client", "Invalid client credentials")
	}
	s.mu.Lock()
	now := s.Clock.Now()
	var pair TokenPair
	switch form.Get("grant_type") {
	case "authorization_code":
		c := s.codes[form.Get("code")]
		switch {
		case c == nil || c.used || s.revoked:
			s.mu.Unlock()
			return s.oauthErr(w, "invalid_grant", "Invalid authorization code")
		case !now.Before(c.expires):
			c.used = true
			s.mu.Unlock()
			return s.oauthErr(w, "expired_token", "The authorization token provided has expired.")
		}
		c.used = true
		pair = s.issueLocked(c.user)
	case "refresh_token":
		rt := s.refr[form.Get("refresh_token")]
		if rt == nil || rt.used || !now.Before(rt.expires) {
			s.mu.Unlock()
			return s.oauthErr(w, "invalid_grant", "Invalid refresh token")
		}
		rt.used = true
		if old := s.tokens[rt.access]; old != nil && !s.opts.OldAccessSurvivesRefresh {
			old.dead = true
		}
		pair = s.issueLocked(rt.user)
	default:
		s.mu.Unlock()
		return s.oauthErr(w, "invalid_request", "Unsupported grant_type")
	}
	s.mu.Unlock()
	authHost, _ := url.Parse(s.AuthURL)
	domain := authHost.Host
	if s.opts.TokenDomain == "portal" {
		domain = s.Host()
	}
	reply := map[string]any{"access_token": pair.Access, "expires_in": int(s.opts.AccessTTL / time.Second),
		"scope": strings.Join(s.opts.Scopes, ","), "domain": domain, "server_endpoint": s.AuthURL + "/rest/",
		"status": "L", "client_endpoint": s.URL + "/rest/", "member_id": s.MemberID(), "user_id": pair.UserID,
		"refresh_token": pair.Refresh}
	if !s.opts.OmitExpires {
		reply["expires"] = pair.Expires.Unix()
	}
	writeJSON(w, 200, reply)
	return 200
}
