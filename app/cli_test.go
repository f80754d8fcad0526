package app

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/timebridge/timebridge/sync/store"
)

// runCLI runs the command line in-process with a private home and an in-memory keychain.
func runCLI(t *testing.T, home string, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := Env{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb, Getenv: func(k string) string {
		switch k {
		case "TIMEBRIDGE_HOME":
			return home
		case "TIMEBRIDGE_KEYRING":
			return "memory"
		}
		return ""
	}}
	code = Main(context.Background(), args, env, nil)
	return code, out.String(), errb.String()
}

func TestExitCodes(t *testing.T) {
	cases := []struct {
		name     string
		args     []string
		want     int
		inStderr string
	}{
		{"help", []string{"--help"}, ExitOK, "Usage"},
		{"version", []string{"version"}, ExitOK, ""},
		{"unknown command", []string{"frobnicate"}, ExitUsage, `unknown command "frobnicate"`},
		{"unknown flag", []string{"status", "--bogus"}, ExitUsage, "bogus"},
		{"sync without --once", []string{"sync"}, ExitUsage, "--once"},
		{"sync not configured", []string{"sync", "--once"}, ExitUsage, "bitrix24.portal is not set"},
		{"sync bad resync date", []string{"sync", "--once", "--from", "2026-02-30"}, ExitUsage, "--from"},
		{"authorize unknown service", []string{"authorize", "jira"}, ExitUsage, `unknown service "jira"`},
		{"authorize missing service", []string{"authorize"}, ExitUsage, "wrong number of arguments"},
		{"signout unknown service", []string{"signout", "jira"}, ExitUsage, "unknown service"},
		{"config unknown verb", []string{"config", "frob"}, ExitUsage, "expected list"},
		{"config unknown key", []string{"config", "set", "sync.intervall", "5m"}, ExitUsage, "did you mean sync.interval"},
		{"config bad duration", []string{"config", "set", "sync.interval", "5x"}, ExitUsage, "sync.interval"},
		{"config bad url", []string{"config", "set", "bitrix24.portal", "ht!tp://x"}, ExitUsage, "bitrix24.portal"},
		{"config plain http", []string{"config", "set", "bitrix24.portal", "http://acme.bitrix24.com"}, ExitUsage, "loopback"},
		{"config bad zone", []string{"config", "set", "sync.time_zone", "Mars/Olympus"}, ExitUsage, "sync.time_zone"},
		{"config bad date", []string{"config", "set", "sync.start_date", "2026-13-01"}, ExitUsage, "sync.start_date"},
		{"config bad reread", []string{"config", "set", "sync.reread_days", "400"}, ExitUsage, "sync.reread_days"},
		{"config bad trackers", []string{"config", "set", "trackers", "jira"}, ExitUsage, "trackers"},
		{"demo bad cycles", []string{"demo", "--headless", "--cycles", "0"}, ExitUsage, "--cycles"},
		{"status fresh home", []string{"status"}, ExitOK, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			home := t.TempDir()
			code, _, stderr := runCLI(t, home, "", tc.args...)
			if code != tc.want {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tc.want, stderr)
			}
			if !strings.Contains(stderr, tc.inStderr) {
				t.Fatalf("stderr %q does not mention %q", stderr, tc.inStderr)
			}
			if code == ExitUsage {
				if strings.Count(strings.TrimSpace(stderr), "\n") > 0 && !strings.Contains(stderr, "Usage") {
					t.Fatalf("error is not one line: %q", stderr)
				}
				if _, err := os.Stat(filepath.Join(home, "config.json")); err == nil {
					t.Fatal("a rejected command wrote config.json")
				}
			}
		})
	}
}

