package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/timebridge/timebridge/app/config"
	"github.com/timebridge/timebridge/app/logging"
	"github.com/timebridge/timebridge/app/secrets"
	"github.com/timebridge/timebridge/sync/engine"
	"github.com/timebridge/timebridge/sync/store"
)

// Version is set at build time (-ldflags "-X …/app.Version=…").
var Version = "dev"

// StateFile is the bbolt state file in the home directory.
const StateFile = "state.db"

// App is one running timebridge: its home directory, settings, keychain, log and,
// once started, its engine.
type App struct {
	Home    string
	Config  *config.Config
	Secrets secrets.Store
	Log     *slog.Logger

	stdin          io.Reader
	stdout, stderr io.Writer
	logCloser      io.Closer
	now            func() time.Time
	httpClient     *http.Client // nil: the default (honours HTTPS_PROXY, HTTP_PROXY, NO_PROXY)

	mu      sync.Mutex
	engine  *engine.Engine
	store   *store.Store
	idle    engine.Watcher  // when no engine could be built: a fixed snapshot
	idleVer int             // bumped when idle changes (setIdle)
	ready   chan struct{}   // closed when an engine starts (see engineReady)
	show    <-chan struct{} // a second launch asks to show the window
	ctx     context.Context // the GUI's context, for engines started after a sign-in
	// stopServe stops the running engine's scheduler and waits for it.
	stopServe func()
	// cfgMu orders the window's concurrent settings calls (SetSetting and SignIn
	// write the config; Settings and NotificationsEnabled read it).
	cfgMu sync.RWMutex
	// notify mirrors ui.notifications for the UI thread, which must not wait on cfgMu.
	notify atomic.Bool
	// authorize runs a sign-in from the window; set by the GUI start-up.
	authorize func(ctx context.Context, service string) error
}

// Env is what the process gives the app: streams and environment.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
}

func (e Env) withDefaults() Env {
	if e.Stdin == nil {
		e.Stdin = os.Stdin
	}
	if e.Stdout == nil {
		e.Stdout = os.Stdout
	}
	if e.Stderr == nil {
		e.Stderr = os.Stderr
	}
	if e.Getenv == nil {
		e.Getenv = os.Getenv
	}
	return e
}

// open builds an App from the environment: home, config, keychain and log. home
// overrides TIMEBRIDGE_HOME when not empty; keyring "memory" keeps secrets in memory.
func open(env Env, home, keyringMode string, logToStderr bool) (*App, error) {
	if home == "" {
		h, err := config.DefaultHome()
		if err != nil {
			return nil, usageErr("%v", err)
		}
		home = h
	}
	cfg, err := config.Load(home)
	if err != nil {
		return nil, &ExitError{Code: ExitUsage, Err: err}
	}
	sec, err := openSecrets(keyringMode, home)
	if err != nil {
		return nil, usageErr("open the keychain: %v", err)
	}
	var stderr io.Writer
	if logToStderr {
		stderr = env.Stderr
	}
	log, closer, err := logging.New(home, slog.LevelInfo, stderr)
	if err != nil {
		return nil, usageErr("open the log in %s: %v (check the permissions or set %s)", home, err, config.EnvHome)
	}
	a := &App{Home: home, Config: cfg, Secrets: sec, Log: log, stdin: env.Stdin, stdout: env.Stdout, stderr: env.Stderr,
		logCloser: closer, now: time.Now}
	a.notify.Store(cfg.UI.Notifications)
	return a, nil
}

// Close releases the state file and the log.
func (a *App) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	var errs []error
	if a.store != nil {
		errs = append(errs, a.store.Close())
		a.store = nil
	}
	if a.logCloser != nil {
		errs = append(errs, a.logCloser.Close())
	}
	return errors.Join(errs...)
}

// LogDir is the folder holding the log files.
func (a *App) LogDir() string { return logging.Dir(a.Home) }

// openStore opens the state file, moving a corrupt one aside (the user is told once,
// in the log and on stderr; the links are rebuilt from the remote keys).
func (a *App) openStore(readOnly bool) (*store.Store, error) {
	path := filepath.Join(a.Home, StateFile)
	st, moved, err := store.OpenOrRebuild(path, store.Options{Timeout: time.Second, ReadOnly: readOnly}, a.now())
	if err != nil {
		if errors.Is(err, store.ErrLocked) {
			return nil, &ExitError{Code: ExitLocked, Err: fmt.Errorf("another timebridge is running with %s: use its window or quit it first", a.Home)}
		}
		return nil, fmt.Errorf("open the state file: %w", err)
	}
	if moved != "" {
		a.Log.Warn("state file was corrupt; moved aside and rebuilt from the remote keys", "moved_to", moved)
		fmt.Fprintf(a.stderr, "timebridge: the state file was corrupt; it was moved to %s and is rebuilt from Bitrix24 and the tracker\n", moved)
	}
	return st, nil
}

// engineConfig turns the settings into the engine's.
func (a *App) engineConfig() (engine.Config, error) {
	c := a.Config
	loc, err := c.Sync.Location()
	if err != nil {
		return engine.Config{}, usageErr("sync.time_zone: %v", err)
	}
	return engine.Config{
		Interval:       c.Sync.Interval,
		TimeZone:       loc,
		LocalZone:      localZone(),
		StartDate:      c.Sync.StartDate,
		RereadDays:     c.Sync.RereadDays,
		DefaultProject: c.Sync.DefaultProject,
	}, nil
}

// openSecrets opens the keychain. Entries of the default home use the service name
// "timebridge"; another home (TIMEBRIDGE_HOME) gets its own service name, so two
// homes on one machine (tests, a second profile) never share sign-ins.
func openSecrets(mode, home string) (secrets.Store, error) {
	if mode == "memory" {
		return secrets.NewMemory(), nil
	}
	if _, err := secrets.Open(mode); err != nil {
		return nil, err
	}
	service := secrets.DefaultService
	if def, err := defaultHome(); err != nil || filepath.Clean(def) != filepath.Clean(home) {
		service += " " + home
	}
	return secrets.NewKeyring(secrets.KeyringOptions{Service: service}), nil
}

// defaultHome is the home without TIMEBRIDGE_HOME.
func defaultHome() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "timebridge"), nil
}

// localZone is the OS time zone with its IANA name when it can be found ($TZ or
// the /etc/localtime link), so that Settings and status show "Europe/Berlin"
// rather than "Local".
func localZone() *time.Location {
	name := os.Getenv("TZ")
	if name == "" {
		if target, err := os.Readlink("/etc/localtime"); err == nil {
			if i := strings.Index(target, "zoneinfo/"); i >= 0 {
				name = target[i+len("zoneinfo/"):]
			}
		}
	}
	if loc, err := time.LoadLocation(strings.TrimPrefix(name, ":")); err == nil && name != "" {
		return loc
	}
	return time.Local
}
