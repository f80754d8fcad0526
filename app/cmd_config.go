package app

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/timebridge/timebridge/app/config"
	"github.com/timebridge/timebridge/app/secrets"
)

// cmdConfig: config list | get KEY | set KEY VALUE. Secret keys go to the keychain.
func cmdConfig(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "config", "config list | get KEY | set KEY VALUE")
	rest, err := parse(fs, args, 1, 3)
	if err != nil {
		return err
	}
	a, err := openApp(env, false)
	if err != nil {
		return err
	}
	defer a.Close()
	switch verb := rest[0]; {
	case verb == "list" && len(rest) == 1:
		for _, line := range a.Config.List(func(key string) (bool, error) { return a.hasSecret(ctx, key) }) {
			fmt.Fprintln(env.Stdout, line)
		}
		return nil
	case verb == "get" && len(rest) == 2:
		if config.IsSecret(rest[1]) {
			set, err := a.hasSecret(ctx, rest[1])
			if err != nil {
				return err
			}
			fmt.Fprintln(env.Stdout, map[bool]string{true: "(in keychain)", false: "(not set)"}[set])
			return nil
		}
		v, err := a.Config.Get(rest[1])
		if err != nil {
			return &ExitError{Code: ExitUsage, Err: err}
		}
		fmt.Fprintln(env.Stdout, v)
		return nil
	case verb == "set" && len(rest) == 3:
		return a.setConfig(ctx, rest[1], rest[2])
	}
	fs.Usage()
	return usageErr("config: expected list, get KEY or set KEY VALUE, got %q", strings.Join(rest, " "))
}

// setConfig validates and stores one setting: secrets in the keychain, the rest
// in config.json. Nothing changes when the value is rejected.
func (a *App) setConfig(ctx context.Context, key, value string) error {
	err := a.Config.Set(key, value)
	if errors.Is(err, config.ErrSecretKey) {
		v, cerr := config.Check(key, value)
		if cerr != nil {
			return &ExitError{Code: ExitUsage, Err: cerr}
		}
		if v == "" {
			return a.Secrets.Delete(ctx, key)
		}
		if err := a.Secrets.Set(ctx, key, secrets.Secret(v)); err != nil {
			return fmt.Errorf("store %s in the keychain: %w", key, err)
		}
		return nil
	}
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	if err := a.Config.Save(a.Home); err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	a.notify.Store(a.Config.UI.Notifications)
	if key == "ui.autostart" {
		if err := a.applyAutostart(); err != nil {
			return fmt.Errorf("ui.autostart is saved, but the login item could not be changed: %w", err)
		}
	}
	return nil
}

func (a *App) hasSecret(ctx context.Context, key string) (bool, error) {
	_, err := a.Secrets.Get(ctx, key)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, secrets.ErrNotFound):
		return false, nil
	}
	return false, err
}
