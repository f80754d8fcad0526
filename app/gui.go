package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/timebridge/timebridge/app/autostart"
	"github.com/timebridge/timebridge/app/instance"
	"github.com/timebridge/timebridge/sync/engine"
)

// runGUI starts the window and tray on the real services.
func runGUI(ctx context.Context, env Env, gui GUI, startHidden bool) error {
	if gui == nil {
		return usageErr("this build has no window")
	}
	a, err := openApp(env, false)
	if err != nil {
		return err
	}
	defer a.Close()
	// One app per user: a second launch asks the first to show its window and exits.
	inst, err := instance.Acquire(a.Home)
	if errors.Is(err, instance.ErrRunning) {
		fmt.Fprintln(env.Stderr, "timebridge:", err)
		return nil
	}
	if err != nil {
		return fmt.Errorf("single-instance check in %s: %w", a.Home, err)
	}
	defer inst.Close()
	a.show = inst.Show()
	if err := a.applyAutostart(); err != nil {
		a.Log.Warn("autostart", "err", err)
	}
	a.ctx = ctx
	eng, err := a.startEngine(ctx)
	if err != nil {
		var ee *ExitError
		if !errors.As(err, &ee) || ee.Code == ExitLocked {
			return err
		}
		// Not configured or not signed in yet: the window opens and says so.
		a.Log.Info("engine not started", "reason", err)
		a.setIdle(err)
		return gui(ctx, a, false)
	}
	a.serve(eng)
	defer a.stopServing()
	return gui(ctx, a, startHidden)
}

// fixedWatcher always reports the same snapshot.
type fixedWatcher struct{ st engine.Status }

func (w fixedWatcher) Next(ctx context.Context) (engine.Status, error) {
	select {
	case <-ctx.Done():
		return engine.Status{}, ctx.Err()
	default:
	}
	return w.st, nil
}

// The Backend the window uses (package ui).

// Watch returns a watcher of the engine's snapshots. Before an engine runs (not
// configured or not signed in yet) it reports the idle snapshot, then follows the
// engine once a sign-in starts one.
func (a *App) Watch() engine.Watcher { return &appWatcher{a: a} }

// appWatcher follows whatever engine the App has.
type appWatcher struct {
	a        *App
	inner    engine.Watcher
	started  bool // a first snapshot was reported
	seenIdle int  // the App's idleVer last reported
	target   *engine.Engine
}

func (w *appWatcher) Next(ctx context.Context) (engine.Status, error) {
	for {
		w.a.mu.Lock()
		eng, idle, idleVer, ready := w.a.engine, w.a.idle, w.a.idleVer, w.a.engineReady()
		w.a.mu.Unlock()
		if eng != nil {
			if w.target != eng {
				w.target, w.inner = eng, eng.Watch()
			}
			// Follow this engine until the App replaces it (a sign-in added a service).
			cctx, cancel := context.WithCancel(ctx)
			go func() {
				select {
				case <-ready:
					cancel()
				case <-cctx.Done():
				}
			}()
			st, err := w.inner.Next(cctx)
			cancel()
			if err != nil && ctx.Err() == nil {
				continue // the engine was replaced: follow the new one
			}
			return st, err
		}
		if !w.started || w.seenIdle != idleVer {
			w.started, w.seenIdle = true, idleVer
			if idle != nil {
				return idle.Next(ctx)
			}
			return engine.Status{}, nil
		}
		select {
		case <-ctx.Done():
			return engine.Status{}, ctx.Err()
		case <-ready:
		}
	}
}

// engineReady is closed when an engine starts; a.mu held.
func (a *App) engineReady() chan struct{} {
	if a.ready == nil {
		a.ready = make(chan struct{})
	}
	return a.ready
}

func (a *App) eng() *engine.Engine {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.engine
}

// SyncNow asks for a cycle.
func (a *App) SyncNow() {
	if e := a.eng(); e != nil {
		e.SyncNow()
	}
}

// Pause stops writes for d (0: until resumed).
func (a *App) Pause(d time.Duration) {
	if e := a.eng(); e != nil {
		if err := e.Pause(d); err != nil {
			a.Log.Error("pause", "err", err)
		}
	}
}

// Resume ends a pause, also one set in the config.
func (a *App) Resume() {
	if a.Config.Sync.Paused {
		if err := a.setConfig(context.Background(), "sync.paused", "false"); err != nil {
			a.Log.Error("resume: save config", "err", err)
		}
	}
	if e := a.eng(); e != nil {
		if err := e.Resume(); err != nil {
			a.Log.Error("resume", "err", err)
		}
	}
}

