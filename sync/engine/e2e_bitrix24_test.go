package engine

// End-to-end: the engine with the real Bitrix24 client against the portal
// emulator (and the reference in-memory tracker). Assertions read the emulator's
// final state.

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/timebridge/timebridge/sync/bitrix24"
	"github.com/timebridge/timebridge/sync/bitrix24/bitrix24test"
	"github.com/timebridge/timebridge/sync/connector"
	"github.com/timebridge/timebridge/sync/connectortest"
	"github.com/timebridge/timebridge/sync/store"
)

type portalWorld struct {
	t     *testing.T
	emu   *bitrix24test.Server
	tr    *connectortest.Memory
	clock *fakeClock
	zone  *time.Location
	users map[string]int // name → emulator user id
}

// newPortalWorld: Anna (Berlin) and Boris on one portal, a tracker company.
func newPortalWorld(t *testing.T) *portalWorld {
	t.Helper()
	berlin, _ := time.LoadLocation("Europe/Berlin")
	start := time.Date(2026, 6, 10, 12, 0, 0, 0, berlin)
	emu := bitrix24test.New(bitrix24test.Options{Start: start})
	t.Cleanup(emu.Close)
	clock := &fakeClock{now: start}
	w := &portalWorld{t: t, emu: emu, clock: clock, zone: berlin, users: map[string]int{}}
	w.users["anna"] = emu.AddUser(bitrix24test.User{Name: "Anna", Email: "anna@example.com", TimeZone: "Europe/Berlin"})
	w.users["boris"] = emu.AddUser(bitrix24test.User{Name: "Boris", Email: "boris@example.com", TimeZone: "Europe/Berlin"})
	w.tr = connectortest.NewMemory(connector.User{ID: "td-anna", Email: "anna@example.com"}, connectortest.WithClock(clock.Now))
	w.tr.AddUser(connector.User{ID: "td-boris", Email: "boris@example.com"})
	return w
}

// advance moves both clocks.
func (w *portalWorld) advance(d time.Duration) {
	w.clock.Advance(d)
	w.emu.Clock.Advance(d)
}

// client signs user in with OAuth tokens issued by the emulator.
func (w *portalWorld) client(user string) *bitrix24.Client {
	w.t.Helper()
	uid := w.users[user]
	tok := w.emu.IssueToken(uid)
	c, err := bitrix24.New(bitrix24.Config{
		BaseURL:    w.emu.URL + "/rest/",
		HTTPClient: w.emu.Client(),
		Token:      bitrix24.Token{AccessToken: tok.Access, RefreshToken: tok.Refresh, Expiry: tok.Expires, UserID: strconv.Itoa(uid)},
		OAuth:      &bitrix24.OAuthConfig{ClientID: w.emu.ClientID(), ClientSecret: w.emu.ClientSecret(), TokenURL: w.emu.AuthURL + "/oauth/token/"},
		OnToken:    func(context.Context, bitrix24.Token) error { return nil },
		Rate:       -1,
		Sleep:      func(context.Context, time.Duration) error { return nil },
		Now:        w.emu.Clock.Now,
	})
	if err != nil {
		w.t.Fatal(err)
	}
	return c
}

func (w *portalWorld) engine(src connector.TaskSource, path string) (*Engine, *store.Store) {
	w.t.Helper()
	st, err := store.Open(path, store.Options{})
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(func() { st.Close() })
	eng, err := New(Config{}, Options{Source: src, Trackers: []connector.Tracker{w.tr}, Store: st, Clock: w.clock})
	if err != nil {
		w.t.Fatal(err)
	}
	return eng, st
}

// records returns the emulator's elapsed records of user on task, by marker day.
func (w *portalWorld) records(task int, user string) map[string]int {
	out := map[string]int{}
	for _, e := range w.emu.ElapsedOf(task) {
		if e.UserID != w.users[user] {
			continue
		}
		mk, ok := connector.ParseElapsedMarker(e.Comment)
		if !ok {
			continue
		}
		if _, dup := out[mk.Day.String()]; dup {
			w.t.Errorf("task %d: two records of %s on %s", task, user, mk.Day)
		}
		out[mk.Day.String()] += e.Seconds
	}
	return out
}

