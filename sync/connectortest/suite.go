// Package connectortest is the contract every connector.Tracker passes, and the
// reference in-memory tracker (Memory) the engine's tests run on.
//
// Each tracker package runs the suite against its client and emulator:
//
//	func TestContract(t *testing.T) {
//		connectortest.Run(t, connectortest.Opt{
//			New: func(t *testing.T) (connector.Tracker, connectortest.Fixture) {
//				emu := timelogtest.New(timelogtest.Options{})
//				t.Cleanup(emu.Close)
//				return timelog.New(timelog.Config{BaseURL: emu.URL, Token: emu.Token}), fixture{emu}
//			},
//		})
//	}
//
// Subtests are gated by the tracker's Features: a tracker skips only what it
// declares it cannot do (the subtest then checks that the call says
// ErrUnsupported instead of pretending), and one that declares nothing runs all.
package connectortest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/timebridge/timebridge/sync/connector"
)

// Fixture is what the suite needs from a tracker's emulator: fault knobs and a way
// to act as an administrator or as the tracking app.
type Fixture interface {
	// FailNext makes the next n requests answer status (429, 503, 500 …).
	FailNext(n, status int)
	// LoseReplyAfterWrite applies the next n writes, then loses the reply.
	LoseReplyAfterWrite(n int)
	// SeedProject creates a project as an administrator would and returns its id.
	SeedProject(name string) string
	// TrackTime records time the signed-in user tracked on a task ("" = no task).
	TrackTime(taskID string, start time.Time, d time.Duration)
	// ForbidCreate makes project and task creation forbidden for the user.
	ForbidCreate(forbid bool)
	// ExpireAuth revokes the user's credentials.
	ExpireAuth()
}

// Opt tells Run how to build a fresh tracker for each subtest.
type Opt struct {
	New func(t *testing.T) (connector.Tracker, Fixture)
}

// Run checks the tracker contract.
func Run(t *testing.T, opt Opt) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tr, fx := opt.New(t)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			c.run(ctx, t, tr, fx)
		})
	}
}

type suiteCase struct {
	name string
	run  func(ctx context.Context, t *testing.T, tr connector.Tracker, fx Fixture)
}

var cases = []suiteCase{
	{"Me", testMe},
	{"FindProjectMissing", testFindProjectMissing},
	{"CreateOrSeedProject", testCreateProject},
	{"CreateAndFindTask", testCreateAndFindTask},
	{"FindTasksUnknownMarker", testFindTasksUnknown},
	{"LostCreateReplyLeavesOneTask", testLostCreateReply},
	{"RaceLeavesTwoOldestFirst", testRaceOldestFirst},
	{"RenameTask", testRename},
	{"MoveTask", testMove},
	{"DeactivateReactivate", testDeactivateReactivate},
	{"ManyTasksPaged", testManyTasks},
	{"ListTasksMatchesFindTasks", testListTasks},
	{"DayTotalsSplitAtMidnight", testDayTotalsZones},
	{"DayTotalsPastEdit", testDayTotalsPastEdit},
	{"DayTotalsUnassigned", testDayTotalsUnassigned},
	{"RetriesTransientFailures", testRetries},
	{"ForbiddenCreate", testForbidden},
	{"Unauthorized", testUnauthorized},
}

// result carries a call's two return values to of, which fails the test on error:
// must(tr.Me(ctx)).of(t).
type result[T any] struct {
	v   T
	err error
}

func must[T any](v T, err error) result[T] { return result[T]{v, err} }

func (r result[T]) of(t *testing.T) T {
	t.Helper()
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.v
}

// project returns a project named name, created or seeded as the tracker allows.
func project(ctx context.Context, t *testing.T, tr connector.Tracker, fx Fixture, name string) connector.Project {
	t.Helper()
	if p, err := tr.FindProject(ctx, name); err == nil {
		return p
	}
	if tr.Features().CreateProject {
		return must(tr.CreateProject(ctx, name)).of(t)
	}
	fx.SeedProject(name)
	return must(tr.FindProject(ctx, name)).of(t)
}

func newTask(ctx context.Context, t *testing.T, tr connector.Tracker, p connector.Project, sourceID, title string) connector.TrackerTask {
	t.Helper()
	return must(tr.CreateTask(ctx, connector.TrackerTask{ProjectID: p.ID, Name: connector.TaskName(title, sourceID, 0)})).of(t)
}

