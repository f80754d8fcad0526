package ui

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/timebridge/timebridge/sync/engine"
)

// settingsCounter counts Settings calls: the Settings tab reads them when it is
// built, so none means the window's content was not built.
type settingsCounter struct {
	*fakeBackend
	n atomic.Int32
}

func (s *settingsCounter) Settings() []Setting { s.n.Add(1); return s.fakeBackend.Settings() }

// windowRig is a view as Run sets it up, on the Fyne test driver: windows made by
// newWindow are test windows, counted, and so are the times one is shown.
type windowRig struct {
	v       *view
	b       *settingsCounter
	tray    *fakeTray
	windows []fyne.Window
	shown   int
	notes   []string
}

func newWindowRig(t *testing.T, lazy bool, snaps ...engine.Status) *windowRig {
	t.Helper()
	test.NewTempApp(t)
	r := &windowRig{
		b:    &settingsCounter{fakeBackend: &fakeBackend{settings: testSettings, journal: testJournal, notifications: true}},
		tray: &fakeTray{},
	}
	r.v = newView(t.Context(), viewConfig{
		backend: r.b, tray: r.tray, lazy: lazy,
		now:   func() time.Time { return testNow },
		async: func(f func()) { f() },
		newWindow: func(c fyne.CanvasObject) fyne.Window {
			w := test.NewTempWindow(t, c)
			w.Resize(fyne.NewSize(900, 700))
			r.windows = append(r.windows, w)
			return w
		},
		showWindow: func() { r.shown++ },
		notify:     func(n *fyne.Notification) { r.notes = append(r.notes, n.Title) },
	})
	r.v.apply(engine.Status{}) // Run's placeholder before the first snapshot
	done := make(chan struct{})
	go func() { // fyne.Do runs inline in the test driver
		defer close(done)
		r.v.follow(t.Context(), &fakeWatcher{snaps: snaps})
	}()
	<-done
	return r
}

// tapOpenWindow runs "Open window" of the tray menu set last.
func (r *windowRig) tapOpenWindow(t *testing.T) {
	t.Helper()
	menus := r.tray.menus
	if len(menus) == 0 {
		t.Fatal("no tray menu set")
	}
	for _, it := range menus[len(menus)-1].Items {
		if it.Label == "Open window" {
			it.Action()
			return
		}
	}
	t.Fatal("the tray menu has no Open window")
}

// TestLazyWindow starts hidden: the tray, its menu and the notifications follow the
// snapshots, but nothing of the window exists until Open window is tapped in the
// tray menu; then the window shows the newest snapshot and journal.
func TestLazyWindow(t *testing.T) {
	synced := engine.Status{State: engine.StateSynced, LastSync: at(1, 10, 45), NextSync: at(1, 11, 0), Tasks: 12,
		Tracked: 200 * time.Minute, Services: []engine.ServiceState{{Service: "bitrix24", SignedIn: true, Account: "Ann"}}}
	first := synced
	first.Tasks, first.LastSync = 3, at(1, 10, 0)
	withConflict := synced
	withConflict.State, withConflict.Conflicts = engine.StateAttention, conflicts("c1")
	r := newWindowRig(t, true, first, withConflict, synced)

	if r.v.tabs != nil || r.v.content != nil || len(r.windows) != 0 || r.b.n.Load() != 0 || r.shown != 0 {
		t.Fatalf("started hidden, yet built: tabs %v, %d windows, %d Settings calls, shown %d",
			r.v.tabs != nil, len(r.windows), r.b.n.Load(), r.shown)
	}
	if n := len(r.tray.tooltips); n != 4 || !strings.Contains(r.tray.tooltips[3], "Last sync 10:45 — 12 tasks") {
		t.Errorf("tray tooltips while hidden: %q", r.tray.tooltips)
	}
	if len(r.tray.icons) != 4 { // placeholder (idle), synced, attention, synced again
		t.Errorf("tray icons set %d times, want 4", len(r.tray.icons))
	}
	if strings.Join(r.notes, ",") != "1 conflict found" {
		t.Errorf("notifications while hidden: %q", r.notes)
	}

	r.tapOpenWindow(t)
	if len(r.windows) != 1 || r.shown != 1 || r.b.n.Load() != 1 {
		t.Fatalf("Open window: %d windows, shown %d, %d Settings calls; want 1 each", len(r.windows), r.shown, r.b.n.Load())
	}
	w := r.windows[0]
	if w.Content() != r.v.content || r.v.window != w {
		t.Error("the window does not hold the view's content or is not the dialogs' parent")
	}
	got := texts(w.Content())
	for _, want := range []string{"Last sync 10:45 — 12 tasks, 3 h 20 m", "Bitrix24: signed in — Ann", "This week — nothing tracked yet"} {
		if !strings.Contains(got, want) {
			t.Errorf("Status tab lacks %q (a stale or blank snapshot?):\n%s", want, got)
		}
	}
	if got := r.v.accounts.services.Length(); got != 1 {
		t.Errorf("Accounts tab lists %d services, want 1", got)
	}
	if got := shownLines(t, r.v.activity); len(got) != len(testJournal) {
		t.Errorf("Activity tab shows %d journal rows, want %d", len(got), len(testJournal))
	}
	var names []string
	for _, it := range r.v.tabs.Items {
		names = append(names, it.Text)
	}
	if got, want := strings.Join(names, ","), "Status,Accounts,Settings,Activity"; got != want {
		t.Errorf("tabs = %q, want %q", got, want)
	}

	// Once built, the window follows snapshots like one built at start, and
	// opening it again reuses it.
	later := synced
	later.Tasks = 13
	r.v.apply(later)
	if got, _ := r.v.status.headline.Get(); got != "Last sync 10:45 — 13 tasks, 3 h 20 m" {
		t.Errorf("headline after a later snapshot = %q", got)
	}
	r.tapOpenWindow(t)
	if len(r.windows) != 1 || r.shown != 2 {
		t.Errorf("second Open window: %d windows, shown %d; want 1 window shown twice", len(r.windows), r.shown)
	}
}