func (w *portalWorld) trackerTask(task int) connector.TrackerTask {
	w.t.Helper()
	var found []connector.TrackerTask
	for _, tt := range w.tr.Tasks() {
		if id, _ := tt.SourceID(); id == strconv.Itoa(task) {
			found = append(found, tt)
		}
	}
	if len(found) != 1 {
		w.t.Fatalf("task %d has %d tracker tasks, want 1", task, len(found))
	}
	return found[0]
}

func runCycle(t *testing.T, eng *Engine) Report {
	t.Helper()
	rep, err := eng.RunOnce(context.Background())
	if err != nil {
		t.Fatalf("cycle: %v (%+v)", err, rep)
	}
	return rep
}

func TestE2EBitrix24MirrorAndTime(t *testing.T) {
	w := newPortalWorld(t)
	g := w.emu.AddGroup(bitrix24test.Group{Name: "Website relaunch", Members: []int{w.users["anna"], w.users["boris"]}, Project: true})
	t1 := w.emu.AddTask(bitrix24test.Task{Title: "Design the landing page", GroupID: g, ResponsibleID: w.users["anna"], CreatedBy: w.users["boris"]})
	t2 := w.emu.AddTask(bitrix24test.Task{Title: "Expense reports", ResponsibleID: w.users["boris"], Accomplices: []int{w.users["anna"]}, CreatedBy: w.users["boris"]})
	eng, _ := w.engine(w.client("anna"), filepath.Join(t.TempDir(), "state.db"))
	runCycle(t, eng)
	if p := w.trackerTask(t1); w.projectOf(p) != "Website relaunch" {
		t.Fatalf("task %d in project %q", t1, w.projectOf(p))
	}
	w.tr.TrackTime(w.trackerTask(t1).ID, time.Date(2026, 6, 9, 9, 0, 0, 0, w.zone), 90*time.Minute)
	w.tr.TrackTime(w.trackerTask(t2).ID, time.Date(2026, 6, 8, 23, 30, 0, 0, w.zone), time.Hour) // across midnight
	w.advance(15 * time.Minute)
	runCycle(t, eng)
	if got := w.records(t1, "anna"); got["2026-06-09"] != 5400 || len(got) != 1 {
		t.Fatalf("task %d records %v", t1, got)
	}
	if got := w.records(t2, "anna"); got["2026-06-08"] != 1800 || got["2026-06-09"] != 1800 {
		t.Fatalf("task %d records %v, want 1800 s on each side of midnight", t2, got)
	}

	// A quiet cycle: at most one Bitrix24 request.
	w.advance(15 * time.Minute)
	w.emu.ResetCalls()
	rep := runCycle(t, eng)
	if n := len(w.emu.Calls()); n > 1 || rep.Posted+rep.Changed != 0 {
		t.Fatalf("quiet cycle: %d Bitrix24 requests %v, report %+v", n, w.emu.Calls(), rep)
	}

	// Completion and deletion in Bitrix24.
	w.emu.CompleteTask(w.users["anna"], t1)
	w.emu.DeleteTask(t2)
	w.advance(61 * time.Minute)
	runCycle(t, eng)
	if w.trackerTask(t1).Active || w.trackerTask(t2).Active {
		t.Fatal("completed/deleted tasks still active in the tracker")
	}
}

func (w *portalWorld) projectOf(t connector.TrackerTask) string {
	for _, p := range w.tr.Projects() {
		if p.ID == t.ProjectID {
			return p.Name
		}
	}
	return ""
}

