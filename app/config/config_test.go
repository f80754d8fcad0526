package config

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/timebridge/timebridge/sync/connector"
)

func TestDefaults(t *testing.T) {
	t.Parallel()
	c := Defaults()
	want := Config{
		Bitrix24:   Bitrix24{RedirectPort: 53682, TokenURL: "https://oauth.bitrix.info/oauth/token/", PKCE: true},
		TimeDoctor: TimeDoctor{Edition: "td2"},
		TimeLog:    TimeLog{OAuthURL: "https://login.timelog.com"},
		Sync:       Sync{Interval: 15 * time.Minute, RereadDays: 14},
		UI:         UI{Notifications: true},
	}
	c.explicit = nil
	if !equal(*c, want) {
		t.Errorf("Defaults() = %+v\nwant %+v", *c, want)
	}
	if c.TimeDoctor.BaseURL() != DefaultTD2URL {
		t.Errorf("BaseURL = %q", c.TimeDoctor.BaseURL())
	}
	if loc, err := c.Sync.Location(); loc != nil || err != nil {
		t.Errorf("Location = %v, %v", loc, err)
	}
}

func equal(a, b Config) bool {
	a.explicit, b.explicit = nil, nil
	return slices.Equal(a.Trackers, b.Trackers) && a.Bitrix24 == b.Bitrix24 && a.TimeDoctor == b.TimeDoctor &&
		a.TimeLog == b.TimeLog && a.Sync == b.Sync && a.UI == b.UI
}

