package logging

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"unicode"
)

// Redacted replaces every secret value.
const Redacted = "[redacted]"

// secretNames are the parameter and field names whose value is a secret in URLs, form
// bodies and JSON: anything ending in token, secret or password, plus auth (Bitrix24's
// access-token parameter), authorization, webhook and API keys.
const secretNames = `[a-z0-9_]*(?:token|secret|password|passwd)|auth|authorization|webhook|api_?key|apikey`

var redactions = []struct {
	re   *regexp.Regexp
	with string
}{
	// URL query and form parameters: access_token=…, auth=…, client_secret=…, token=…
	{regexp.MustCompile(`(?i)\b(` + secretNames + `)=[^&\s"'<>]+`), `${1}=` + Redacted},
	// An OAuth authorization code in a callback URL (codes are long; "code=3" is not one).
	{regexp.MustCompile(`(?i)\b(code)=[A-Za-z0-9._~%+/-]{8,}`), `${1}=` + Redacted},
	// JSON fields: "access_token": "…", also inside an escaped JSON excerpt.
	{regexp.MustCompile(`(?i)"(` + secretNames + `)"(\s*:\s*)"(?:[^"\\]|\\.)*"`), `"${1}"${2}"` + Redacted + `"`},
	{regexp.MustCompile(`(?i)\\"(` + secretNames + `)\\"(\s*:\s*)\\"(?:[^"\\]|\\[^"])*\\"`), `\"${1}\"${2}\"` + Redacted + `\"`},
	// A bare bearer or JWT credential anywhere else.
	{regexp.MustCompile(`(?i)\b(bearer|jwt)(\s+)[A-Za-z0-9\-._~+/]{8,}=*`), `${1}${2}` + Redacted},
	// Bitrix24 incoming webhooks: /rest/<user id>/<secret>/method
	{regexp.MustCompile(`(/rest/\d+/)[^/\s?#"'<>\\]+`), `${1}` + Redacted},
	// Passwords in URLs: scheme://user:password@host
	{regexp.MustCompile(`(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@]+):[^/\s@]+@`), `${1}:` + Redacted + `@`},
}

// Redact scrubs secrets inside s: token, auth, secret and password parameters, JSON fields
// with those names, Authorization headers and bearer/JWT credentials, Bitrix24 webhook
// paths (/rest/<uid>/<secret>/ becomes /rest/<uid>/[redacted]/) and URL passwords.
func Redact(s string) string {
	s = redactHeaders(s)
	for _, r := range redactions {
		s = r.re.ReplaceAllString(s, r.with)
	}
	return s
}

// authHeader matches "Authorization: <word> [<word>]"; the second word is the credential
// when the first is a scheme such as Bearer or JWT.
var authHeader = regexp.MustCompile(`(?i)\b((?:proxy-)?authorization\s*[:=]\s*)(\[?)([^\s,;"'\]]+)(\s+[^\s,;"'\]]+)?`)

var authSchemes = map[string]bool{"bearer": true, "basic": true, "jwt": true, "token": true, "digest": true}

// redactHeaders redacts the credential of Authorization headers (also in a printed
// http.Header, "Authorization:[Bearer …]"), keeping the scheme.
func redactHeaders(s string) string {
	return authHeader.ReplaceAllStringFunc(s, func(m string) string {
		g := authHeader.FindStringSubmatch(m)
		prefix, bracket, first, second := g[1], g[2], g[3], g[4]
		if strings.HasPrefix(bracket+first, Redacted[:len(Redacted)-1]) {
			return m
		}
		if !authSchemes[strings.ToLower(first)] {
			return prefix + bracket + Redacted + second
		}
		cred := strings.TrimLeft(second, " \t")
		if cred == "" || strings.HasPrefix(cred, Redacted[:len(Redacted)-1]) {
			return m
		}
		return prefix + bracket + first + second[:len(second)-len(cred)] + Redacted
	})
}

