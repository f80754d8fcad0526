package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // zone names validate on machines without a zoneinfo database (Windows)

	"github.com/timebridge/timebridge/sync/connector"
)

// Kind is the type of a key's value, for the settings window and the JSON file.
type Kind int

// Kinds of values.
const (
	KindText     Kind = iota // free text or an id
	KindURL                  // https URL (http for loopback hosts)
	KindBool                 // true or false (also accepts yes/no, on/off, 1/0)
	KindNumber               // integer in a range
	KindDuration             // Go duration such as 15m
	KindDate                 // YYYY-MM-DD
	KindZone                 // IANA time zone name
	KindChoice               // one of a few words
	KindList                 // comma-separated words
)

// Key describes one setting: the table that drives Load, Get, Set, List and Save.
type Key struct {
	Name    string // dotted name, e.g. "sync.interval"
	Kind    Kind
	Default string // canonical default value, "" when none
	Help    string // the allowed values, for messages and the settings window
	Secret  bool   // kept in the OS keychain under Name, never in config.json

	check func(string) (string, error) // canonical value, or an *Error
	load  func(*Config, string)        // assign a canonical value
	show  func(*Config) string         // the canonical value of the field
}

// Errors that *Error wraps; match them with errors.Is.
var (
	ErrUnknownKey = errors.New("unknown config key")
	ErrSecretKey  = errors.New("secret setting: it belongs in the OS keychain")
	ErrInvalid    = errors.New("invalid config value")
	ErrBadFile    = errors.New("config file unusable")
)

// Error is a config problem: a one-line message naming the key (and the file, when the
// problem is in it) and what is allowed. Err is one of the sentinels above or an I/O error.
type Error struct {
	File string // the config file, when the problem is in it or in saving it
	Key  string // the key concerned, "" when none
	Err  error
	msg  string
}

func (e *Error) Error() string {
	if e.File != "" {
		return e.File + ": " + e.msg
	}
	return e.msg
}

// Unwrap returns the sentinel or I/O error.
func (e *Error) Unwrap() error { return e.Err }

func asError(key string, err error) *Error {
	if e, ok := errors.AsType[*Error](err); ok {
		c := *e
		return &c
	}
	return &Error{Key: key, Err: ErrInvalid, msg: key + ": " + err.Error()}
}

// Keys returns the table of settings, in the order `config list` prints them.
func Keys() []Key { return slices.Clone(keys) }

// Lookup returns the key named name.
func Lookup(name string) (Key, bool) { return lookup(name) }

// IsSecret reports whether name is a secret setting (kept in the keychain).
func IsSecret(name string) bool {
	k, ok := lookup(name)
	return ok && k.Secret
}

// Check validates value for key and returns its canonical form (trimmed, normalised URL,
// "15m", "true"…); "" is always valid and means the default (for a secret: delete it).
// Messages about secret keys never quote the value.
func Check(key, value string) (string, error) {
	k, ok := lookup(key)
	if !ok {
		return "", unknownKey(key)
	}
	return k.check(value)
}

func lookup(name string) (Key, bool) {
	i := slices.IndexFunc(keys, func(k Key) bool { return k.Name == name })
	if i < 0 {
		return Key{}, false
	}
	return keys[i], true
}

func unknownKey(name string) *Error {
	names := make([]string, len(keys))
	best, bestD := "", 4
	for i, k := range keys {
		names[i] = k.Name
		if d := distance(strings.ToLower(name), k.Name); d < bestD {
			best, bestD = k.Name, d
		}
	}
	hint := ""
	if best != "" {
		hint = fmt.Sprintf(" (did you mean %s?)", best)
	}
	return &Error{Key: name, Err: ErrUnknownKey, msg: fmt.Sprintf("unknown key %q%s; known keys: %s", name, hint, strings.Join(names, ", "))}
}

