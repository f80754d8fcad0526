package ui

import (
	"context"
	"time"

	"github.com/timebridge/timebridge/app/backend"
	"github.com/timebridge/timebridge/sync/engine"
)

// Credentials are what a sign-in dialog collects. Only the fields of the service
// are set: Email, Password and TOTP for Time Doctor 2 (TOTP only when asked: SignIn
// returns ErrTOTPRequired first), Token for TimeLog (a personal access token),
// Webhook for Bitrix24 (an incoming-webhook URL instead of the browser flow).
//
// It is an alias of the type in app/backend, which sits below both ui and app, so
// that *app.App satisfies Backend without either package importing the other.
type Credentials = backend.Credentials

// Setting is one row of the Settings tab: Key, Label, Value, Help, Kind ("text",
// "bool", "choice", "duration", "date", "zone", "number", "url") and, for "choice",
// Choices. An alias of backend.Setting, like Credentials.
type Setting = backend.Setting

// ErrTOTPRequired is returned by SignIn when Time Doctor asks for a two-factor
// code; the dialog then asks for it and calls SignIn again with TOTP set.
var ErrTOTPRequired = backend.ErrTOTPRequired

// Backend is everything the UI may ask of the application. *app.App satisfies it;
// tests pass a fake.
//
// SyncNow, Pause, Resume, Retry, LogDir and NotificationsEnabled are called on the
// UI goroutine and must return at once (send an intent, do not wait for its
// effect). Resolve, Authorize, SignOut, SignIn and SetSetting may block; the UI
// calls them from a goroutine of its own. Journal and ZoneWarning are called by the
// bridge goroutine once per snapshot; Settings on the UI goroutine when the window
// is built and from the Apply goroutine after saving. So methods run concurrently:
// an implementation must guard what SetSetting and SignIn change (the settings,
// e.g. ui.notifications read by NotificationsEnabled).
type Backend interface {
	// Watch returns a watcher of engine snapshots; the UI follows it until Run
	// ends. Its first Next returns the current snapshot.
	Watch() engine.Watcher
	// SyncNow asks for a cycle at once; a request during a cycle means one more.
	SyncNow()
	// Pause stops all writes for d, or until Resume when d is 0. It survives a restart.
	Pause(d time.Duration)
	// Resume ends a pause.
	Resume()
	// Retry asks for the parked item with this ParkedItem.Key to be tried again now.
	Retry(key string)
	// Resolve settles the conflict with this Conflict.Key: keepBitrix24 keeps the
	// value a person entered in Bitrix24; false writes the tracker's value over it.
	Resolve(conflictKey string, keepBitrix24 bool) error
	// Authorize signs in to service ("bitrix24", "timedoctor", "timelog"), e.g. with a
	// browser flow. It returns when the sign-in finished, failed or ctx ended (the
	// user pressed Cancel).
	Authorize(ctx context.Context, service string) error
	// SignOut forgets the service's credentials (keychain entries).
	SignOut(ctx context.Context, service string) error
	// LogDir is the folder holding the log files, for "Open log folder".
	LogDir() string

	// SignIn signs in with credentials typed into the window (Time Doctor, TimeLog,
	// a Bitrix24 webhook). It may block; the UI calls it from a goroutine.
	SignIn(ctx context.Context, service string, c Credentials) error
	// Settings lists the editable settings with their current values.
	Settings() []Setting
	// SetSetting validates and saves one setting; the error text is shown inline.
	SetSetting(key, value string) error
	// ZoneWarning is "" or a sentence shown under the time-zone setting, e.g.
	// "Time Doctor shows your days in Europe/Moscow, timebridge uses Europe/Berlin".
	ZoneWarning() string
	// Journal returns up to limit journal entries, newest first.
	Journal(limit int) []engine.JournalEntry
	// NotificationsEnabled reports the ui.notifications setting.
	NotificationsEnabled() bool
}
