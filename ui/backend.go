package ui

import (
	"context"
	"time"

	"github.com/timebridge/timebridge/sync/engine"
)

// Backend is everything the UI may ask of the application. *app.App satisfies it;
// tests pass a fake.
//
// SyncNow, Pause, Resume, Retry and LogDir are called on the UI goroutine and must
// return at once (send an intent, do not wait for its effect). Resolve, Authorize
// and SignOut may block; the UI calls them from a goroutine of its own.
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
}