func secretKeyError(name string) *Error {
	return &Error{Key: name, Err: ErrSecretKey, msg: name + " is a secret: it is kept in the OS keychain, not in " + FileName}
}

// distance is the Levenshtein distance, for "did you mean".
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// keys is the table of settings (design §6, plus bitrix24.token_url and bitrix24.pkce).
var keys = []Key{
	urlKey("bitrix24.portal", "", "the portal address, like https://example.bitrix24.com (no path)", originOnly, func(c *Config) *string { return &c.Bitrix24.Portal }),
	textKey("bitrix24.client_id", "the client id of the Bitrix24 local application, like local.5f1e…", func(c *Config) *string { return &c.Bitrix24.ClientID }),
	secretKey("bitrix24.client_secret", "the client secret of the Bitrix24 local application", checkToken),
	numberKey("bitrix24.redirect_port", DefaultRedirectPort, 0, 65535,
		"a port 1024–65535 of the registered handler URL http://127.0.0.1:<port>/callback (0 = any free port, which Bitrix24 may reject)",
		func(c *Config) *int { return &c.Bitrix24.RedirectPort }),
	urlKey("bitrix24.token_url", DefaultTokenURL, "the OAuth token endpoint, like "+DefaultTokenURL, anyPath, func(c *Config) *string { return &c.Bitrix24.TokenURL }),
	boolKey("bitrix24.pkce", true, func(c *Config) *bool { return &c.Bitrix24.PKCE }),
	secretKey("bitrix24.webhook", "an incoming-webhook URL like https://example.bitrix24.com/rest/1/<code>/", checkWebhook),
	{
		Name: "trackers", Kind: KindList, Help: "timedoctor, timelog or timedoctor,timelog (empty: none)",
		check: checkTrackers,
		load: func(c *Config, v string) {
			c.Trackers = nil
			if v != "" {
				c.Trackers = strings.Split(v, ",")
			}
		},
		show: func(c *Config) string { return strings.Join(c.Trackers, ",") },
	},
	urlKey("timedoctor.api_url", "", "the Time Doctor API URL, with or without the version path (empty: "+DefaultTD2URL+" for td2, "+DefaultClassicURL+" for classic)",
		basePath, func(c *Config) *string { return &c.TimeDoctor.APIURL }),
	choiceKey("timedoctor.edition", EditionTD2, []string{EditionTD2, EditionClassic}, func(c *Config) *string { return &c.TimeDoctor.Edition }),
	textKey("timedoctor.company", "the Time Doctor company id (empty: chosen automatically when you have one company)", func(c *Config) *string { return &c.TimeDoctor.Company }),
	textKey("timedoctor.client_id", "the client id of the Time Doctor Classic OAuth app", func(c *Config) *string { return &c.TimeDoctor.ClientID }),
	secretKey("timedoctor.client_secret", "the client secret of the Time Doctor Classic OAuth app", checkToken),
	urlKey("timelog.api_url", "", "the TimeLog site with your account, like https://app5.timelog.com/<account>/api", accountPath, func(c *Config) *string { return &c.TimeLog.APIURL }),
	textKey("timelog.client_id", "the TimeLog OAuth client id (optional: enables TimeLog OAuth)", func(c *Config) *string { return &c.TimeLog.ClientID }),
	urlKey("timelog.oauth_url", DefaultTimeLogLoginURL, "the TimeLog login server for OAuth, like "+DefaultTimeLogLoginURL, anyPath, func(c *Config) *string { return &c.TimeLog.OAuthURL }),
	{
		Name: "sync.interval", Kind: KindDuration, Default: formatDuration(DefaultInterval), Help: "a duration like 15m (allowed 1m–24h)",
		check: checkInterval,
		load: func(c *Config, v string) {
			d, _ := time.ParseDuration(v)
			c.Sync.Interval = d
		},
		show: func(c *Config) string { return formatDuration(c.Sync.Interval) },
	},
	textKey("sync.default_project", "the tracker project for tasks outside any workgroup", func(c *Config) *string { return &c.Sync.DefaultProject }),
	{
		Name: "sync.time_zone", Kind: KindZone, Help: "an IANA time zone like Europe/Berlin (empty: the Bitrix24 user's zone, else the computer's)",
		check: checkZone,
		load:  func(c *Config, v string) { c.Sync.TimeZone = v },
		show:  func(c *Config) string { return c.Sync.TimeZone },
	},
	{
		Name: "sync.start_date", Kind: KindDate, Help: "a date YYYY-MM-DD from 2000-01-01 to 2099-12-31 (empty: Monday of the current week)",
		check: checkDate,
		load: func(c *Config, v string) {
			c.Sync.StartDate = connector.Day{}
			if v != "" {
				c.Sync.StartDate, _ = connector.ParseDay(v)
			}
		},
		show: func(c *Config) string {
			if c.Sync.StartDate.IsZero() {
				return ""
			}
			return c.Sync.StartDate.String()
		},
	},
	numberKey("sync.reread_days", DefaultRereadDays, MinRereadDays, MaxRereadDays, "a number of days 1–366", func(c *Config) *int { return &c.Sync.RereadDays }),
	boolKey("sync.paused", false, func(c *Config) *bool { return &c.Sync.Paused }),
	boolKey("ui.notifications", true, func(c *Config) *bool { return &c.UI.Notifications }),
	boolKey("ui.autostart", false, func(c *Config) *bool { return &c.UI.Autostart }),
}

