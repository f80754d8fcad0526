package app

import (
	"context"
)

// authorizeBitrix24OAuth runs the OAuth code flow in the browser.
func (a *App) authorizeBitrix24OAuth(ctx context.Context, env Env) error {
	if _, err := a.bitrix24OAuth(ctx); err != nil {
		return err
	}
	return usageErr("authorize bitrix24: the browser sign-in is not wired in yet; use --webhook URL with a personal incoming webhook")
}
