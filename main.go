// Command timebridge is the desktop tray companion that mirrors an employee's
// Bitrix24 tasks into Time Doctor / TimeLog and writes their tracked time back to
// the Bitrix24 tasks. See README.md; the command line is in package app.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/timebridge/timebridge/app"
	"github.com/timebridge/timebridge/ui"
)

// The window's Backend, including the optional link-reporting sign-in.
var (
	_ ui.Backend       = (*app.App)(nil)
	_ ui.URLAuthorizer = (*app.App)(nil)
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	gui := func(ctx context.Context, a *app.App, startHidden bool) error {
		return ui.Run(ctx, a, ui.Options{StartHidden: startHidden, Version: app.Version, Show: a.ShowRequests()})
	}
	code := app.Main(ctx, os.Args[1:], app.Env{}, gui)
	stop()
	os.Exit(code)
}
