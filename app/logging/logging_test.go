package logging

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRedact(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, want string }{
		{"plain", "nothing secret here: code=3 status=401", "nothing secret here: code=3 status=401"},
		{"auth param", "GET https://p.bitrix24.com/rest/user.current?auth=abc123&x=1", "GET https://p.bitrix24.com/rest/user.current?auth=[redacted]&x=1"},
		{"access_token", "?access_token=tok.en-1&_format=json", "?access_token=[redacted]&_format=json"},
		{"refresh_token form", "grant_type=refresh_token&refresh_token=r3fr3sh&client_id=app.1", "grant_type=refresh_token&refresh_token=[redacted]&client_id=app.1"},
		{"token param", "/api/1.0/users?token=abcdef&company=C1", "/api/1.0/users?token=[redacted]&company=C1"},
		{"client_secret", "client_id=x&client_secret=S3CR3T", "client_id=x&client_secret=[redacted]"},
		{"password", "email=a@b.c&password=hunter2 sent", "email=a@b.c&password=[redacted] sent"},
		{"oauth code", "/callback?code=avmocpghblyi01m3h42bljvqtyd19sw1&state=xyz", "/callback?code=[redacted]&state=xyz"},
		{"short code kept", "exit code=3", "exit code=3"},
		{"bearer header", "Authorization: Bearer eyJhbGciOi.J9x-y_z", "Authorization: Bearer [redacted]"},
		{"jwt header", "authorization: JWT 0123456789abcdef", "authorization: JWT [redacted]"},
		{"basic header", "Authorization: Basic dXNlcjpwYXNz", "Authorization: Basic [redacted]"},
		{"bare token header", "Authorization=tok123456", "Authorization=[redacted]"},
		{"header in dump", `map[Authorization:[Bearer abc.def]]`, `map[Authorization:[Bearer [redacted]]]`},
		{"header colon redacted", "Authorization: [redacted]", "Authorization: [redacted]"},
		{"proxy header", "Proxy-Authorization: Basic Zm9vOmJhcg==", "Proxy-Authorization: Basic [redacted]"},
		{"scheme only kept", "Authorization: Bearer", "Authorization: Bearer"},
		{"bare bearer", "sent Bearer abcdefghijkl to", "sent Bearer [redacted] to"},
		{"jwt prose kept", "a JWT token", "a JWT token"},
		{"webhook", "https://example.bitrix24.com/rest/1/8g9l071eismy9q2l/user.current.json", "https://example.bitrix24.com/rest/1/[redacted]/user.current.json"},
		{"webhook bare", "https://example.bitrix24.com/rest/15/8g9l071eismy9q2l", "https://example.bitrix24.com/rest/15/[redacted]"},
		{"rest method kept", "https://p.bitrix24.com/rest/tasks.task.list", "https://p.bitrix24.com/rest/tasks.task.list"},
		{"json", `{"access_token":"a.b.c","expires_in":3600,"refresh_token" : "r\"1","scope":"task"}`, `{"access_token":"[redacted]","expires_in":3600,"refresh_token" : "[redacted]","scope":"task"}`},
		{"json token_type kept", `{"token_type":"bearer"}`, `{"token_type":"bearer"}`},
		{"json auth", `{"cmd":{},"auth":"xyz"}`, `{"cmd":{},"auth":"[redacted]"}`},
		{"escaped json", `body "{\"token\":\"abc\",\"id\":1}"`, `body "{\"token\":\"[redacted]\",\"id\":1}"`},
		{"url password", "https://user:pa55@host/x", "https://user:[redacted]@host/x"},
		{"idempotent", "auth=[redacted]&x", "auth=[redacted]&x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Redact(tt.in); got != tt.want {
				t.Errorf("Redact(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
			if got := Redact(tt.want); got != tt.want {
				t.Errorf("Redact is not idempotent on %q: %q", tt.want, got)
			}
		})
	}
}

func TestSecretKey(t *testing.T) {
	t.Parallel()
	for key, want := range map[string]bool{
		"token": true, "access_token": true, "refreshToken": true, "AccessToken": true, "client_secret": true,
		"password": true, "bitrix24.webhook": true, "webhook_url": true, "auth": true, "Authorization": true,
		"cookie": true, "api_key": false, "apikey": true, "td_token": true, "tokens": true,
		"token_expiry": false, "token_url": false, "token_type": false, "author": false, "code": false,
		"user": false, "url": false, "msg": false, "status": false, "": false,
	} {
		if got := secretKey(key); got != want {
			t.Errorf("secretKey(%q) = %v, want %v", key, got, want)
		}
	}
}

type tokenPair struct {
	AccessToken string `json:"access_token"`
	Refresh     string `json:"refresh_token"`
	Scope       string
}

type stringer struct{ s string }

func (s stringer) String() string { return s.s }

type stringerPtr struct{ s string }

func (p *stringerPtr) String() string { return p.s }

type valuer struct{ s string }

func (v valuer) LogValue() slog.Value { return slog.StringValue("token=" + v.s) }