func TestTableMatchesDesign(t *testing.T) {
	t.Parallel()
	want := []string{
		"bitrix24.portal", "bitrix24.client_id", "bitrix24.client_secret", "bitrix24.redirect_port",
		"bitrix24.token_url", "bitrix24.pkce", "bitrix24.webhook", "trackers", "timedoctor.api_url",
		"timedoctor.edition", "timedoctor.company", "timedoctor.client_id", "timedoctor.client_secret",
		"timelog.api_url", "timelog.client_id", "timelog.oauth_url", "sync.interval", "sync.default_project", "sync.time_zone",
		"sync.start_date", "sync.reread_days", "sync.paused", "ui.notifications", "ui.autostart",
	}
	var got, secret []string
	for _, k := range Keys() {
		got = append(got, k.Name)
		if k.Secret {
			secret = append(secret, k.Name)
		}
		if k.Help == "" {
			t.Errorf("%s has no help", k.Name)
		}
		if v, err := Check(k.Name, k.Default); err != nil || v != k.Default {
			t.Errorf("%s: default %q is not canonical: %q, %v", k.Name, k.Default, v, err)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("keys = %v\nwant %v", got, want)
	}
	if !slices.Equal(secret, []string{"bitrix24.client_secret", "bitrix24.webhook", "timedoctor.client_secret"}) {
		t.Errorf("secret keys = %v", secret)
	}
	if !IsSecret("bitrix24.webhook") || IsSecret("bitrix24.portal") || IsSecret("nope") {
		t.Error("IsSecret wrong")
	}
}

func TestSetGood(t *testing.T) {
	t.Parallel()
	tests := []struct{ key, in, want string }{
		{"bitrix24.portal", "https://Example.Bitrix24.com/", "https://example.bitrix24.com"},
		{"bitrix24.portal", "example.bitrix24.de", "https://example.bitrix24.de"},
		{"bitrix24.portal", "http://127.0.0.1:8080", "http://127.0.0.1:8080"},
		{"bitrix24.portal", "http://localhost:1", "http://localhost:1"},
		{"bitrix24.portal", "http://[::1]:9000/", "http://[::1]:9000"},
		{"bitrix24.portal", "  https://b24.corp.example:8443  ", "https://b24.corp.example:8443"},
		{"bitrix24.client_id", " local.5f1e2d.12345678 ", "local.5f1e2d.12345678"},
		{"bitrix24.redirect_port", "8765", "8765"},
		{"bitrix24.redirect_port", "0", "0"},
		{"bitrix24.redirect_port", "65535", "65535"},
		{"bitrix24.token_url", "http://127.0.0.1:5000/oauth/token/", "http://127.0.0.1:5000/oauth/token/"},
		{"bitrix24.pkce", "off", "false"},
		{"bitrix24.pkce", "YES", "true"},
		{"trackers", "timedoctor", "timedoctor"},
		{"trackers", "timelog", "timelog"},
		{"trackers", "timelog, TimeDoctor", "timedoctor,timelog"},
		{"timedoctor.api_url", "https://api2.timedoctor.com/api/1.0/", "https://api2.timedoctor.com/api/1.0"},
		{"timedoctor.api_url", "https://api2.timedoctor.com", "https://api2.timedoctor.com"},
		{"timedoctor.edition", "Classic", "classic"},
		{"timedoctor.company", "YiUG_nAeY3kWpnOS", "YiUG_nAeY3kWpnOS"},
		{"timelog.api_url", "https://app5.timelog.com/acme/api/", "https://app5.timelog.com/acme/api"},
		{"timelog.api_url", "http://127.0.0.1:4000/acme", "http://127.0.0.1:4000/acme"},
		{"timelog.client_id", "tb", "tb"},
		{"sync.interval", "15m", "15m"},
		{"sync.interval", "1h", "1h"},
		{"sync.interval", "90m", "1h30m"},
		{"sync.interval", "60s", "1m"},
		{"sync.interval", "24h", "24h"},
		{"sync.interval", "150s", "2m30s"},
		{"sync.default_project", "  Internal  ", "Internal"},
		{"sync.time_zone", "Europe/Berlin", "Europe/Berlin"},
		{"sync.time_zone", "UTC", "UTC"},
		{"sync.start_date", "2026-01-05", "2026-01-05"},
		{"sync.reread_days", "1", "1"},
		{"sync.reread_days", "366", "366"},
		{"sync.paused", "1", "true"},
		{"ui.notifications", "false", "false"},
		{"ui.autostart", "on", "true"},
	}
	for _, tt := range tests {
		c := Defaults()
		if err := c.Set(tt.key, tt.in); err != nil {
			t.Errorf("Set(%s, %q): %v", tt.key, tt.in, err)
			continue
		}
		if got, err := c.Get(tt.key); got != tt.want || err != nil {
			t.Errorf("Set(%s, %q); Get = %q, %v; want %q", tt.key, tt.in, got, err, tt.want)
		}
		if got, err := Check(tt.key, tt.in); got != tt.want || err != nil {
			t.Errorf("Check(%s, %q) = %q, %v", tt.key, tt.in, got, err)
		}
	}
}

func TestSetTypedFields(t *testing.T) {
	t.Parallel()
	c := Defaults()
	for k, v := range map[string]string{
		"trackers": "timelog,timedoctor", "sync.interval": "30m", "sync.start_date": "2026-03-02",
		"sync.time_zone": "America/New_York", "sync.reread_days": "30", "bitrix24.redirect_port": "0",
		"timedoctor.edition": "classic", "ui.notifications": "no",
	} {
		if err := c.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if !slices.Equal(c.Trackers, []string{"timedoctor", "timelog"}) || !c.HasTracker("timelog") {
		t.Errorf("Trackers = %v", c.Trackers)
	}
	if c.Sync.Interval != 30*time.Minute || c.Sync.RereadDays != 30 || c.Bitrix24.RedirectPort != 0 || c.UI.Notifications {
		t.Errorf("Sync = %+v, Bitrix24 = %+v, UI = %+v", c.Sync, c.Bitrix24, c.UI)
	}
	if c.Sync.StartDate != (connector.Day{Year: 2026, Month: 3, Day: 2}) {
		t.Errorf("StartDate = %v", c.Sync.StartDate)
	}
	if loc, err := c.Sync.Location(); err != nil || loc.String() != "America/New_York" {
		t.Errorf("Location = %v, %v", loc, err)
	}
	if c.TimeDoctor.BaseURL() != DefaultClassicURL {
		t.Errorf("classic BaseURL = %q", c.TimeDoctor.BaseURL())
	}
	// "" resets to the default.
	for _, k := range []string{"sync.interval", "trackers", "sync.start_date", "ui.notifications"} {
		if err := c.Set(k, ""); err != nil {
			t.Fatal(err)
		}
	}
	if c.Sync.Interval != DefaultInterval || c.Trackers != nil || !c.Sync.StartDate.IsZero() || !c.UI.Notifications {
		t.Errorf("after reset: %+v", c)
	}
}

func TestSetBad(t *testing.T) {
	t.Parallel()
	tests := []struct{ key, in, want string }{
		{"sync.intervall", "15m", `unknown key "sync.intervall" (did you mean sync.interval?); known keys: bitrix24.portal, bitrix24.client_id,`},
		{"Sync.Interval", "15m", `unknown key "Sync.Interval" (did you mean sync.interval?)`},
		{"colour", "red", `unknown key "colour"; known keys: `},
		{"bitrix24.portal", "http://example.bitrix24.com", "bitrix24.portal: plain http is only allowed for loopback hosts (127.0.0.1, localhost, ::1); use https"},
		{"bitrix24.portal", "http://10.0.0.1", "bitrix24.portal: plain http is only allowed for loopback"},
		{"bitrix24.portal", "ftp://example.com", `bitrix24.portal: the scheme "ftp" is not allowed; use https (http only for loopback hosts)`},
		{"bitrix24.portal", "https://", `bitrix24.portal: "https://" is not a URL (allowed: the portal address, like https://example.bitrix24.com (no path))`},
		{"bitrix24.portal", "https://exa mple.com", `bitrix24.portal: "https://exa mple.com" is not a URL`},
		{"bitrix24.portal", "https://example.bitrix24.com/stream/", `bitrix24.portal: "https://example.bitrix24.com/stream/" has a path; give only the portal address`},
		{"bitrix24.portal", "https://example.bitrix24.com/?x=1", "must not have a query"},
		{"bitrix24.portal", "https://example.bitrix24.com#top", "must not have a query"},
		{"bitrix24.portal", "https://u:p@example.bitrix24.com", "bitrix24.portal: the URL must not contain a user name or password"},
		{"bitrix24.portal", "https://example.com:99999", "has a bad port"},
		{"bitrix24.client_id", "a\nb", "bitrix24.client_id: \"a\\nb\" contains a line break"},
		{"bitrix24.client_id", strings.Repeat("x", 201), "longer than 200 characters"},
		{"bitrix24.redirect_port", "80", `bitrix24.redirect_port: "80" is not a port 1024–65535`},
		{"bitrix24.redirect_port", "65536", `"65536" is not a port`},
		{"bitrix24.redirect_port", "-1", `"-1" is not a port`},
		{"bitrix24.redirect_port", "http", `"http" is not a port`},
		{"bitrix24.token_url", "http://oauth.bitrix.info/oauth/token/", "bitrix24.token_url: plain http is only allowed for loopback hosts"},
		{"bitrix24.pkce", "maybe", `bitrix24.pkce: "maybe" is not true or false`},
		{"trackers", "toggl", `trackers: "toggl" is not allowed; use timedoctor, timelog or timedoctor,timelog`},
		{"trackers", "timedoctor,timedoctor", `trackers: "timedoctor,timedoctor" names timedoctor twice`},
		{"trackers", "timedoctor,", `trackers: "timedoctor," is not allowed`},
		{"trackers", "timedoctor;timelog", `is not allowed`},
		{"timedoctor.api_url", "http://api2.timedoctor.com", "timedoctor.api_url: plain http is only allowed for loopback hosts"},
		{"timedoctor.api_url", "https://api2.timedoctor.com/api/1.0?token=x", "must not have a query"},
		{"timedoctor.edition", "td3", `timedoctor.edition: "td3" is not allowed; use td2 or classic`},
		{"timedoctor.company", "a\tb", "contains a line break or control character"},
		{"timelog.api_url", "https://app5.timelog.com/", `timelog.api_url: "https://app5.timelog.com/" has no account path; use the TimeLog site with your account`},
		{"timelog.api_url", "http://app5.timelog.com/acme/api", "plain http is only allowed"},
		{"sync.interval", "5x", `sync.interval: "5x" is not a duration like 15m (allowed 1m–24h)`},
		{"sync.interval", "15", `sync.interval: "15" is not a duration like 15m`},
		{"sync.interval", "30s", `sync.interval: "30s" is outside the allowed 1m–24h`},
		{"sync.interval", "25h", `"25h" is outside the allowed 1m–24h`},
		{"sync.interval", "-15m", "outside the allowed"},
		{"sync.interval", "90.5s", "not a whole number of seconds"},
		{"sync.default_project", "x\ny", "contains a line break"},
		{"sync.time_zone", "Mars/Olympus", `sync.time_zone: "Mars/Olympus" is not an IANA time zone like Europe/Berlin or UTC (empty: automatic)`},
		{"sync.time_zone", "Local", `sync.time_zone: "Local" is not allowed`},
		{"sync.time_zone", "../../etc/passwd", "is not an IANA time zone"},
		{"sync.start_date", "2026-13-01", `sync.start_date: "2026-13-01" is not a date YYYY-MM-DD like 2026-01-05`},
		{"sync.start_date", "05.01.2026", `is not a date YYYY-MM-DD`},
		{"sync.start_date", "2026-1-5", `is not a date YYYY-MM-DD`},
		{"sync.start_date", "2026-02-30", `is not a date YYYY-MM-DD`},
		{"sync.start_date", "1999-12-31", `sync.start_date: "1999-12-31" is outside 2000-01-01 to 2099-12-31`},
		{"sync.reread_days", "0", `sync.reread_days: "0" is not a number of days 1–366`},
		{"sync.reread_days", "367", `"367" is not a number of days 1–366`},
		{"sync.reread_days", "two", `"two" is not a number`},
		{"sync.reread_days", "1.5", `"1.5" is not a number`},
		{"sync.paused", "paused", `sync.paused: "paused" is not true or false`},
		{"ui.notifications", "2", `ui.notifications: "2" is not true or false`},
		{"ui.autostart", "y", `ui.autostart: "y" is not true or false`},
	}
	for _, tt := range tests {
		c := Defaults()
		before := *c
		err := c.Set(tt.key, tt.in)
		e, ok := errors.AsType[*Error](err)
		if !ok || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Set(%s, %q) = %v\nwant *Error containing %q", tt.key, tt.in, err, tt.want)
			continue
		}
		if strings.Contains(e.Error(), "\n") {
			t.Errorf("Set(%s, %q): message has several lines", tt.key, tt.in)
		}
		if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrUnknownKey) {
			t.Errorf("Set(%s, %q) = %v: neither ErrInvalid nor ErrUnknownKey", tt.key, tt.in, err)
		}
		if !equal(*c, before) {
			t.Errorf("Set(%s, %q) changed the config", tt.key, tt.in)
		}
	}
}

