package main

// End-to-end: kill -9 the real binary in the middle of a sync, restart it, and
// check the emulators: no duplicate, no lost second.

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/timebridge/timebridge/sync/bitrix24/bitrix24test"
	"github.com/timebridge/timebridge/sync/connector"
	"github.com/timebridge/timebridge/sync/timelog/timelogtest"
)

func TestBinaryKilledMidSyncRecovers(t *testing.T) {
	home := t.TempDir()
	b24 := bitrix24test.New(bitrix24test.Options{RealTime: true})
	defer b24.Close()
	tl := timelogtest.New(timelogtest.Options{Start: time.Now(), Zone: time.UTC,
		Owner: timelogtest.User{UserID: 29, FirstName: "Anna", Email: "anna@example.com"}})
	defer tl.Close()
	anna := b24.AddUser(bitrix24test.User{Name: "Anna", Email: "anna@example.com", TimeZone: "UTC"})
	var tasks []int
	for i := range 6 {
		tasks = append(tasks, b24.AddTask(bitrix24test.Task{Title: "Task " + strconv.Itoa(i), ResponsibleID: anna, CreatedBy: anna}))
	}
	tl.AddProject(timelogtest.Project{Name: "Bitrix24"})
	mustRun(t, home, "", "config", "set", "trackers", "timelog")
	mustRun(t, home, "", "config", "set", "timelog.api_url", tl.URL)
	mustRun(t, home, "", "config", "set", "sync.time_zone", "UTC")
	mustRun(t, home, "", "authorize", "bitrix24", "--webhook", b24.AddWebhook(anna))
	mustRun(t, home, tl.Token+"\n", "authorize", "timelog")
	defer func() {
		mustRun(t, home, "", "signout", "bitrix24")
		mustRun(t, home, "", "signout", "timelog")
	}()
	syncOnce(t, home) // mirror the tasks
	day := time.Now().UTC().Add(-4 * time.Hour)
	for _, tk := range tl.Tasks() {
		if _, ok := connector.ParseTaskMarker(tk.Name); ok {
			tl.TrackTime(strconv.Itoa(tk.TaskID), day, 30*time.Minute)
		}
	}

	// Slow Bitrix24 down so that the kill lands between the record writes.
	b24.SetFaults(func(f *bitrix24test.Faults) { f.Latency = 150 * time.Millisecond })
	cmd := exec.Command(os.Args[0], "sync", "--once")
	cmd.Env = append(keyringEnv(home), "GORACE=atexit_sleep_ms=0")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	posted := func() int {
		n := 0
		for _, id := range tasks {
			n += len(b24.ElapsedOf(id))
		}
		return n
	}
	deadline := time.Now().Add(20 * time.Second)
	for posted() < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	killedAt := posted()
	if killedAt < 2 || killedAt >= len(tasks) {
		t.Fatalf("the kill came after %d of %d records: the test did not hit the middle of the cycle", killedAt, len(tasks))
	}
	b24.SetFaults(func(f *bitrix24test.Faults) { f.Latency = 0 })

	// Restart: the next sync reconciles by marker and finishes the job.
	syncOnce(t, home)
	for _, id := range tasks {
		recs := b24.ElapsedOf(id)
		if len(recs) != 1 || recs[0].Seconds != 1800 {
			t.Fatalf("task %d after the kill and a restart: %+v, want exactly one record of 1800 s", id, recs)
		}
		if !strings.Contains(recs[0].Comment, "timebridge:timelog:") {
			t.Fatalf("record without our marker: %q", recs[0].Comment)
		}
	}
	if r := syncOnce(t, home); r.Posted+r.Changed != 0 {
		t.Fatalf("a further sync wrote again: %+v", r)
	}
}

// keyringEnv is the environment of realKeyring: the real OS keychain, this home.
func keyringEnv(home string) []string {
	env := []string{"TIMEBRIDGE_RUN_MAIN=1", "TIMEBRIDGE_HOME=" + home}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TIMEBRIDGE_") {
			env = append(env, kv)
		}
	}
	return env
}
