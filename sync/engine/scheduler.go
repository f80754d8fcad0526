package engine

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/timebridge/timebridge/sync/connector"
	"github.com/timebridge/timebridge/sync/store"
)

// Serve runs one cycle at a time until ctx ends: every Interval (± jitter), at once
// on SyncNow, and after a failure again after a pause doubling from MinBackoff to
// MaxBackoff. Pause cancels the running cycle's context, so no write starts after it.
func (e *Engine) Serve(ctx context.Context) error {
	if e.source == nil {
		return errOffline
	}
	wait := e.jitter(e.cfg.FirstDelay)
	var backoff time.Duration
	for {
		next := e.clock.Now().Add(wait)
		e.hub.update(func(s *Status) { s.NextSync = next })
		t := e.clock.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-e.syncNow: // buffer 1: ten clicks during a cycle mean one more cycle
			t.Stop()
		case <-t.C():
		}
		if p := e.pause(); p.Paused {
			if !p.Until.IsZero() && !e.clock.Now().Before(p.Until) {
				e.Resume()
			} else {
				wait = e.cfg.Interval
				if !p.Until.IsZero() {
					wait = min(wait, p.Until.Sub(e.clock.Now()))
				}
				continue
			}
		}
		_, err := e.RunOnce(ctx)
		if errors.Is(err, ErrPaused) || errors.Is(err, ErrBusy) || ctx.Err() != nil {
			wait = e.cfg.Interval
			continue
		}
		backoff = nextBackoff(backoff, cycleFailed(err), e.cfg.MinBackoff, e.cfg.MaxBackoff)
		wait = cmp.Or(backoff, e.jitter(e.cfg.Interval))
	}
}

// cycleFailed reports whether err calls for the backoff: the service is offline or
// refusing. A sign-in problem waits for the user instead, at the normal interval.
func cycleFailed(err error) error {
	if err == nil || errors.Is(err, connector.ErrUnauthorized) {
		return nil
	}
	return err
}

// nextBackoff is 0 after success, else lo, 2·lo, 4·lo … capped at hi.
func nextBackoff(prev time.Duration, err error, lo, hi time.Duration) time.Duration {
	switch {
	case err == nil:
		return 0
	case prev <= 0:
		return lo
	default:
		return min(prev*2, hi)
	}
}

// SyncNow asks for a cycle: a send with a default case, so it never blocks or queues two.
func (e *Engine) SyncNow() {
	select {
	case e.syncNow <- struct{}{}:
	default:
	}
}

// Pause stops all writes at once and survives a restart. d = 0 pauses until Resume.
func (e *Engine) Pause(d time.Duration) error {
	p := pauseRecord{Paused: true}
	if d > 0 {
		p.Until = e.clock.Now().Add(d)
	}
	if err := e.store.Put(store.BucketCursors, keyPause, p); err != nil {
		return err
	}
	e.mu.Lock()
	if e.cancelCycle != nil {
		e.cancelCycle()
	}
	e.mu.Unlock()
	e.hub.update(func(s *Status) { s.State, s.PausedTil = StatePaused, p.Until })
	return nil
}

// Resume ends a pause and asks for a cycle.
func (e *Engine) Resume() error {
	if err := e.store.Put(store.BucketCursors, keyPause, pauseRecord{}); err != nil {
		return err
	}
	e.hub.update(func(s *Status) { s.State, s.PausedTil = e.stateAfter(*s), time.Time{} })
	e.SyncNow()
	return nil
}

func (e *Engine) pause() pauseRecord {
	var p pauseRecord
	e.store.Get(store.BucketCursors, keyPause, &p)
	if p.Paused && !p.Until.IsZero() && !e.clock.Now().Before(p.Until) {
		return pauseRecord{}
	}
	return p
}

// persistedStatus is what `timebridge status` reads when the app is not running.
type persistedStatus struct {
	LastSync  time.Time
	LastError string
	Tasks     int
	Tracked   int64
	Report    Report
	SignIn    []string // services that needed a sign-in after the cycle
}

const keyStatus = "status"

