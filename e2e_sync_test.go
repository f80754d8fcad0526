package main

// End-to-end: the real binary signs in and syncs against the Bitrix24 and
// TimeLog emulators, with secrets in the real OS keychain (make test runs the
// suite under .ci/with-desktop.sh, which provides an unlocked Secret Service).

import (
	"encoding/json"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/timebridge/timebridge/sync/bitrix24/bitrix24test"
	"github.com/timebridge/timebridge/sync/connector"
	"github.com/timebridge/timebridge/sync/timelog/timelogtest"
)

// realKeyring runs the binary with the OS keychain (no TIMEBRIDGE_KEYRING) and stdin.
func realKeyring(t *testing.T, home, stdin string, args ...string) (int, string, string) {
	t.Helper()
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		t.Fatal("no D-Bus session bus: run the tests with make test (it wraps them in .ci/with-desktop.sh)")
	}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(keyringEnv(home), "GORACE=atexit_sleep_ms=0")
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, out.String(), errb.String()
}

func mustRun(t *testing.T, home, stdin string, args ...string) string {
	t.Helper()
	code, out, stderr := realKeyring(t, home, stdin, args...)
	if code != 0 {
		t.Fatalf("timebridge %s: exit %d\n%s%s", strings.Join(args, " "), code, out, stderr)
	}
	return out
}

type syncReport struct {
	OK            bool  `json:"ok"`
	Created       int   `json:"created"`
	Posted        int   `json:"posted"`
	Changed       int   `json:"changed"`
	SecondsPosted int64 `json:"seconds_posted"`
}

func syncOnce(t *testing.T, home string) syncReport {
	t.Helper()
	code, out, stderr := realKeyring(t, home, "", "sync", "--once", "--json")
	var r syncReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("sync --once --json (exit %d) printed no JSON: %v\n%s%s", code, err, out, stderr)
	}
	if code != 0 || !r.OK {
		t.Fatalf("sync --once: exit %d, %+v\n%s", code, r, stderr)
	}
	return r
}

func TestBinarySignInAndSyncAgainstEmulators(t *testing.T) {
	home := t.TempDir()
	b24 := bitrix24test.New(bitrix24test.Options{RealTime: true})
	defer b24.Close()
	tl := timelogtest.New(timelogtest.Options{Start: time.Now(), Zone: time.UTC,
		Owner: timelogtest.User{UserID: 29, FirstName: "Anna", Email: "anna@example.com"}})
	defer tl.Close()
	anna := b24.AddUser(bitrix24test.User{Name: "Anna", Email: "anna@example.com", TimeZone: "UTC"})
	task := b24.AddTask(bitrix24test.Task{Title: "Fix login", ResponsibleID: anna, CreatedBy: anna})
	tl.AddProject(timelogtest.Project{Name: "Bitrix24"})

	mustRun(t, home, "", "config", "set", "trackers", "timelog")
	mustRun(t, home, "", "config", "set", "timelog.api_url", tl.URL)
	mustRun(t, home, "", "config", "set", "sync.time_zone", "UTC")
	out := mustRun(t, home, "", "authorize", "bitrix24", "--webhook", b24.AddWebhook(anna))
	if !strings.Contains(out, "Signed in to Bitrix24 as Anna") {
		t.Fatalf("authorize bitrix24: %q", out)
	}
	mustRun(t, home, tl.Token+"\n", "authorize", "timelog")
	defer func() {
		mustRun(t, home, "", "signout", "bitrix24")
		mustRun(t, home, "", "signout", "timelog")
		if list := mustRun(t, home, "", "config", "list"); strings.Contains(list, "bitrix24.webhook=(in keychain)") {
			t.Errorf("the webhook is still in the keychain after sign-out:\n%s", list)
		}
	}()
	// Secrets never land in the home directory.
	for _, f := range []string{"config.json", "logs/timebridge.log"} {
		data, _ := os.ReadFile(home + "/" + f)
		if strings.Contains(string(data), tl.Token) || strings.Contains(string(data), "/rest/"+strconv.Itoa(anna)+"/") {
			t.Fatalf("%s contains a secret", f)
		}
	}

	if r := syncOnce(t, home); r.Created != 1 {
		t.Fatalf("first sync %+v, want the task created in TimeLog", r)
	}
	var tlTask string
	for _, tk := range tl.Tasks() {
		if strings.HasSuffix(tk.Name, connector.TaskMarker(strconv.Itoa(task))) {
			tlTask = strconv.Itoa(tk.TaskID)
		}
	}
	if tlTask == "" {
		t.Fatalf("no TimeLog task with the marker of %d: %+v", task, tl.Tasks())
	}
	tl.TrackTime(tlTask, time.Now().UTC().Add(-3*time.Hour), 90*time.Minute)
	if r := syncOnce(t, home); r.Posted != 1 || r.SecondsPosted != 5400 {
		t.Fatalf("second sync %+v, want one record of 5400 s", r)
	}
	recs := b24.ElapsedOf(task)
	if len(recs) != 1 || recs[0].Seconds != 5400 || recs[0].UserID != anna {
		t.Fatalf("Bitrix24 records %+v", recs)
	}
	if r := syncOnce(t, home); r.Posted+r.Changed+r.Created != 0 {
		t.Fatalf("a third sync changed something: %+v", r)
	}
	// "Resync from date": time on a day older than the re-read window is posted
	// only when asked for.
	mustRun(t, home, "", "config", "set", "sync.reread_days", "2")
	mustRun(t, home, "", "config", "set", "sync.start_date", time.Now().UTC().AddDate(0, 0, -30).Format(time.DateOnly))
	tl.TrackTime(tlTask, time.Now().UTC().AddDate(0, 0, -10), 20*time.Minute)
	if r := syncOnce(t, home); r.Posted != 0 {
		t.Fatalf("a normal sync posted a day older than sync.reread_days: %+v", r)
	}
	code, out, stderr := realKeyring(t, home, "", "sync", "--once", "--json", "--from", time.Now().UTC().AddDate(0, 0, -15).Format(time.DateOnly))
	if code != 0 || !strings.Contains(out, `"posted": 1`) {
		t.Fatalf("sync --from: exit %d\n%s%s", code, out, stderr)
	}
	if recs := b24.ElapsedOf(task); len(recs) != 2 {
		t.Fatalf("after the resync: %d records, want 2 (today and ten days ago)", len(recs))
	}
	code, status, _ := realKeyring(t, home, "", "status", "--json")
	if code != 0 || !strings.Contains(status, `"ledger"`) || !strings.Contains(status, `"tracker_seconds": 5400`) {
		t.Fatalf("status --json (exit %d):\n%s", code, status)
	}
}
