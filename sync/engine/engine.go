package engine

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/timebridge/timebridge/sync/connector"
	"github.com/timebridge/timebridge/sync/store"
)

// Config is the engine's part of the settings. Zero fields take the defaults shown.
type Config struct {
	Interval       time.Duration  // between cycles; 15m
	Jitter         float64        // ± fraction of Interval; 0.1
	MinBackoff     time.Duration  // first pause after a failed cycle; 1m
	MaxBackoff     time.Duration  // cap of the doubling backoff; 30m
	FirstDelay     time.Duration  // before the first cycle of Serve; 0 (at once)
	TimeZone       *time.Location // day boundaries; nil: the Bitrix24 user's zone, else LocalZone
	LocalZone      *time.Location // the OS zone, by name when known; nil: time.Local
	StartDate      connector.Day  // nothing before it is written; zero: Monday of the current week
	RereadDays     int            // past days re-read each cycle; 14
	DefaultProject string         // project for tasks without a group; "Bitrix24"
	RecheckEvery   time.Duration  // how often known tasks and our records are re-verified; 1h
	ParkRetry      time.Duration  // first retry of a parked item; 1h, doubling to 24h
	TaskNameMax    int            // tracker task name length limit; 0: none
	ElapsedText    string         // free text before our marker; "Tracked time"
	// SignInNeeded names configured services that could not be built for lack of
	// a sign-in; Status shows them as sign-in needed.
	SignInNeeded []string
}

func (c Config) withDefaults() Config {
	if c.Interval <= 0 {
		c.Interval = 15 * time.Minute
	}
	if c.Jitter == 0 {
		c.Jitter = 0.1
	}
	if c.MinBackoff <= 0 {
		c.MinBackoff = time.Minute
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = 30 * time.Minute
	}
	if c.RereadDays <= 0 {
		c.RereadDays = 14
	}
	if c.DefaultProject == "" {
		c.DefaultProject = "Bitrix24"
	}
	if c.RecheckEvery <= 0 {
		c.RecheckEvery = time.Hour
	}
	if c.ParkRetry <= 0 {
		c.ParkRetry = time.Hour
	}
	if c.ElapsedText == "" {
		c.ElapsedText = "Tracked time"
	}
	return c
}

// Clock is the engine's view of time; tests inject a fake one.
type Clock interface {
	Now() time.Time
	NewTimer(d time.Duration) Timer
}

// Timer is the part of *time.Timer the scheduler uses.
type Timer interface {
	C() <-chan time.Time
	Stop() bool
}

type realClock struct{}

func (realClock) Now() time.Time                 { return time.Now() }
func (realClock) NewTimer(d time.Duration) Timer { return realTimer{time.NewTimer(d)} }

type realTimer struct{ t *time.Timer }

func (t realTimer) C() <-chan time.Time { return t.t.C }
func (t realTimer) Stop() bool          { return t.t.Stop() }

// Engine runs sync cycles between one TaskSource and its trackers.
type Engine struct {
	cfg      Config
	source   connector.TaskSource
	trackers []connector.Tracker
	store    *store.Store
	clock    Clock
	log      *slog.Logger
	rand     func() float64

	portal       string
	trackerNames []string

	hub     *statusHub
	syncNow chan struct{}

	cycleMu sync.Mutex // one cycle at a time

	mu          sync.Mutex
	cancelCycle context.CancelFunc // cancels the running cycle on Pause
	signInFor   map[string]bool    // services that need a new sign-in
}

// Options are the engine's collaborators.
type Options struct {
	Source   connector.TaskSource
	Trackers []connector.Tracker
	Store    *store.Store
	Clock    Clock        // default: real time
	Logger   *slog.Logger // default: discard
}

