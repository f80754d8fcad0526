package app

import (
	"context"
	"errors"
	"strings"

	"github.com/timebridge/timebridge/app/backend"
	"github.com/timebridge/timebridge/app/config"
	"github.com/timebridge/timebridge/app/secrets"
	"github.com/timebridge/timebridge/sync/engine"
)

// The rest of the window's Backend (package ui): sign-in dialogs, the Settings
// and Activity tabs, notifications.

// SignIn signs in with credentials typed into the window.
func (a *App) SignIn(ctx context.Context, service string, c backend.Credentials) error {
	if err := checkService(service); err != nil {
		return err
	}
	a.cfgMu.Lock()
	defer a.cfgMu.Unlock()
	var err error
	switch service {
	case "bitrix24":
		if strings.TrimSpace(c.Webhook) == "" {
			return errors.New("paste the webhook URL (https://YOUR.bitrix24.com/rest/<user>/<code>/)")
		}
		err = a.authorizeWebhook(ctx, Env{Stdout: discard{}, Stderr: discard{}}, strings.TrimSpace(c.Webhook))
	case "timedoctor":
		err = a.signInTimeDoctor(ctx, c.Email, c.Password, c.TOTP, discard{})
	case "timelog":
		err = a.signInTimeLog(ctx, secrets.Secret(strings.TrimSpace(c.Token)), discard{})
	}
	if err != nil {
		return err
	}
	return a.startAfterSignIn()
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// settingLabels are the Settings tab's labels for the keys a person edits there.
var settingLabels = []struct{ key, label string }{
	{"trackers", "Trackers"},
	{"sync.default_project", "Default project"},
	{"sync.time_zone", "Time zone"},
	{"sync.start_date", "Sync start date"},
	{"sync.interval", "Sync interval"},
	{"sync.reread_days", "Days re-read each sync"},
	{"ui.autostart", "Start at login"},
	{"ui.notifications", "Notifications"},
	{"bitrix24.portal", "Bitrix24 portal"},
	{"timedoctor.company", "Time Doctor company"},
	{"timelog.api_url", "TimeLog site URL"},
}

// Settings lists the editable settings with their current values.
func (a *App) Settings() []backend.Setting {
	a.cfgMu.RLock()
	defer a.cfgMu.RUnlock()
	kinds := map[config.Kind]string{config.KindText: "text", config.KindURL: "url", config.KindBool: "bool",
		config.KindNumber: "number", config.KindDuration: "duration", config.KindDate: "date", config.KindZone: "zone",
		config.KindChoice: "choice", config.KindList: "text"}
	var out []backend.Setting
	for _, sl := range settingLabels {
		k, ok := config.Lookup(sl.key)
		if !ok {
			continue
		}
		v, _ := a.Config.Get(sl.key)
		s := backend.Setting{Key: sl.key, Label: sl.label, Value: v, Help: k.Help, Kind: kinds[k.Kind]}
		if sl.key == "trackers" {
			s.Kind, s.Choices = "choice", []string{"timedoctor", "timelog", "timedoctor,timelog"}
		}
		out = append(out, s)
	}
	return out
}

// SetSetting validates and saves one setting.
func (a *App) SetSetting(key, value string) error {
	a.cfgMu.Lock()
	err := a.setConfig(context.Background(), key, value)
	a.cfgMu.Unlock()
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Err
	}
	if err == nil {
		a.settingsChanged()
	}
	return err
}

// ZoneWarning says when the tracker or Bitrix24 shows days in another zone than
// the one timebridge splits days in; "" when they agree.
func (a *App) ZoneWarning() string {
	e := a.eng()
	if e == nil {
		return ""
	}
	return strings.Join(e.Status().ZoneWarnings, "; ")
}

// Journal returns up to limit journal entries, newest first.
func (a *App) Journal(limit int) []engine.JournalEntry {
	e := a.eng()
	if e == nil {
		return nil
	}
	j, err := e.Journal(limit)
	if err != nil {
		a.Log.Warn("read the journal", "err", err)
	}
	return j
}

// NotificationsEnabled reports the ui.notifications setting.
func (a *App) NotificationsEnabled() bool { return a.notify.Load() }
