package engine

import (
	"context"
	"errors"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/timebridge/timebridge/sync/connector"
	"github.com/timebridge/timebridge/sync/connectortest"
	"github.com/timebridge/timebridge/sync/store"
)

func TestMirrorRows1to5(t *testing.T) {
	w := newWorld(t)
	w.src.PutTask(connector.Task{ID: "42", Title: "Fix login", GroupID: "10", ResponsibleID: ann, Accomplices: []string{ben}})
	w.src.PutTask(connector.Task{ID: "43", Title: "No group", ResponsibleID: ben, Accomplices: []string{ann}})
	w.src.PutTask(connector.Task{ID: "44", Title: "Not Ann's", GroupID: "10", ResponsibleID: ben})
	e := w.employee(ann, Config{DefaultProject: "General"})
	rep := e.sync()

	// Row 1 + 2: tasks of the user, in the project named like the group; people by email.
	t42 := w.trackerTasks("42")
	if len(t42) != 1 || t42[0].Name != "Fix login [B24-42]" || w.projectName(t42[0].ProjectID) != "Website relaunch" {
		t.Fatalf("task 42 mirrored as %+v", t42)
	}
	if !slicesEqual(t42[0].Members, []string{"td-ann", "td-ben"}) {
		t.Fatalf("members %v, want td-ann and td-ben matched by e-mail (case-insensitive)", t42[0].Members)
	}
	if t43 := w.trackerTasks("43"); len(t43) != 1 || w.projectName(t43[0].ProjectID) != "General" {
		t.Fatalf("task without a group: %+v, want it in the default project", t43)
	}
	if len(w.trackerTasks("44")) != 0 {
		t.Fatal("a task where Ann is neither responsible nor accomplice was mirrored")
	}
	if rep.Created != 2 || rep.Projects != 2 {
		t.Fatalf("report %+v, want 2 tasks and 2 projects created", rep)
	}
	if got := e.eng.Status().Unmatched; len(got) != 0 {
		t.Fatalf("unmatched %v, want none: both people have tracker accounts", got)
	}

	// Row 3: moved to another group.
	w.clock.Advance(time.Minute)
	w.src.EditTask("42", func(t *connector.Task) { t.GroupID = "11" })
	// Row 4: completed.
	w.src.EditTask("43", func(t *connector.Task) { t.Completed, t.Status = true, 5 })
	w.clock.Advance(15 * time.Minute)
	rep = e.sync()
	t42 = w.trackerTasks("42")
	if len(t42) != 1 || w.projectName(t42[0].ProjectID) != "Mobile app" {
		t.Fatalf("after the move: %+v, want the task in Mobile app", t42)
	}
	if t43 := w.trackerTasks("43"); t43[0].Active {
		t.Fatal("completed task still active in the tracker")
	}
	if rep.Moved != 1 || rep.Deactivated != 1 {
		t.Fatalf("report %+v, want 1 moved and 1 deactivated", rep)
	}

	// Row 4: renewed.
	w.clock.Advance(time.Minute)
	w.src.EditTask("43", func(t *connector.Task) { t.Completed, t.Status = false, 2 })
	w.clock.Advance(15 * time.Minute)
	if rep = e.sync(); rep.Reactivated != 1 || !w.trackerTasks("43")[0].Active {
		t.Fatalf("renewed task not reactivated: %+v", rep)
	}

	// Row 5: deleted, and the user removed from a task: found on the hourly recheck.
	w.src.DeleteTask("42")
	w.src.EditTask("43", func(t *connector.Task) { t.Accomplices = nil })
	w.clock.Advance(61 * time.Minute)
	e.sync()
	if w.trackerTasks("42")[0].Active || w.trackerTasks("43")[0].Active {
		t.Fatal("deleted task / task the user lost is still active in the tracker")
	}
}

func slicesEqual(a, b []string) bool { return strings.Join(a, ",") == strings.Join(b, ",") }

