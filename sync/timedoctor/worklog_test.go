package timedoctor

import (
	"errors"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/timebridge/timebridge/sync/connector"
	"github.com/timebridge/timebridge/sync/timedoctor/timedoctortest"
)

func span(t *testing.T, from, to, zone string) connector.DaySpan {
	t.Helper()
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	f, err1 := connector.ParseDay(from)
	l, err2 := connector.ParseDay(to)
	if err := errors.Join(err1, err2); err != nil {
		t.Fatal(err)
	}
	return connector.DaySpan{From: f, To: l, Zone: loc}
}

func totalsByDay(tot connector.DayTotals, task string) map[string]int64 {
	out := map[string]int64{}
	for _, d := range tot.Totals {
		if d.TaskID == task {
			out[d.Day.String()] += d.Seconds
		}
	}
	return out
}

func at(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

type seg struct {
	start string
	secs  int
}

func TestDayTotalsZones(t *testing.T) {
	cases := []struct {
		name, zone, from, to string
		segs                 []seg
		want                 map[string]int64
	}{
		// 2026-03-29: 23 h in Berlin. 23:30 CET on the 28th for 1 h → 30 min each side;
		// 01:30–03:30 CET/CEST on the 29th is one hour of wall time; whole day 23 h.
		{"BerlinSpringForward", "Europe/Berlin", "2026-03-28", "2026-03-30",
			[]seg{{"2026-03-28T22:30:00Z", 3600}, {"2026-03-29T00:30:00Z", 3600}, {"2026-03-29T22:00:00Z", 1800}},
			map[string]int64{"2026-03-28": 1800, "2026-03-29": 5400, "2026-03-30": 1800}},
		{"BerlinSpringForwardWholeDay", "Europe/Berlin", "2026-03-29", "2026-03-29",
			[]seg{{"2026-03-28T23:00:00Z", 23 * 3600}}, map[string]int64{"2026-03-29": 23 * 3600}},
		// 2026-10-25: 25 h in Berlin.
		{"BerlinFallBackWholeDay", "Europe/Berlin", "2026-10-24", "2026-10-26",
			[]seg{{"2026-10-24T22:00:00Z", 26 * 3600}}, map[string]int64{"2026-10-25": 25 * 3600, "2026-10-26": 3600}},
		{"BerlinFallBackEvening", "Europe/Berlin", "2026-10-25", "2026-10-26",
			[]seg{{"2026-10-25T22:30:00Z", 3600}}, map[string]int64{"2026-10-25": 1800, "2026-10-26": 1800}},
		// UTC+14: 09:30Z on the 10th is 23:30 local.
		{"Kiritimati", "Pacific/Kiritimati", "2026-06-10", "2026-06-11",
			[]seg{{"2026-06-10T09:30:00Z", 3600}, {"2026-06-09T10:00:00Z", 600}},
			map[string]int64{"2026-06-10": 1800 + 600, "2026-06-11": 1800}},
		// UTC−10: 09:30Z on the 11th is 23:30 on the 10th.
		{"Honolulu", "Pacific/Honolulu", "2026-06-10", "2026-06-11",
			[]seg{{"2026-06-11T09:30:00Z", 3600}, {"2026-06-10T09:00:00Z", 600}},
			map[string]int64{"2026-06-10": 1800, "2026-06-11": 1800}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("TZ", "Asia/Kolkata") // the process zone must not matter
			e := newEnv(t, timedoctortest.Options{}, nil)
			task := e.emu.AddTask(e.emu.AddProject(e.company, "P"), "T [B24-1]")
			other := e.emu.AddUser(timedoctortest.User{Company: e.company, Name: "Ben", Email: "ben@example.com"})
			for _, s := range tc.segs {
				e.emu.AddWorklog(e.user, task, at(t, s.start), s.secs, "")
				e.emu.AddWorklog(other, task, at(t, s.start), s.secs, "") // never counted
			}
			tot, err := e.c.DayTotals(bg, span(t, tc.from, tc.to, tc.zone))
			if err != nil {
				t.Fatal(err)
			}
			if got := totalsByDay(tot, task); !maps.Equal(got, tc.want) {
				t.Fatalf("totals %v, want %v", got, tc.want)
			}
		})
	}
}