func TestSecretKeys(t *testing.T) {
	t.Parallel()
	const hook = "https://example.bitrix24.com/rest/7/s3cr3tc0de12/user.current.json"
	tests := []struct {
		key, in, want string
		ok            bool
	}{
		{"bitrix24.client_secret", " \"S3CR3Tvalue\" ", "S3CR3Tvalue", true},
		{"bitrix24.client_secret", "two words", "", false},
		{"timedoctor.client_secret", "abc", "abc", true},
		{"bitrix24.webhook", hook, "https://example.bitrix24.com/rest/7/s3cr3tc0de12/", true},
		{"bitrix24.webhook", "http://127.0.0.1:9/rest/1/s3cr3tc0de12", "http://127.0.0.1:9/rest/1/s3cr3tc0de12/", true},
		{"bitrix24.webhook", "http://example.bitrix24.com/rest/1/s3cr3tc0de12/", "", false},
		{"bitrix24.webhook", "https://example.bitrix24.com/rest/user.current?auth=s3cr3tc0de12", "", false},
		{"bitrix24.webhook", "https://example.bitrix24.com/rest/x/s3cr3tc0de12/", "", false},
		{"bitrix24.webhook", "not a url s3cr3tc0de12", "", false},
		{"bitrix24.webhook", "", "", true},
	}
	for _, tt := range tests {
		got, err := Check(tt.key, tt.in)
		if tt.ok != (err == nil) || got != tt.want {
			t.Errorf("Check(%s, %q) = %q, %v", tt.key, tt.in, got, err)
		}
		if err != nil && (strings.Contains(err.Error(), "s3cr3t") || strings.Contains(err.Error(), "S3CR3T") || strings.Contains(err.Error(), "words")) {
			t.Errorf("Check(%s): the message quotes the secret: %v", tt.key, err)
		}
		c := Defaults()
		err = c.Set(tt.key, tt.in)
		if tt.ok && !errors.Is(err, ErrSecretKey) {
			t.Errorf("Set(%s) = %v, want ErrSecretKey", tt.key, err)
		}
		if !tt.ok && !errors.Is(err, ErrInvalid) {
			t.Errorf("Set(%s, bad) = %v, want ErrInvalid", tt.key, err)
		}
		if _, err := c.Get(tt.key); !errors.Is(err, ErrSecretKey) {
			t.Errorf("Get(%s) = %v", tt.key, err)
		}
	}
}

