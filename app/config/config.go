package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/timebridge/timebridge/sync/connector"
)

// FileName is the config file in the home directory; EnvHome overrides the home directory.
const (
	FileName = "config.json"
	EnvHome  = "TIMEBRIDGE_HOME"
)

// Default values that other packages need as values, not strings.
const (
	DefaultRedirectPort    = 53682 // Bitrix24 handler URL http://127.0.0.1:53682/callback
	DefaultTokenURL        = "https://oauth.bitrix.info/oauth/token/"
	DefaultTD2URL          = "https://api2.timedoctor.com"
	DefaultClassicURL      = "https://webapi.timedoctor.com"
	DefaultTimeLogLoginURL = "https://login.timelog.com"
	DefaultInterval        = 15 * time.Minute
	DefaultRereadDays      = 14
	EditionTD2             = "td2"
	EditionClassic         = "classic"
	TrackerTimeDoctor      = "timedoctor"
	TrackerTimeLog         = "timelog"
	MinInterval            = time.Minute
	MaxInterval            = 24 * time.Hour
	MinRereadDays          = 1
	MaxRereadDays          = 366
)

// Config holds every non-secret setting, typed. Change it with Set, which validates; Save
// also checks fields assigned directly and refuses to write an invalid value. A Config is
// a plain value: callers that share one between goroutines synchronise themselves.
type Config struct {
	Bitrix24   Bitrix24
	Trackers   []string // TrackerTimeDoctor and/or TrackerTimeLog, in that order; empty: none chosen yet
	TimeDoctor TimeDoctor
	TimeLog    TimeLog
	Sync       Sync
	UI         UI

	explicit map[string]bool // keys given in the file or by Set: Save keeps them
}

// Bitrix24 settings. The client secret and the webhook URL are in the keychain.
type Bitrix24 struct {
	Portal       string // origin such as https://example.bitrix24.com, no trailing slash; "" until set
	ClientID     string // local application's client id
	RedirectPort int    // loopback port of the OAuth handler URL; 0 = any free port (unverified)
	TokenURL     string // OAuth token endpoint
	PKCE         bool   // send PKCE S256 (Bitrix24 ignores it; a switch in case it ever rejects it)
}

// TimeDoctor settings. Classic's client secret is in the keychain.
type TimeDoctor struct {
	APIURL   string // "" = the edition's standard URL (see BaseURL); with or without the version path
	Edition  string // EditionTD2 or EditionClassic
	Company  string // company id; "" = chosen automatically when the user has one company
	ClientID string // Classic OAuth client id
}

// BaseURL returns APIURL, or the standard URL of the edition when APIURL is empty.
func (t TimeDoctor) BaseURL() string {
	switch {
	case t.APIURL != "":
		return t.APIURL
	case t.Edition == EditionClassic:
		return DefaultClassicURL
	}
	return DefaultTD2URL
}

// TimeLog settings.
type TimeLog struct {
	APIURL   string // site URL with the account, e.g. https://app5.timelog.com/acme/api; "" until set
	ClientID string // optional: enables TimeLog OAuth
	OAuthURL string // login server: /connect/authorize and /connect/token below it
}

// Sync settings.
type Sync struct {
	Interval       time.Duration // between cycles, MinInterval…MaxInterval
	DefaultProject string        // tracker project for tasks outside any workgroup
	TimeZone       string        // IANA zone name; "" = the Bitrix24 user's zone, else the OS zone
	StartDate      connector.Day // nothing before it is written; zero = Monday of the current week
	RereadDays     int           // days of tracker time re-read every cycle
	Paused         bool          // all writes stopped
}

// Location returns the configured zone, or nil when TimeZone is empty (automatic).
func (s Sync) Location() (*time.Location, error) {
	if s.TimeZone == "" {
		return nil, nil
	}
	return time.LoadLocation(s.TimeZone)
}

// UI settings.
type UI struct {
	Notifications bool // notify on state changes
	Autostart     bool // start hidden in the tray at login
}

// HasTracker reports whether the tracker named name is enabled.
func (c *Config) HasTracker(name string) bool { return slices.Contains(c.Trackers, name) }

// Path returns the config file in home.
func Path(home string) string { return filepath.Join(home, FileName) }

