package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/timebridge/timebridge/sync/connector"
	"github.com/timebridge/timebridge/sync/engine"
)

// errNotConnected: the real service clients are not wired in yet.
var errNotConnected = errors.New("talking to real Bitrix24, Time Doctor and TimeLog accounts is not implemented yet " +
	"(the service connectors are being built); run \"timebridge demo\" to see the product against its built-in emulators")

// connectors builds the Bitrix24 source and the enabled trackers from the
// settings and the keychain.
func (a *App) connectors(ctx context.Context) (connector.TaskSource, []connector.Tracker, error) {
	if a.Config.Bitrix24.Portal == "" {
		return nil, nil, usageErr("bitrix24.portal is not set: run timebridge config set bitrix24.portal https://YOUR.bitrix24.com")
	}
	if len(a.Config.Trackers) == 0 {
		return nil, nil, usageErr("no tracker chosen: run timebridge config set trackers timedoctor (or timelog, or timedoctor,timelog)")
	}
	return nil, nil, &ExitError{Code: ExitUsage, Err: errNotConnected}
}

// startEngine opens the state file and builds the engine on the real services.
func (a *App) startEngine(ctx context.Context) (*engine.Engine, error) {
	src, trackers, err := a.connectors(ctx)
	if err != nil {
		return nil, err
	}
	cfg, err := a.engineConfig()
	if err != nil {
		return nil, err
	}
	return a.newEngineWith(src, trackers, cfg)
}

// newEngineWith opens the state file and builds an engine over the given connectors.
func (a *App) newEngineWith(src connector.TaskSource, trackers []connector.Tracker, cfg engine.Config) (*engine.Engine, error) {
	st, err := a.openStore(false)
	if err != nil {
		return nil, err
	}
	eng, err := engine.New(cfg, engine.Options{Source: src, Trackers: trackers, Store: st, Logger: a.Log})
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("start the sync engine: %w", err)
	}
	if a.Config.Sync.Paused {
		if err := eng.Pause(0); err != nil {
			st.Close()
			return nil, err
		}
	}
	a.mu.Lock()
	a.store, a.engine = st, eng
	a.mu.Unlock()
	return eng, nil
}