func TestMoveOnTrackerThatCannotMove(t *testing.T) {
	w := newWorld(t, connectortest.WithFeatures(connector.Features{CreateProject: true, CreateTask: true, DeactivateTask: true}))
	w.src.PutTask(connector.Task{ID: "42", Title: "Fix login", GroupID: "10", ResponsibleID: ann})
	e := w.employee(ann, Config{})
	e.sync()
	old := w.trackerTasks("42")[0]
	w.tr.TrackTime(old.ID, w.at(2026, 6, 10, 9, 0), time.Hour)
	w.clock.Advance(time.Minute)
	w.src.EditTask("42", func(t *connector.Task) { t.GroupID = "11" })
	w.clock.Advance(15 * time.Minute)
	e.sync()
	tasks := w.trackerTasks("42")
	if len(tasks) != 2 || tasks[0].Active || !tasks[1].Active || w.projectName(tasks[1].ProjectID) != "Mobile app" {
		t.Fatalf("after a move without MoveTask: %+v, want the old inactive and a new active one in Mobile app", tasks)
	}
	w.tr.TrackTime(tasks[1].ID, w.at(2026, 6, 10, 11, 0), 30*time.Minute)
	e.sync()
	// The time of both the old and the new tracker task lands on the Bitrix24 task.
	if got := w.recordsOf("42", ann); got["2026-06-10"] != 5400 {
		t.Fatalf("records %v, want 5400 s on 2026-06-10 (old + new tracker task)", got)
	}
}

func TestTimeWriteBack(t *testing.T) {
	w := newWorld(t)
	w.src.PutTask(connector.Task{ID: "42", Title: "Fix login", GroupID: "10", ResponsibleID: ann})
	e := w.employee(ann, Config{})
	e.sync()
	task := w.trackerTasks("42")[0]
	w.tr.TrackTime(task.ID, w.at(2026, 6, 8, 9, 0), 2*time.Hour)    // Monday
	w.tr.TrackTime(task.ID, w.at(2026, 6, 9, 9, 0), 90*time.Minute) // Tuesday
	w.tr.TrackTime(task.ID, w.at(2026, 6, 5, 9, 0), time.Hour)      // last Friday: before the default start date
	rep := e.sync()
	want := map[string]int64{"2026-06-08": 7200, "2026-06-09": 5400}
	if got := w.recordsOf("42", ann); !maps.Equal(got, want) {
		t.Fatalf("records %v, want %v (nothing before Monday, the default start date)", got, want)
	}
	if rep.Posted != 2 || rep.SecondsPosted != 12600 {
		t.Fatalf("report %+v, want 2 posted, 12600 s", rep)
	}

	// A second cycle changes nothing and stays within the quiet budget.
	before, trBefore := w.src.TotalCalls(), w.tr.Calls()
	rep = e.sync()
	if rep.Posted+rep.Changed+rep.Deleted+rep.Created != 0 {
		t.Fatalf("quiet cycle changed something: %+v", rep)
	}
	if n := w.src.TotalCalls() - before; n > 1 {
		t.Fatalf("quiet cycle made %d Bitrix24 calls, want ≤ 1 (%v)", n, w.src.Calls())
	}
	if n := w.tr.Calls() - trBefore; n > 1 {
		t.Fatalf("quiet cycle made %d tracker calls, want ≤ 1", n)
	}

	// An edit in the past (more time on Monday) updates the record; dropping Tuesday
	// to zero removes its record.
	w.tr.TrackTime(task.ID, w.at(2026, 6, 8, 14, 0), 30*time.Minute)
	w.tr.ClearTime(task.ID)
	w.tr.TrackTime(task.ID, w.at(2026, 6, 8, 9, 0), 150*time.Minute)
	rep = e.sync()
	if got := w.recordsOf("42", ann); !maps.Equal(got, map[string]int64{"2026-06-08": 9000}) {
		t.Fatalf("after edits: %v, want only Monday with 9000 s", got)
	}
	if rep.Changed != 1 || rep.Deleted != 1 {
		t.Fatalf("report %+v, want 1 changed and 1 deleted", rep)
	}
}

