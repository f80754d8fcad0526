package engine

import (
	"context"
	"maps"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/timebridge/timebridge/sync/connector"
	"github.com/timebridge/timebridge/sync/connectortest"
	"github.com/timebridge/timebridge/sync/store"
)

// fakeClock is a settable clock; timers fire when Advance passes them.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	at    time.Time
	c     chan time.Time
	fired bool
}

func (t *fakeTimer) C() <-chan time.Time { return t.c }
func (t *fakeTimer) Stop() bool          { t.fired = true; return true }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) NewTimer(d time.Duration) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{at: c.now.Add(d), c: make(chan time.Time, 1)}
	if d <= 0 {
		t.fired = true
		t.c <- c.now
	}
	c.timers = append(c.timers, t)
	return t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	for _, t := range c.timers {
		if !t.fired && !t.at.After(c.now) {
			t.fired = true
			t.c <- c.now
		}
	}
}

// pendingTimers counts timers that have not fired or been stopped.
func (c *fakeClock) pendingTimers() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, t := range c.timers {
		if !t.fired {
			n++
		}
	}
	return n
}

// world is one Bitrix24 portal and one tracker company shared by employees.
type world struct {
	t     *testing.T
	clock *fakeClock
	src   *connectortest.MemorySource
	tr    *connectortest.Memory
	zone  *time.Location
}

const (
	ann = "1"
	ben = "2"
)

// newWorld seeds a portal with two users and two groups, and an empty tracker
// signed in as Ann. now is a Wednesday noon in Berlin.
func newWorld(t *testing.T, opts ...connectortest.MemoryOption) *world {
	t.Helper()
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{now: time.Date(2026, 6, 10, 12, 0, 0, 0, berlin)}
	src := connectortest.NewMemorySource("acme.bitrix24.com", clock.Now)
	src.AddUser(connector.User{ID: ann, Name: "Ann", Email: "ann@example.com", TimeZone: "Europe/Berlin"})
	src.AddUser(connector.User{ID: ben, Name: "Ben", Email: "Ben@Example.com", TimeZone: "Europe/Berlin"})
	src.AddGroup(connector.Group{ID: "10", Name: "Website relaunch"})
	src.AddGroup(connector.Group{ID: "11", Name: "Mobile app"})
	opts = append([]connectortest.MemoryOption{connectortest.WithClock(clock.Now)}, opts...)
	tr := connectortest.NewMemory(connector.User{ID: "td-ann", Name: "Ann", Email: "ann@example.com"}, opts...)
	tr.AddUser(connector.User{ID: "td-ben", Name: "Ben", Email: "ben@example.com"})
	return &world{t: t, clock: clock, src: src, tr: tr, zone: berlin}
}

// employee is one user's app: its own state file and engine.
type employee struct {
	w      *world
	user   string
	path   string
	cfg    Config
	st     *store.Store
	eng    *Engine
	source connector.TaskSource
	tracks []connector.Tracker
}

func (w *world) employee(user string, cfg Config, trackers ...connector.Tracker) *employee {
	w.t.Helper()
	if len(trackers) == 0 {
		trackers = []connector.Tracker{w.tr}
	}
	e := &employee{w: w, user: user, path: filepath.Join(w.t.TempDir(), "state.db"), cfg: cfg,
		source: w.src.As(user), tracks: trackers}
	e.open()
	return e
}

// open (re)starts the app on its state file.
func (e *employee) open() {
	e.w.t.Helper()
	st, err := store.Open(e.path, store.Options{})
	if err != nil {
		e.w.t.Fatal(err)
	}
	e.st = st
	e.w.t.Cleanup(func() { st.Close() })
	eng, err := New(e.cfg, Options{Source: e.source, Trackers: e.tracks, Store: st, Clock: e.w.clock})
	if err != nil {
		e.w.t.Fatal(err)
	}
	e.eng = eng
}

// restart simulates a kill and a new start on the same state file.
func (e *employee) restart() {
	e.st.Close()
	e.open()
}

func (e *employee) sync() Report {
	e.w.t.Helper()
	rep, err := e.eng.RunOnce(context.Background())
	if err != nil {
		e.w.t.Fatalf("cycle failed: %v (report %+v)", err, rep)
	}
	return rep
}

// at returns an instant in the world's zone.
func (w *world) at(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, w.zone)
}

// recordsOf returns the elapsed records on task by user, by marker day.
func (w *world) recordsOf(task, user string) map[string]int64 {
	out := map[string]int64{}
	for _, r := range w.src.Records() {
		if r.TaskID != task || r.UserID != user {
			continue
		}
		mk, ok := connector.ParseElapsedMarker(r.Comment)
		if !ok {
			continue
		}
		if _, dup := out[mk.Day.String()]; dup {
			w.t.Errorf("two records for task %s on %s", task, mk.Day)
		}
		out[mk.Day.String()] += r.Seconds
	}
	return out
}

// trackerTasks returns the tracker tasks carrying the marker of source task id.
func (w *world) trackerTasks(id string) []connector.TrackerTask {
	var out []connector.TrackerTask
	for _, t := range w.tr.Tasks() {
		if sid, ok := t.SourceID(); ok && sid == id {
			out = append(out, t)
		}
	}
	return out
}

func (w *world) projectName(id string) string {
	for _, p := range w.tr.Projects() {
		if p.ID == id {
			return p.Name
		}
	}
	return ""
}

// assertRecordsMatchTracker checks the promise: for every Bitrix24 task and day in
// [from, to], the user's records hold exactly the tracker's total, once.
func (w *world) assertRecordsMatchTracker(user, from, to string) {
	w.t.Helper()
	f, _ := connector.ParseDay(from)
	l, _ := connector.ParseDay(to)
	tot, err := w.tr.DayTotals(context.Background(), connector.DaySpan{From: f, To: l, Zone: w.zone})
	if err != nil {
		w.t.Fatal(err)
	}
	want := map[string]map[string]int64{}
	for _, d := range tot.Totals {
		for _, tt := range w.tr.Tasks() {
			if tt.ID == d.TaskID {
				sid, _ := tt.SourceID()
				if want[sid] == nil {
					want[sid] = map[string]int64{}
				}
				want[sid][d.Day.String()] += d.Seconds
			}
		}
	}
	for _, tt := range w.tr.Tasks() {
		sid, _ := tt.SourceID()
		got := w.recordsOf(sid, user)
		if want[sid] == nil {
			want[sid] = map[string]int64{}
		}
		if !maps.Equal(got, want[sid]) {
			w.t.Errorf("task %s: records %v, tracker %v", sid, got, want[sid])
		}
	}
}