func testMe(ctx context.Context, t *testing.T, tr connector.Tracker, fx Fixture) {
	me := must(tr.Me(ctx)).of(t)
	if me.ID == "" || me.Email == "" {
		t.Fatalf("Me = %+v, want an id and an email", me)
	}
	users := must(tr.Users(ctx)).of(t)
	found := false
	for _, u := range users {
		found = found || u.Email == me.Email
	}
	if !found {
		t.Fatalf("Users() lacks the signed-in user %s", me.Email)
	}
}

func testFindProjectMissing(ctx context.Context, t *testing.T, tr connector.Tracker, fx Fixture) {
	_, err := tr.FindProject(ctx, "No such project 7f3a")
	if !errors.Is(err, connector.ErrNotFound) {
		t.Fatalf("FindProject(missing) error = %v, want ErrNotFound", err)
	}
}

func testCreateProject(ctx context.Context, t *testing.T, tr connector.Tracker, fx Fixture) {
	if !tr.Features().CreateProject {
		_, err := tr.CreateProject(ctx, "Website relaunch")
		if !errors.Is(err, connector.ErrUnsupported) && !errors.Is(err, connector.ErrForbidden) {
			t.Fatalf("CreateProject without the feature: error = %v, want ErrUnsupported", err)
		}
	}
	p := project(ctx, t, tr, fx, "Website relaunch")
	got := must(tr.FindProject(ctx, "Website relaunch")).of(t)
	if got.ID != p.ID || got.Name != "Website relaunch" {
		t.Fatalf("FindProject = %+v, want %+v", got, p)
	}
	project(ctx, t, tr, fx, "Website relaunch 2")
	if got := must(tr.FindProject(ctx, "Website relaunch")).of(t); got.ID != p.ID {
		t.Fatalf("FindProject matched a different project %+v: names must match exactly", got)
	}
}

func testCreateAndFindTask(ctx context.Context, t *testing.T, tr connector.Tracker, fx Fixture) {
	p := project(ctx, t, tr, fx, "Mobile app")
	if !tr.Features().CreateTask {
		t.Skip("tracker declares it cannot create tasks")
	}
	created := newTask(ctx, t, tr, p, "42", "Fix login – ünïcode ✓")
	found := must(tr.FindTasks(ctx, "42")).of(t)
	if len(found) != 1 || found[0].ID != created.ID {
		t.Fatalf("FindTasks(42) = %+v, want the created task %s", found, created.ID)
	}
	if id, ok := found[0].SourceID(); !ok || id != "42" {
		t.Fatalf("marker round trip: name %q gives (%q, %v)", found[0].Name, id, ok)
	}
	if found[0].ProjectID != p.ID || !found[0].Active {
		t.Fatalf("task %+v: want active in project %s", found[0], p.ID)
	}
	if other := must(tr.FindTasks(ctx, "4")).of(t); len(other) != 0 {
		t.Fatalf("FindTasks(4) matched %+v: markers must match exactly", other)
	}
}

func testFindTasksUnknown(ctx context.Context, t *testing.T, tr connector.Tracker, fx Fixture) {
	got, err := tr.FindTasks(ctx, "999999")
	if err != nil || len(got) != 0 {
		t.Fatalf("FindTasks(unknown) = %v, %v; want none and no error", got, err)
	}
}

func testLostCreateReply(ctx context.Context, t *testing.T, tr connector.Tracker, fx Fixture) {
	if !tr.Features().CreateTask {
		t.Skip("tracker declares it cannot create tasks")
	}
	p := project(ctx, t, tr, fx, "Internal")
	fx.LoseReplyAfterWrite(1)
	_, err := tr.CreateTask(ctx, connector.TrackerTask{ProjectID: p.ID, Name: connector.TaskName("Lost", "77", 0)})
	if err == nil {
		t.Log("the client recovered the lost reply itself")
	}
	// The engine reconciles by key before retrying: the task must be findable.
	found := must(tr.FindTasks(ctx, "77")).of(t)
	if len(found) != 1 {
		t.Fatalf("after a lost create reply FindTasks(77) = %d tasks, want exactly 1", len(found))
	}
}

func testRaceOldestFirst(ctx context.Context, t *testing.T, tr connector.Tracker, fx Fixture) {
	if !tr.Features().CreateTask {
		t.Skip("tracker declares it cannot create tasks")
	}
	p := project(ctx, t, tr, fx, "Internal")
	first := newTask(ctx, t, tr, p, "55", "Shared task")
	second := newTask(ctx, t, tr, p, "55", "Shared task")
	found := must(tr.FindTasks(ctx, "55")).of(t)
	if len(found) != 2 || found[0].ID != first.ID || found[1].ID != second.ID {
		t.Fatalf("FindTasks after a race = %+v, want [%s %s] oldest first", found, first.ID, second.ID)
	}
}