func TestList(t *testing.T) {
	t.Parallel()
	c := Defaults()
	_ = c.Set("bitrix24.portal", "https://example.bitrix24.com")
	lines := c.List(func(key string) (bool, error) {
		switch key {
		case "bitrix24.client_secret":
			return true, nil
		case "bitrix24.webhook":
			return false, nil
		}
		return false, errors.New("locked")
	})
	for _, want := range []string{
		"bitrix24.portal=https://example.bitrix24.com", "bitrix24.client_secret=(in keychain)", "bitrix24.webhook=(not set)",
		"timedoctor.client_secret=(keychain unavailable)", "sync.interval=15m", "sync.time_zone=", "ui.notifications=true",
		"bitrix24.redirect_port=53682", "trackers=",
	} {
		if !slices.Contains(lines, want) {
			t.Errorf("List lacks %q:\n%s", want, strings.Join(lines, "\n"))
		}
	}
	if len(lines) != len(Keys()) || lines[0] != "bitrix24.portal=https://example.bitrix24.com" {
		t.Errorf("List = %v", lines)
	}
	if l := c.List(nil); !slices.Contains(l, "bitrix24.webhook=(secret)") {
		t.Errorf("List(nil) = %v", l)
	}
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	home := filepath.Join(t.TempDir(), "new", "home")
	c, err := Load(home)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(home); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Load created %s", home)
	}
	for k, v := range map[string]string{
		"bitrix24.portal": "https://example.bitrix24.com", "trackers": "timedoctor,timelog", "sync.interval": "30m",
		"sync.start_date": "2026-01-05", "sync.reread_days": "20", "ui.notifications": "false", "sync.paused": "true",
		"timelog.api_url": "https://app5.timelog.com/acme/api", "sync.default_project": `Intern "quoted" ä`,
		"bitrix24.pkce": "true", // explicit, equal to the default: kept
	} {
		if err := c.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Save(home); err != nil {
		t.Fatal(err)
	}
	got, err := Load(home)
	if err != nil {
		t.Fatal(err)
	}
	if !equal(*got, *c) {
		t.Errorf("round trip:\n got %+v\nwant %+v", *got, *c)
	}
	data, _ := os.ReadFile(Path(home))
	want := `{
  "bitrix24.portal": "https://example.bitrix24.com",
  "bitrix24.pkce": true,
  "trackers": "timedoctor,timelog",
  "timelog.api_url": "https://app5.timelog.com/acme/api",
  "sync.interval": "30m",
  "sync.default_project": "Intern \"quoted\" ä",
  "sync.start_date": "2026-01-05",
  "sync.reread_days": 20,
  "sync.paused": true,
  "ui.notifications": false
}
`
	if string(data) != want {
		t.Errorf("file:\n%s\nwant:\n%s", data, want)
	}
	for path, mode := range map[string]os.FileMode{home: 0o700, Path(home): 0o600} {
		st, err := os.Stat(path)
		if err != nil || st.Mode().Perm() != mode {
			t.Errorf("%s: mode %v, %v; want %v", path, st.Mode().Perm(), err, mode)
		}
	}
	// Resetting a key drops it from the file; saving twice leaves no temporary files.
	_ = got.Set("sync.paused", "")
	if err := got.Save(home); err != nil {
		t.Fatal(err)
	}
	data, _ = os.ReadFile(Path(home))
	if strings.Contains(string(data), "sync.paused") {
		t.Errorf("reset key still in file:\n%s", data)
	}
	assertOnlyConfig(t, home)
}

