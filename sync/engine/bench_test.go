package engine

// Benchmarks of requests per cycle against the three emulators (the figures in
// BENCHMARKS.md). Run: go test -run '^$' -bench . -benchtime 20x ./sync/engine

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/timebridge/timebridge/sync/bitrix24"
	"github.com/timebridge/timebridge/sync/bitrix24/bitrix24test"
	"github.com/timebridge/timebridge/sync/connector"
	"github.com/timebridge/timebridge/sync/connector/rest"
	"github.com/timebridge/timebridge/sync/store"
	"github.com/timebridge/timebridge/sync/timedoctor"
	"github.com/timebridge/timebridge/sync/timedoctor/timedoctortest"
	"github.com/timebridge/timebridge/sync/timelog"
	"github.com/timebridge/timebridge/sync/timelog/timelogtest"
)

// benchWorld: n Bitrix24 tasks in 3 groups, mirrored into Time Doctor and TimeLog,
// with a week of tracked time, after two warm-up cycles.
type benchWorld struct {
	w     *fullWorld
	eng   *Engine
	tasks []int
	td    []string // Time Doctor task ids, by index of tasks
}

func newBenchWorld(b *testing.B, n int) *benchWorld {
	b.Helper()
	berlin, _ := time.LoadLocation("Europe/Berlin")
	start := time.Date(2026, 6, 12, 12, 0, 0, 0, berlin) // a Friday
	bw := &benchWorld{}
	w := newBenchFullWorld(b, berlin, start)
	bw.w = w
	anna := w.users["anna"]
	var groups []int
	for i := range 3 {
		name := fmt.Sprintf("Group %d", i)
		groups = append(groups, w.emu.AddGroup(bitrix24test.Group{Name: name, Members: []int{anna}, Project: true}))
		w.td.AddProject(w.tdCo, name)
		w.tl.AddProject(timelogtest.Project{Name: name})
	}
	for i := range n {
		bw.tasks = append(bw.tasks, w.emu.AddTask(bitrix24test.Task{Title: fmt.Sprintf("Task %d", i), GroupID: groups[i%3],
			ResponsibleID: anna, CreatedBy: anna}))
	}
	st, err := store.Open(filepath.Join(b.TempDir(), "state.db"), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	startDay, _ := connector.ParseDay("2026-06-01")
	bw.eng, err = New(Config{TimeZone: berlin, StartDate: startDay, RecheckEvery: 1000 * time.Hour},
		Options{Source: w.benchClient(), Trackers: []connector.Tracker{w.benchTimeDoctor(), w.benchTimeLog()}, Store: st, Clock: w.clock})
	if err != nil {
		b.Fatal(err)
	}
	bw.cycle(b)
	for i, id := range bw.tasks {
		tt, ok := w.tdTaskOf(id)
		if !ok {
			b.Fatalf("task %d not mirrored", id)
		}
		bw.td = append(bw.td, tt.ID)
		for d := 8; d <= 12; d++ {
			w.td.AddWorklog(w.tdAnna, tt.ID, time.Date(2026, 6, d, 9+i%8, 0, 0, 0, berlin), 1800, "computer")
		}
	}
	bw.cycle(b)
	return bw
}

func (bw *benchWorld) cycle(b *testing.B) Report {
	b.Helper()
	bw.w.advance(15 * time.Minute)
	rep, err := bw.eng.RunOnce(context.Background())
	if err != nil {
		b.Fatalf("cycle: %v", err)
	}
	return rep
}

func (bw *benchWorld) resetCounts() {
	bw.w.emu.ResetCalls()
	bw.w.td.ResetRequests()
	bw.w.tl.ResetRequests()
}

func (bw *benchWorld) report(b *testing.B, cycles int) {
	byMethod := map[string]int{}
	for _, c := range bw.w.emu.Calls() {
		byMethod[c.Method]++
	}
	b.Logf("Bitrix24 requests over %d cycles by method: %v", cycles, byMethod)
	b.ReportMetric(float64(len(bw.w.emu.Calls()))/float64(cycles), "bitrix24-req/cycle")
	b.ReportMetric(float64(len(bw.w.td.Requests()))/float64(cycles), "timedoctor-req/cycle")
	b.ReportMetric(float64(len(bw.w.tl.Requests()))/float64(cycles), "timelog-req/cycle")
}

// BenchmarkQuietCycle: nothing changed since the last cycle. The budget (issue 8):
// ≤ 1 Bitrix24 request and ≤ 1 tracker request per 7-day window (14 days re-read:
// Time Doctor 3 windows, TimeLog one read).
func BenchmarkQuietCycle(b *testing.B) {
	bw := newBenchWorld(b, 60)
	bw.resetCounts()
	n := 0
	for b.Loop() {
		bw.cycle(b)
		n++
	}
	bw.report(b, n)
}

// BenchmarkCycleWithChanges: each cycle one task changes in Bitrix24 and one
// day total changes in Time Doctor.
func BenchmarkCycleWithChanges(b *testing.B) {
	bw := newBenchWorld(b, 60)
	bw.resetCounts()
	n := 0
	for b.Loop() {
		i := n % len(bw.tasks)
		bw.w.emu.RenameTask(bw.tasks[i], fmt.Sprintf("Task %d (v%d)", i, n))
		bw.w.td.AddWorklog(bw.w.tdAnna, bw.td[i], time.Date(2026, 6, 12, 17, n%60, 0, 0, bw.w.zone), 60, "computer")
		rep := bw.cycle(b)
		if rep.Changed+rep.Posted == 0 {
			b.Fatalf("cycle %d wrote no time: %+v", n, rep)
		}
		n++
	}
	bw.report(b, n)
}

// BenchmarkInitialMirror: the first sign-in mirrors 100 tasks against the
// emulators with the clients' real pacing (Bitrix24 2 requests/s, burst 50) on the
// wall clock: ns/op is the time an employee waits for the first sync.
func BenchmarkInitialMirror(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		berlin, _ := time.LoadLocation("Europe/Berlin")
		now := time.Now()
		emu := bitrix24test.New(bitrix24test.Options{RealTime: true, Start: now})
		td := timedoctortest.New(timedoctortest.Options{RealTime: true, Start: now, UsersCreateTasks: true})
		anna := emu.AddUser(bitrix24test.User{Name: "Anna", Email: "anna@example.com"})
		co := td.AddCompany("Acme", "Europe/Berlin")
		tdAnna := td.AddUser(timedoctortest.User{Company: co, Role: "admin", Name: "Anna", Email: "anna@example.com"})
		g := emu.AddGroup(bitrix24test.Group{Name: "Big project", Members: []int{anna}, Project: true})
		for i := range 100 {
			emu.AddTask(bitrix24test.Task{Title: fmt.Sprintf("Task %d", i), GroupID: g, ResponsibleID: anna, CreatedBy: anna})
		}
		tok := emu.IssueToken(anna)
		src, err := bitrix24.New(bitrix24.Config{BaseURL: emu.URL + "/rest/", HTTPClient: emu.Client(),
			Token: bitrix24.Token{AccessToken: tok.Access, RefreshToken: tok.Refresh, Expiry: tok.Expires}})
		if err != nil {
			b.Fatal(err)
		}
		tdc, err := timedoctor.New(timedoctor.Config{BaseURL: td.URL, Token: td.IssueToken(tdAnna), Company: co, HTTP: td.Client()})
		if err != nil {
			b.Fatal(err)
		}
		st, err := store.Open(filepath.Join(b.TempDir(), "state.db"), store.Options{})
		if err != nil {
			b.Fatal(err)
		}
		eng, err := New(Config{TimeZone: berlin}, Options{Source: src, Trackers: []connector.Tracker{tdc}, Store: st})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		rep, err := eng.RunOnce(context.Background())
		b.StopTimer()
		if err != nil || rep.Created != 100 {
			b.Fatalf("initial mirror: %v, %+v", err, rep)
		}
		b.ReportMetric(float64(len(emu.Calls())), "bitrix24-req")
		b.ReportMetric(float64(len(td.Requests())), "timedoctor-req")
		st.Close()
		emu.Close()
		td.Close()
		b.StartTimer()
	}
}