func TestStartDateMovedBack(t *testing.T) {
	w := newWorld(t)
	w.src.PutTask(connector.Task{ID: "42", Title: "Fix login", ResponsibleID: ann})
	start, _ := connector.ParseDay("2026-06-04")
	e := w.employee(ann, Config{StartDate: start})
	e.sync()
	task := w.trackerTasks("42")[0]
	w.tr.TrackTime(task.ID, w.at(2026, 6, 3, 9, 0), time.Hour)
	w.tr.TrackTime(task.ID, w.at(2026, 6, 4, 9, 0), time.Hour)
	e.sync()
	if got := w.recordsOf("42", ann); !maps.Equal(got, map[string]int64{"2026-06-04": 3600}) {
		t.Fatalf("records %v, want only 2026-06-04", got)
	}
}

func TestZonesAndDST(t *testing.T) {
	cases := []struct {
		name  string
		zone  string
		now   time.Time // UTC
		start time.Time // UTC
		dur   time.Duration
		want  map[string]int64
	}{
		{"BerlinSpringForward", "Europe/Berlin", time.Date(2026, 3, 31, 10, 0, 0, 0, time.UTC),
			time.Date(2026, 3, 28, 23, 0, 0, 0, time.UTC), 23 * time.Hour, map[string]int64{"2026-03-29": 23 * 3600}},
		{"BerlinFallBack", "Europe/Berlin", time.Date(2026, 10, 27, 10, 0, 0, 0, time.UTC),
			time.Date(2026, 10, 25, 22, 30, 0, 0, time.UTC), time.Hour, map[string]int64{"2026-10-25": 1800, "2026-10-26": 1800}},
		{"Kiritimati", "Pacific/Kiritimati", time.Date(2026, 6, 12, 0, 0, 0, 0, time.UTC),
			time.Date(2026, 6, 10, 9, 0, 0, 0, time.UTC), 2 * time.Hour, map[string]int64{"2026-06-10": 3600, "2026-06-11": 3600}},
		{"Honolulu", "Pacific/Honolulu", time.Date(2026, 6, 12, 20, 0, 0, 0, time.UTC),
			time.Date(2026, 6, 11, 9, 30, 0, 0, time.UTC), time.Hour, map[string]int64{"2026-06-10": 1800, "2026-06-11": 1800}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			loc, _ := time.LoadLocation(tc.zone)
			w.clock.now = tc.now
			w.src.PutTask(connector.Task{ID: "42", Title: "Fix login", ResponsibleID: ann})
			start := connector.DayOf(tc.start, loc).AddDays(-1)
			e := w.employee(ann, Config{TimeZone: loc, StartDate: start})
			e.sync()
			w.tr.TrackTime(w.trackerTasks("42")[0].ID, tc.start, tc.dur)
			e.sync()
			if got := w.recordsOf("42", ann); !maps.Equal(got, tc.want) {
				t.Fatalf("records %v, want %v", got, tc.want)
			}
		})
	}
}