// Retry makes a parked item due now.
func (a *App) Retry(key string) {
	if e := a.eng(); e != nil {
		if err := e.Retry(key); err != nil {
			a.Log.Warn("retry", "key", key, "err", err)
		}
	}
}

// Resolve settles a conflict.
func (a *App) Resolve(key string, keepBitrix24 bool) error {
	e := a.eng()
	if e == nil {
		return errors.New("the sync engine is not running")
	}
	return e.Resolve(key, keepBitrix24)
}

// Authorize signs in to a service from the window.
func (a *App) Authorize(ctx context.Context, service string) error {
	return a.AuthorizeURL(ctx, service, nil)
}

// AuthorizeURL is Authorize reporting the URL it opens in the browser, for the
// window's Copy button (ui.URLAuthorizer).
func (a *App) AuthorizeURL(ctx context.Context, service string, url func(string)) error {
	if err := checkService(service); err != nil {
		return err
	}
	if a.authorize != nil {
		return a.authorize(ctx, service)
	}
	ready := func(u string) {
		a.Log.Info("sign-in URL opened in the browser", "url_host", hostOnly(u))
		if url != nil {
			url(u)
		}
	}
	var err error
	switch {
	case service == "bitrix24":
		err = a.signInBitrix24(ctx, ready, nil, io.Discard)
	case service == "timedoctor" && a.isClassic():
		err = a.signInClassic(ctx, ready, nil, io.Discard)
	case service == "timelog" && a.Config.TimeLog.ClientID != "":
		err = a.signInTimeLogOAuth(ctx, ready, nil, io.Discard)
	default:
		return errors.New(service + " signs in with the dialog (Sign in…), not in the browser")
	}
	if err != nil {
		return err
	}
	return a.startAfterSignIn()
}

// startAfterSignIn (re)starts the engine after a sign-in, so that a service that
// was missing joins the sync; the window follows the new engine.
func (a *App) startAfterSignIn() error {
	if a.ctx == nil { // not the GUI (commands): the next start picks it up
		return nil
	}
	a.stopServing()
	eng, err := a.startEngine(a.ctx)
	if err != nil {
		return err
	}
	a.serve(eng)
	return nil
}

// serve runs eng's scheduler until the App stops it, and wakes the window's watcher.
func (a *App) serve(eng *engine.Engine) {
	ctx, cancel := context.WithCancel(a.ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := eng.Serve(ctx); err != nil {
			a.Log.Error("scheduler", "err", err)
		}
	}()
	a.mu.Lock()
	a.stopServe = func() { cancel(); <-done }
	close(a.engineReady())
	a.ready = nil // the next engine gets a fresh channel
	a.mu.Unlock()
}

// stopServing stops the running engine and releases the state file.
func (a *App) stopServing() {
	a.mu.Lock()
	stop, st := a.stopServe, a.store
	a.stopServe, a.engine, a.store = nil, nil, nil
	a.mu.Unlock()
	if stop != nil {
		stop()
	}
	if st != nil {
		if err := st.Close(); err != nil {
			a.Log.Warn("close the state file", "err", err)
		}
	}
}

func hostOnly(u string) string {
	if i := strings.Index(u, "://"); i >= 0 {
		u = u[i+3:]
	}
	if i := strings.IndexAny(u, "/?"); i >= 0 {
		u = u[:i]
	}
	return u
}

// ShowRequests delivers a value whenever a second launch asks this one to show
// its window; nil outside the GUI.
func (a *App) ShowRequests() <-chan struct{} { return a.show }

// applyAutostart makes the login item match ui.autostart. Enabling again at every
// start keeps the item's path current when the binary moved.
func (a *App) applyAutostart() error {
	m := autostart.New(autostart.Options{})
	if a.Config.UI.Autostart {
		return m.Enable()
	}
	if on, err := m.Enabled(); err != nil || !on {
		return err
	}
	return m.Disable()
}

// setIdle shows why no engine runs (not configured, not signed in) and wakes the
// window's watcher.
func (a *App) setIdle(reason error) {
	st := engine.Status{State: engine.StateSignInNeeded, LastError: reason.Error(), Services: a.configuredServices()}
	a.mu.Lock()
	a.idle = fixedWatcher{st}
	a.idleVer++
	close(a.engineReady())
	a.ready = nil
	a.mu.Unlock()
}

// settingsChanged tries to start the engine once the settings allow it, or
// refreshes the reason it cannot start yet (window only).
func (a *App) settingsChanged() {
	if a.ctx == nil || a.eng() != nil {
		return
	}
	if err := a.startAfterSignIn(); err != nil {
		a.setIdle(err)
	}
}
