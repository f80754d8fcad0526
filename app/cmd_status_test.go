package app

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/timebridge/timebridge/sync/connector"
	"github.com/timebridge/timebridge/sync/connectortest"
	"github.com/timebridge/timebridge/sync/engine"
	"github.com/timebridge/timebridge/sync/store"
)

// seedConflict leaves a state file in home with one open conflict.
func seedConflict(t *testing.T, home string) {
	t.Helper()
	now := time.Now()
	src := connectortest.NewMemorySource("acme.bitrix24.com", func() time.Time { return now })
	src.AddUser(connector.User{ID: "1", Name: "Ann", Email: "ann@example.com"})
	src.PutTask(connector.Task{ID: "42", Title: "Fix login", ResponsibleID: "1"})
	tr := connectortest.NewMemory(connector.User{ID: "t1", Email: "ann@example.com"})
	st, err := store.Open(filepath.Join(home, StateFile), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	eng, err := engine.New(engine.Config{TimeZone: time.UTC}, engine.Options{Source: src.As("1"), Trackers: []connector.Tracker{tr}, Store: st})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	eng.RunOnce(ctx)
	tasks, _ := tr.FindTasks(ctx, "42")
	tr.TrackTime(tasks[0].ID, now.Add(-2*time.Hour), time.Hour)
	eng.RunOnce(ctx)
	src.EditElapsedAs(src.Records()[0].ID, 60)
	tr.TrackTime(tasks[0].ID, now.Add(-4*time.Hour), time.Hour)
	if rep, _ := eng.RunOnce(ctx); rep.Conflicts != 1 {
		t.Fatalf("seeding: %+v", rep)
	}
}

func statusOf(t *testing.T, home string) statusReply {
	t.Helper()
	code, out, stderr := runCLI(t, home, "", "status", "--json")
	if code != 0 {
		t.Fatalf("status: exit %d: %s", code, stderr)
	}
	var r statusReply
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestStatusResolvesConflicts(t *testing.T) {
	home := t.TempDir()
	seedConflict(t, home)
	st := statusOf(t, home)
	if len(st.Conflicts) != 1 || st.State != "needs attention" {
		t.Fatalf("status %+v, want one conflict", st)
	}
	code, out, _ := runCLI(t, home, "", "status")
	if code != 0 || !strings.Contains(out, "Conflicts (1)") || !strings.Contains(out, st.Conflicts[0].Key) {
		t.Fatalf("plain status (exit %d) does not show the conflict and its key:\n%s", code, out)
	}
	if code, _, stderr := runCLI(t, home, "", "status", "--keep-bitrix24", "no/such/key"); code != ExitUsage ||
		!strings.Contains(stderr, "no conflict") {
		t.Fatalf("unknown key: exit %d, %q", code, stderr)
	}
	if code, _, stderr := runCLI(t, home, "", "status", "--keep-bitrix24", st.Conflicts[0].Key); code != 0 {
		t.Fatalf("keep: exit %d: %s", code, stderr)
	}
	if after := statusOf(t, home); len(after.Conflicts) != 0 {
		t.Fatalf("conflict still open: %+v", after.Conflicts)
	}
}
