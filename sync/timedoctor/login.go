package timedoctor

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/timebridge/timebridge/sync/connector"
)

// Session is the result of a sign-in. Token is a secret: store it in the
// keychain; Session logs with the token redacted.
type Session struct {
	Token     string
	ExpiresAt time.Time
	CreatedAt time.Time
	User      connector.User
	Companies []Company
}

// LogValue keeps the token out of logs.
func (s Session) LogValue() slog.Value {
	return slog.GroupValue(slog.String("token", "[redacted]"), slog.Time("expiresAt", s.ExpiresAt),
		slog.String("user", s.User.Email), slog.Int("companies", len(s.Companies)))
}

// Company is a company the user belongs to.
type Company struct {
	ID, Name, Role string
	TimeZone       string // company zone (informational)
	UserCount      int
}

// tokenLifetime is assumed when the reply carries no expiry (TD: 6 months).
const tokenLifetime = 180 * 24 * time.Hour

// Login signs in with email, password and, when the account has 2FA, the TOTP
// code ("" first: ErrTOTPRequired says to ask for it). The password is sent once
// and kept nowhere. On success the client uses the new token, picks the user's
// only company when none is configured, and returns the session to store.
// Failures are never retried automatically: ErrBadCredentials carries TD's message.
func (c *Client) Login(ctx context.Context, email, password, totp string) (Session, error) {
	body := map[string]string{"email": strings.TrimSpace(email), "password": password, c.cfg.PermissionKey: "write",
		"deviceId": c.cfg.DeviceID}
	if totp != "" {
		body["totpCode"] = strings.TrimSpace(totp)
	}
	routes := []string{"/api/1.0/authorization/login", "/api/1.0/login"}
	switch c.cfg.LoginRoute {
	case "authorization":
		routes = routes[:1]
	case "login":
		routes = routes[1:]
	}
	var env *envelope
	var err error
	for _, path := range routes {
		env, err = c.call(ctx, request{method: http.MethodPost, path: path, body: body, noAuth: true, noCompany: true})
		var ae *connector.APIError
		if errors.As(err, &ae) && (ae.Status == http.StatusNotFound || ae.Status == http.StatusMethodNotAllowed) {
			continue
		}
		break
	}
	if err != nil {
		var ae *connector.APIError
		if errors.As(err, &ae) && (ae.Status == http.StatusUnauthorized || ae.Status == http.StatusForbidden) {
			text := strings.ToLower(ae.Code + " " + ae.Message)
			kind := ErrBadCredentials
			if totp == "" && (strings.Contains(text, "totp") || strings.Contains(text, "2fa")) {
				kind = ErrTOTPRequired
			}
			ae.Kind = kind
			return Session{}, ae
		}
		return Session{}, err
	}
	var w wireLogin
	if err := c.decode(env, "login", &w); err != nil {
		return Session{}, err
	}
	if strings.EqualFold(string(w.Status), "totpNeeded") {
		return Session{}, &connector.APIError{Service: service, Op: "login", Status: http.StatusOK, Code: "totpNeeded",
			Message: "enter the code from your authenticator app", Kind: ErrTOTPRequired}
	}
	if w.Token == "" {
		return Session{}, &connector.APIError{Service: service, Op: "login", Status: http.StatusOK,
			Message: "the reply has no token", Kind: connector.ErrTransient}
	}
	s := Session{Token: string(w.Token)}
	s.CreatedAt, _ = parseInstant(string(w.CreatedAt))
	var ok bool
	if s.ExpiresAt, ok = parseInstant(string(w.ExpiresAt)); !ok {
		if s.ExpiresAt, ok = parseInstant(string(w.Expires)); !ok {
			s.ExpiresAt = c.cfg.Now().Add(tokenLifetime)
		}
	}
	c.SetToken(s.Token, s.ExpiresAt)
	s.User = connector.User{ID: string(w.ID), Name: string(w.Name), Email: string(w.Email)}
	comps := w.Companies
	if w.ID == "" || len(comps) == 0 {
		a, err := c.authorization(ctx)
		if err != nil {
			return Session{}, err
		}
		s.User = connector.User{ID: string(a.ID), Name: string(a.Name), Email: string(a.Email), TimeZone: zoneOf(string(a.Timezone))}
		comps = a.Companies
	}
	for _, wc := range comps {
		s.Companies = append(s.Companies, Company{ID: string(wc.ID), Name: string(wc.Name), Role: string(wc.Role),
			TimeZone: cmpOr(string(wc.CompanyTimezone), string(wc.Timezone)), UserCount: int(wc.UserCount)})
	}
	c.mu.Lock()
	if c.company == "" && len(s.Companies) == 1 {
		c.company = s.Companies[0].ID
	}
	me := s.User
	c.me = &me
	c.mu.Unlock()
	return s, nil
}

// zoneOf returns name when it is a loadable IANA zone, else "" (TD allows free text).
func zoneOf(name string) string {
	name = strings.TrimSpace(name)
	if name == "" {
		return ""
	}
	if _, err := time.LoadLocation(name); err != nil {
		return ""
	}
	return name
}
