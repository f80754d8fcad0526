package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestMain lets the test binary act as the timebridge binary: the end-to-end tests
// below re-run it with TIMEBRIDGE_RUN_MAIN=1 and real command-line arguments.
func TestMain(m *testing.M) {
	if os.Getenv("TIMEBRIDGE_RUN_MAIN") == "1" {
		os.Args = append([]string{"timebridge"}, os.Args[1:]...)
		main()
		return
	}
	os.Exit(m.Run())
}

// timebridge runs the binary with args in home and returns its exit code and output.
func timebridge(t *testing.T, home string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "TIMEBRIDGE_RUN_MAIN=1", "TIMEBRIDGE_HOME="+home, "TIMEBRIDGE_KEYRING=memory",
		"GORACE=atexit_sleep_ms=0") // a race-built binary otherwise sleeps a second at exit
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, out.String(), errb.String()
	case errors.As(err, &ee):
		return ee.ExitCode(), out.String(), errb.String()
	}
	t.Fatal(err)
	return 0, "", ""
}

func TestBinaryDemoHeadless(t *testing.T) {
	code, out, stderr := timebridge(t, t.TempDir(), "demo", "--headless", "--cycles", "3")
	if code != 0 {
		t.Fatalf("exit %d\nstderr: %s", code, stderr)
	}
	for _, want := range []string{"== cycle 3 ==", "records posted", "This week:"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

func TestBinaryExitCodesAndConfig(t *testing.T) {
	home := t.TempDir()
	if code, _, stderr := timebridge(t, home, "config", "set", "sync.reread_days", "0"); code != 2 || !strings.Contains(stderr, "sync.reread_days") {
		t.Fatalf("bad value: exit %d, %q", code, stderr)
	}
	if code, _, stderr := timebridge(t, home, "config", "set", "sync.reread_days", "21"); code != 0 {
		t.Fatalf("good value: exit %d, %q", code, stderr)
	}
	if code, out, _ := timebridge(t, home, "config", "get", "sync.reread_days"); code != 0 || strings.TrimSpace(out) != "21" {
		t.Fatalf("get: exit %d, %q", code, out)
	}
	code, out, _ := timebridge(t, home, "status", "--json")
	var v map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &v) != nil {
		t.Fatalf("status --json: exit %d, %q", code, out)
	}
	if code, _, _ := timebridge(t, home, "nonsense"); code != 2 {
		t.Fatalf("unknown command: exit %d, want 2", code)
	}
}
