package app

import (
	"context"
	"errors"
	"time"

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
	eng, err := a.startEngine(ctx)
	if err != nil {
		var ee *ExitError
		if !errors.As(err, &ee) || ee.Code == ExitLocked {
			return err
		}
		// Not configured or not signed in yet: the window opens and says so.
		a.Log.Info("engine not started", "reason", err)
		a.idle = fixedWatcher{engine.Status{State: engine.StateSignInNeeded, LastError: err.Error(), Services: a.configuredServices()}}
		return gui(ctx, a, false)
	}
	go eng.Serve(ctx)
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

// Watch returns a watcher of the engine's snapshots.
func (a *App) Watch() engine.Watcher {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.engine != nil {
		return a.engine.Watch()
	}
	if a.idle != nil {
		return &onceWatcher{w: a.idle}
	}
	return &onceWatcher{w: fixedWatcher{engine.Status{}}}
}

// onceWatcher returns the fixed snapshot once, then blocks until ctx ends.
type onceWatcher struct {
	w    engine.Watcher
	done bool
}

func (o *onceWatcher) Next(ctx context.Context) (engine.Status, error) {
	if !o.done {
		o.done = true
		return o.w.Next(ctx)
	}
	<-ctx.Done()
	return engine.Status{}, ctx.Err()
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
	if err := checkService(service); err != nil {
		return err
	}
	if a.authorize != nil {
		return a.authorize(ctx, service)
	}
	return errors.New("signing in from the window is not implemented yet: use \"timebridge authorize " + service + "\" in a terminal")
}