func TestConfigSetGetList(t *testing.T) {
	home := t.TempDir()
	if code, _, stderr := runCLI(t, home, "", "config", "set", "sync.interval", "30m"); code != 0 {
		t.Fatalf("set: exit %d: %s", code, stderr)
	}
	if code, out, _ := runCLI(t, home, "", "config", "get", "sync.interval"); code != 0 || strings.TrimSpace(out) != "30m" {
		t.Fatalf("get = %q (exit %d)", out, code)
	}
	before, err := os.ReadFile(filepath.Join(home, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(filepath.Join(home, "config.json")); fi.Mode().Perm() != 0o600 {
		t.Fatalf("config.json mode %v, want 0600", fi.Mode().Perm())
	}
	// A bad value changes nothing on disk.
	if code, _, _ := runCLI(t, home, "", "config", "set", "sync.interval", "0s"); code != ExitUsage {
		t.Fatalf("bad value: exit %d", code)
	}
	after, _ := os.ReadFile(filepath.Join(home, "config.json"))
	if !bytes.Equal(before, after) {
		t.Fatal("a rejected value changed config.json")
	}
	// A secret goes to the keychain, never the file.
	const secret = "s3cr3t-client-value-1234567890"
	if code, _, stderr := runCLI(t, home, "", "config", "set", "bitrix24.client_secret", secret); code != 0 {
		t.Fatalf("set secret: exit %d: %s", code, stderr)
	}
	data, _ := os.ReadFile(filepath.Join(home, "config.json"))
	if bytes.Contains(data, []byte(secret)) {
		t.Fatal("the secret landed in config.json")
	}
	code, out, _ := runCLI(t, home, "", "config", "list")
	if code != 0 || !strings.Contains(out, "sync.interval=30m") || strings.Contains(out, secret) {
		t.Fatalf("list (exit %d):\n%s", code, out)
	}
}

func TestCorruptConfigFile(t *testing.T) {
	home := t.TempDir()
	path := filepath.Join(home, "config.json")
	if err := os.WriteFile(path, []byte(`{"sync.interval": "15m",`), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI(t, home, "", "status")
	if code != ExitUsage || !strings.Contains(stderr, "config.json") || !strings.Contains(stderr, "not valid JSON") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if data, _ := os.ReadFile(path); string(data) != `{"sync.interval": "15m",` {
		t.Fatal("the corrupt file was changed")
	}
}

func TestHomeIsAFile(t *testing.T) {
	home := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(home, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCLI(t, home, "", "status"); code != ExitUsage || !strings.Contains(stderr, "not a directory") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
}

func TestLockedStateExits4(t *testing.T) {
	home := t.TempDir()
	st, err := store.Open(filepath.Join(home, StateFile), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	code, _, stderr := runCLI(t, home, "", "status")
	if code != ExitLocked || !strings.Contains(stderr, "another timebridge is running") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
}

func TestCorruptStateFileIsRebuilt(t *testing.T) {
	home := t.TempDir()
	if err := os.WriteFile(filepath.Join(home, StateFile), bytes.Repeat([]byte("junk"), 2048), 0o600); err != nil {
		t.Fatal(err)
	}
	a, err := open(Env{}.withDefaults(), home, "memory", false)
	if err != nil {
		t.Fatal(err)
	}
	var errb bytes.Buffer
	a.stderr = &errb
	defer a.Close()
	st, err := a.openStore(false)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	if !strings.Contains(errb.String(), "was corrupt") {
		t.Fatalf("the user was not told: %q", errb.String())
	}
	matches, _ := filepath.Glob(filepath.Join(home, StateFile+".corrupt-*"))
	if len(matches) != 1 {
		t.Fatalf("corrupt file not kept aside: %v", matches)
	}
}

func TestSignInSecretsAndSignout(t *testing.T) {
	home := t.TempDir()
	a, err := open(Env{}.withDefaults(), home, "memory", false)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ctx := context.Background()
	if err := a.setConfig(ctx, keyBitrix24Webhook, "https://acme.bitrix24.com/rest/1/abcdefgh12345678/"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := a.hasSecret(ctx, keyBitrix24Webhook); !ok {
		t.Fatal("webhook not stored in the keychain")
	}
	if err := a.SignOut(ctx, "bitrix24"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := a.hasSecret(ctx, keyBitrix24Webhook); ok {
		t.Fatal("webhook still in the keychain after sign-out")
	}
}

func TestDemoHeadlessShowsEachBehaviour(t *testing.T) {
	code, out, stderr := runCLI(t, t.TempDir(), "", "demo", "--headless", "--cycles", "3")
	if code != 0 {
		t.Fatalf("demo exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		"created (– → Design the new landing page [B24-1] in Website relaunch)", // rows 1, 2
		"moved",                         // row 3
		"deactivated (completed",        // row 4
		"reactivated",                   // row 4
		"deactivated (deleted",          // row 5
		": posted ",                     // row 6
		"copied from Bitrix24",          // row 7
		"conflict on",                   // a person's edit
		"not linked to a Bitrix24 task", // time without a task is reported
		"This week:",                    // the ledger
	} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	if t.Failed() {
		t.Log(out)
	}
}

func TestStatusJSON(t *testing.T) {
	home := t.TempDir()
	code, out, stderr := runCLI(t, home, "", "status", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var reply map[string]any
	if err := json.Unmarshal([]byte(out), &reply); err != nil {
		t.Fatalf("not one JSON object: %v\n%s", err, out)
	}
	for _, k := range []string{"state", "services", "parked", "conflicts", "ledger"} {
		if _, ok := reply[k]; !ok {
			t.Errorf("status --json lacks %q", k)
		}
	}
}
