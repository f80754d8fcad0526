package engine

// End-to-end with all real clients: Bitrix24, Time Doctor 2 and TimeLog against
// their emulators. Assertions read the emulators' final state.

import (
	"context"
	"maps"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/timebridge/timebridge/sync/bitrix24/bitrix24test"
	"github.com/timebridge/timebridge/sync/connector"
	"github.com/timebridge/timebridge/sync/connector/rest"
	"github.com/timebridge/timebridge/sync/store"
	"github.com/timebridge/timebridge/sync/timedoctor"
	"github.com/timebridge/timebridge/sync/timedoctor/timedoctortest"
	"github.com/timebridge/timebridge/sync/timelog"
	"github.com/timebridge/timebridge/sync/timelog/timelogtest"
)

var noSleep = func(context.Context, time.Duration) error { return nil }

// fullWorld is a portal plus both trackers on one clock.
type fullWorld struct {
	*portalWorld
	td     *timedoctortest.Server
	tdCo   string
	tdAnna string
	tl     *timelogtest.Server
}

func newFullWorld(t *testing.T, zone *time.Location, start time.Time, tdOpts timedoctortest.Options) *fullWorld {
	t.Helper()
	pw := &portalWorld{t: t, zone: zone, users: map[string]int{}, clock: &fakeClock{now: start}}
	pw.emu = bitrix24test.New(bitrix24test.Options{Start: start})
	t.Cleanup(pw.emu.Close)
	pw.users["anna"] = pw.emu.AddUser(bitrix24test.User{Name: "Anna", Email: "anna@example.com", TimeZone: zone.String()})
	pw.users["boris"] = pw.emu.AddUser(bitrix24test.User{Name: "Boris", Email: "boris@example.com", TimeZone: zone.String()})
	w := &fullWorld{portalWorld: pw}
	tdOpts.Start = start
	w.td = timedoctortest.New(tdOpts)
	t.Cleanup(w.td.Close)
	w.tdCo = w.td.AddCompany("Acme", zone.String())
	w.tdAnna = w.td.AddUser(timedoctortest.User{Company: w.tdCo, Role: "user", Name: "Anna", Email: "anna@example.com", Zone: zone.String()})
	w.td.AddUser(timedoctortest.User{Company: w.tdCo, Role: "admin", Name: "Boris", Email: "boris@example.com"})
	w.tl = timelogtest.New(timelogtest.Options{Start: start, Zone: zone,
		Owner: timelogtest.User{UserID: 29, FirstName: "Anna", Email: "anna@example.com"}})
	t.Cleanup(w.tl.Close)
	return w
}

func (w *fullWorld) advance(d time.Duration) {
	w.portalWorld.advance(d)
	w.td.Clock.Advance(d)
	w.tl.Clock.Advance(d)
}

func (w *fullWorld) timeDoctor() *timedoctor.Client {
	w.t.Helper()
	c, err := timedoctor.New(timedoctor.Config{BaseURL: w.td.URL, Token: w.td.IssueToken(w.tdAnna), Company: w.tdCo,
		HTTP: w.td.Client(), Now: w.td.Clock.Now, Pacer: rest.PacerConfig{Rate: -1, Sleep: noSleep}})
	if err != nil {
		w.t.Fatal(err)
	}
	return c
}

func (w *fullWorld) timeLog() *timelog.Client {
	w.t.Helper()
	c, err := timelog.New(timelog.Config{BaseURL: w.tl.URL, Token: w.tl.Token, HTTPClient: w.tl.Client(), Now: w.tl.Clock.Now,
		Pacer: rest.PacerConfig{Rate: -1, Sleep: noSleep}})
	if err != nil {
		w.t.Fatal(err)
	}
	return c
}

func (w *fullWorld) engineWith(trackers ...connector.Tracker) *Engine {
	w.t.Helper()
	st, err := store.Open(filepath.Join(w.t.TempDir(), "state.db"), store.Options{})
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(func() { st.Close() })
	eng, err := New(Config{TimeZone: w.zone}, Options{Source: w.client("anna"), Trackers: trackers, Store: st, Clock: w.clock})
	if err != nil {
		w.t.Fatal(err)
	}
	return eng
}

// tdTaskOf finds the Time Doctor task carrying the marker of Bitrix24 task id.
func (w *fullWorld) tdTaskOf(id int) (timedoctortest.TaskState, bool) {
	for _, t := range w.td.Tasks(w.tdCo) {
		if strings.HasSuffix(t.Name, connector.TaskMarker(strconv.Itoa(id))) {
			return t, true
		}
	}
	return timedoctortest.TaskState{}, false
}

