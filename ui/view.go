package ui

import (
	"context"
	"net/url"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/widget"

	"github.com/timebridge/timebridge/sync/engine"
)

// trayHost is the part of desktop.App the bridge uses, plus the tooltip; tests
// pass a fake.
type trayHost interface {
	SetSystemTrayMenu(*fyne.Menu)
	SetSystemTrayIcon(fyne.Resource)
	SetTooltip(string)
}

// view is the window's content and the tray, fed by apply. Everything in it belongs
// to the Fyne thread.
//
// The tray and the notifications follow every snapshot from the start; the window
// and its content are built by ensureWindow, at once or, when the app starts hidden
// in the tray (lazy), only when the user first asks for them. Until then apply and
// follow keep the newest snapshot and journal, and ensureWindow shows them.
type view struct {
	ctx     context.Context // ends when the UI quits; parent of Authorize/SignOut calls
	backend Backend
	now     func() time.Time
	async   func(func()) // runs a blocking Backend call off the Fyne thread

	// The window's content: nil until ensureWindow.
	status   *statusTab
	accounts *accountsTab
	settings *settingsTab
	activity *activityTab
	tabs     *container.AppTabs
	content  fyne.CanvasObject
	notice   string

	window    fyne.Window                         // parent of dialogs; nil: the app's first window
	newWindow func(fyne.CanvasObject) fyne.Window // makes the window around the content; nil: none

	// notify sends a notification; prev and notes are notifyFor's memory.
	notify func(*fyne.Notification)
	prev   engine.Status
	notes  notifyState

	tray       trayHost // nil: no tray
	showWindow func()
	quit       func()

	last      engine.Status         // the newest snapshot applied (when applied)
	journal   []engine.JournalEntry // the newest journal read by follow
	menu      *fyne.Menu            // the tray menu, one object for good
	lastMenu  string
	lastIcon  engine.State
	lastState engine.State
	applied   bool
}

type viewConfig struct {
	backend Backend
	now     func() time.Time         // time.Now when nil
	async   func(func())             // go f() when nil
	tray    trayHost                 // nil: no tray
	notice  string                   // one line above the tabs ("" for none)
	notify  func(*fyne.Notification) // the app's SendNotification when nil
	// newWindow makes the window around the content (once) and returns it, the
	// parent of dialogs; nil: no window of the view's own, dialogs open over the
	// app's first window.
	newWindow func(content fyne.CanvasObject) fyne.Window
	// lazy defers the content and the window to the first ensureWindow (the app
	// starts hidden in the tray); otherwise newView builds both.
	lazy bool
	// showWindow shows and raises the window; openWindow calls it after
	// ensureWindow.
	showWindow func()
	quit       func()
}

func newView(ctx context.Context, c viewConfig) *view {
	v := &view{
		ctx:        ctx,
		backend:    c.backend,
		now:        c.now,
		async:      c.async,
		tray:       c.tray,
		notice:     c.notice,
		newWindow:  c.newWindow,
		notify:     c.notify,
		showWindow: c.showWindow,
		quit:       c.quit,
	}
	if v.now == nil {
		v.now = time.Now
	}
	if v.async == nil {
		v.async = func(f func()) { go f() }
	}
	if v.notify == nil {
		v.notify = func(n *fyne.Notification) { fyne.CurrentApp().SendNotification(n) }
	}
	for _, f := range []*func(){&v.showWindow, &v.quit} {
		if *f == nil {
			*f = func() {}
		}
	}
	if !c.lazy {
		v.ensureWindow()
	}
	return v
}

// ensureWindow builds the window's content and the window, the first time it is
// called, and fills the content with the newest snapshot and journal. It runs on
// the Fyne thread.
func (v *view) ensureWindow() {
	if v.tabs != nil {
		return
	}
	v.status = newStatusTab(v)
	v.accounts = newAccountsTab(v)
	v.settings = newSettingsTab(v)
	v.activity = newActivityTab(v)
	// The order of the tabs, and Bitrix24's Authorize as the first button on
	// Accounts, are relied on by the end-to-end test that clicks the window.
	v.tabs = container.NewAppTabs(
		container.NewTabItem("Status", v.status.content),
		container.NewTabItem("Accounts", v.accounts.content),
		container.NewTabItem("Settings", v.settings.content),
		container.NewTabItem("Activity", v.activity.content),
	)
	v.content = v.tabs
	if v.notice != "" {
		n := widget.NewLabel(v.notice)
		n.Wrapping = fyne.TextWrapWord
		v.content = container.NewBorder(n, nil, nil, nil, v.tabs)
	}
	if v.applied {
		v.showSnapshot(v.last, v.now())
	}
	if v.journal != nil {
		v.activity.set(v.journal)
	}
	if v.newWindow != nil {
		v.window = v.newWindow(v.content)
	}
}