func TestE2EBitrix24LostReplyAndStorm(t *testing.T) {
	w := newPortalWorld(t)
	task := w.emu.AddTask(bitrix24test.Task{Title: "Fix login", ResponsibleID: w.users["anna"], CreatedBy: w.users["anna"]})
	path := filepath.Join(t.TempDir(), "state.db")
	eng, st := w.engine(w.client("anna"), path)
	runCycle(t, eng)
	w.tr.TrackTime(w.trackerTask(task).ID, time.Date(2026, 6, 10, 9, 0, 0, 0, w.zone), time.Hour)

	// The add commits, then the connection drops: the app is killed right there.
	w.emu.SetFaults(func(f *bitrix24test.Faults) {
		f.CommitThenFail = bitrix24test.CommitThenFail{Method: "task.elapseditem.add", N: 1, Mode: "drop"}
	})
	w.advance(15 * time.Minute)
	if _, err := eng.RunOnce(context.Background()); err == nil {
		t.Fatal("a dropped reply should fail the cycle")
	}
	st.Close()
	eng, _ = w.engine(w.client("anna"), path) // restart on the same state
	// A 503 storm on the restart: slower, nothing lost.
	w.emu.SetFaults(func(f *bitrix24test.Faults) { f.ForceQueryLimit = 4 })
	w.advance(15 * time.Minute)
	runCycle(t, eng)
	if got := w.records(task, "anna"); got["2026-06-10"] != 3600 || len(w.emu.ElapsedOf(task)) != 1 {
		t.Fatalf("records %v (%d in all), want exactly one with 3600 s", got, len(w.emu.ElapsedOf(task)))
	}
}

func TestE2EBitrix24PersonEditsOurRecord(t *testing.T) {
	w := newPortalWorld(t)
	task := w.emu.AddTask(bitrix24test.Task{Title: "Fix login", ResponsibleID: w.users["anna"], CreatedBy: w.users["anna"]})
	eng, _ := w.engine(w.client("anna"), filepath.Join(t.TempDir(), "state.db"))
	runCycle(t, eng)
	tt := w.trackerTask(task)
	w.tr.TrackTime(tt.ID, time.Date(2026, 6, 10, 9, 0, 0, 0, w.zone), time.Hour)
	runCycle(t, eng)
	rec := w.emu.ElapsedOf(task)[0]
	// Anna's manager (an admin) corrects the record in Bitrix24.
	if err := w.emu.EditElapsedAs(w.users["boris"], rec.ID, 1200, rec.Comment); err != nil {
		// Boris is no admin: the emulator refuses like the portal; use Anna's own edit in the UI.
		if err := w.emu.EditElapsedAs(w.users["anna"], rec.ID, 1200, rec.Comment); err != nil {
			t.Fatal(err)
		}
	}
	w.tr.TrackTime(tt.ID, time.Date(2026, 6, 10, 11, 0, 0, 0, w.zone), time.Hour)
	w.advance(15 * time.Minute)
	rep := runCycle(t, eng)
	if rep.Conflicts != 1 || w.emu.ElapsedOf(task)[0].Seconds != 1200 {
		t.Fatalf("report %+v, record %+v: want a conflict and the person's 1200 s kept", rep, w.emu.ElapsedOf(task)[0])
	}
}

func TestE2EBitrix24TwoEmployeesOneTrackerTask(t *testing.T) {
	w := newPortalWorld(t)
	task := w.emu.AddTask(bitrix24test.Task{Title: "Shared", ResponsibleID: w.users["anna"], Accomplices: []int{w.users["boris"]},
		CreatedBy: w.users["anna"]})
	annaEng, _ := w.engine(w.client("anna"), filepath.Join(t.TempDir(), "anna.db"))
	borisEng, _ := w.engine(w.client("boris"), filepath.Join(t.TempDir(), "boris.db"))
	runCycle(t, annaEng)
	runCycle(t, borisEng)
	tt := w.trackerTask(task) // exactly one
	w.tr.TrackTime(tt.ID, time.Date(2026, 6, 10, 9, 0, 0, 0, w.zone), time.Hour)
	runCycle(t, annaEng)
	runCycle(t, borisEng) // the tracker is signed in as Anna: Boris's app reads Anna's time too in this fixture
	if got := w.records(task, "anna"); got["2026-06-10"] != 3600 {
		t.Fatalf("Anna's records %v", got)
	}
}
