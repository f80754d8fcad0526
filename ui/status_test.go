package ui

import (
	"errors"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/timebridge/timebridge/sync/engine"
)

var attention = engine.Status{
	State:    engine.StateAttention,
	LastSync: at(1, 10, 45), NextSync: at(1, 11, 0),
	Tasks: 12, Tracked: 3*time.Hour + 20*time.Minute, TimeZone: "Europe/Berlin",
	Services: []engine.ServiceState{
		{Service: "bitrix24", SignedIn: true, Account: "Ann (ann@acme.com) — acme.bitrix24.com"},
		{Service: "timelog", SignedIn: true, Account: "Ann — acme", Problem: "week 48 is closed"},
	},
	Parked: []engine.ParkedItem{
		{Key: "p1", What: "task 42 'Fix login'", Reason: "Time Doctor does not let you create projects", NextRetry: at(1, 12, 0)},
		{Key: "p2", What: "task 43 'Deploy'", Reason: "closed week"},
	},
	Conflicts: []engine.Conflict{
		{Key: "c1", TaskID: "42", TaskTitle: "Fix login", Day: "2026-11-30", TrackerSeconds: 4800, RemoteSeconds: 3900},
	},
	Ledger: []engine.LedgerRow{
		{TaskID: "42", TaskTitle: "Fix login", Day: "2026-11-30", TrackerSeconds: 4800, PostedSeconds: 3900, Note: "conflict"},
		{TaskID: "44", TaskTitle: "Review", Day: "2026-12-01", TrackerSeconds: 1800, PostedSeconds: 1800},
	},
}

func TestStatusTabSummary(t *testing.T) {
	v := newTestView(t, &fakeBackend{}, nil)
	v.apply(attention)
	show(t, v.status.content)
	got := texts(v.status.content)
	for _, want := range []string{
		"Last sync 10:45 — 12 tasks, 3 h 20 m",
		"Needs attention: 2 items skipped, 1 conflict",
		"Next sync 11:00 · 12 tasks mirrored · 3 h 20 m tracked today (Europe/Berlin)",
		"Bitrix24: signed in — Ann (ann@acme.com) — acme.bitrix24.com\nTimeLog: signed in — Ann — acme · week 48 is closed",
		"Skipped items (2)",
		"task 42 'Fix login' — Time Doctor does not let you create projects (next try 12:00)",
		"task 43 'Deploy' — closed week",
		"Conflicts (1)",
		"Fix login · Mon 30 Nov: Bitrix24 1 h 5 m, tracker 1 h 20 m",
		"This week (2)",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("Status tab lacks %q; it shows:\n%s", want, got)
		}
	}
}

func TestStatusTabEmpty(t *testing.T) {
	v := newTestView(t, &fakeBackend{}, nil)
	v.apply(engine.Status{})
	show(t, v.status.content)
	got := texts(v.status.content)
	for _, want := range []string{"Not synced yet", "Skipped items — nothing skipped", "Conflicts — none", "No services set up yet"} {
		if !strings.Contains(got, want) {
			t.Errorf("Status tab lacks %q; it shows:\n%s", want, got)
		}
	}
	if n := len(buttons(v.status.content, "Retry")); n != 0 {
		t.Errorf("%d Retry buttons with nothing parked", n)
	}
}

func TestStatusTabRetry(t *testing.T) {
	b := &fakeBackend{}
	v := newTestView(t, b, nil)
	v.apply(attention)
	show(t, v.status.content)
	retry := buttons(v.status.content, "Retry")
	if len(retry) != 2 {
		t.Fatalf("%d Retry buttons, want 2", len(retry))
	}
	test.Tap(retry[1])
	test.Tap(retry[0])
	wantCalls(t, b, "Retry(p2)", "Retry(p1)")

	// A later snapshot rebinds the rows: the remaining button retries the remaining item.
	next := attention
	next.Parked = attention.Parked[1:]
	v.apply(next)
	b.calls = nil
	retry = buttons(v.status.content, "Retry")
	if len(retry) != 1 {
		t.Fatalf("%d Retry buttons after one was resolved, want 1", len(retry))
	}
	test.Tap(retry[0])
	wantCalls(t, b, "Retry(p2)")
}

func TestStatusTabConflicts(t *testing.T) {
	cases := []struct {
		button string
		err    error
		call   string
		notice string
	}{
		{"Keep Bitrix24 value", nil, "Resolve(c1, true)", ""},
		{"Use tracker value", nil, "Resolve(c1, false)", ""},
		{"Use tracker value", errors.New("Bitrix24 is offline"), "Resolve(c1, false)", "Could not resolve Fix login on Mon 30 Nov: Bitrix24 is offline"},
	}
	for _, tc := range cases {
		t.Run(tc.call+" "+tc.notice, func(t *testing.T) {
			b := &fakeBackend{err: tc.err}
			v := newTestView(t, b, nil)
			v.apply(attention)
			show(t, v.status.content)
			bs := buttons(v.status.content, tc.button)
			if len(bs) != 1 {
				t.Fatalf("%d %q buttons, want 1", len(bs), tc.button)
			}
			test.Tap(bs[0])
			wantCalls(t, b, tc.call)
			if got, _ := v.status.notice.Get(); got != tc.notice {
				t.Errorf("notice = %q, want %q", got, tc.notice)
			}
		})
	}
}

