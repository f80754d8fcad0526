package ui

import (
	"strings"
	"time"

	"fyne.io/fyne/v2"

	"github.com/timebridge/timebridge/assets"
	"github.com/timebridge/timebridge/sync/engine"
)

// trayIconPx is the size handed to the tray; panels scale it to their height, and
// 64 px stays sharp on HiDPI panels.
const trayIconPx = 64

// trayIconFor is the tray icon of a state.
func trayIconFor(s engine.State) fyne.Resource { return assets.TrayIcon(s, trayIconPx) }

// trayMenu builds the whole tray menu from one snapshot. It is pure, so a table test
// covers every state without a running app. The bridge rebuilds the menu for each
// new snapshot rather than patching items: the menu is small, and one function of
// the snapshot cannot drift out of step with it.
//
// now is passed in (rather than read) so that the menu is a function of its
// arguments alone; times are shown in now's location.
func trayMenu(st engine.Status, now time.Time, b Backend, openWindow, quit func()) *fyne.Menu {
	info := func(label string) *fyne.MenuItem {
		it := fyne.NewMenuItem(label, nil)
		it.Disabled = true
		return it
	}
	syncNow := fyne.NewMenuItem("Sync now", b.SyncNow)
	syncNow.Disabled = st.State == engine.StateSyncing || st.State == engine.StatePaused

	items := []*fyne.MenuItem{
		info(headline(st, now)),
		info(stateLine(st, now)),
		fyne.NewMenuItemSeparator(),
		syncNow,
	}
	if st.State == engine.StatePaused {
		items = append(items, fyne.NewMenuItem("Resume", b.Resume))
	} else {
		items = append(items,
			fyne.NewMenuItem("Pause 1 hour", func() { b.Pause(time.Hour) }),
			fyne.NewMenuItem("Pause until resumed", func() { b.Pause(0) }),
		)
	}
	quitItem := fyne.NewMenuItem("Quit", quit)
	quitItem.IsQuit = true
	items = append(items,
		fyne.NewMenuItemSeparator(),
		fyne.NewMenuItem("Open window", openWindow),
		fyne.NewMenuItem("Open log folder", func() { openFolder(b.LogDir()) }),
		fyne.NewMenuItemSeparator(),
		quitItem,
	)
	return fyne.NewMenu("timebridge", items...)
}

// menuKey identifies what a menu shows; the bridge skips re-setting an unchanged
// menu, which would make some panels flicker.
func menuKey(m *fyne.Menu) string {
	var b strings.Builder
	for _, it := range m.Items {
		switch {
		case it.IsSeparator:
			b.WriteString("---")
		case it.Disabled:
			b.WriteString("(" + it.Label + ")")
		default:
			b.WriteString(it.Label)
		}
		b.WriteByte('\n')
	}
	return b.String()
}