// publishAfter publishes the snapshot after a cycle and keeps it in the store.
func (e *Engine) publishAfter(rep Report, err error) {
	// The error is this cycle's alone: a clean cycle clears the last one. A cycle
	// cut short by Pause is no error either.
	lastErr := ""
	if err != nil && !(errors.Is(err, context.Canceled) && e.pause().Paused) {
		lastErr = err.Error()
	}
	ps := persistedStatus{LastSync: rep.Finished, LastError: lastErr, Report: rep, SignIn: e.signInNeeded()}
	if err := e.store.Put(store.BucketCursors, keyStatus, ps); err != nil {
		e.log.Warn("save the status", "err", err)
	}
	e.hub.publish(e.baseStatus())
}

// baseStatus builds a snapshot from the store and the engine's flags.
func (e *Engine) baseStatus() Status {
	var ps persistedStatus
	e.store.Get(store.BucketCursors, keyStatus, &ps)
	st := Status{LastSync: ps.LastSync, LastError: ps.LastError, Parked: e.parked(), Conflicts: e.conflicts()}
	st.NextSync = e.hub.snapshot().NextSync
	links, _ := store.List[taskLink](e.store, store.BucketTasks, "")
	seen := map[string]bool{}
	for _, l := range links {
		if !l.Gone && !seen[l.SourceID] {
			seen[l.SourceID] = true
			st.Tasks++
		}
	}
	st.Ledger = e.ledger()
	var me identityRecord
	e.store.Get(store.BucketCursors, keyMe, &me)
	zone := e.zone(connector.User{TimeZone: me.TimeZone})
	st.TimeZone = zone.String()
	st.ZoneWarnings = e.zoneWarnings(me, zone)
	today := connector.DayOf(e.clock.Now(), zone).String()
	for _, r := range st.Ledger {
		if r.Day == today {
			st.Tracked += time.Duration(r.TrackerSeconds) * time.Second
		}
	}
	st.Services = e.services(me)
	st.Unmatched = unmatched(ps.Report.Skipped)
	if p := e.pause(); p.Paused {
		st.PausedTil = p.Until
	}
	st.State = e.stateAfter(st)
	return st
}

func (e *Engine) services(me identityRecord) []ServiceState {
	need := map[string]bool{}
	for _, s := range e.signInNeeded() {
		need[s] = true
	}
	out := []ServiceState{{Service: svcBitrix24, SignedIn: !need[svcBitrix24], Account: accountOf(me, e.portal)}}
	for _, name := range e.trackerNames {
		out = append(out, ServiceState{Service: name, SignedIn: !need[name]})
	}
	for i := range out {
		if need[out[i].Service] {
			out[i].Problem = "sign-in needed: click Authorize in Accounts (or run timebridge authorize " + out[i].Service + ")"
		}
	}
	return out
}

func accountOf(me identityRecord, portal string) string {
	if me.ID == "" {
		return portal
	}
	if me.Email != "" {
		return me.Name + " (" + me.Email + ") — " + portal
	}
	return me.Name + " — " + portal
}

// stateAfter picks the tray state: sign-in beats pause beats offline beats attention.
func (e *Engine) stateAfter(st Status) State {
	switch {
	case len(e.signInNeeded()) > 0:
		return StateSignInNeeded
	case e.pause().Paused:
		return StatePaused
	case st.LastError != "":
		return StateOffline
	case len(st.Parked) > 0 || len(st.Conflicts) > 0:
		return StateAttention
	case st.LastSync.IsZero():
		return StateIdle
	}
	return StateSynced
}

// ledgerRecord is the week's ledger of one tracker. Key "ledger/<tracker>".
type ledgerRecord struct {
	Rows []LedgerRow
}

