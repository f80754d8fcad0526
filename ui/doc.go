// Package ui is timebridge's window and tray: a thin client of the engine.
//
// It owns no sync state. One goroutine (the bridge, view.follow) follows the
// engine's Watcher and hands each Status snapshot to the Fyne thread with fyne.Do;
// there the bound data behind the widgets is set, and the tray menu, icon and
// tooltip are rebuilt from the snapshot. A click only sends an intent to the
// Backend (SyncNow, Pause, Retry, Authorize, …); its effect arrives with a later
// snapshot. Widgets are built once, against data bindings, and never touched from
// another goroutine. With each snapshot the bridge also reads the journal (the
// Activity tab) and the zone warning (the Settings tab), and notifyFor decides on
// at most one notification (design §1: state changes only, coalesced, with an off
// switch, none for the initial state).
//
// Credentials are typed into dialogs opened from the Accounts tab (Time Doctor
// email, password and two-factor code; a TimeLog token; a Bitrix24 webhook); each
// row keeps one button on its right, Bitrix24's Authorize (the browser flow) first.
//
// The tray is used only where it can work: a desktop driver and, on Linux and the
// BSDs, a reachable D-Bus session bus (without one, fyne.io/systray panics on
// quit). Without a tray the window stays open, closing it quits, and a one-line
// notice says why there is no tray icon. Started hidden in a tray that is shown
// (--autostart), the window and its widgets are not built until the user first
// opens it (view.ensureWindow): a window never shown still costs its GL context,
// canvas and widget tree (issue 9). The tray and the notifications follow the
// snapshots from the start either way.
package ui