func TestE2ETimeDoctorForbiddenProjectIsParked(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	start := time.Date(2026, 6, 10, 12, 0, 0, 0, berlin)
	w := newFullWorld(t, berlin, start, timedoctortest.Options{UsersCreateTasks: true})
	w.td.AddProject(w.tdCo, "Website relaunch") // an admin made this one
	web := w.emu.AddGroup(bitrix24test.Group{Name: "Website relaunch", Members: []int{w.users["anna"]}, Project: true})
	app := w.emu.AddGroup(bitrix24test.Group{Name: "Mobile app", Members: []int{w.users["anna"]}, Project: true})
	t1 := w.emu.AddTask(bitrix24test.Task{Title: "Landing page", GroupID: web, ResponsibleID: w.users["anna"], CreatedBy: w.users["anna"]})
	t2 := w.emu.AddTask(bitrix24test.Task{Title: "Passkeys", GroupID: app, ResponsibleID: w.users["anna"], CreatedBy: w.users["anna"]})
	eng := w.engineWith(w.timeDoctor())
	rep, err := eng.RunOnce(context.Background())
	if err != nil {
		t.Fatalf("cycle: %v", err)
	}
	td1, ok := w.tdTaskOf(t1)
	if !ok {
		t.Fatal("the task in the existing project was not mirrored")
	}
	if _, ok := w.tdTaskOf(t2); ok {
		t.Fatal("a task was created although its project could not be")
	}
	st := eng.Status()
	if rep.Parked != 1 || len(st.Parked) != 1 || !strings.Contains(st.Parked[0].Reason, "ask an admin") ||
		!strings.Contains(st.Parked[0].Reason, "Mobile app") {
		t.Fatalf("parked %+v", st.Parked)
	}
	// Time on the mirrored task lands in Bitrix24 while the other item stays parked.
	w.td.AddWorklog(w.tdAnna, td1.ID, time.Date(2026, 6, 10, 9, 0, 0, 0, berlin), 5400, "computer")
	w.advance(15 * time.Minute)
	if _, err := eng.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := w.records(t1, "anna"); got["2026-06-10"] != 5400 {
		t.Fatalf("records %v, want 5400 s on 2026-06-10", got)
	}
}

func TestE2ETimeDoctorZonesAndDST(t *testing.T) {
	cases := []struct {
		name  string
		zone  string
		now   time.Time
		start time.Time
		secs  int
		want  map[string]int
	}{
		{"BerlinSpringForward", "Europe/Berlin", time.Date(2026, 3, 30, 10, 0, 0, 0, time.UTC),
			time.Date(2026, 3, 28, 22, 0, 0, 0, time.UTC), 3 * 3600, map[string]int{"2026-03-28": 3600, "2026-03-29": 7200}},
		{"BerlinFallBack", "Europe/Berlin", time.Date(2026, 10, 27, 10, 0, 0, 0, time.UTC),
			time.Date(2026, 10, 24, 22, 0, 0, 0, time.UTC), 25 * 3600, map[string]int{"2026-10-25": 25 * 3600}},
		{"KiritimatiUTCPlus14", "Pacific/Kiritimati", time.Date(2026, 6, 11, 20, 0, 0, 0, time.UTC),
			time.Date(2026, 6, 10, 9, 0, 0, 0, time.UTC), 7200, map[string]int{"2026-06-10": 3600, "2026-06-11": 3600}},
		{"HonoluluUTCMinus10", "Pacific/Honolulu", time.Date(2026, 6, 12, 20, 0, 0, 0, time.UTC),
			time.Date(2026, 6, 11, 9, 30, 0, 0, time.UTC), 3600, map[string]int{"2026-06-10": 1800, "2026-06-11": 1800}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			loc, _ := time.LoadLocation(tc.zone)
			w := newFullWorld(t, loc, tc.now, timedoctortest.Options{UsersCreateTasks: true})
			w.td.AddProject(w.tdCo, "Bitrix24")
			task := w.emu.AddTask(bitrix24test.Task{Title: "Night shift", ResponsibleID: w.users["anna"], CreatedBy: w.users["anna"]})
			st, err := store.Open(filepath.Join(t.TempDir(), "state.db"), store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			startDay := connector.DayOf(tc.start, loc).AddDays(-1)
			eng, err := New(Config{TimeZone: loc, StartDate: startDay}, Options{Source: w.client("anna"),
				Trackers: []connector.Tracker{w.timeDoctor()}, Store: st, Clock: w.clock})
			if err != nil {
				t.Fatal(err)
			}
			runCycle(t, eng)
			tt, ok := w.tdTaskOf(task)
			if !ok {
				t.Fatal("task not mirrored")
			}
			w.td.AddWorklog(w.tdAnna, tt.ID, tc.start, tc.secs, "computer")
			w.advance(15 * time.Minute)
			runCycle(t, eng)
			if got := w.records(task, "anna"); !maps.Equal(got, tc.want) {
				t.Fatalf("records %v, want %v", got, tc.want)
			}
		})
	}
}