func TestHumanEditBecomesConflict(t *testing.T) {
	for _, keep := range []bool{true, false} {
		t.Run(map[bool]string{true: "KeepBitrix24", false: "UseTracker"}[keep], func(t *testing.T) {
			w := newWorld(t)
			w.src.PutTask(connector.Task{ID: "42", Title: "Fix login", ResponsibleID: ann})
			e := w.employee(ann, Config{})
			e.sync()
			task := w.trackerTasks("42")[0]
			w.tr.TrackTime(task.ID, w.at(2026, 6, 9, 9, 0), time.Hour)
			e.sync()
			var id string
			for _, r := range w.src.Records() {
				id = r.ID
			}
			w.src.EditElapsedAs(id, 600) // a person changes our record
			w.tr.TrackTime(task.ID, w.at(2026, 6, 9, 11, 0), time.Hour)
			rep := e.sync()
			if got := w.recordsOf("42", ann)["2026-06-09"]; got != 600 {
				t.Fatalf("record is %d s, want the person's 600 s untouched", got)
			}
			st := e.eng.Status()
			if rep.Conflicts != 1 || len(st.Conflicts) != 1 || st.State != StateAttention {
				t.Fatalf("report %+v, status %+v: want one conflict and state attention", rep, st)
			}
			c := st.Conflicts[0]
			if c.TrackerSeconds != 7200 || c.RemoteSeconds != 600 || c.Day != "2026-06-09" {
				t.Fatalf("conflict %+v", c)
			}
			if err := e.eng.Resolve(c.Key, keep); err != nil {
				t.Fatal(err)
			}
			if st := e.eng.Status(); keep && (len(st.Conflicts) != 0 || st.State == StateAttention) {
				t.Fatalf("right after keeping the Bitrix24 value: %v, %d conflicts", st.State, len(st.Conflicts))
			}
			e.sync()
			want := int64(600)
			if !keep {
				want = 7200
			}
			if got := w.recordsOf("42", ann)["2026-06-09"]; got != want {
				t.Fatalf("after resolving: %d s, want %d", got, want)
			}
			if rep := e.sync(); rep.Conflicts != 0 || rep.Changed != 0 {
				t.Fatalf("after resolution: %+v, want no conflict and no write", rep)
			}
			wantNote := map[bool]string{true: "Bitrix24 value kept", false: ""}[keep]
			for _, r := range e.eng.Status().Ledger {
				if r.Day == "2026-06-09" && r.Note != wantNote {
					t.Fatalf("ledger note %q, want %q", r.Note, wantNote)
				}
			}
		})
	}
}

func TestPersonDeletesOurRecordIsConflict(t *testing.T) {
	w := newWorld(t)
	w.src.PutTask(connector.Task{ID: "42", Title: "Fix login", ResponsibleID: ann})
	e := w.employee(ann, Config{})
	e.sync()
	task := w.trackerTasks("42")[0]
	w.tr.TrackTime(task.ID, w.at(2026, 6, 9, 9, 0), time.Hour)
	e.sync()
	w.src.RemoveElapsedAs(w.src.Records()[0].ID)
	w.tr.TrackTime(task.ID, w.at(2026, 6, 9, 11, 0), time.Hour)
	if rep := e.sync(); rep.Conflicts != 1 || len(w.src.Records()) != 0 {
		t.Fatalf("report %+v, records %v: want a conflict and no new record", rep, w.src.Records())
	}
}

func TestColleagueRecordWithMarkerIsNotOurs(t *testing.T) {
	w := newWorld(t)
	w.src.PutTask(connector.Task{ID: "42", Title: "Shared", ResponsibleID: ann, Accomplices: []string{ben}})
	day, _ := connector.ParseDay("2026-06-09")
	mk := connector.ElapsedMarker{Tracker: "timedoctor", Day: day}
	w.src.AddElapsedAs(ben, "42", 999, mk.Comment("Ben's"), w.clock.Now())
	e := w.employee(ann, Config{})
	e.sync()
	w.tr.TrackTime(w.trackerTasks("42")[0].ID, w.at(2026, 6, 9, 9, 0), time.Hour)
	e.sync()
	if got := w.recordsOf("42", ann)["2026-06-09"]; got != 3600 {
		t.Fatalf("Ann's record %d s, want 3600", got)
	}
	if got := w.recordsOf("42", ben)["2026-06-09"]; got != 999 {
		t.Fatalf("Ben's record changed to %d s", got)
	}
}

func TestLostReplyOnAddMakesNoDuplicate(t *testing.T) {
	w := newWorld(t)
	w.src.PutTask(connector.Task{ID: "42", Title: "Fix login", ResponsibleID: ann})
	e := w.employee(ann, Config{})
	e.sync()
	w.tr.TrackTime(w.trackerTasks("42")[0].ID, w.at(2026, 6, 9, 9, 0), time.Hour)
	w.src.LoseReplyAfterWrite(1)
	if _, err := e.eng.RunOnce(context.Background()); err == nil {
		t.Fatal("a lost reply should fail the cycle for a retry")
	}
	e.sync()
	if recs := w.src.Records(); len(recs) != 1 || recs[0].Seconds != 3600 {
		t.Fatalf("records %+v, want exactly one with 3600 s", recs)
	}
}