func TestDayTotalsWindows(t *testing.T) {
	e := newEnv(t, timedoctortest.Options{}, nil)
	task := e.emu.AddTask(e.emu.AddProject(e.company, "P"), "T [B24-1]")
	e.emu.AddWorklog(e.user, task, at(t, "2026-06-03T10:00:00Z"), 3600, "")
	e.emu.AddWorklog(e.user, task, at(t, "2026-06-10T21:30:00Z"), 3600, "") // over a window seam (Berlin)
	sp := span(t, "2026-06-01", "2026-06-15", "Europe/Berlin")              // a 14-day re-read: 15 days + 1 pad
	tot, err := e.c.DayTotals(bg, sp)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{"2026-06-03": 3600, "2026-06-10": 1800, "2026-06-11": 1800}
	if got := totalsByDay(tot, task); !maps.Equal(got, want) {
		t.Fatalf("totals %v, want %v", got, want)
	}
	var calls []string
	for _, r := range e.emu.Requests() {
		if r.Path == "/api/1.0/activity/worklog" {
			from, to := r.Query.Get("from"), r.Query.Get("to")
			if r.Query.Get("user") != e.user || !strings.HasSuffix(from, "Z") || !strings.HasSuffix(to, "Z") {
				t.Errorf("worklog query %v", r.Query)
			}
			if at(t, to).Sub(at(t, from)) > 7*24*time.Hour {
				t.Errorf("window %s…%s wider than 7 days", from, to)
			}
			calls = append(calls, from+"…"+to)
		}
	}
	if len(calls) != 3 || !strings.HasPrefix(calls[0], "2026-05-30T22:00:00.000Z") || !strings.HasSuffix(calls[2], "2026-06-15T22:00:00.000Z") {
		t.Fatalf("worklog calls %v, want 3 windows from Berlin midnight of the pad day", calls)
	}
}

func TestDayTotalsRangeTooWideHalves(t *testing.T) {
	for _, mode := range []string{"error200", "400"} {
		t.Run(mode, func(t *testing.T) {
			e := newEnv(t, timedoctortest.Options{MaxWorklogRange: 2 * 24 * time.Hour, RangeError: mode}, nil)
			task := e.emu.AddTask(e.emu.AddProject(e.company, "P"), "T [B24-1]")
			for d := 1; d <= 7; d++ {
				e.emu.AddWorklog(e.user, task, time.Date(2026, 6, d, 10, 0, 0, 0, time.UTC), 600, "")
			}
			tot, err := e.c.DayTotals(bg, span(t, "2026-06-01", "2026-06-07", "UTC"))
			if err != nil {
				t.Fatal(err)
			}
			if got := totalsByDay(tot, task); len(got) != 7 || got["2026-06-04"] != 600 {
				t.Fatalf("totals %v, want 600 s on each of 7 days", got)
			}
			e.emu.Configure(func(o *timedoctortest.Options) { o.MaxWorklogRange = time.Hour })
			if _, err := e.c.DayTotals(bg, span(t, "2026-06-01", "2026-06-07", "UTC")); err == nil {
				t.Fatal("a range refused even for one day must fail the read, not come back empty")
			}
		})
	}
}

func TestDayTotalsSeams(t *testing.T) {
	for _, opts := range []timedoctortest.Options{
		{WorklogClip: "overlap", ToInclusive: true},
		{WorklogClip: "clip"},
		{WorklogClip: "startOnly", ToInclusive: true},
		{PageMode: "index", MaxLimit: 2},
		{PageMode: "cursor", MaxLimit: 3},
		{PageMode: "offset", MaxLimit: 2},
	} {
		e := newEnv(t, opts, nil)
		task := e.emu.AddTask(e.emu.AddProject(e.company, "P"), "T [B24-1]")
		// Starts exactly at the seam of the 2nd window and spans it.
		sp := span(t, "2026-06-01", "2026-06-14", "UTC")
		seam := time.Date(2026, 5, 31, 0, 0, 0, 0, time.UTC).Add(7 * 24 * time.Hour)
		e.emu.AddWorklog(e.user, task, seam, 3600, "")
		e.emu.AddWorklog(e.user, task, seam.Add(-30*time.Minute), 3600, "")
		for h := range 5 {
			e.emu.AddWorklog(e.user, task, time.Date(2026, 6, 2, h, 0, 0, 0, time.UTC), 60, "")
		}
		tot, err := e.c.DayTotals(bg, sp)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]int64{"2026-06-06": 1800, "2026-06-07": 3600 + 1800, "2026-06-02": 300}
		if got := totalsByDay(tot, task); !maps.Equal(got, want) {
			t.Errorf("%+v: totals %v, want %v", opts, got, want)
		}
	}
}