// DefaultHome returns $TIMEBRIDGE_HOME when set (made absolute), else the OS config
// directory + "timebridge" (~/.config/timebridge, ~/Library/Application Support/timebridge,
// %AppData%\timebridge).
func DefaultHome() (string, error) {
	if h := os.Getenv(EnvHome); h != "" {
		abs, err := filepath.Abs(h)
		if err != nil {
			return "", fmt.Errorf("%s=%q: %w", EnvHome, h, err)
		}
		return abs, nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find the config directory (set %s): %w", EnvHome, err)
	}
	return filepath.Join(dir, "timebridge"), nil
}

// Defaults returns a Config with every key at its default.
func Defaults() *Config {
	c := &Config{explicit: map[string]bool{}}
	for _, k := range keys {
		if k.load != nil {
			k.load(c, k.Default)
		}
	}
	return c
}

// Load reads Path(home). A missing file (or home) gives the defaults. A file that cannot
// be read or parsed, an unknown key, a secret key or a bad value gives an *Error naming
// the file and what to do; nothing on disk is changed.
func Load(home string) (*Config, error) {
	path := Path(home)
	c := Defaults()
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if st, serr := os.Stat(home); serr == nil && !st.IsDir() {
			return nil, &Error{File: path, Err: ErrBadFile, msg: fmt.Sprintf("the home directory %s is a file; set %s to a directory", home, EnvHome)}
		}
		return c, nil
	case err != nil:
		return nil, &Error{File: path, Err: err, msg: fmt.Sprintf("cannot read it (%v); check the permissions of %s or set %s", unwrapPath(err), home, EnvHome)}
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return c, nil
	}
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&raw); err != nil || raw == nil {
		return nil, &Error{File: path, Err: ErrBadFile, msg: jsonProblem(data, err) + "; fix the file or delete it to start from the defaults"}
	}
	if dec.More() || dec.InputOffset() < int64(len(bytes.TrimRight(data, " \t\r\n"))) {
		return nil, &Error{File: path, Err: ErrBadFile, msg: "not valid JSON (text after the closing brace); fix the file or delete it to start from the defaults"}
	}
	names := make([]string, 0, len(raw))
	for name := range raw {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		k, ok := lookup(name)
		switch {
		case !ok:
			e := unknownKey(name)
			e.File, e.msg = path, e.msg+"; fix or remove it"
			return nil, e
		case k.Secret:
			return nil, &Error{File: path, Key: name, Err: ErrSecretKey, msg: fmt.Sprintf(
				"%s is a secret and is kept in the OS keychain, never in this file; remove it and run \"timebridge config set %s …\"", name, name)}
		}
		v, err := k.fromJSON(raw[name])
		if err == nil {
			err = c.Set(name, v)
		}
		if err != nil {
			e := asError(name, err)
			e.File, e.msg = path, e.msg+"; fix or remove it"
			return nil, e
		}
	}
	return c, nil
}

func unwrapPath(err error) error {
	if pe, ok := errors.AsType[*os.PathError](err); ok {
		return pe.Err
	}
	return err
}

// jsonProblem describes a decoding error with its line and column.
func jsonProblem(data []byte, err error) string {
	if err == nil {
		return "not a JSON object (null)"
	}
	var off int64 = -1
	if se, ok := errors.AsType[*json.SyntaxError](err); ok {
		off = max(se.Offset-1, 0) // Offset counts the offending byte
	} else if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		return fmt.Sprintf("not a JSON object of settings (found %s at byte %d)", te.Value, te.Offset)
	} else if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		off = int64(len(data))
	}
	if off < 0 {
		return "not valid JSON: " + err.Error()
	}
	line, col := 1, 1
	for _, b := range data[:min(int(off), len(data))] {
		if b == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return fmt.Sprintf("not valid JSON (line %d, column %d: %v)", line, col, err)
}

// Get returns the value of key as `config get` prints it.
func (c *Config) Get(key string) (string, error) {
	k, ok := lookup(key)
	if !ok {
		return "", unknownKey(key)
	}
	if k.Secret {
		return "", secretKeyError(key)
	}
	return k.show(c), nil
}

// Set checks value and assigns it to key; "" resets the key to its default. A secret key
// is checked and then refused with an error wrapping ErrSecretKey: store Check's result
// in the keychain instead.
func (c *Config) Set(key, value string) error {
	k, ok := lookup(key)
	if !ok {
		return unknownKey(key)
	}
	v, err := k.check(value)
	if err != nil {
		return err
	}
	if k.Secret {
		return secretKeyError(key)
	}
	if c.explicit == nil {
		c.explicit = map[string]bool{}
	}
	if strings.TrimSpace(value) == "" {
		v = k.Default
		delete(c.explicit, key)
	} else {
		c.explicit[key] = true
	}
	k.load(c, v)
	return nil
}

