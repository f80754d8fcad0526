package ui

import (
	"testing"
	"time"

	"github.com/timebridge/timebridge/sync/engine"
)

func at(day, hour, min int) time.Time { return time.Date(2026, 12, day, hour, min, 0, 0, berlin) }

func TestHeadline(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		st   engine.Status
		want string
	}{
		{"never synced", engine.Status{}, "Not synced yet"},
		{"first cycle running", engine.Status{State: engine.StateSyncing}, "First sync running…"},
		{"today", engine.Status{State: engine.StateSynced, LastSync: at(1, 10, 45), Tasks: 12, Tracked: 3*time.Hour + 20*time.Minute},
			"Last sync 10:45 — 12 tasks, 3 h 20 m"},
		{"one task, whole hours", engine.Status{LastSync: at(1, 9, 5), Tasks: 1, Tracked: 2 * time.Hour}, "Last sync 09:05 — 1 task, 2 h"},
		{"minutes only, seconds dropped", engine.Status{LastSync: at(1, 9, 5), Tracked: 45*time.Minute + 59*time.Second}, "Last sync 09:05 — 0 tasks, 45 m"},
		{"nothing tracked", engine.Status{LastSync: at(1, 9, 5), Tasks: 3}, "Last sync 09:05 — 3 tasks, 0 m"},
		{"yesterday", engine.Status{LastSync: at(0, 23, 50), Tasks: 2, Tracked: time.Minute}, "Last sync yesterday 23:50 — 2 tasks, 1 m"},
		{"this week", engine.Status{LastSync: time.Date(2026, 11, 27, 8, 0, 0, 0, berlin), Tasks: 2}, "Last sync Fri 08:00 — 2 tasks, 0 m"},
		{"older", engine.Status{LastSync: time.Date(2026, 11, 2, 8, 0, 0, 0, berlin), Tasks: 2}, "Last sync 2 Nov 08:00 — 2 tasks, 0 m"},
		{"last year", engine.Status{LastSync: time.Date(2025, 11, 2, 8, 0, 0, 0, berlin), Tasks: 2}, "Last sync 2 Nov 2025 08:00 — 2 tasks, 0 m"},
		{"UTC instant shown in local time", engine.Status{LastSync: time.Date(2026, 12, 1, 9, 45, 0, 0, time.UTC), Tasks: 2}, "Last sync 10:45 — 2 tasks, 0 m"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := headline(tc.st, testNow); got != tc.want {
				t.Errorf("headline = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestStateLine(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		st   engine.Status
		want string
	}{
		{"idle", engine.Status{}, "Starting…"},
		{"synced", engine.Status{State: engine.StateSynced, NextSync: at(1, 11, 15)}, "All synced · next sync 11:15"},
		{"synced, nothing scheduled", engine.Status{State: engine.StateSynced}, "All synced"},
		{"syncing", engine.Status{State: engine.StateSyncing}, "Syncing now…"},
		{"attention", engine.Status{State: engine.StateAttention, Parked: make([]engine.ParkedItem, 2), Conflicts: make([]engine.Conflict, 1)},
			"Needs attention: 2 items skipped, 1 conflict"},
		{"attention, one item", engine.Status{State: engine.StateAttention, Parked: make([]engine.ParkedItem, 1)}, "Needs attention: 1 item skipped"},
		{"offline", engine.Status{State: engine.StateOffline, NextSync: at(1, 11, 2)}, "Sync failed — retrying 11:02"},
		{"paused for a while", engine.Status{State: engine.StatePaused, PausedTil: at(1, 12, 0)}, "Paused until 12:00"},
		{"paused until resumed", engine.Status{State: engine.StatePaused}, "Paused until resumed"},
		{"sign-in needed", engine.Status{State: engine.StateSignInNeeded, Services: []engine.ServiceState{
			{Service: "bitrix24", SignedIn: true}, {Service: "timedoctor"}, {Service: "timelog"},
		}}, "Sign-in needed: Time Doctor, TimeLog"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := stateLine(tc.st, testNow); got != tc.want {
				t.Errorf("stateLine = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestDuration(t *testing.T) {
	t.Parallel()
	cases := []struct {
		d    time.Duration
		want string
	}{
		{0, "0 m"},
		{59 * time.Second, "0 m"},
		{time.Minute, "1 m"},
		{time.Hour, "1 h"},
		{25*time.Hour + 5*time.Minute, "25 h 5 m"},
		{-90 * time.Minute, "−1 h 30 m"},
	}
	for _, tc := range cases {
		if got := duration(tc.d); got != tc.want {
			t.Errorf("duration(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestDay(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"2026-11-30": "Mon 30 Nov", "2026-03-29": "Sun 29 Mar", "soon": "soon"} {
		if got := day(in); got != want {
			t.Errorf("day(%q) = %q, want %q", in, got, want)
		}
	}
}