func onlyTask(ctx context.Context, t *testing.T, tr connector.Tracker, sourceID string) connector.TrackerTask {
	t.Helper()
	found := must(tr.FindTasks(ctx, sourceID)).of(t)
	if len(found) != 1 {
		t.Fatalf("FindTasks(%s) = %d tasks, want 1", sourceID, len(found))
	}
	return found[0]
}

func testRename(ctx context.Context, t *testing.T, tr connector.Tracker, fx Fixture) {
	if !tr.Features().CreateTask {
		t.Skip("tracker declares it cannot create tasks")
	}
	p := project(ctx, t, tr, fx, "Internal")
	task := newTask(ctx, t, tr, p, "60", "Old title")
	task.Name = connector.TaskName("New title", "60", 0)
	err := tr.UpdateTask(ctx, task)
	if !tr.Features().RenameTask {
		if !errors.Is(err, connector.ErrUnsupported) {
			t.Fatalf("rename without the feature: error = %v, want ErrUnsupported", err)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if got := onlyTask(ctx, t, tr, "60"); got.Name != task.Name {
		t.Fatalf("after rename the name is %q, want %q", got.Name, task.Name)
	}
}

func testMove(ctx context.Context, t *testing.T, tr connector.Tracker, fx Fixture) {
	if !tr.Features().CreateTask {
		t.Skip("tracker declares it cannot create tasks")
	}
	a := project(ctx, t, tr, fx, "Group A")
	b := project(ctx, t, tr, fx, "Group B")
	task := newTask(ctx, t, tr, a, "61", "Moving task")
	task.ProjectID = b.ID
	err := tr.UpdateTask(ctx, task)
	if !tr.Features().MoveTask {
		if !errors.Is(err, connector.ErrUnsupported) {
			t.Fatalf("move without the feature: error = %v, want ErrUnsupported", err)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if got := onlyTask(ctx, t, tr, "61"); got.ProjectID != b.ID {
		t.Fatalf("after the move the task is in project %s, want %s", got.ProjectID, b.ID)
	}
}

func testDeactivateReactivate(ctx context.Context, t *testing.T, tr connector.Tracker, fx Fixture) {
	if !tr.Features().CreateTask {
		t.Skip("tracker declares it cannot create tasks")
	}
	f := tr.Features()
	p := project(ctx, t, tr, fx, "Internal")
	task := newTask(ctx, t, tr, p, "62", "Finish me")
	task.Active = false
	err := tr.UpdateTask(ctx, task)
	if !f.DeactivateTask {
		if !errors.Is(err, connector.ErrUnsupported) {
			t.Fatalf("deactivate without the feature: error = %v, want ErrUnsupported", err)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if got := onlyTask(ctx, t, tr, "62"); got.Active {
		t.Fatal("task still active after deactivation")
	}
	if err := tr.UpdateTask(ctx, task); err != nil { // idempotent
		t.Fatalf("deactivating twice: %v", err)
	}
	task.Active = true
	err = tr.UpdateTask(ctx, task)
	if !f.ReactivateTask {
		if !errors.Is(err, connector.ErrUnsupported) {
			t.Fatalf("reactivate without the feature: error = %v, want ErrUnsupported", err)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if got := onlyTask(ctx, t, tr, "62"); !got.Active {
		t.Fatal("task inactive after reactivation")
	}
}

func testManyTasks(ctx context.Context, t *testing.T, tr connector.Tracker, fx Fixture) {
	if !tr.Features().CreateTask {
		t.Skip("tracker declares it cannot create tasks")
	}
	p := project(ctx, t, tr, fx, "Big project")
	const n = 120 // more than two pages of 50
	for i := range n {
		newTask(ctx, t, tr, p, fmt.Sprint(1000+i), fmt.Sprintf("Task %d", i))
	}
	for _, id := range []string{"1000", "1050", "1119"} {
		onlyTask(ctx, t, tr, id)
	}
}

type zoneCase struct {
	name      string
	zone      string
	start     string // RFC 3339 instant
	dur       time.Duration
	wantByDay map[string]int64
}

var zoneCases = []zoneCase{
	// Berlin spring forward: 2026-03-29 has 23 hours. 22:00 on the 28th (UTC+1) for 4 h
	// ends at 03:00 CEST: 2 h on the 28th, 2 h on the 29th.
	{"BerlinSpringForward", "Europe/Berlin", "2026-03-28T21:00:00Z", 4 * time.Hour,
		map[string]int64{"2026-03-28": 7200, "2026-03-29": 7200}},
	// A whole DST day is 23 h.
	{"BerlinSpringForwardWholeDay", "Europe/Berlin", "2026-03-28T23:00:00Z", 23 * time.Hour,
		map[string]int64{"2026-03-29": 23 * 3600}},
	// Berlin fall back: 2026-10-25 has 25 hours.
	{"BerlinFallBackWholeDay", "Europe/Berlin", "2026-10-24T22:00:00Z", 25 * time.Hour,
		map[string]int64{"2026-10-25": 25 * 3600}},
	{"BerlinFallBackAcrossMidnight", "Europe/Berlin", "2026-10-25T22:30:00Z", time.Hour,
		map[string]int64{"2026-10-25": 1800, "2026-10-26": 1800}},
	// Kiritimati is UTC+14: 09:00Z on the 10th is 23:00 local; 2 h split 1 h / 1 h.
	{"KiritimatiUTCPlus14", "Pacific/Kiritimati", "2026-06-10T09:00:00Z", 2 * time.Hour,
		map[string]int64{"2026-06-10": 3600, "2026-06-11": 3600}},
	// Honolulu is UTC−10: 09:30Z on the 11th is 23:30 on the 10th.
	{"HonoluluUTCMinus10", "Pacific/Honolulu", "2026-06-11T09:30:00Z", time.Hour,
		map[string]int64{"2026-06-10": 1800, "2026-06-11": 1800}},
}

func dayTotalsOf(ctx context.Context, t *testing.T, tr connector.Tracker, zone *time.Location, from, to string) connector.DayTotals {
	t.Helper()
	f, err1 := connector.ParseDay(from)
	l, err2 := connector.ParseDay(to)
	if err := errors.Join(err1, err2); err != nil {
		t.Fatal(err)
	}
	return must(tr.DayTotals(ctx, connector.DaySpan{From: f, To: l, Zone: zone})).of(t)
}

func byDay(tot connector.DayTotals, taskID string) map[string]int64 {
	out := map[string]int64{}
	for _, d := range tot.Totals {
		if d.TaskID == taskID {
			out[d.Day.String()] += d.Seconds
		}
	}
	return out
}

func taskForTime(ctx context.Context, t *testing.T, tr connector.Tracker, fx Fixture, sourceID string) connector.TrackerTask {
	t.Helper()
	p := project(ctx, t, tr, fx, "Timed")
	if tr.Features().CreateTask {
		return newTask(ctx, t, tr, p, sourceID, "Timed task")
	}
	t.Skip("tracker cannot create tasks; its own tests cover day totals")
	return connector.TrackerTask{}
}

func testDayTotalsZones(ctx context.Context, t *testing.T, tr connector.Tracker, fx Fixture) {
	for i, zc := range zoneCases {
		t.Run(zc.name, func(t *testing.T) {
			task := taskForTime(ctx, t, tr, fx, fmt.Sprint(700+i)) // a task per case: exact totals
			loc, err := time.LoadLocation(zc.zone)
			if err != nil {
				t.Fatal(err)
			}
			start, err := time.Parse(time.RFC3339, zc.start)
			if err != nil {
				t.Fatal(err)
			}
			fx.TrackTime(task.ID, start, zc.dur)
			day := connector.DayOf(start, loc)
			got := byDay(dayTotalsOf(ctx, t, tr, loc, day.AddDays(-2).String(), day.AddDays(2).String()), task.ID)
			if !maps.Equal(got, zc.wantByDay) {
				t.Errorf("%s: day totals %v, want %v", zc.zone, got, zc.wantByDay)
			}
		})
	}
}

func testDayTotalsPastEdit(ctx context.Context, t *testing.T, tr connector.Tracker, fx Fixture) {
	task := taskForTime(ctx, t, tr, fx, "71")
	loc := time.UTC
	start := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	fx.TrackTime(task.ID, start, time.Hour)
	if got := byDay(dayTotalsOf(ctx, t, tr, loc, "2026-06-01", "2026-06-03"), task.ID)["2026-06-01"]; got != 3600 {
		t.Fatalf("first read: %d s, want 3600", got)
	}
	fx.TrackTime(task.ID, start.Add(3*time.Hour), 30*time.Minute) // added later for a past day
	if got := byDay(dayTotalsOf(ctx, t, tr, loc, "2026-06-01", "2026-06-03"), task.ID)["2026-06-01"]; got != 5400 {
		t.Fatalf("after a past-day edit: %d s, want 5400", got)
	}
}

func testDayTotalsUnassigned(ctx context.Context, t *testing.T, tr connector.Tracker, fx Fixture) {
	task := taskForTime(ctx, t, tr, fx, "72")
	start := time.Date(2026, 6, 2, 9, 0, 0, 0, time.UTC)
	fx.TrackTime(task.ID, start, time.Hour)
	fx.TrackTime("", start.Add(2*time.Hour), 20*time.Minute)
	tot := dayTotalsOf(ctx, t, tr, time.UTC, "2026-06-02", "2026-06-02")
	if got := byDay(tot, task.ID)["2026-06-02"]; got != 3600 {
		t.Fatalf("task total %d s, want 3600", got)
	}
	if tot.Unassigned != 1200 {
		t.Fatalf("Unassigned = %d s, want 1200: time without a task must be reported", tot.Unassigned)
	}
}

func testRetries(ctx context.Context, t *testing.T, tr connector.Tracker, fx Fixture) {
	project(ctx, t, tr, fx, "Retry project")
	for _, status := range []int{429, 503} {
		fx.FailNext(1, status)
		if _, err := tr.FindProject(ctx, "Retry project"); err != nil {
			// A client may surface the failure as retryable instead of retrying itself.
			if !connector.Retryable(err) {
				t.Fatalf("after one %d the error is %v, want a retry or a retryable error", status, err)
			}
			if _, err := tr.FindProject(ctx, "Retry project"); err != nil {
				t.Fatalf("the call after a %d failed too: %v", status, err)
			}
		}
	}
}

func testForbidden(ctx context.Context, t *testing.T, tr connector.Tracker, fx Fixture) {
	p := project(ctx, t, tr, fx, "Allowed")
	fx.ForbidCreate(true)
	if tr.Features().CreateProject {
		_, err := tr.CreateProject(ctx, "Not allowed")
		if !errors.Is(err, connector.ErrForbidden) {
			t.Fatalf("CreateProject when forbidden: error = %v, want ErrForbidden", err)
		}
		if err != nil && len(err.Error()) < 10 {
			t.Fatalf("forbidden error %q says too little for the user", err)
		}
	}
	if tr.Features().CreateTask {
		_, err := tr.CreateTask(ctx, connector.TrackerTask{ProjectID: p.ID, Name: connector.TaskName("x", "80", 0)})
		if !errors.Is(err, connector.ErrForbidden) {
			t.Fatalf("CreateTask when forbidden: error = %v, want ErrForbidden", err)
		}
	}
}

func testUnauthorized(ctx context.Context, t *testing.T, tr connector.Tracker, fx Fixture) {
	fx.ExpireAuth()
	_, err := tr.Me(ctx)
	if !errors.Is(err, connector.ErrUnauthorized) {
		t.Fatalf("Me after the credentials expired: error = %v, want ErrUnauthorized", err)
	}
	if _, err := tr.FindTasks(ctx, "1"); !errors.Is(err, connector.ErrUnauthorized) {
		t.Fatalf("FindTasks after the credentials expired: error = %v, want ErrUnauthorized", err)
	}
}

func testListTasks(ctx context.Context, t *testing.T, tr connector.Tracker, fx Fixture) {
	if !tr.Features().CreateTask {
		t.Skip("tracker declares it cannot create tasks")
	}
	p := project(ctx, t, tr, fx, "Listed")
	a1 := newTask(ctx, t, tr, p, "91", "First")
	b := newTask(ctx, t, tr, p, "92", "Other")
	a2 := newTask(ctx, t, tr, p, "91", "First again") // a race twin
	found := must(tr.FindTasks(ctx, "91")).of(t)
	if len(found) != 2 || found[0].ID != a1.ID || found[1].ID != a2.ID {
		t.Fatalf("FindTasks(91) = %+v, want [%s %s] oldest first", found, a1.ID, a2.ID)
	}
	lister, ok := tr.(connector.TaskLister)
	if !ok {
		return // a tracker without one read for all tasks: FindTasks is the contract
	}
	all := must(lister.ListTasks(ctx)).of(t)
	var got91 []string
	sawB := false
	for _, tt := range all {
		id, ok := tt.SourceID()
		if !ok {
			t.Fatalf("ListTasks returned %q without a marker", tt.Name)
		}
		switch {
		case id == "91":
			got91 = append(got91, tt.ID)
		case id == "92" && tt.ID == b.ID:
			sawB = true
		}
	}
	if len(got91) != 2 || got91[0] != a1.ID || got91[1] != a2.ID || !sawB {
		t.Fatalf("ListTasks gave %v for 91 (want [%s %s], oldest first) and task 92 found=%v", got91, a1.ID, a2.ID, sawB)
	}
}