func TestE2ETimeLogTwoWayNoEchoClosedWeek(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	start := time.Date(2026, 6, 10, 12, 0, 0, 0, berlin) // Wednesday
	w := newFullWorld(t, berlin, start, timedoctortest.Options{})
	w.tl.AddProject(timelogtest.Project{Name: "Bitrix24"})
	anna := w.users["anna"]
	t1 := w.emu.AddTask(bitrix24test.Task{Title: "Fix login", ResponsibleID: anna, CreatedBy: anna})
	t2 := w.emu.AddTask(bitrix24test.Task{Title: "Write docs", ResponsibleID: anna, CreatedBy: anna})
	start2, _ := connector.ParseDay("2026-06-01")
	st, err := store.Open(filepath.Join(t.TempDir(), "state.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	eng, err := New(Config{TimeZone: berlin, StartDate: start2}, Options{Source: w.client("anna"),
		Trackers: []connector.Tracker{w.timeLog()}, Store: st, Clock: w.clock})
	if err != nil {
		t.Fatal(err)
	}
	runCycle(t, eng)

	// Anna types time into Bitrix24 herself: this week, and in last week which is closed.
	w.emu.AddElapsedAs(anna, t1, 2700, "Call with the customer", time.Date(2026, 6, 9, 15, 0, 0, 0, berlin))
	w.emu.AddElapsedAs(anna, t2, 1800, "Review", time.Date(2026, 6, 4, 15, 0, 0, 0, berlin))
	w.tl.CloseWeek(29, "2026-06-04")
	// And she tracks time in TimeLog on t2 this week.
	var tlTask string
	for _, tk := range w.tl.Tasks() {
		if strings.HasSuffix(tk.Name, connector.TaskMarker(strconv.Itoa(t2))) {
			tlTask = strconv.Itoa(tk.TaskID)
		}
	}
	if tlTask == "" {
		t.Fatal("task not mirrored into TimeLog")
	}
	w.tl.TrackTime(tlTask, time.Date(2026, 6, 10, 9, 0, 0, 0, berlin), time.Hour)
	w.advance(61 * time.Minute) // a recheck cycle copies Bitrix24 time
	rep, err := eng.RunOnce(context.Background())
	if err != nil {
		t.Fatalf("cycle: %v", err)
	}
	guid := connector.RegistrationGUID(w.client("anna").Portal(), strconv.Itoa(w.emu.ElapsedOf(t1)[0].ID))
	reg, ok := w.tl.Registration(guid)
	if !ok || reg.Hours != 0.75 || reg.Date[:10] != "2026-06-09" {
		t.Fatalf("registration %+v (found %v), want 0.75 h on 2026-06-09 under the deterministic GUID", reg, ok)
	}
	if rep.Parked != 1 || !strings.Contains(eng.Status().Parked[0].Reason, "closed") {
		t.Fatalf("parked %+v, want the closed week's record parked", eng.Status().Parked)
	}
	// TimeLog's own time went to Bitrix24; the copied registration did not come back.
	if got := w.records(t2, "anna"); !maps.Equal(got, map[string]int{"2026-06-10": 3600}) {
		t.Fatalf("t2 records %v, want only TimeLog's hour on 2026-06-10", got)
	}
	for i := 0; i < 2; i++ {
		w.advance(61 * time.Minute)
		runCycleAllowParked(t, eng)
	}
	if got := w.records(t1, "anna"); len(got) != 0 {
		t.Fatalf("the copied registration echoed back to Bitrix24: %v", got)
	}
	if n := len(w.tl.Registrations()); n != 2 { // TimeLog's hour + the copy
		t.Fatalf("%d registrations in TimeLog, want 2: %+v", n, w.tl.Registrations())
	}
}