func TestDayTotalsPastEdits(t *testing.T) {
	e := newEnv(t, timedoctortest.Options{}, nil)
	task := e.emu.AddTask(e.emu.AddProject(e.company, "P"), "T [B24-1]")
	sp := span(t, "2026-06-01", "2026-06-14", "UTC")
	s1 := time.Date(2026, 6, 3, 9, 0, 0, 0, time.UTC)
	e.emu.AddWorklog(e.user, task, s1, 3600, "")
	read := func() map[string]int64 {
		t.Helper()
		tot, err := e.c.DayTotals(bg, sp)
		if err != nil {
			t.Fatal(err)
		}
		return totalsByDay(tot, task)
	}
	if got := read()["2026-06-03"]; got != 3600 {
		t.Fatalf("first read %d", got)
	}
	e.emu.EditWorklog(e.user, s1, 1800)
	if got := read()["2026-06-03"]; got != 1800 {
		t.Fatalf("after an edit %d, want 1800", got)
	}
	e.emu.LateUpload(e.user, task, time.Date(2026, 6, 2, 8, 0, 0, 0, time.UTC), 900)
	e.emu.AddWorklog(e.user, task, time.Date(2026, 6, 2, 12, 0, 0, 0, time.UTC), 600, timedoctortest.ModeManual)
	if got := read()["2026-06-02"]; got != 1500 {
		t.Fatalf("after a late upload and a manual add %d, want 1500", got)
	}
	e.emu.DeleteWorklog(e.user, s1)
	if got, ok := read()["2026-06-03"]; ok {
		t.Fatalf("after a delete the day still has %d s", got)
	}
}

func TestDayTotalsFailsAsAWhole(t *testing.T) {
	for _, kind := range []string{"500", "truncated", "error200"} {
		e := newEnv(t, timedoctortest.Options{}, nil)
		task := e.emu.AddTask(e.emu.AddProject(e.company, "P"), "T [B24-1]")
		e.emu.AddWorklog(e.user, task, time.Date(2026, 6, 3, 9, 0, 0, 0, time.UTC), 3600, "")
		if _, err := e.c.Me(bg); err != nil {
			t.Fatal(err)
		}
		rule := timedoctortest.Rule{Path: "/api/1.0/activity/worklog"}
		tot, err := e.c.DayTotals(bg, span(t, "2026-06-01", "2026-06-14", "UTC"))
		if err != nil || len(tot.Totals) != 1 {
			t.Fatalf("%s baseline: %+v %v", kind, tot, err)
		}
		// The first window works, the later ones break on every attempt.
		rule.After = 1
		switch kind {
		case "500":
			e.emu.FailNextOn(rule, 100, 500)
		case "truncated":
			e.emu.Malformed(rule, 100, "truncated")
		case "error200":
			e.emu.Error200(rule, 100, "internalError")
		}
		tot, err = e.c.DayTotals(bg, span(t, "2026-06-01", "2026-06-14", "UTC"))
		if err == nil || len(tot.Totals) != 0 || !connector.Retryable(err) {
			t.Fatalf("%s: %+v, %v; want no totals and a retryable error", kind, tot, err)
		}
	}
}

func TestDayTotalsUnassigned(t *testing.T) {
	e := newEnv(t, timedoctortest.Options{}, nil)
	e.emu.AddWorklog(e.user, "", time.Date(2026, 6, 3, 9, 0, 0, 0, time.UTC), 1200, "")
	e.emu.AddWorklog(e.user, "", time.Date(2026, 5, 20, 9, 0, 0, 0, time.UTC), 999, "") // outside
	tot, err := e.c.DayTotals(bg, span(t, "2026-06-01", "2026-06-07", "UTC"))
	if err != nil || tot.Unassigned != 1200 || len(tot.Totals) != 0 {
		t.Fatalf("%+v %v; want 1200 s unassigned", tot, err)
	}
}