// crashingSource lets n writes through, then applies the next one and "dies": every
// later call fails as a killed process would see it.
type crashingSource struct {
	connector.TaskSource
	left *int
}

func (c crashingSource) step() error {
	if *c.left <= 0 {
		return context.Canceled
	}
	*c.left--
	return nil
}

func (c crashingSource) AddElapsed(ctx context.Context, e connector.Elapsed) (string, error) {
	if err := c.step(); err != nil {
		return "", err
	}
	id, err := c.TaskSource.AddElapsed(ctx, e)
	if *c.left == 0 && err == nil {
		return "", context.Canceled // the write landed, the process died before it heard
	}
	return id, err
}

func (c crashingSource) UpdateElapsed(ctx context.Context, e connector.Elapsed) error {
	if err := c.step(); err != nil {
		return err
	}
	err := c.TaskSource.UpdateElapsed(ctx, e)
	if *c.left == 0 && err == nil {
		return context.Canceled
	}
	return err
}

type crashingTracker struct {
	connector.Tracker
	left *int
}

func (c crashingTracker) CreateTask(ctx context.Context, t connector.TrackerTask) (connector.TrackerTask, error) {
	if *c.left <= 0 {
		return connector.TrackerTask{}, context.Canceled
	}
	*c.left--
	got, err := c.Tracker.CreateTask(ctx, t)
	if *c.left == 0 && err == nil {
		return connector.TrackerTask{}, context.Canceled
	}
	return got, err
}

// TestKillAtEveryStep kills the app after each remote write in turn (the write
// lands, the reply is lost with the process), restarts it on the same state file,
// and checks the final remote state: no duplicate, no missing second.
func TestKillAtEveryStep(t *testing.T) {
	for kill := 1; kill <= 8; kill++ {
		for _, lostState := range []bool{false, true} {
			t.Run(map[bool]string{false: "KeepState", true: "LoseState"}[lostState]+"/"+string(rune('0'+kill)), func(t *testing.T) {
				w := newWorld(t)
				for _, id := range []string{"42", "43", "44"} {
					w.src.PutTask(connector.Task{ID: id, Title: "Task " + id, ResponsibleID: ann})
				}
				left := kill
				e := w.employee(ann, Config{})
				e.source = crashingSource{w.src.As(ann), &left}
				e.tracks = []connector.Tracker{crashingTracker{w.tr, &left}}
				e.restart()
				// Time on tasks that do not exist in the tracker yet: pre-create them so the
				// day totals have tasks to land on.
				_, err := e.eng.RunOnce(context.Background())
				for _, id := range []string{"42", "43", "44"} {
					for _, tt := range w.trackerTasks(id) {
						w.tr.TrackTime(tt.ID, w.at(2026, 6, 9, 9, 0), time.Hour)
						break
					}
				}
				if err == nil {
					_, _ = e.eng.RunOnce(context.Background())
				}
				// Restart with the crash gone.
				if lostState {
					e.path = e.path + ".new"
				}
				e.source = w.src.As(ann)
				e.tracks = []connector.Tracker{w.tr}
				e.restart()
				for range 3 {
					e.sync()
				}
				for _, id := range []string{"42", "43", "44"} {
					tasks := w.trackerTasks(id)
					if len(tasks) != 1 {
						t.Fatalf("task %s has %d tracker tasks, want 1", id, len(tasks))
					}
					w.tr.TrackTime(tasks[0].ID, w.at(2026, 6, 10, 9, 0), time.Minute) // time after the restart
				}
				e.sync()
				w.assertRecordsMatchTracker(ann, "2026-06-08", "2026-06-10")
				for _, tt := range w.tr.Tasks() {
					id, _ := tt.SourceID()
					if got := w.recordsOf(id, ann); got["2026-06-10"] != 60 {
						t.Fatalf("task %s: records %v, want 60 s on 2026-06-10", id, got)
					}
				}
			})
		}
	}
}