// bad returns the *Error for a rejected value of key.
func bad(key, format string, args ...any) *Error {
	return &Error{Key: key, Err: ErrInvalid, msg: key + ": " + fmt.Sprintf(format, args...)}
}

func textKey(name, help string, field func(*Config) *string) Key {
	return Key{
		Name: name, Kind: KindText, Help: help,
		check: func(v string) (string, error) {
			v = strings.TrimSpace(v)
			switch {
			case len(v) > 200:
				return "", bad(name, "%q is longer than 200 characters (allowed: %s)", excerpt(v), help)
			case strings.ContainsFunc(v, isControl):
				return "", bad(name, "%q contains a line break or control character (allowed: %s)", excerpt(v), help)
			}
			return v, nil
		},
		load: func(c *Config, v string) { *field(c) = v },
		show: func(c *Config) string { return *field(c) },
	}
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

func secretKey(name, help string, check func(name, v string) (string, error)) Key {
	return Key{
		Name: name, Kind: KindText, Help: help, Secret: true,
		check: func(v string) (string, error) {
			if strings.TrimSpace(v) == "" {
				return "", nil
			}
			return check(name, v)
		},
	}
}

// checkToken accepts a client secret: trimmed, without spaces or quotes. The value is
// never quoted in the message.
func checkToken(name, v string) (string, error) {
	v = strings.Trim(strings.TrimSpace(v), `"'`)
	if v == "" || strings.ContainsFunc(v, func(r rune) bool { return r <= ' ' || r == 0x7f }) || len(v) > 1000 {
		return "", bad(name, "the value (not shown) must be one word without spaces, at most 1000 characters")
	}
	return v, nil
}

var webhookPath = regexp.MustCompile(`^/rest/([0-9]+)/([A-Za-z0-9_]+)(?:/.*)?$`)

// checkWebhook accepts https://portal/rest/<user id>/<code>/[method] and returns it
// without the method. The value is never quoted in the message.
func checkWebhook(name, v string) (string, error) {
	const want = "must be an incoming-webhook URL like https://example.bitrix24.com/rest/1/<code>/ (the value is not shown)"
	u, err := parseURL(strings.TrimSpace(v))
	if err != nil {
		return "", bad(name, "%s", want)
	}
	if msg := checkScheme(u); msg != "" {
		return "", bad(name, "%s", msg)
	}
	m := webhookPath.FindStringSubmatch(u.Path)
	if m == nil || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", bad(name, "%s", want)
	}
	return u.Scheme + "://" + u.Host + "/rest/" + m[1] + "/" + m[2] + "/", nil
}