func assertOnlyConfig(t *testing.T, home string) {
	t.Helper()
	entries, _ := os.ReadDir(home)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{FileName}) {
		t.Errorf("files in home: %v, want only %s", names, FileName)
	}
}

func TestLoadFile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, file string
		want       string // "" = loads fine
		is         error
	}{
		{"empty", "", "", nil},
		{"spaces", " \n", "", nil},
		{"empty object", "{}", "", nil},
		{"admin prefill", `{"bitrix24.portal": "https://x.bitrix24.com", "bitrix24.client_id": "local.1", "sync.default_project": "General", "sync.reread_days": "21", "ui.autostart": "yes", "timedoctor.company": null}`, "", nil},
		{"typed values", `{"bitrix24.redirect_port": 8080, "sync.paused": false, "sync.reread_days": 7}`, "", nil},
		{"not json", "portal=x", "config.json: not valid JSON (line 1, column 1: invalid character 'p'", ErrBadFile},
		{"truncated", "{\n \"sync.interval\": \"15m\",\n", "config.json: not valid JSON (line 3, column 1:", ErrBadFile},
		{"trailing", `{} {}`, "text after the closing brace", ErrBadFile},
		{"array", `["sync.interval"]`, "not a JSON object of settings", ErrBadFile},
		{"null", `null`, "not a JSON object (null)", ErrBadFile},
		{"unknown key", `{"sync.intervall": "15m"}`, `config.json: unknown key "sync.intervall" (did you mean sync.interval?); known keys: bitrix24.portal,`, ErrUnknownKey},
		{"secret in file", `{"bitrix24.client_secret": "S3CR3T"}`, `config.json: bitrix24.client_secret is a secret and is kept in the OS keychain, never in this file; remove it and run "timebridge config set bitrix24.client_secret …"`, ErrSecretKey},
		{"bad value", `{"sync.interval": "5x"}`, `config.json: sync.interval: "5x" is not a duration like 15m (allowed 1m–24h); fix or remove it`, ErrInvalid},
		{"bad http", `{"bitrix24.portal": "http://x.bitrix24.com"}`, "config.json: bitrix24.portal: plain http is only allowed for loopback hosts", ErrInvalid},
		{"bool as number", `{"ui.autostart": 1}`, `config.json: ui.autostart: 1 is not true or false (allowed: true or false); fix or remove it`, ErrInvalid},
		{"number as bool", `{"sync.reread_days": true}`, `sync.reread_days: true is not a number`, ErrInvalid},
		{"object value", `{"sync.interval": {"m": 15}}`, `sync.interval: {"m": 15} is not a string`, ErrInvalid},
		{"number out of range", `{"sync.reread_days": 400}`, `sync.reread_days: "400" is not a number of days 1–366`, ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			home := t.TempDir()
			if err := os.WriteFile(Path(home), []byte(tt.file), 0o600); err != nil {
				t.Fatal(err)
			}
			c, err := Load(home)
			if tt.want == "" {
				if err != nil || c == nil {
					t.Fatalf("Load: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, tt.is) || c != nil {
				t.Fatalf("Load = %v\nwant %q (%v)", err, tt.want, tt.is)
			}
			if !strings.HasPrefix(err.Error(), Path(home)+": ") || strings.Contains(err.Error(), "\n") || strings.Contains(err.Error(), "S3CR3T") {
				t.Errorf("message does not start with the file, or has several lines, or leaks: %v", err)
			}
			data, _ := os.ReadFile(Path(home))
			if string(data) != tt.file {
				t.Error("Load changed the file")
			}
			assertOnlyConfig(t, home)
		})
	}
}