func TestTwoEmployeesShareOneTrackerTask(t *testing.T) {
	w := newWorld(t)
	w.src.PutTask(connector.Task{ID: "42", Title: "Shared", GroupID: "10", ResponsibleID: ann, Accomplices: []string{ben}})
	annApp := w.employee(ann, Config{})
	benApp := w.employee(ben, Config{})
	annApp.sync()
	benApp.sync()
	if n := len(w.trackerTasks("42")); n != 1 {
		t.Fatalf("%d tracker tasks after both apps synced, want 1", n)
	}
}

func TestRaceOfTwoEmployeesConverges(t *testing.T) {
	w := newWorld(t)
	w.src.PutTask(connector.Task{ID: "42", Title: "Shared", GroupID: "10", ResponsibleID: ann, Accomplices: []string{ben}})
	// Both created one before either saw the other's (a race).
	p := w.tr.SeedProject("Website relaunch")
	first, _ := w.tr.CreateTask(context.Background(), connector.TrackerTask{ProjectID: p, Name: "Shared [B24-42]"})
	second, _ := w.tr.CreateTask(context.Background(), connector.TrackerTask{ProjectID: p, Name: "Shared [B24-42]"})
	annApp := w.employee(ann, Config{})
	annApp.sync()
	tasks := w.trackerTasks("42")
	if len(tasks) != 2 || tasks[0].ID != first.ID || !tasks[0].Active || tasks[1].ID != second.ID || tasks[1].Active {
		t.Fatalf("after the race: %+v, want the oldest active and the other deactivated", tasks)
	}
	// Time tracked on the duplicate still lands on the Bitrix24 task.
	w.tr.TrackTime(second.ID, w.at(2026, 6, 9, 9, 0), time.Hour)
	annApp.sync()
	if got := w.recordsOf("42", ann)["2026-06-09"]; got != 3600 {
		t.Fatalf("time on the duplicate: %d s, want 3600", got)
	}
}

func TestForbiddenProjectIsParkedRestSyncs(t *testing.T) {
	w := newWorld(t)
	w.tr.SeedProject("Website relaunch")
	w.src.PutTask(connector.Task{ID: "42", Title: "Allowed", GroupID: "10", ResponsibleID: ann})
	w.src.PutTask(connector.Task{ID: "43", Title: "Needs a new project", GroupID: "11", ResponsibleID: ann})
	w.tr.ForbidProjects(true) // tasks may be created, projects not
	e := w.employee(ann, Config{})
	rep := e.sync()
	if len(w.trackerTasks("42")) != 1 || len(w.trackerTasks("43")) != 0 {
		t.Fatalf("42: %v, 43: %v; want 42 mirrored and 43 parked", w.trackerTasks("42"), w.trackerTasks("43"))
	}
	st := e.eng.Status()
	if rep.Parked != 1 || len(st.Parked) != 1 || !strings.Contains(st.Parked[0].Reason, "ask an admin") ||
		!strings.Contains(st.Parked[0].Reason, "Mobile app") {
		t.Fatalf("parked %+v, want one item naming the project and what to do", st.Parked)
	}
	// A retry before its time does nothing; Retry makes it due.
	w.tr.SeedProject("Mobile app")
	e.sync()
	if len(w.trackerTasks("43")) != 0 {
		t.Fatal("a parked item was retried in a tight loop")
	}
	if err := e.eng.Retry(st.Parked[0].Key); err != nil {
		t.Fatal(err)
	}
	if rep := e.sync(); rep.Parked != 0 || len(w.trackerTasks("43")) != 1 {
		t.Fatalf("after Retry: %+v, tasks %v", rep, w.trackerTasks("43"))
	}
}