func numberKey(name string, def, lo, hi int, help string, field func(*Config) *int) Key {
	port := strings.HasSuffix(name, "_port")
	return Key{
		Name: name, Kind: KindNumber, Default: strconv.Itoa(def), Help: help,
		check: func(v string) (string, error) {
			v = strings.TrimSpace(v)
			if v == "" {
				return "", nil
			}
			n, err := strconv.Atoi(v)
			if err != nil || n < lo || n > hi || (port && n != 0 && n < 1024) {
				return "", bad(name, "%q is not %s", excerpt(v), help)
			}
			return strconv.Itoa(n), nil
		},
		load: func(c *Config, v string) { *field(c), _ = strconv.Atoi(v) },
		show: func(c *Config) string { return strconv.Itoa(*field(c)) },
	}
}

func boolKey(name string, def bool, field func(*Config) *bool) Key {
	return Key{
		Name: name, Kind: KindBool, Default: strconv.FormatBool(def), Help: "true or false",
		check: func(v string) (string, error) {
			switch strings.ToLower(strings.TrimSpace(v)) {
			case "":
				return "", nil
			case "true", "yes", "on", "1":
				return "true", nil
			case "false", "no", "off", "0":
				return "false", nil
			}
			return "", bad(name, "%q is not true or false", excerpt(v))
		},
		load: func(c *Config, v string) { *field(c) = v == "true" },
		show: func(c *Config) string { return strconv.FormatBool(*field(c)) },
	}
}

func choiceKey(name, def string, allowed []string, field func(*Config) *string) Key {
	help := strings.Join(allowed, " or ")
	return Key{
		Name: name, Kind: KindChoice, Default: def, Help: help,
		check: func(v string) (string, error) {
			v = strings.ToLower(strings.TrimSpace(v))
			if v != "" && !slices.Contains(allowed, v) {
				return "", bad(name, "%q is not allowed; use %s", excerpt(v), help)
			}
			return v, nil
		},
		load: func(c *Config, v string) { *field(c) = v },
		show: func(c *Config) string { return *field(c) },
	}
}

func checkTrackers(v string) (string, error) {
	const name, help = "trackers", "timedoctor, timelog or timedoctor,timelog"
	var got []string
	for part := range strings.SplitSeq(v, ",") {
		part = strings.ToLower(strings.TrimSpace(part))
		switch {
		case part == "" && strings.TrimSpace(v) == "":
			continue
		case part != TrackerTimeDoctor && part != TrackerTimeLog:
			return "", bad(name, "%q is not allowed; use %s", excerpt(strings.TrimSpace(v)), help)
		case slices.Contains(got, part):
			return "", bad(name, "%q names %s twice; use %s", excerpt(strings.TrimSpace(v)), part, help)
		}
		got = append(got, part)
	}
	slices.Sort(got) // "timedoctor" < "timelog"
	return strings.Join(got, ","), nil
}

func checkInterval(v string) (string, error) {
	const name = "sync.interval"
	v = strings.TrimSpace(v)
	if v == "" {
		return "", nil
	}
	d, err := time.ParseDuration(v)
	switch {
	case err != nil:
		return "", bad(name, "%q is not a duration like 15m (allowed 1m–24h)", excerpt(v))
	case d < MinInterval || d > MaxInterval:
		return "", bad(name, "%q is outside the allowed 1m–24h", excerpt(v))
	case d%time.Second != 0:
		return "", bad(name, "%q is not a whole number of seconds (allowed 1m–24h)", excerpt(v))
	}
	return formatDuration(d), nil
}