func TestLoadValues(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	_ = os.WriteFile(Path(home), []byte(`{"bitrix24.redirect_port": 8080, "sync.paused": true, "sync.reread_days": "7", "trackers": "timelog"}`), 0o600)
	c, err := Load(home)
	if err != nil {
		t.Fatal(err)
	}
	if c.Bitrix24.RedirectPort != 8080 || !c.Sync.Paused || c.Sync.RereadDays != 7 || !slices.Equal(c.Trackers, []string{"timelog"}) {
		t.Errorf("Load = %+v", c)
	}
	if c.Sync.Interval != DefaultInterval || !c.UI.Notifications {
		t.Errorf("missing keys did not take defaults: %+v", c)
	}
}

func TestLoadUnreadableHome(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "home")
	_ = os.WriteFile(file, []byte("x"), 0o600)
	_, err := Load(file)
	if err == nil || !strings.Contains(err.Error(), "config.json") || !errors.Is(err, ErrBadFile) && !strings.Contains(err.Error(), "cannot read") {
		t.Errorf("Load(home is a file) = %v", err)
	}
	// config.json is a directory: reading fails.
	home := t.TempDir()
	_ = os.Mkdir(Path(home), 0o700)
	if _, err := Load(home); err == nil || !strings.Contains(err.Error(), "cannot read it") {
		t.Errorf("Load(config.json is a directory) = %v", err)
	}
	if os.Geteuid() != 0 { // root reads anything
		locked := t.TempDir()
		_ = os.WriteFile(Path(locked), []byte("{}"), 0o600)
		_ = os.Chmod(locked, 0)
		defer os.Chmod(locked, 0o700)
		if _, err := Load(locked); err == nil || !strings.Contains(err.Error(), "permission denied") {
			t.Errorf("Load(unreadable home) = %v", err)
		}
	}
}