// TestPlantedSecretNeverLogged logs a secret in every form the app might and scans the
// log file and stderr for it.
func TestPlantedSecretNeverLogged(t *testing.T) {
	t.Parallel()
	const s = "PLANTEDs3cr3tV4lue"
	home := t.TempDir()
	var stderr bytes.Buffer
	log, closer, err := New(home, slog.LevelDebug, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse("https://user:" + s + "@p.bitrix24.com/rest/3/" + s + "/user.current?auth=" + s)
	h := http.Header{"Authorization": {"Bearer " + s}}
	log.Info("GET https://p.bitrix24.com/rest/task.list?auth=" + s)
	log.Debug("webhook https://p.bitrix24.com/rest/1/" + s + "/")
	log.Warn("refresh failed", "err", fmt.Errorf("exchange: %w", errors.New("POST /oauth/token/ refresh_token="+s)))
	log.Info("attrs",
		"token", s, "access_token", s, "refreshToken", s, "client_secret", s, "password", s,
		"bitrix24.webhook", "https://p.bitrix24.com/rest/1/"+s+"/", "auth", s, "Authorization", "JWT "+s,
		"code", s+"lowercase", "url", u, "urlv", *u, "header", h, "pair", tokenPair{s, s, "task"},
		"bytes", []byte("password="+s), "stringer", stringer{"token=" + s}, "valuer", valuer{s},
		"excerpt", `{"access_token":"`+s+`","expires_in":3600}`, "int_token", 42,
		slog.Group("auth", "value", s), slog.Group("req", "headers", h, slog.Group("token", "a", s)),
	)
	var nilErr *os.PathError
	log.Info("nil error", "err", error(nilErr), "st", (*stringerPtr)(nil))
	log.With("secret", s).WithGroup("g").Error("with", "password", s, "ok", "visible")
	log.Info(fmt.Sprintf("%v", map[string]string{"Authorization": "Bearer " + s}))
	if err := closer.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(home, "logs", "timebridge.log"))
	if err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{"log file": string(data), "stderr": stderr.String()} {
		if strings.Contains(out, s) {
			for line := range strings.Lines(out) {
				if strings.Contains(line, s) {
					t.Errorf("%s leaks the secret: %s", name, line)
				}
			}
		}
		if !strings.Contains(out, "visible") || !strings.Contains(out, "[redacted]") {
			t.Errorf("%s lacks the expected lines:\n%s", name, out)
		}
	}
	// The file holds JSON lines that keep non-secret facts.
	for line := range strings.Lines(string(data)) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not a JSON line: %q", line)
		}
	}
	if !strings.Contains(string(data), `"int_token":"[redacted]"`) || !strings.Contains(string(data), `Scope\":\"task`) {
		t.Errorf("unexpected log content:\n%s", data)
	}
}

func TestLevelsAndPermissions(t *testing.T) {
	t.Parallel()
	home := filepath.Join(t.TempDir(), "home")
	log, closer, err := New(home, slog.LevelWarn, nil)
	if err != nil {
		t.Fatal(err)
	}
	log.Info("hidden")
	log.Warn("shown", "code", "QUERY_LIMIT_EXCEEDED_TWICE")
	_ = closer.Close()
	data, _ := os.ReadFile(filepath.Join(Dir(home), FileName))
	if strings.Contains(string(data), "hidden") || !strings.Contains(string(data), "QUERY_LIMIT_EXCEEDED_TWICE") {
		t.Errorf("log = %s", data)
	}
	for path, want := range map[string]os.FileMode{Dir(home): 0o700, filepath.Join(Dir(home), FileName): 0o600} {
		st, err := os.Stat(path)
		if err != nil || st.Mode().Perm() != want {
			t.Errorf("%s: mode %v, %v; want %v", path, st.Mode().Perm(), err, want)
		}
	}
	if err := log.Handler().Handle(t.Context(), slog.NewRecord(time.Time{}, slog.LevelError, "after close", 0)); err == nil {
		t.Error("write after Close succeeded")
	}
	if _, _, err := New("", slog.LevelInfo, nil); err == nil {
		t.Error("New with empty home succeeded")
	}
}

func TestRotation(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	log, closer, err := Open(Options{Home: home, MaxSize: 1000, Keep: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	line := strings.Repeat("x", 100)
	for i := range 100 {
		log.Info(line, "i", i)
	}
	dir := Dir(home)
	names, _ := filepath.Glob(filepath.Join(dir, "*"))
	want := []string{FileName, FileName + ".1", FileName + ".2"}
	if len(names) != len(want) {
		t.Fatalf("files = %v, want %v", names, want)
	}
	last := -1
	for i := len(want) - 1; i >= 0; i-- { // oldest first: .2, .1, current
		data, err := os.ReadFile(filepath.Join(dir, want[i]))
		if err != nil {
			t.Fatal(err)
		}
		if len(data) > 1000 || len(data) == 0 {
			t.Errorf("%s has %d bytes", want[i], len(data))
		}
		for l := range strings.Lines(string(data)) {
			var rec struct{ I int }
			if err := json.Unmarshal([]byte(l), &rec); err != nil {
				t.Fatalf("%s: broken line %q", want[i], l)
			}
			if rec.I != last+1 && last != -1 {
				t.Errorf("%s: line %d follows %d", want[i], rec.I, last)
			}
			last = rec.I
		}
	}
	if last != 99 {
		t.Errorf("last line %d, want 99", last)
	}

	// Reopening appends to the current file and keeps rotating.
	_ = closer.Close()
	log, closer, err = Open(Options{Home: home, MaxSize: 1000, Keep: 2})
	if err != nil {
		t.Fatal(err)
	}
	log.Info("reopened")
	_ = closer.Close()
	data, _ := os.ReadFile(filepath.Join(dir, FileName))
	if !strings.Contains(string(data), "reopened") {
		t.Errorf("after reopen: %s", data)
	}
}