// formatDuration writes 15m, 1h, 1h30m, 2m30s rather than 15m0s.
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func checkZone(v string) (string, error) {
	const name = "sync.time_zone"
	v = strings.TrimSpace(v)
	if v == "" {
		return "", nil
	}
	if v == "Local" {
		return "", bad(name, `"Local" is not allowed; leave it empty for the automatic zone or use an IANA time zone like Europe/Berlin`)
	}
	if _, err := time.LoadLocation(v); err != nil {
		return "", bad(name, "%q is not an IANA time zone like Europe/Berlin or UTC (empty: automatic)", excerpt(v))
	}
	return v, nil
}

func checkDate(v string) (string, error) {
	const name = "sync.start_date"
	v = strings.TrimSpace(v)
	if v == "" {
		return "", nil
	}
	d, err := connector.ParseDay(v)
	if err != nil || len(v) != len("2006-01-02") {
		return "", bad(name, "%q is not a date YYYY-MM-DD like 2026-01-05", excerpt(v))
	}
	if d.Year < 2000 || d.Year > 2099 {
		return "", bad(name, "%q is outside 2000-01-01 to 2099-12-31", excerpt(v))
	}
	return d.String(), nil
}

// URL path rules.
const (
	originOnly  = iota // no path
	basePath           // any path; trailing slash removed
	accountPath        // a path is required; trailing slash removed
	anyPath            // any path, kept as it is
)

func urlKey(name, def, help string, pathRule int, field func(*Config) *string) Key {
	return Key{
		Name: name, Kind: KindURL, Default: def, Help: help,
		check: func(v string) (string, error) { return checkURL(name, v, help, pathRule) },
		load:  func(c *Config, v string) { *field(c) = v },
		show:  func(c *Config) string { return *field(c) },
	}
}

// parseURL parses an absolute URL; a bare host such as example.bitrix24.com gets https://.
func parseURL(v string) (*url.URL, error) {
	if !strings.Contains(v, "://") {
		v = "https://" + v
	}
	u, err := url.Parse(v)
	if err != nil {
		return nil, err
	}
	if u.Host == "" || u.Hostname() == "" {
		return nil, errors.New("no host")
	}
	return u, nil
}

// checkScheme allows https anywhere and http on loopback hosts only.
func checkScheme(u *url.URL) string {
	switch strings.ToLower(u.Scheme) {
	case "https":
		return ""
	case "http":
		if isLoopback(u.Hostname()) {
			return ""
		}
		return "plain http is only allowed for loopback hosts (127.0.0.1, localhost, ::1); use https"
	}
	return fmt.Sprintf("the scheme %q is not allowed; use https (http only for loopback hosts)", excerpt(u.Scheme))
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func checkURL(name, v, help string, pathRule int) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", nil
	}
	u, err := parseURL(v)
	if err != nil {
		return "", bad(name, "%q is not a URL (allowed: %s)", excerpt(v), help)
	}
	if msg := checkScheme(u); msg != "" {
		return "", bad(name, "%s", msg)
	}
	switch {
	case u.User != nil:
		return "", bad(name, "the URL must not contain a user name or password")
	case u.RawQuery != "" || u.Fragment != "" || u.ForceQuery:
		return "", bad(name, "%q must not have a query (?…) or fragment (#…) (allowed: %s)", excerpt(u.Redacted()), help)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return "", bad(name, "%q has a bad port (allowed: %s)", excerpt(v), help)
		}
	}
	u.Scheme = strings.ToLower(u.Scheme)
	u.Host = strings.ToLower(u.Host)
	path := u.EscapedPath()
	switch pathRule {
	case originOnly:
		if strings.Trim(path, "/") != "" {
			return "", bad(name, "%q has a path; give only %s", excerpt(v), help)
		}
		path = ""
	case basePath:
		path = strings.TrimRight(path, "/")
	case accountPath:
		path = strings.TrimRight(path, "/")
		if path == "" {
			return "", bad(name, "%q has no account path; use %s", excerpt(v), help)
		}
	}
	return u.Scheme + "://" + u.Host + path, nil
}