// New builds an engine.
func New(cfg Config, opts Options) (*Engine, error) {
	if opts.Source == nil {
		return nil, errors.New("engine: no Bitrix24 connection")
	}
	if len(opts.Trackers) == 0 {
		return nil, errors.New("engine: no tracker connection")
	}
	if opts.Store == nil {
		return nil, errors.New("engine: no state store")
	}
	e := &Engine{
		cfg:       cfg.withDefaults(),
		source:    opts.Source,
		trackers:  opts.Trackers,
		store:     opts.Store,
		clock:     opts.Clock,
		log:       opts.Logger,
		rand:      rand.Float64,
		hub:       newStatusHub(),
		syncNow:   make(chan struct{}, 1),
		signInFor: map[string]bool{},
	}
	if e.clock == nil {
		e.clock = realClock{}
	}
	e.portal = opts.Source.Portal()
	for _, tr := range opts.Trackers {
		e.trackerNames = append(e.trackerNames, tr.Name())
		if f, ok := tr.(connector.RegistrationFilter); ok {
			f.SetOwnRegistrations(e.ownRegistrations(tr.Name()))
		}
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	e.loadSignIn()
	for _, s := range e.cfg.SignInNeeded {
		e.needSignIn(s, true)
		e.trackerNames = append(e.trackerNames, s)
	}
	e.hub.publish(e.baseStatus())
	return e, nil
}

// Watch returns a Watcher of Status snapshots.
func (e *Engine) Watch() Watcher { return e.hub.watch() }

// Status returns the current snapshot.
func (e *Engine) Status() Status { return e.hub.snapshot() }

// Report says what one cycle did.
type Report struct {
	Started       time.Time `json:"started"`
	Finished      time.Time `json:"finished"`
	Created       int       `json:"created"`     // tracker tasks created
	Updated       int       `json:"updated"`     // tracker tasks renamed or re-assigned
	Moved         int       `json:"moved"`       // tracker tasks moved to another project
	Deactivated   int       `json:"deactivated"` // tracker tasks made inactive
	Reactivated   int       `json:"reactivated"` // tracker tasks made active again
	Projects      int       `json:"projects"`    // tracker projects created
	Posted        int       `json:"posted"`      // elapsed records created
	Changed       int       `json:"changed"`     // elapsed records updated
	Deleted       int       `json:"deleted"`     // elapsed records removed
	Registrations int       `json:"registrations"`
	Parked        int       `json:"parked"`    // items parked now (all, not only new)
	Conflicts     int       `json:"conflicts"` // open conflicts
	Unlinked      int64     `json:"unlinked_seconds"`
	SecondsPosted int64     `json:"seconds_posted"` // sum over records created or updated
	Skipped       []string  `json:"skipped,omitempty"`
	Errors        []string  `json:"errors,omitempty"`
}

// Failed reports whether the cycle left something undone.
func (r Report) Failed() bool { return r.Parked > 0 || len(r.Errors) > 0 || r.Conflicts > 0 }

// ErrPaused is returned by RunOnce while sync is paused.
var ErrPaused = errors.New("sync is paused")

// errOffline: an engine from NewOffline has no connections to sync with.
var errOffline = errors.New("engine: opened without service connections")

// ErrBusy is returned by RunOnce when a cycle is already running.
var ErrBusy = errors.New("a sync cycle is already running")

// RunOnce runs one cycle now (unless paused) and returns its report.
func (e *Engine) RunOnce(ctx context.Context) (Report, error) {
	if e.source == nil {
		return Report{}, errOffline
	}
	if p := e.pause(); p.Paused {
		return Report{}, ErrPaused
	}
	if !e.cycleMu.TryLock() {
		return Report{}, ErrBusy
	}
	defer e.cycleMu.Unlock()
	ctx, cancel := context.WithCancel(ctx)
	e.mu.Lock()
	e.cancelCycle = cancel
	e.mu.Unlock()
	defer func() {
		e.mu.Lock()
		e.cancelCycle = nil
		e.mu.Unlock()
		cancel()
	}()
	e.hub.update(func(s *Status) { s.State = StateSyncing })
	rep, err := e.cycle(ctx)
	rep.Finished = e.clock.Now()
	e.publishAfter(rep, err)
	return rep, err
}

// jitter spreads d by ± cfg.Jitter.
func (e *Engine) jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	f := 1 + e.cfg.Jitter*(2*e.rand()-1)
	return time.Duration(float64(d) * f)
}

// journal records one remote change.
func (e *Engine) journal(service, object, action, before, after string) {
	ent := JournalEntry{Time: e.clock.Now(), Service: service, Object: object, Action: action, Before: before, After: after}
	if err := e.store.Append(ent); err != nil {
		e.log.Warn("journal", "err", err)
	}
	e.log.Info("change", "service", service, "object", object, "action", action, "before", before, "after", after)
}

// Journal returns the newest journal entries first.
func (e *Engine) Journal(limit int) ([]JournalEntry, error) {
	return store.Journal[JournalEntry](e.store, limit)
}

func (e *Engine) needSignIn(service string, need bool) {
	e.mu.Lock()
	e.signInFor[service] = need
	e.mu.Unlock()
}

func (e *Engine) signInNeeded() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for s, need := range e.signInFor {
		if need {
			out = append(out, s)
		}
	}
	return out
}