// ReplaceAttr is a slog.HandlerOptions.ReplaceAttr that redacts attributes whose key (or
// group) names a secret and scrubs every string, error, URL and message with Redact.
func ReplaceAttr(groups []string, a slog.Attr) (out slog.Attr) {
	defer func() {
		if recover() != nil { // e.g. a nil pointer whose Error or String method panics
			out = slog.String(a.Key, "!PANIC while redacting")
		}
	}()
	if len(groups) == 0 && (a.Key == slog.TimeKey || a.Key == slog.LevelKey || a.Key == slog.SourceKey) {
		return a
	}
	if secretKey(a.Key) || isOAuthCode(a) || secretGroup(groups) {
		return slog.String(a.Key, Redacted)
	}
	a.Value = redactValue(a.Value)
	return a
}

func secretGroup(groups []string) bool {
	for _, g := range groups {
		if secretKey(g) {
			return true
		}
	}
	return false
}

// isOAuthCode reports a "code" attribute that holds an OAuth code, not an error code like
// QUERY_LIMIT_EXCEEDED or an HTTP status.
func isOAuthCode(a slog.Attr) bool {
	if !strings.EqualFold(a.Key, "code") || a.Value.Kind() != slog.KindString {
		return false
	}
	v := a.Value.String()
	return len(v) >= 16 && strings.ToUpper(v) != v
}

func redactValue(v slog.Value) slog.Value {
	switch v.Kind() {
	case slog.KindString:
		return slog.StringValue(Redact(v.String()))
	case slog.KindAny:
	default:
		return v
	}
	if rv := reflect.ValueOf(v.Any()); !rv.IsValid() || (rv.Kind() == reflect.Pointer && rv.IsNil()) {
		return v // nil: the handler writes null or <nil>
	}
	switch x := v.Any().(type) {
	case error:
		return slog.StringValue(Redact(x.Error()))
	case *url.URL:
		return slog.StringValue(Redact(x.Redacted()))
	case url.URL:
		return slog.StringValue(Redact(x.Redacted()))
	case []byte:
		return slog.StringValue(Redact(string(x)))
	case fmt.Stringer:
		s := x.String()
		if r := Redact(s); r != s {
			return slog.StringValue(r)
		}
		return v
	}
	// Structs, maps, slices: check them as the JSON handler would write them.
	b, err := json.Marshal(v.Any())
	if err != nil {
		s := fmt.Sprint(v.Any())
		if r := Redact(s); r != s {
			return slog.StringValue(r)
		}
		return v
	}
	if r := Redact(string(b)); r != string(b) {
		return slog.StringValue(r)
	}
	return v
}

// secretWords mark a key as secret wherever they appear in it.
var secretWords = map[string]bool{
	"secret": true, "secrets": true, "password": true, "passwd": true, "pwd": true, "webhook": true,
	"auth": true, "authorization": true, "cookie": true, "credential": true, "credentials": true,
	"apikey": true, "jwt": true, "bearer": true, "totp": true, "otp": true, "passcode": true,
}

// tokenFacts are last words that make a token key a fact about the token, not the token.
var tokenFacts = map[string]bool{
	"expiry": true, "expires": true, "expiresat": true, "expiresin": true, "type": true, "mode": true,
	"count": true, "len": true, "length": true, "url": true, "endpoint": true, "valid": true, "ok": true,
}

// secretKey reports whether an attribute key names a secret: token, access_token,
// refreshToken, client_secret, password, bitrix24.webhook, Authorization… but not
// token_expiry, token_url or author.
func secretKey(key string) bool {
	words := splitWords(key)
	token := false
	for _, w := range words {
		if secretWords[w] {
			return true
		}
		if strings.HasSuffix(w, "token") || strings.HasSuffix(w, "secret") || strings.HasSuffix(w, "password") || w == "tokens" {
			token = true
		}
	}
	return token && !tokenFacts[words[len(words)-1]]
}

// splitWords splits "bitrix24.accessToken_type" into [bitrix24 access token type].
func splitWords(key string) []string {
	var words []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			words = append(words, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	rs := []rune(key)
	for i, r := range rs {
		switch {
		case !unicode.IsLetter(r) && !unicode.IsDigit(r):
			flush()
			continue
		case unicode.IsUpper(r) && i > 0 && (unicode.IsLower(rs[i-1]) || (i+1 < len(rs) && unicode.IsLower(rs[i+1]) && unicode.IsUpper(rs[i-1]))):
			flush()
		}
		cur = append(cur, r)
	}
	flush()
	if len(words) == 0 {
		return []string{""}
	}
	return words
}