func TestLedgerCells(t *testing.T) {
	t.Parallel()
	cases := []struct {
		row  engine.LedgerRow
		want string
	}{
		{attention.Ledger[0], "Fix login|Mon 30 Nov|1 h 20 m|1 h 5 m|conflict"},
		{attention.Ledger[1], "Review|Tue 1 Dec|30 m|30 m|✓"},
		{engine.LedgerRow{TaskID: "7", Day: "2026-12-01", Note: "not yet posted"}, "#7|Tue 1 Dec|0 m|0 m|not yet posted"},
	}
	for _, tc := range cases {
		var cells []string
		for col := range ledgerColumns {
			cells = append(cells, ledgerCell(tc.row, col))
		}
		if got := strings.Join(cells, "|"); got != tc.want {
			t.Errorf("ledger row = %q, want %q", got, tc.want)
		}
	}
}

func TestLedgerTableFollowsBinding(t *testing.T) {
	v := newTestView(t, &fakeBackend{}, nil)
	show(t, v.status.content)
	v.apply(attention)
	if rows, cols := v.status.ledgerTable.Length(); rows != 2 || cols != len(ledgerColumns) {
		t.Fatalf("ledger table is %d×%d, want 2×%d", rows, cols, len(ledgerColumns))
	}
	got := texts(v.status.ledgerTable)
	for _, want := range []string{"Task", "Bitrix24", "Fix login", "conflict", "Review", "✓"} {
		if !strings.Contains(got, want) {
			t.Errorf("ledger table lacks %q; it shows:\n%s", want, got)
		}
	}
	v.apply(engine.Status{})
	if rows, _ := v.status.ledgerTable.Length(); rows != 0 {
		t.Errorf("ledger table keeps %d rows after an empty snapshot", rows)
	}
}

// TestStatusTabActions: the window offers the tray's intents too (there may be no tray).
func TestStatusTabActions(t *testing.T) {
	cases := []struct {
		state engine.State
		taps  []string // visible and enabled, in order
		calls []string
	}{
		{engine.StateSynced, []string{"Sync now", "Pause 1 hour", "Pause until resumed"}, []string{"SyncNow()", "Pause(1h0m0s)", "Pause(0s)"}},
		{engine.StateSyncing, []string{"Pause 1 hour", "Pause until resumed"}, []string{"Pause(1h0m0s)", "Pause(0s)"}},
		{engine.StatePaused, []string{"Resume"}, []string{"Resume()"}},
	}
	for _, tc := range cases {
		t.Run(tc.state.String(), func(t *testing.T) {
			b := &fakeBackend{}
			v := newTestView(t, b, nil)
			v.apply(engine.Status{State: tc.state})
			show(t, v.status.content)
			var enabled []string
			for _, label := range []string{"Sync now", "Pause 1 hour", "Pause until resumed", "Resume"} {
				for _, btn := range buttons(v.status.content, label) {
					if !btn.Disabled() {
						enabled = append(enabled, label)
						test.Tap(btn)
					}
				}
			}
			if strings.Join(enabled, ",") != strings.Join(tc.taps, ",") {
				t.Errorf("enabled buttons = %q, want %q", enabled, tc.taps)
			}
			wantCalls(t, b, tc.calls...)
		})
	}
}

// TestStatusTabMarkup pins the Status tab's layout; after an intended change, copy
// testdata/failed/status_attention.xml over testdata/status_attention.xml.
func TestStatusTabMarkup(t *testing.T) {
	v := newTestView(t, &fakeBackend{}, nil)
	v.apply(attention)
	w := show(t, v.status.content)
	w.Resize(fyne.NewSize(900, 640))
	test.AssertRendersToMarkup(t, "status_attention.xml", w.Canvas())
}

func TestStatusShowsUnmatchedPeople(t *testing.T) {
	v := newTestView(t, &fakeBackend{}, nil)
	st := engine.Status{State: engine.StateSynced, Unmatched: []string{"Bitrix24 user 3 (cara@example.com) has no Time Doctor account with that e-mail (tasks 42, 43)"}}
	v.apply(st)
	if got, _ := v.status.unmatched.Get(); !strings.Contains(got, "cara@example.com") || !strings.Contains(got, "never guessed") {
		t.Fatalf("unmatched line %q", got)
	}
	v.apply(engine.Status{State: engine.StateSynced})
	if got, _ := v.status.unmatched.Get(); got != "" {
		t.Fatalf("unmatched line %q after everybody matched, want none", got)
	}
}