// TestLazyWindowOnSignIn: started hidden, a new sign-in builds and opens the
// window by itself, on the Accounts tab, showing that snapshot.
func TestLazyWindowOnSignIn(t *testing.T) {
	signIn := engine.Status{State: engine.StateSignInNeeded,
		Services: []engine.ServiceState{{Service: "bitrix24", Problem: "token revoked"}}}
	r := newWindowRig(t, true, signIn)

	if len(r.windows) != 1 || r.shown != 1 {
		t.Fatalf("sign-in needed: %d windows, shown %d; want the window built and shown once", len(r.windows), r.shown)
	}
	if r.v.tabs.SelectedIndex() != 1 {
		t.Errorf("selected tab %d, want Accounts", r.v.tabs.SelectedIndex())
	}
	if got, _ := r.v.status.state.Get(); got != "Sign-in needed: Bitrix24" {
		t.Errorf("state line = %q", got)
	}
	if got := buttons(r.windows[0].Content(), "Authorize"); len(got) != 1 {
		t.Errorf("Accounts shows %d Authorize buttons, want 1", len(got))
	}
}

// TestEagerWindow: not started hidden, the window and its content are built at
// start, before any snapshot, and Open window only shows it.
func TestEagerWindow(t *testing.T) {
	test.NewTempApp(t)
	var windows []fyne.Window
	b := &settingsCounter{fakeBackend: &fakeBackend{settings: testSettings}}
	v := newView(t.Context(), viewConfig{
		backend: b,
		newWindow: func(c fyne.CanvasObject) fyne.Window {
			w := test.NewTempWindow(t, c)
			windows = append(windows, w)
			return w
		},
	})
	if v.tabs == nil || len(windows) != 1 || windows[0].Content() != v.content || b.n.Load() != 1 {
		t.Fatalf("at start: tabs built %v, %d windows, %d Settings calls", v.tabs != nil, len(windows), b.n.Load())
	}
	v.openWindow()
	if len(windows) != 1 {
		t.Errorf("Open window made %d windows, want the one from the start", len(windows))
	}
}

// TestTrayMenuOneObject: Fyne's tray, started by the first menu it is given, sets
// that menu object again once the tray is ready, possibly after later snapshots;
// so that object must always hold the newest menu.
func TestTrayMenuOneObject(t *testing.T) {
	synced := engine.Status{State: engine.StateSynced, LastSync: at(1, 10, 45), Tasks: 12}
	paused := engine.Status{State: engine.StatePaused}
	r := newWindowRig(t, true, synced, paused)
	m := r.tray.menus
	if len(m) != 3 {
		t.Fatalf("menu set %d times, want 3 (placeholder, synced, paused)", len(m))
	}
	want := menuKey(trayMenu(paused, testNow, r.b, nil, nil))
	if m[0] != m[2] || menuKey(m[0]) != want {
		t.Errorf("the first menu object shows\n%s\nwant the newest:\n%s", menuKey(m[0]), want)
	}
}