// List returns one "key=value" line per key, in table order. Secret keys show
// "(in keychain)" or "(not set)" as secretSet reports, "(keychain unavailable)" when it
// fails; with a nil secretSet they show "(secret)".
func (c *Config) List(secretSet func(key string) (bool, error)) []string {
	lines := make([]string, 0, len(keys))
	for _, k := range keys {
		v := ""
		switch {
		case !k.Secret:
			v = k.show(c)
		case secretSet == nil:
			v = "(secret)"
		default:
			set, err := secretSet(k.Name)
			switch {
			case err != nil:
				v = "(keychain unavailable)"
			case set:
				v = "(in keychain)"
			default:
				v = "(not set)"
			}
		}
		lines = append(lines, k.Name+"="+v)
	}
	return lines
}

// Save writes the keys given in the file or by Set, and every key that differs from its
// default, to Path(home), creating home (0700) if needed. The file is replaced atomically
// with mode 0600; on any error the old file is left as it was.
func (c *Config) Save(home string) error {
	data, err := c.encode()
	if err != nil {
		return err
	}
	path := Path(home)
	if err := os.MkdirAll(home, 0o700); err != nil {
		return &Error{File: path, Err: err, msg: fmt.Sprintf("cannot create the directory (%v)", unwrapPath(err))}
	}
	if err := writeFileAtomic(path, data, os.Rename); err != nil {
		return &Error{File: path, Err: err, msg: fmt.Sprintf("cannot save (%v); the old file is unchanged", unwrapPath(err))}
	}
	return nil
}

// encode renders the file in table order, checking every value it writes.
func (c *Config) encode() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("{")
	n := 0
	for _, k := range keys {
		if k.Secret {
			continue
		}
		v := k.show(c)
		if _, err := k.check(v); err != nil {
			return nil, err
		}
		if !c.explicit[k.Name] && v == k.Default {
			continue
		}
		if n > 0 {
			b.WriteString(",")
		}
		n++
		name, _ := json.Marshal(k.Name)
		fmt.Fprintf(&b, "\n  %s: %s", name, k.toJSON(v))
	}
	if n > 0 {
		b.WriteString("\n")
	}
	b.WriteString("}\n")
	return b.Bytes(), nil
}

// writeFileAtomic writes data to a temporary file next to path, syncs it and renames it
// over path, then syncs the directory. On error the temporary file is removed.
func writeFileAtomic(path string, data []byte, rename func(oldpath, newpath string) error) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	if err = f.Chmod(0o600); err != nil && runtime.GOOS != "windows" {
		return err
	}
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = rename(tmp, path); err != nil {
		return err
	}
	if runtime.GOOS != "windows" {
		if d, derr := os.Open(dir); derr == nil {
			_ = d.Sync()
			_ = d.Close()
		}
	}
	return nil
}

// fromJSON turns a file value into the string Set takes: strings as they are, booleans
// and numbers for keys of those kinds, null for the default.
func (k Key) fromJSON(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	switch {
	case string(raw) == "null":
		return "", nil
	case len(raw) > 0 && raw[0] == '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", err
		}
		if strings.TrimSpace(s) == "" {
			return "", nil
		}
		return s, nil
	case (k.Kind == KindBool && (string(raw) == "true" || string(raw) == "false")) ||
		(k.Kind == KindNumber && len(raw) > 0 && (raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9')):
		return string(raw), nil
	}
	want := "a string"
	switch k.Kind {
	case KindBool:
		want = "true or false"
	case KindNumber:
		want = "a number"
	}
	return "", &Error{Key: k.Name, Err: ErrInvalid, msg: fmt.Sprintf("%s: %s is not %s (allowed: %s)", k.Name, excerpt(string(raw)), want, k.Help)}
}

// toJSON renders a canonical value: booleans and numbers bare, the rest as strings.
func (k Key) toJSON(v string) string {
	if k.Kind == KindBool || k.Kind == KindNumber {
		if _, err := strconv.ParseFloat(v, 64); err == nil || v == "true" || v == "false" {
			return v
		}
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func excerpt(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return s
}
