package ui

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/timebridge/timebridge/sync/engine"
)

func TestViewTabs(t *testing.T) {
	v := newTestView(t, &fakeBackend{}, nil)
	var names []string
	for _, it := range v.tabs.Items {
		names = append(names, it.Text)
	}
	if got, want := strings.Join(names, ","), "Status,Accounts,Settings,Activity"; got != want {
		t.Errorf("tabs = %q, want %q", got, want)
	}
}

func TestActivityOpensLogFolder(t *testing.T) {
	b := &fakeBackend{}
	v := newTestView(t, b, nil)
	show(t, v.tabs.Items[3].Content)
	test.Tap(buttons(v.tabs.Items[3].Content, "Open log folder")[0])
	wantCalls(t, b, "LogDir()")
}

func TestNoTrayNotice(t *testing.T) {
	test.NewTempApp(t)
	v := newView(t.Context(), viewConfig{backend: &fakeBackend{}, notice: noTrayNotice})
	show(t, v.content)
	if got := texts(v.content); !strings.Contains(got, "No system tray found — on GNOME install the AppIndicator extension") {
		t.Errorf("window lacks the no-tray notice:\n%s", got)
	}
}

// TestBridge follows a watcher to its end: every snapshot reaches the window and
// the tray, an unchanged menu is not set again, and a new sign-in opens the window.
func TestBridge(t *testing.T) {
	synced := engine.Status{State: engine.StateSynced, LastSync: at(1, 10, 45), Tasks: 12, Tracked: 200 * time.Minute,
		Services: []engine.ServiceState{{Service: "bitrix24", SignedIn: true}}}
	signIn := synced
	signIn.State = engine.StateSignInNeeded
	signIn.Services = []engine.ServiceState{{Service: "bitrix24", Problem: "token revoked"}}
	w := &fakeWatcher{snaps: []engine.Status{synced, synced, signIn, signIn}}

	tray := &fakeTray{}
	test.NewTempApp(t)
	shown := 0
	v := newView(t.Context(), viewConfig{
		backend: &fakeBackend{}, tray: tray,
		now:        func() time.Time { return testNow },
		showWindow: func() { shown++ },
	})
	done := make(chan struct{})
	go func() { // the watcher ends after four snapshots; fyne.Do runs inline in the test driver
		defer close(done)
		v.follow(t.Context(), w)
	}()
	<-done

	if got, _ := v.status.headline.Get(); got != "Last sync 10:45 — 12 tasks, 3 h 20 m" {
		t.Errorf("headline = %q", got)
	}
	if got, _ := v.status.state.Get(); got != "Sign-in needed: Bitrix24" {
		t.Errorf("state line = %q", got)
	}
	if len(tray.menus) != 2 {
		t.Errorf("menu set %d times for two distinct menus", len(tray.menus))
	}
	if len(tray.icons) != 2 || tray.icons[0].Name() != trayIconFor(engine.StateSynced).Name() ||
		tray.icons[1].Name() != trayIconFor(engine.StateSignInNeeded).Name() {
		t.Errorf("icons set: %v", tray.icons)
	}
	if n := len(tray.tooltips); n != 4 || tray.tooltips[3] != "timebridge — Last sync 10:45 — 12 tasks, 3 h 20 m\nSign-in needed: Bitrix24" {
		t.Errorf("tooltips: %q", tray.tooltips)
	}
	if shown != 1 {
		t.Errorf("window shown %d times, want once on the new sign-in", shown)
	}
	if v.tabs.SelectedIndex() != 1 {
		t.Errorf("selected tab %d, want Accounts", v.tabs.SelectedIndex())
	}
}
