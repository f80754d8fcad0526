package ui

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/timebridge/timebridge/assets"
	"github.com/timebridge/timebridge/sync/engine"
)

func TestTrayMenu(t *testing.T) {
	last := at(1, 10, 45)
	base := engine.Status{LastSync: last, NextSync: at(1, 11, 0), Tasks: 12, Tracked: 3*time.Hour + 20*time.Minute}
	with := func(s engine.State, edit func(*engine.Status)) engine.Status {
		st := base
		st.State = s
		if edit != nil {
			edit(&st)
		}
		return st
	}
	running := []string{"Sync now", "Pause 1 hour", "Pause until resumed"}
	cases := []struct {
		name     string
		st       engine.Status
		status   string   // second disabled line
		enabled  []string // the enabled items between the first and second separator
		disabled []string // items there that are shown but disabled
	}{
		{"idle", with(engine.StateIdle, func(s *engine.Status) { *s = engine.Status{} }), "Starting…", running, nil},
		{"synced", with(engine.StateSynced, nil), "All synced · next sync 11:00", running, nil},
		{"syncing", with(engine.StateSyncing, nil), "Syncing now…", running[1:], []string{"Sync now"}},
		{"attention", with(engine.StateAttention, func(s *engine.Status) { s.Parked = make([]engine.ParkedItem, 3) }),
			"Needs attention: 3 items skipped", running, nil},
		{"offline", with(engine.StateOffline, nil), "Sync failed — retrying 11:00", running, nil},
		{"paused for an hour", with(engine.StatePaused, func(s *engine.Status) { s.PausedTil = at(1, 11, 45) }),
			"Paused until 11:45", []string{"Resume"}, []string{"Sync now"}},
		{"paused until resumed", with(engine.StatePaused, nil), "Paused until resumed", []string{"Resume"}, []string{"Sync now"}},
		{"sign-in needed", with(engine.StateSignInNeeded, func(s *engine.Status) {
			s.Services = []engine.ServiceState{{Service: "bitrix24"}}
		}), "Sign-in needed: Bitrix24", running, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			test.NewTempApp(t) // "Open log folder" opens through the current app
			b := &fakeBackend{}
			var opened, quit int
			m := trayMenu(tc.st, testNow, b, func() { opened++ }, func() { quit++ })

			// Layout: headline, state line, ---, actions, ---, Open window, Open log folder, ---, Quit.
			it := m.Items
			if !it[0].Disabled || it[0].Label != headline(tc.st, testNow) {
				t.Errorf("first line = %q (disabled %v), want disabled headline", it[0].Label, it[0].Disabled)
			}
			if !it[1].Disabled || it[1].Label != tc.status {
				t.Errorf("second line = %q (disabled %v), want disabled %q", it[1].Label, it[1].Disabled, tc.status)
			}
			if !it[2].IsSeparator {
				t.Errorf("item 2 is %q, want a separator", it[2].Label)
			}
			var enabled, disabled []string
			i := 3
			for ; !it[i].IsSeparator; i++ {
				if it[i].Disabled {
					disabled = append(disabled, it[i].Label)
				} else {
					enabled = append(enabled, it[i].Label)
				}
			}
			if strings.Join(enabled, ",") != strings.Join(tc.enabled, ",") {
				t.Errorf("enabled actions = %q, want %q", enabled, tc.enabled)
			}
			if strings.Join(disabled, ",") != strings.Join(tc.disabled, ",") {
				t.Errorf("disabled actions = %q, want %q", disabled, tc.disabled)
			}
			var tail []string
			for _, x := range it[i:] {
				tail = append(tail, map[bool]string{true: "---", false: x.Label}[x.IsSeparator])
			}
			if got, want := strings.Join(tail, ","), "---,Open window,Open log folder,---,Quit"; got != want {
				t.Errorf("menu ends %q, want %q", got, want)
			}
			if q := it[len(it)-1]; !q.IsQuit {
				t.Error("Quit is not marked IsQuit")
			}

			// Every enabled item does what it says.
			wantCall := map[string]string{
				"Sync now": "SyncNow()", "Pause 1 hour": "Pause(1h0m0s)", "Pause until resumed": "Pause(0s)",
				"Resume": "Resume()", "Open log folder": "LogDir()",
			}
			for _, x := range it {
				if x.IsSeparator || x.Disabled {
					continue
				}
				b.calls = nil
				opened, quit = 0, 0
				x.Action()
				switch x.Label {
				case "Open window":
					if opened != 1 || len(b.Calls()) != 0 {
						t.Errorf("Open window: opened %d, calls %q", opened, b.Calls())
					}
				case "Quit":
					if quit != 1 || len(b.Calls()) != 0 {
						t.Errorf("Quit: quit %d, calls %q", quit, b.Calls())
					}
				default:
					wantCalls(t, b, wantCall[x.Label])
				}
			}
		})
	}
}

func TestTrayIconFor(t *testing.T) {
	t.Parallel()
	seen := map[string]engine.State{}
	for _, s := range assets.TrayStates() {
		r := trayIconFor(s)
		if !bytes.Equal(r.Content(), assets.TrayIcon(s, 64).Content()) {
			t.Errorf("%v: not the 64 px icon of its state", s)
		}
		if other, dup := seen[r.Name()]; dup {
			t.Errorf("%v and %v share icon %s", s, other, r.Name())
		}
		seen[r.Name()] = s
	}
}

func TestMenuKey(t *testing.T) {
	t.Parallel()
	dis := fyne.NewMenuItem("Sync now", nil)
	dis.Disabled = true
	a := fyne.NewMenu("", fyne.NewMenuItem("Sync now", nil), fyne.NewMenuItemSeparator())
	b := fyne.NewMenu("", dis, fyne.NewMenuItemSeparator())
	if menuKey(a) == menuKey(b) {
		t.Error("menuKey ignores Disabled")
	}
}