// openWindow shows the window, building it first if need be: the tray's Open
// window, a second launch, a new sign-in.
func (v *view) openWindow() {
	v.ensureWindow()
	v.showWindow()
}

// showSnapshot shows st in the window's content (built).
func (v *view) showSnapshot(st engine.Status, now time.Time) {
	v.status.update(st, now)
	v.accounts.update(st)
}

func (v *view) openLogs() { openFolder(v.backend.LogDir()) }

// parent is the window dialogs open over.
func (v *view) parent() fyne.Window {
	if v.window != nil {
		return v.window
	}
	if ws := fyne.CurrentApp().Driver().AllWindows(); len(ws) > 0 {
		return ws[0]
	}
	return nil
}

// apply shows one snapshot in the window (when built) and the tray. It runs on the
// Fyne thread.
func (v *view) apply(st engine.Status) {
	now := v.now()
	first := !v.applied
	v.last, v.applied = st, true
	if v.tabs != nil {
		v.showSnapshot(st, now)
	}
	if v.tray != nil {
		m := trayMenu(st, now, v.backend, v.openWindow, v.quit)
		if k := menuKey(m); first || k != v.lastMenu {
			// Always the same menu object, refilled: Fyne's tray, started by the first
			// menu set, sets that object again once it is ready, which may be after
			// later snapshots (when no SetSystemTrayWindow started it before).
			if v.menu == nil {
				v.menu = m
			} else {
				v.menu.Items = m.Items
			}
			v.tray.SetSystemTrayMenu(v.menu)
			v.lastMenu = k
		}
		if first || st.State != v.lastIcon {
			v.tray.SetSystemTrayIcon(trayIconFor(st.State))
			v.lastIcon = st.State
		}
		v.tray.SetTooltip(tooltip(st, now))
	}
	// The window opens by itself only when the user must act: a new sign-in.
	if st.State == engine.StateSignInNeeded && (first || v.lastState != engine.StateSignInNeeded) {
		v.openWindow()
		v.tabs.SelectIndex(1)
	}
	v.lastState = st.State
}

// notifyChange sends the notification (at most one) that the engine's snapshot st
// calls for, unless the user turned notifications off. It runs on the Fyne thread
// for every snapshot of the engine (not for the placeholder Run shows before the
// first), so the first one never notifies.
func (v *view) notifyChange(st engine.Status) {
	title, body, ok := notifyFor(v.prev, st, &v.notes, v.now())
	v.prev = st
	if ok && v.backend.NotificationsEnabled() {
		v.notify(fyne.NewNotification(title, body))
	}
}

// follow is the bridge: it reads snapshots until ctx ends or the watcher fails and
// hands each to the Fyne thread. The watcher keeps only the newest snapshot, so a
// busy UI never holds up the engine. With each snapshot it also reads what the
// backend keeps on disk (the journal, the zone warning), here rather than on the
// Fyne thread.
func (v *view) follow(ctx context.Context, w engine.Watcher) {
	for {
		st, err := w.Next(ctx)
		if err != nil {
			return
		}
		journal, zone := v.backend.Journal(journalLimit), v.backend.ZoneWarning()
		fyne.Do(func() {
			v.apply(st)
			v.notifyChange(st)
			v.journal = journal
			if v.tabs != nil {
				v.activity.set(journal)
				v.settings.setZoneWarning(zone)
			}
		})
	}
}

// openFolder shows dir in the system file manager.
func openFolder(dir string) {
	if dir == "" {
		return
	}
	u, err := url.Parse(storage.NewFileURI(dir).String())
	if err != nil {
		fyne.LogError("open log folder", err)
		return
	}
	if err := fyne.CurrentApp().OpenURL(u); err != nil {
		fyne.LogError("open log folder", err)
	}
}
