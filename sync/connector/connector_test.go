package connector

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestTaskMarkerRoundTrip(t *testing.T) {
	cases := []struct {
		name, title, id string
		max             int
		want            string
	}{
		{"plain", "Fix login", "42", 0, "Fix login [B24-42]"},
		{"trimmed", "  Fix login  ", "42", 0, "Fix login [B24-42]"},
		{"unicode", "Überprüfung ✓", "7", 0, "Überprüfung ✓ [B24-7]"},
		{"shortened keeps marker", "A very long task title indeed", "123", 20, "A very lo… [B24-123]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := TaskName(tc.title, tc.id, tc.max)
			if got != tc.want {
				t.Fatalf("TaskName = %q, want %q", got, tc.want)
			}
			if tc.max > 0 && len([]rune(got)) > tc.max {
				t.Fatalf("%q is longer than %d", got, tc.max)
			}
			if id, ok := ParseTaskMarker(got); !ok || id != tc.id {
				t.Fatalf("ParseTaskMarker(%q) = %q, %v", got, id, ok)
			}
		})
	}
	for _, name := range []string{"No marker", "Fix [B24-42] later", "[B24-x]", "Task[B24-42]"} {
		if id, ok := ParseTaskMarker(name); ok {
			t.Errorf("ParseTaskMarker(%q) found %q", name, id)
		}
	}
}

func TestElapsedMarker(t *testing.T) {
	d, _ := ParseDay("2026-03-29")
	m := ElapsedMarker{Tracker: TrackerTimeDoctor, Day: d}
	if got := m.Comment("Tracked time"); got != "Tracked time · timebridge:timedoctor:2026-03-29" {
		t.Fatalf("Comment = %q", got)
	}
	back, ok := ParseElapsedMarker(m.Comment("Tracked time"))
	if !ok || back != m {
		t.Fatalf("round trip: %+v, %v", back, ok)
	}
	withReg := ElapsedMarker{Tracker: TrackerTimeLog, Day: d, RegistrationID: "123456"}
	if back, ok := ParseElapsedMarker(withReg.Comment("")); !ok || back != withReg {
		t.Fatalf("with registration: %+v, %v", back, ok)
	}
	for _, c := range []string{"", "worked on it", "timebridge:timedoctor:2026-13-01", "timebridge:timedoctor:2026-03-29 and more"} {
		if _, ok := ParseElapsedMarker(c); ok {
			t.Errorf("ParseElapsedMarker(%q) matched", c)
		}
	}
}

func TestRegistrationGUID(t *testing.T) {
	a := RegistrationGUID("acme.bitrix24.com", "101")
	if a != RegistrationGUID("acme.bitrix24.com", "101") {
		t.Fatal("not deterministic")
	}
	if a == RegistrationGUID("acme.bitrix24.com", "102") || a == RegistrationGUID("other.bitrix24.com", "101") {
		t.Fatal("different inputs give the same GUID")
	}
	if len(a) != 36 || a[14] != '5' || (a[19] != '8' && a[19] != '9' && a[19] != 'a' && a[19] != 'b') {
		t.Fatalf("%s is not a UUIDv5", a)
	}
}

func TestSplitAtMidnights(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	kiri, _ := time.LoadLocation("Pacific/Kiritimati")
	hono, _ := time.LoadLocation("Pacific/Honolulu")
	cases := []struct {
		name  string
		start string
		dur   time.Duration
		loc   *time.Location
		want  string
	}{
		{"within a day", "2026-06-10T08:00:00Z", time.Hour, berlin, "[2026-06-10:3600]"},
		{"spring forward 23 h day", "2026-03-28T23:00:00Z", 24 * time.Hour, berlin, "[2026-03-29:82800 2026-03-30:3600]"},
		{"fall back 25 h day", "2026-10-24T22:00:00Z", 26 * time.Hour, berlin, "[2026-10-25:90000 2026-10-26:3600]"},
		{"UTC+14", "2026-06-10T09:00:00Z", 2 * time.Hour, kiri, "[2026-06-10:3600 2026-06-11:3600]"},
		{"UTC-10", "2026-06-11T09:30:00Z", time.Hour, hono, "[2026-06-10:1800 2026-06-11:1800]"},
		{"zero", "2026-06-11T09:30:00Z", 0, hono, "[]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			start, _ := time.Parse(time.RFC3339, tc.start)
			var got []string
			for _, ds := range SplitAtMidnights(start, tc.dur, tc.loc) {
				got = append(got, fmt.Sprintf("%s:%d", ds.Day, ds.Seconds))
			}
			if s := fmt.Sprint(got); s != tc.want && !(len(got) == 0 && tc.want == "[]") {
				t.Fatalf("got %s, want %s", s, tc.want)
			}
		})
	}
}

func TestDaySpan(t *testing.T) {
	from, _ := ParseDay("2026-02-27")
	to, _ := ParseDay("2026-03-02")
	s := DaySpan{From: from, To: to, Zone: time.UTC}
	if got := fmt.Sprint(s.Days()); got != "[2026-02-27 2026-02-28 2026-03-01 2026-03-02]" {
		t.Fatalf("Days = %s", got)
	}
	if !s.Contains(from) || !s.Contains(to) || s.Contains(to.AddDays(1)) || s.Contains(from.AddDays(-1)) {
		t.Fatal("Contains is wrong at the edges")
	}
	if _, err := ParseDay("2026-02-30"); err == nil {
		t.Fatal("ParseDay accepted February 30")
	}
}

func TestAPIErrorIs(t *testing.T) {
	err := fmt.Errorf("create project: %w", &APIError{Service: "timedoctor", Op: "POST /projects", Status: 403,
		Code: "forbidden", Message: "no rights", Kind: ErrForbidden})
	if !errors.Is(err, ErrForbidden) || errors.Is(err, ErrNotFound) {
		t.Fatal("errors.Is does not follow Kind")
	}
	if Retryable(err) || !Retryable(&APIError{Kind: ErrRateLimited}) || !Retryable(&APIError{Kind: ErrTransient}) {
		t.Fatal("Retryable is wrong")
	}
	want := "create project: timedoctor POST /projects: HTTP 403 forbidden: no rights (not allowed)"
	if err.Error() != want {
		t.Fatalf("message %q, want %q", err.Error(), want)
	}
}
