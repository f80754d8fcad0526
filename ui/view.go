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
type view struct {
	ctx     context.Context // ends when the UI quits; parent of Authorize/SignOut calls
	backend Backend
	now     func() time.Time
	async   func(func()) // runs a blocking Backend call off the Fyne thread

	status   *statusTab
	accounts *accountsTab
	settings *settingsTab
	activity *activityTab
	tabs     *container.AppTabs
	content  fyne.CanvasObject
	window   fyne.Window // parent of dialogs; nil: the app's first window

	// notify sends a notification; prev and notes are notifyFor's memory.
	notify func(*fyne.Notification)
	prev   engine.Status
	notes  notifyState

	tray       trayHost // nil: no tray
	showWindow func()
	quit       func()

	lastMenu  string
	lastIcon  engine.State
	lastState engine.State
	applied   bool
}

type viewConfig struct {
	backend    Backend
	now        func() time.Time         // time.Now when nil
	async      func(func())             // go f() when nil
	tray       trayHost                 // nil: no tray
	notice     string                   // one line above the tabs ("" for none)
	window     fyne.Window              // parent of dialogs; nil: the app's first window
	notify     func(*fyne.Notification) // the app's SendNotification when nil
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
		window:     c.window,
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
	if c.notice != "" {
		n := widget.NewLabel(c.notice)
		n.Wrapping = fyne.TextWrapWord
		v.content = container.NewBorder(n, nil, nil, nil, v.tabs)
	}
	return v
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

// apply shows one snapshot in the window and the tray. It runs on the Fyne thread.
func (v *view) apply(st engine.Status) {
	now := v.now()
	v.status.update(st, now)
	v.accounts.update(st)
	if v.tray != nil {
		m := trayMenu(st, now, v.backend, v.showWindow, v.quit)
		if k := menuKey(m); !v.applied || k != v.lastMenu {
			v.tray.SetSystemTrayMenu(m)
			v.lastMenu = k
		}
		if !v.applied || st.State != v.lastIcon {
			v.tray.SetSystemTrayIcon(trayIconFor(st.State))
			v.lastIcon = st.State
		}
		v.tray.SetTooltip(tooltip(st, now))
	}
	// The window opens by itself only when the user must act: a new sign-in.
	if st.State == engine.StateSignInNeeded && (!v.applied || v.lastState != engine.StateSignInNeeded) {
		v.showWindow()
		v.tabs.SelectIndex(1)
	}
	v.lastState, v.applied = st.State, true
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
			v.activity.set(journal)
			v.settings.setZoneWarning(zone)
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