func TestSaveFailureKeepsOldFile(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	c := Defaults()
	_ = c.Set("sync.interval", "20m")
	if err := c.Save(home); err != nil {
		t.Fatal(err)
	}
	old, _ := os.ReadFile(Path(home))

	// A failing rename (disk full, crash) leaves the old file and no temporary file.
	err := writeFileAtomic(Path(home), []byte(`{"sync.interval": "1h"}`), func(string, string) error { return errors.New("injected") })
	if err == nil {
		t.Fatal("no error")
	}
	if data, _ := os.ReadFile(Path(home)); string(data) != string(old) {
		t.Errorf("old file changed: %s", data)
	}
	assertOnlyConfig(t, home)

	// An invalid field set directly is refused before anything is written.
	c.Sync.Interval = time.Second
	if err := c.Save(home); !errors.Is(err, ErrInvalid) {
		t.Errorf("Save(invalid) = %v", err)
	}
	c.Sync.Interval = time.Hour
	c.Trackers = []string{"toggl"}
	if err := c.Save(home); !errors.Is(err, ErrInvalid) {
		t.Errorf("Save(bad trackers) = %v", err)
	}
	if data, _ := os.ReadFile(Path(home)); string(data) != string(old) {
		t.Errorf("old file changed: %s", data)
	}

	// Saving where config.json is a directory fails cleanly.
	bad := t.TempDir()
	_ = os.MkdirAll(filepath.Join(Path(bad), "x"), 0o700)
	if err := Defaults().Save(bad); err == nil || !strings.Contains(err.Error(), "the old file is unchanged") {
		t.Errorf("Save over a directory = %v", err)
	}
	entries, _ := os.ReadDir(bad)
	if len(entries) != 1 {
		t.Errorf("temporary file left: %v", entries)
	}
	// Saving under a file fails with a clear error.
	file := filepath.Join(t.TempDir(), "f")
	_ = os.WriteFile(file, nil, 0o600)
	if err := Defaults().Save(filepath.Join(file, "home")); err == nil || !strings.Contains(err.Error(), "cannot create the directory") {
		t.Errorf("Save under a file = %v", err)
	}
}

func TestDefaultHome(t *testing.T) {
	t.Setenv(EnvHome, "rel/home")
	h, err := DefaultHome()
	if err != nil || !filepath.IsAbs(h) || !strings.HasSuffix(h, filepath.Join("rel", "home")) {
		t.Errorf("DefaultHome = %q, %v", h, err)
	}
	t.Setenv(EnvHome, "")
	t.Setenv("XDG_CONFIG_HOME", "/tmp/xdg")
	t.Setenv("HOME", "/tmp/h")
	h, err = DefaultHome()
	if err != nil || filepath.Base(h) != "timebridge" {
		t.Errorf("DefaultHome = %q, %v", h, err)
	}
}
