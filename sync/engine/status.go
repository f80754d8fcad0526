package engine

import (
	"context"
	"sync"
	"time"
)

// State is the one-word summary the tray icon shows.
type State int

// States, in the order the tray shows them when several apply (see Status.State).
const (
	StateIdle         State = iota // no cycle yet
	StateSynced                    // last cycle finished cleanly
	StateSyncing                   // a cycle is running
	StateAttention                 // last cycle finished, some items parked or in conflict
	StateOffline                   // last cycle failed (network, service down); retrying with backoff
	StatePaused                    // writes stopped by the user
	StateSignInNeeded              // a service needs a new sign-in
)

// String is the state as the tray tooltip and logs spell it.
func (s State) String() string {
	switch s {
	case StateSynced:
		return "synced"
	case StateSyncing:
		return "syncing"
	case StateAttention:
		return "needs attention"
	case StateOffline:
		return "error / offline"
	case StatePaused:
		return "paused"
	case StateSignInNeeded:
		return "sign-in needed"
	default:
		return "starting"
	}
}

// ServiceState is the state of one service connection.
type ServiceState struct {
	Service  string `json:"service"` // "bitrix24", "timedoctor", "timelog"
	SignedIn bool   `json:"signed_in"`
	Account  string `json:"account,omitempty"` // who and where, e.g. "Ann (ann@acme.com) — acme.bitrix24.com"
	Problem  string `json:"problem,omitempty"` // "" when fine, else what is wrong and what to do
}

// ParkedItem is an item the engine set aside with its reason; it is retried on a
// slower schedule.
type ParkedItem struct {
	Key       string    `json:"key"`    // stable id, for Retry
	What      string    `json:"what"`   // "task 42 'Fix login'"
	Reason    string    `json:"reason"` // "Time Doctor does not let you create projects — ask an admin …"
	Since     time.Time `json:"since"`
	NextRetry time.Time `json:"next_retry"`
}

// Conflict is an elapsed record (or TimeLog registration) a person changed after we
// wrote it; it is never overwritten silently.
type Conflict struct {
	Key            string    `json:"key"` // stable id, for Resolve
	TaskID         string    `json:"task_id"`
	TaskTitle      string    `json:"task_title"`
	Day            string    `json:"day"`              // YYYY-MM-DD in the sync zone
	TrackerSeconds int64     `json:"tracker_seconds"`  // what the tracker says
	RemoteSeconds  int64     `json:"bitrix24_seconds"` // what the record says now
	Detected       time.Time `json:"detected"`
}

// LedgerRow is one row of the week's ledger: one task on one local day.
type LedgerRow struct {
	TaskID         string `json:"task_id"`
	TaskTitle      string `json:"task_title"`
	Day            string `json:"day"` // YYYY-MM-DD
	TrackerSeconds int64  `json:"tracker_seconds"`
	PostedSeconds  int64  `json:"bitrix24_seconds"` // on the Bitrix24 task from our record
	Note           string `json:"note,omitempty"`   // "" when they agree (✓), else: parked, conflict, before the start date, not yet posted
}

// Status is an immutable snapshot of the engine; copy it freely.
type Status struct {
	State     State
	LastSync  time.Time
	NextSync  time.Time
	PausedTil time.Time // zero: not paused, or paused until resumed (see State)
	Tasks     int       // tasks mirrored
	Tracked   time.Duration
	LastError string
	Services  []ServiceState
	Parked    []ParkedItem
	Conflicts []Conflict
	Ledger    []LedgerRow
	TimeZone  string
	// ZoneWarnings say where a service shows days in another zone than TimeZone,
	// e.g. "Time Doctor shows your days in Europe/Moscow, timebridge uses Europe/Berlin".
	ZoneWarnings []string
	// Unmatched are the people of mirrored tasks the tracker has no account for
	// (matched by e-mail, never guessed), with the tasks they are on.
	Unmatched []string
}

// Watcher delivers snapshots. The first Next returns the current one; snapshots
// published faster than the reader reads replace each other.
type Watcher interface {
	Next(ctx context.Context) (Status, error)
}

// statusHub keeps the newest Status and wakes watchers when it changes.
type statusHub struct {
	mu      sync.Mutex
	current Status
	version uint64
	changed chan struct{} // closed and replaced on every publish
}

func newStatusHub() *statusHub { return &statusHub{changed: make(chan struct{})} }

func (h *statusHub) publish(st Status) {
	h.mu.Lock()
	h.current = st
	h.version++
	close(h.changed)
	h.changed = make(chan struct{})
	h.mu.Unlock()
}

func (h *statusHub) snapshot() Status {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.current
}

// update applies fn to a copy of the current status and publishes the result.
func (h *statusHub) update(fn func(*Status)) {
	h.mu.Lock()
	st := h.current
	h.mu.Unlock()
	fn(&st)
	h.publish(st)
}

type hubWatcher struct {
	hub  *statusHub
	seen uint64
	init bool
}

func (w *hubWatcher) Next(ctx context.Context) (Status, error) {
	for {
		w.hub.mu.Lock()
		st, v, ch := w.hub.current, w.hub.version, w.hub.changed
		w.hub.mu.Unlock()
		if !w.init || v != w.seen {
			w.init, w.seen = true, v
			return st, nil
		}
		select {
		case <-ctx.Done():
			return Status{}, ctx.Err()
		case <-ch:
		}
	}
}

func (h *statusHub) watch() Watcher { return &hubWatcher{hub: h} }