func TestRateLimitStormSlowsButLosesNothing(t *testing.T) {
	w := newWorld(t)
	w.src.PutTask(connector.Task{ID: "42", Title: "Fix login", ResponsibleID: ann})
	e := w.employee(ann, Config{})
	e.sync()
	w.tr.TrackTime(w.trackerTasks("42")[0].ID, w.at(2026, 6, 9, 9, 0), time.Hour)
	w.src.FailNext(3, 503)
	failures := 0
	for range 6 {
		if _, err := e.eng.RunOnce(context.Background()); err != nil {
			if !connector.Retryable(err) {
				t.Fatalf("a 503 storm gave a non-retryable error: %v", err)
			}
			if e.eng.Status().State != StateOffline {
				t.Fatalf("state %v during the storm, want offline (retrying)", e.eng.Status().State)
			}
			failures++
		}
	}
	if failures != 3 {
		t.Fatalf("%d failed cycles, want 3", failures)
	}
	if got := w.recordsOf("42", ann)["2026-06-09"]; got != 3600 {
		t.Fatalf("after the storm: %d s, want 3600", got)
	}
	if st := e.eng.Status(); st.State != StateSynced || st.LastError != "" {
		t.Fatalf("after a clean cycle: state %v, last error %q; want synced and no error", st.State, st.LastError)
	}
}

func TestUnauthorizedTrackerDoesNotStopOthers(t *testing.T) {
	w := newWorld(t)
	w.src.PutTask(connector.Task{ID: "42", Title: "Fix login", ResponsibleID: ann})
	tl := connectortest.NewMemory(connector.User{ID: "tl-ann", Email: "ann@example.com"},
		connectortest.WithName(connector.TrackerTimeLog), connectortest.WithClock(w.clock.Now))
	tl.SeedProject("Bitrix24")
	e := w.employee(ann, Config{}, w.tr, tl)
	w.tr.ExpireAuth()
	_, err := e.eng.RunOnce(context.Background())
	if !errors.Is(err, connector.ErrUnauthorized) {
		t.Fatalf("error %v, want ErrUnauthorized", err)
	}
	if st := e.eng.Status(); st.State != StateSignInNeeded {
		t.Fatalf("state %v, want sign-in needed", st.State)
	}
	if len(tl.Tasks()) != 1 {
		t.Fatal("TimeLog was not synced while Time Doctor needed a sign-in")
	}
}

func TestStatusSurvivesRestart(t *testing.T) {
	w := newWorld(t)
	w.src.PutTask(connector.Task{ID: "42", Title: "Fix login", ResponsibleID: ann})
	e := w.employee(ann, Config{})
	e.sync()
	w.tr.TrackTime(w.trackerTasks("42")[0].ID, w.at(2026, 6, 10, 9, 0), time.Hour)
	e.sync()
	e.restart()
	st := e.eng.Status()
	if st.Tasks != 1 || st.LastSync.IsZero() || st.State != StateSynced || len(st.Ledger) != 1 || st.Tracked != time.Hour {
		t.Fatalf("status after restart %+v", st)
	}
	if r := st.Ledger[0]; r.TrackerSeconds != 3600 || r.PostedSeconds != 3600 || r.Note != "" || r.TaskTitle != "Fix login" {
		t.Fatalf("ledger row %+v", r)
	}
	j, err := e.eng.Journal(0)
	if err != nil || len(j) < 2 {
		t.Fatalf("journal %v, %v", j, err)
	}
	_ = store.BucketDays
}

func TestDefaultStartDateIsRememberedAcrossWeeks(t *testing.T) {
	w := newWorld(t) // Wednesday 2026-06-10: the start date becomes Monday 2026-06-08
	w.src.PutTask(connector.Task{ID: "42", Title: "Fix login", ResponsibleID: ann})
	e := w.employee(ann, Config{})
	e.sync()
	w.clock.Advance(7 * 24 * time.Hour)                                           // a week later
	w.tr.TrackTime(w.trackerTasks("42")[0].ID, w.at(2026, 6, 9, 9, 0), time.Hour) // an edit last week
	w.tr.TrackTime(w.trackerTasks("42")[0].ID, w.at(2026, 6, 5, 9, 0), time.Hour) // before the start date
	e.sync()
	if got := w.recordsOf("42", ann); !maps.Equal(got, map[string]int64{"2026-06-09": 3600}) {
		t.Fatalf("records %v, want only 2026-06-09 (start date stays 2026-06-08)", got)
	}
}