// newBenchFullWorld is newFullWorld for benchmarks.
func newBenchFullWorld(b *testing.B, zone *time.Location, start time.Time) *fullWorld {
	pw := &portalWorld{zone: zone, users: map[string]int{}, clock: &fakeClock{now: start}}
	pw.emu = bitrix24test.New(bitrix24test.Options{Start: start})
	b.Cleanup(pw.emu.Close)
	pw.users["anna"] = pw.emu.AddUser(bitrix24test.User{Name: "Anna", Email: "anna@example.com", TimeZone: zone.String()})
	w := &fullWorld{portalWorld: pw}
	w.td = timedoctortest.New(timedoctortest.Options{Start: start, UsersCreateTasks: true})
	b.Cleanup(w.td.Close)
	w.tdCo = w.td.AddCompany("Acme", zone.String())
	w.tdAnna = w.td.AddUser(timedoctortest.User{Company: w.tdCo, Role: "user", Name: "Anna", Email: "anna@example.com"})
	w.tl = timelogtest.New(timelogtest.Options{Start: start, Zone: zone,
		Owner: timelogtest.User{UserID: 29, FirstName: "Anna", Email: "anna@example.com"}})
	b.Cleanup(w.tl.Close)
	return w
}

func (w *fullWorld) benchClient() *bitrix24.Client {
	tok := w.emu.IssueToken(w.users["anna"])
	c, err := bitrix24.New(bitrix24.Config{BaseURL: w.emu.URL + "/rest/", HTTPClient: w.emu.Client(),
		Token:   bitrix24.Token{AccessToken: tok.Access, RefreshToken: tok.Refresh, Expiry: tok.Expires},
		OAuth:   &bitrix24.OAuthConfig{ClientID: w.emu.ClientID(), ClientSecret: w.emu.ClientSecret(), TokenURL: w.emu.AuthURL + "/oauth/token/"},
		OnToken: func(context.Context, bitrix24.Token) error { return nil },
		// Unpaced, but a retry's pause passes on the emulator's clock, so its leaky
		// bucket drains as it would in real time.
		Rate: -1, Sleep: func(_ context.Context, d time.Duration) error { w.emu.Clock.Advance(d); return nil }, Now: w.emu.Clock.Now})
	if err != nil {
		panic(err)
	}
	return c
}

func (w *fullWorld) benchTimeDoctor() *timedoctor.Client {
	c, err := timedoctor.New(timedoctor.Config{BaseURL: w.td.URL, Token: w.td.IssueToken(w.tdAnna), Company: w.tdCo,
		HTTP: w.td.Client(), Now: w.td.Clock.Now, Pacer: rest.PacerConfig{Rate: -1, Sleep: noSleep}})
	if err != nil {
		panic(err)
	}
	return c
}

func (w *fullWorld) benchTimeLog() *timelog.Client {
	c, err := timelog.New(timelog.Config{BaseURL: w.tl.URL, Token: w.tl.Token, HTTPClient: w.tl.Client(), Now: w.tl.Clock.Now,
		Pacer: rest.PacerConfig{Rate: -1, Sleep: noSleep}})
	if err != nil {
		panic(err)
	}
	return c
}