func runCycleAllowParked(t *testing.T, eng *Engine) Report {
	t.Helper()
	rep, err := eng.RunOnce(context.Background())
	if err != nil {
		t.Fatalf("cycle: %v", err)
	}
	return rep
}

// copiedRegistration: Anna logs an hour on a task directly in Bitrix24 and the
// engine copies it to TimeLog. It returns the world, the engine, the Bitrix24
// record and its copy.
func copiedRegistration(t *testing.T) (*fullWorld, *Engine, int, string, timelogtest.Registration) {
	t.Helper()
	berlin, _ := time.LoadLocation("Europe/Berlin")
	start := time.Date(2026, 6, 10, 12, 0, 0, 0, berlin)
	w := newFullWorld(t, berlin, start, timedoctortest.Options{})
	w.tl.AddProject(timelogtest.Project{Name: "Bitrix24"})
	anna := w.users["anna"]
	task := w.emu.AddTask(bitrix24test.Task{Title: "Fix login", ResponsibleID: anna, CreatedBy: anna})
	eng := w.engineWith(w.timeLog())
	runCycle(t, eng)
	rec := w.emu.AddElapsedAs(anna, task, 3600, "Pairing", time.Date(2026, 6, 9, 15, 0, 0, 0, berlin))
	w.advance(61 * time.Minute)
	runCycle(t, eng)
	guid := connector.RegistrationGUID(w.client("anna").Portal(), strconv.Itoa(rec))
	reg, ok := w.tl.Registration(guid)
	if !ok || reg.Hours != 1 {
		t.Fatalf("registration %+v, %v: want the hour copied", reg, ok)
	}
	return w, eng, rec, guid, reg
}

func TestE2ETimeLogPersonEditsOurRegistration(t *testing.T) {
	w, eng, rec, guid, reg := copiedRegistration(t)
	anna := w.users["anna"]
	// A manager corrects the copy in TimeLog; then Anna changes her Bitrix24 record.
	w.tl.EditRegistration(reg.TimeRegistrationID, 1, func(r *timelogtest.Registration) { r.Hours = 0.5 })
	if err := w.emu.EditElapsedAs(anna, rec, 5400, "Pairing"); err != nil {
		t.Fatal(err)
	}
	w.advance(61 * time.Minute)
	rep := runCycleAllowParked(t, eng)
	if reg, _ := w.tl.Registration(guid); reg.Hours != 0.5 || rep.Conflicts != 1 {
		t.Fatalf("registration %.2f h, report %+v: want the person's 0.5 h kept and a conflict", reg.Hours, rep)
	}
	c := eng.Status().Conflicts[0]
	if c.TrackerSeconds != 1800 || c.RemoteSeconds != 5400 {
		t.Fatalf("conflict %+v", c)
	}
	if err := eng.Resolve(c.Key, true); err != nil { // keep the Bitrix24 value
		t.Fatal(err)
	}
	w.advance(61 * time.Minute)
	runCycle(t, eng)
	if reg, _ := w.tl.Registration(guid); reg.Hours != 1.5 {
		t.Fatalf("after keeping the Bitrix24 value the registration has %.2f h, want 1.5", reg.Hours)
	}
	if rep := runCycle(t, eng); rep.Conflicts != 0 {
		t.Fatalf("conflict still open: %+v", rep)
	}
}

func TestE2ETimeLogPersonDeletesOurCopy(t *testing.T) {
	w, eng, _, guid, reg := copiedRegistration(t)
	w.tl.DeleteRegistrationUI(reg.TimeRegistrationID) // a manager removes it in TimeLog
	w.advance(61 * time.Minute)
	if rep := runCycle(t, eng); rep.Conflicts != 1 {
		t.Fatalf("report %+v, want the deletion as a conflict", rep)
	}
	if _, ok := w.tl.Registration(guid); ok {
		t.Fatal("the deleted copy was written again without asking")
	}
	c := eng.Status().Conflicts[0]
	if err := eng.Resolve(c.Key, false); err != nil { // accept TimeLog's value: no row
		t.Fatal(err)
	}
	w.advance(61 * time.Minute)
	if rep := runCycle(t, eng); rep.Conflicts != 0 {
		t.Fatalf("after accepting the deletion: %+v", rep)
	}
	if _, ok := w.tl.Registration(guid); ok {
		t.Fatal("the copy came back after the user accepted its deletion")
	}
}