func TestBitrix24SignInLostWhileWritingTime(t *testing.T) {
	w := newWorld(t)
	w.src.PutTask(connector.Task{ID: "42", Title: "Fix login", ResponsibleID: ann})
	e := w.employee(ann, Config{})
	e.sync()
	w.tr.TrackTime(w.trackerTasks("42")[0].ID, w.at(2026, 6, 9, 9, 0), time.Hour)
	w.clock.Advance(15 * time.Minute)
	// The tasks poll still works, then Bitrix24 refuses the elapsed read.
	w.src.FailNextOn("task.elapseditem.getlist", 401)
	if _, err := e.eng.RunOnce(context.Background()); !errors.Is(err, connector.ErrUnauthorized) {
		t.Fatalf("error %v, want ErrUnauthorized", err)
	}
	for _, s := range e.eng.Status().Services {
		if want := s.Service == "bitrix24"; s.SignedIn == want {
			t.Fatalf("services %+v: want Bitrix24, not the tracker, to need a sign-in", e.eng.Status().Services)
		}
	}
}

func TestUnmatchedPeopleAreShownOnce(t *testing.T) {
	w := newWorld(t)
	w.src.AddUser(connector.User{ID: "3", Name: "Cara", Email: "cara@example.com"})
	w.src.PutTask(connector.Task{ID: "42", Title: "A", ResponsibleID: ann, Accomplices: []string{"3"}})
	w.src.PutTask(connector.Task{ID: "43", Title: "B", ResponsibleID: ann, Accomplices: []string{"3"}})
	e := w.employee(ann, Config{})
	e.sync()
	got := e.eng.Status().Unmatched
	want := "Bitrix24 user 3 (cara@example.com) has no Time Doctor account with that e-mail (tasks 42, 43)"
	if len(got) != 1 || got[0] != want {
		t.Fatalf("unmatched %q, want [%q]", got, want)
	}
	if m := w.trackerTasks("42")[0].Members; !slicesEqual(m, []string{"td-ann"}) {
		t.Fatalf("members %v: Cara must be skipped, not guessed", m)
	}
}

func TestResyncFromDate(t *testing.T) {
	w := newWorld(t) // Wednesday 2026-06-10
	w.src.PutTask(connector.Task{ID: "42", Title: "Fix login", ResponsibleID: ann})
	start, _ := connector.ParseDay("2026-05-01")
	e := w.employee(ann, Config{StartDate: start, RereadDays: 3})
	e.sync()
	id := w.trackerTasks("42")[0].ID
	w.tr.TrackTime(id, w.at(2026, 5, 20, 9, 0), time.Hour) // older than the 3 re-read days
	w.tr.TrackTime(id, w.at(2026, 4, 28, 9, 0), time.Hour) // before the start date
	e.sync()
	if got := w.recordsOf("42", ann); len(got) != 0 {
		t.Fatalf("records %v before the resync, want none (outside the re-read days)", got)
	}
	from, _ := connector.ParseDay("2026-04-01")
	if err := e.eng.ResyncFrom(from); err != nil {
		t.Fatal(err)
	}
	e.sync()
	if got := w.recordsOf("42", ann); !maps.Equal(got, map[string]int64{"2026-05-20": 3600}) {
		t.Fatalf("records %v after the resync, want 2026-05-20 only (never before the start date)", got)
	}
	// The next cycles re-read only the last days again.
	w.tr.TrackTime(id, w.at(2026, 5, 21, 9, 0), time.Hour)
	e.sync()
	if got := w.recordsOf("42", ann); got["2026-05-21"] != 0 {
		t.Fatalf("a normal cycle after the resync still read old days: %v", got)
	}
}