// saveLedger keeps this week's rows (Monday to today in the sync zone) for Status.
func (e *Engine) saveLedger(cs *cycleState, tr connector.Tracker, items map[string]*dayItem) {
	today := connector.DayOf(cs.now, cs.zone)
	monday := today.AddDays(-((int(today.Weekday()) + 6) % 7))
	start := e.startDate(today)
	var rows []LedgerRow
	for _, it := range sortedItems(items) {
		if it.day.Before(monday) || it.day.After(today) {
			continue
		}
		var dl dayLink
		e.store.Get(store.BucketDays, it.key, &dl)
		row := LedgerRow{TaskID: it.source, TaskTitle: cs.titles[it.source], Day: it.day.String(), TrackerSeconds: it.want, PostedSeconds: dl.Posted}
		var c conflictState
		if ok, _ := e.store.Get(store.BucketConflicts, it.key, &c); ok {
			row.PostedSeconds = c.RemoteSeconds // what the record says now
		}
		switch {
		case it.day.Before(start):
			row.Note = "before the start date"
		case dl.State == dayConflict:
			row.Note = "conflict"
		case e.parkedNotDue(parkKey("day", tr.Name(), it.key), cs.now) || e.isParked(parkKey("day", tr.Name(), it.key)):
			row.Note = "parked"
		case dl.State == dayPosted && dl.Tracked == it.want && dl.Posted != it.want:
			row.Note = "Bitrix24 value kept"
		case dl.Posted != it.want || dl.State == dayPending:
			row.Note = "not yet posted"
		}
		if row.TrackerSeconds == 0 && row.PostedSeconds == 0 {
			continue
		}
		rows = append(rows, row)
	}
	slices.SortFunc(rows, func(a, b LedgerRow) int {
		return cmp.Or(strings.Compare(a.Day, b.Day), strings.Compare(a.TaskID, b.TaskID))
	})
	e.store.Put(store.BucketCursors, "ledger/"+tr.Name(), ledgerRecord{Rows: rows})
}

func (e *Engine) isParked(key string) bool {
	var rec parkedRecord
	ok, _ := e.store.Get(store.BucketParked, key, &rec)
	return ok
}

func (e *Engine) ledger() []LedgerRow {
	var out []LedgerRow
	for _, name := range e.trackerNames {
		var lr ledgerRecord
		e.store.Get(store.BucketCursors, "ledger/"+name, &lr)
		out = append(out, lr.Rows...)
	}
	slices.SortStableFunc(out, func(a, b LedgerRow) int {
		return cmp.Or(strings.Compare(a.Day, b.Day), strings.Compare(a.TaskID, b.TaskID))
	})
	return out
}

// Snapshot reads the Status kept in a state file, for `timebridge status` when no
// engine runs. portal and trackers name the configured services.
func Snapshot(st *store.Store, cfg Config, portal string, trackers []string) Status {
	return NewOffline(cfg, st, portal, trackers).Status()
}

// NewOffline is an engine over a state file without service connections, for
// commands that read or settle local state (status, resolving a conflict,
// retrying a parked item) while nothing syncs. RunOnce and Serve refuse to run.
func NewOffline(cfg Config, st *store.Store, portal string, trackers []string) *Engine {
	e := &Engine{cfg: cfg.withDefaults(), store: st, portal: portal, trackerNames: trackers, clock: realClock{},
		log: slog.New(slog.DiscardHandler), hub: newStatusHub(), syncNow: make(chan struct{}, 1), signInFor: map[string]bool{}}
	e.loadSignIn()
	e.hub.publish(e.baseStatus())
	return e
}

// loadSignIn restores which services needed a sign-in when the last cycle ended.
func (e *Engine) loadSignIn() {
	var ps persistedStatus
	e.store.Get(store.BucketCursors, keyStatus, &ps)
	for _, s := range ps.SignIn {
		e.needSignIn(s, true)
	}
}

// unmatched folds the report's "task N: <reason>" lines into one line per
// reason: "<reason> (tasks 104, 112)".
func unmatched(skipped []string) []string {
	tasks := map[string][]string{}
	var order []string
	for _, line := range skipped {
		task, reason, ok := strings.Cut(strings.TrimPrefix(line, "task "), ": ")
		if !ok {
			task, reason = "", line
		}
		if _, seen := tasks[reason]; !seen {
			order = append(order, reason)
		}
		if task != "" && !slices.Contains(tasks[reason], task) {
			tasks[reason] = append(tasks[reason], task)
		}
	}
	out := make([]string, 0, len(order))
	for _, r := range order {
		switch ts := tasks[r]; len(ts) {
		case 0:
			out = append(out, r)
		case 1:
			out = append(out, r+" (task "+ts[0]+")")
		default:
			out = append(out, r+" (tasks "+strings.Join(ts, ", ")+")")
		}
	}
	return out
}
