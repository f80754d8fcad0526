package ui

import (
	"context"
	"runtime"
	"sync"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/systray"
	"github.com/godbus/dbus/v5"

	"github.com/timebridge/timebridge/assets"
	"github.com/timebridge/timebridge/sync/engine"
)

// AppID is the application id, as in FyneApp.toml; Fyne keys preferences and the
// Linux desktop entry by it.
const AppID = "app.timebridge.desktop"

// noTrayNotice is shown above the tabs when there is no system tray.
const noTrayNotice = "No system tray found — on GNOME install the AppIndicator extension"

// Options tune Run. The zero value opens the window at start.
type Options struct {
	// StartHidden starts in the tray without a window (--autostart). It is ignored
	// when there is no tray: the window is then the only way in.
	StartHidden bool
	// Title is the window title; "timebridge" when empty.
	Title string
	// Version is shown by the OS (about boxes, notifications) when the binary was not
	// built with `fyne package`; "" keeps Fyne's default.
	Version string
	// Show, when not nil, raises the window for each value received, e.g. when a
	// second launch hands over to this instance.
	Show <-chan struct{}
}

// Run shows the window and the tray and returns when the user quits or ctx ends.
// With opts.StartHidden and a tray shown, the window is made only when first
// opened (tray menu, a left click on the icon, a Show request, a new sign-in).
// It must be called from the main goroutine (Fyne's rule) and only once.
func Run(ctx context.Context, b Backend, opts Options) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	a := fyneapp.NewWithID(AppID)
	ensureMetadata(a, opts.Version)
	a.SetIcon(assets.AppIcon())

	title := opts.Title
	if title == "" {
		title = "timebridge"
	}
	var quitOnce sync.Once
	quit := func() { quitOnce.Do(func() { cancel(); a.Quit() }) }

	desk, isDesktop := a.(desktop.App)
	tray := isDesktop && sessionBusReachable()
	hosted := tray && trayHosted()
	// Started hidden in a visible tray, the window and its content are built only
	// when the user first asks for them (issue 9: a window that is never shown
	// still costs its GL context, canvas and widgets).
	lazy := opts.StartHidden && hosted

	var w fyne.Window
	newWindow := func(content fyne.CanvasObject) fyne.Window {
		w = a.NewWindow(title)
		w.SetContent(content)
		w.Resize(fyne.NewSize(900, 640))
		if tray && !lazy {
			desk.SetSystemTrayWindow(w) // left click on the icon shows the window
		}
		// Closing the window keeps the app in the tray, if the tray can be seen now;
		// otherwise it would leave the app running with no way back in.
		w.SetCloseIntercept(func() {
			if tray && trayHosted() {
				w.Hide()
				return
			}
			quit()
		})
		return w
	}
	cfg := viewConfig{backend: b, newWindow: newWindow, lazy: lazy, showWindow: func() { w.Show(); w.RequestFocus() }, quit: quit}
	if tray {
		cfg.tray = deskTray{desk}
	}
	if !hosted {
		cfg.notice = noTrayNotice
	}
	v := newView(ctx, cfg)

	if lazy {
		// SetSystemTrayWindow needs the window; a left click builds it first. Set
		// before the first menu starts the tray, so that the icon is not announced
		// as menu-only.
		systray.SetOnTapped(func() { fyne.Do(v.openWindow) })
	}
	if tray {
		v.apply(engine.Status{}) // an icon and a menu before the first snapshot
	}
	if !lazy {
		w.Show()
	}

	go v.follow(ctx, b.Watch())
	go func() {
		<-ctx.Done()
		fyne.Do(quit)
	}()
	if opts.Show != nil {
		go func() {
			for {
				select {
				case <-ctx.Done():
					return
				case _, ok := <-opts.Show:
					if !ok {
						return
					}
					fyne.Do(v.openWindow)
				}
			}
		}()
	}

	a.Run()
	cancel()
	return nil
}

// ensureMetadata fills in the app's metadata when the binary was built with plain
// `go build` (no `fyne package`) and FyneApp.toml was not found next to it: the
// fyneDo migration must be on, since every widget update goes through fyne.Do.
func ensureMetadata(a fyne.App, version string) {
	m := a.Metadata()
	if m.ID != "" && m.Migrations["fyneDo"] {
		return
	}
	m.ID, m.Name = AppID, "timebridge"
	if version != "" {
		m.Version = version
	}
	if m.Icon == nil {
		m.Icon = assets.AppIcon()
	}
	m.Migrations = map[string]bool{"fyneDo": true}
	fyneapp.SetMetadata(m)
}

// deskTray adapts desktop.App to trayHost; the tooltip goes straight to systray,
// which Fyne does not wrap.
type deskTray struct{ desktop.App }

func (deskTray) SetTooltip(s string) { systray.SetTooltip(s) }

// usesDBusTray reports whether the tray on this OS is a StatusNotifierItem on the
// D-Bus session bus (everything but Windows and macOS).
func usesDBusTray() bool { return runtime.GOOS != "windows" && runtime.GOOS != "darwin" }

// sessionBusReachable reports whether a tray may be set at all: on D-Bus systems
// without a session bus, fyne.io/systray panics on quit (fyne-io/fyne#6403). It
// uses dbus.SessionBus, the shared connection systray itself will use.
func sessionBusReachable() bool {
	if !usesDBusTray() {
		return true
	}
	_, err := dbus.SessionBus()
	return err == nil
}

// trayHosted reports whether some panel shows tray icons now: on D-Bus systems,
// whether org.kde.StatusNotifierWatcher has an owner (plain GNOME has none until
// the AppIndicator extension is installed).
func trayHosted() bool {
	if !usesDBusTray() {
		return true
	}
	conn, err := dbus.SessionBus()
	if err != nil {
		return false
	}
	var has bool
	err = conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, "org.kde.StatusNotifierWatcher").Store(&has)
	return err == nil && has
}
