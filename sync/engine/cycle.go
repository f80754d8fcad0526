package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/timebridge/timebridge/sync/connector"
	"github.com/timebridge/timebridge/sync/store"
)

// cycleState is what one cycle knows; it lives for one cycle only.
type cycleState struct {
	now    time.Time
	me     connector.User
	zone   *time.Location
	span   connector.DaySpan
	rep    *Report
	titles map[string]string // Bitrix24 task id → title, for messages

	nextCursor time.Time                    // where the next changed-tasks poll starts
	recheck    bool                         // known tasks and our records are re-verified this cycle
	people     map[string]map[string]string // tracker → lower-case email → tracker user id
	emails     map[string]string            // Bitrix24 user id → email
	groups     map[string]string            // Bitrix24 group id → name
	// index is each TaskLister tracker's marked tasks, read once per cycle
	// (tracker → Bitrix24 task id → tasks, oldest first); fresh lists the
	// <tracker>/<task> keys to look up with FindTasks instead.
	index map[string]map[string][]connector.TrackerTask
	fresh map[string]bool
}

const svcBitrix24 = "bitrix24"

// cycle is one reconcile pass: Bitrix24 tasks → every tracker, then every
// tracker's time → Bitrix24. Each remote write is recorded in the store before the
// next one starts, so a kill anywhere leaves a state the next cycle reconciles by key.
func (e *Engine) cycle(ctx context.Context) (Report, error) {
	rep := Report{Started: e.clock.Now()}
	cs := &cycleState{now: rep.Started, rep: &rep, titles: map[string]string{}}

	me, err := e.identity(ctx, cs.now)
	if err != nil {
		return rep, e.serviceErr(svcBitrix24, "read the signed-in Bitrix24 user", err)
	}
	e.needSignIn(svcBitrix24, false)
	cs.me = me
	cs.zone = e.zone(me)
	cs.span = e.span(cs.now, cs.zone)
	if from, err := e.resyncFrom(); err != nil {
		return rep, err
	} else if !from.IsZero() { // "Resync from date": this cycle reads back to from
		if start := e.startDate(cs.span.To); from.Before(start) {
			from = start // never before the start date
		}
		if from.Before(cs.span.From) {
			cs.span.From = from
		}
	}

	tasks, gone, err := e.taskChanges(ctx, cs)
	if err != nil {
		return rep, e.serviceErr(svcBitrix24, "read changed Bitrix24 tasks", err)
	}
	for _, t := range tasks {
		cs.titles[t.ID] = t.Title
	}

	var trackerErrs []error
	for _, tr := range e.trackers {
		err := e.trackerIdentity(ctx, cs.now, tr)
		if err == nil {
			err = e.syncTracker(ctx, cs, tr, tasks, gone)
		}
		if err != nil {
			if ctx.Err() != nil {
				return rep, ctx.Err()
			}
			// One tracker failing (a sign-in, an outage) never stops the others.
			err = e.serviceErr(tr.Name(), "sync "+tr.Name(), err)
			trackerErrs = append(trackerErrs, err)
			rep.Errors = append(rep.Errors, err.Error())
			continue
		}
		e.needSignIn(tr.Name(), false)
	}
	// The cursor moves (and a resync request is done) only after every tracker
	// saw the changes.
	if len(trackerErrs) == 0 {
		if err := e.store.Put(store.BucketCursors, cursorTasks, cursorRecord{Time: cs.nextCursor}); err != nil {
			return rep, fmt.Errorf("save task cursor: %w", err)
		}
		if err := e.store.Delete(store.BucketCursors, keyResync); err != nil {
			return rep, err
		}
	}
	e.count(&rep)
	return rep, errors.Join(trackerErrs...)
}

const (
	cursorTasks   = "bitrix24.tasks"
	cursorRecheck = "bitrix24.recheck"
	keyMe         = "me"
	keyPause      = "pause"
)

// serviceErr marks a service as needing sign-in on ErrUnauthorized and wraps err.
// The service is the one that refused (a Bitrix24 401 met while syncing a
// tracker is Bitrix24's), else the one named.
func (e *Engine) serviceErr(service, what string, err error) error {
	if errors.Is(err, connector.ErrUnauthorized) {
		var ae *connector.APIError
		if errors.As(err, &ae) && ae.Service != "" {
			service = ae.Service
		}
		e.needSignIn(service, true)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// identity returns the signed-in Bitrix24 user, cached for a day so that a quiet
// cycle spends no request on it.
func (e *Engine) identity(ctx context.Context, now time.Time) (connector.User, error) {
	var rec identityRecord
	ok, err := e.store.Get(store.BucketCursors, keyMe, &rec)
	if err != nil {
		return connector.User{}, err
	}
	if ok && now.Sub(rec.Fetched) < 24*time.Hour && rec.ID != "" {
		return connector.User{ID: rec.ID, Name: rec.Name, Email: rec.Email, TimeZone: rec.TimeZone}, nil
	}
	me, err := e.source.Me(ctx)
	if err != nil {
		return connector.User{}, err
	}
	rec = identityRecord{ID: me.ID, Name: me.Name, Email: me.Email, TimeZone: me.TimeZone, Fetched: now}
	return me, e.store.Put(store.BucketCursors, keyMe, rec)
}

// zone is the declared sync zone: the setting, else the Bitrix24 user's, else the OS's.
func (e *Engine) zone(me connector.User) *time.Location {
	if e.cfg.TimeZone != nil {
		return e.cfg.TimeZone
	}
	if me.TimeZone != "" {
		if loc, err := time.LoadLocation(me.TimeZone); err == nil {
			return loc
		}
	}
	if e.cfg.LocalZone != nil {
		return e.cfg.LocalZone
	}
	return time.Local
}

// span is the days re-read this cycle: the last RereadDays days up to today, never
// before the start date.
func (e *Engine) span(now time.Time, zone *time.Location) connector.DaySpan {
	today := connector.DayOf(now, zone)
	from := today.AddDays(-(e.cfg.RereadDays - 1))
	start := e.startDate(today)
	if from.Before(start) {
		from = start
	}
	return connector.DaySpan{From: from, To: today, Zone: zone}
}

// startDate is the configured start date, else Monday of the week of the first
// sync, remembered in the store so that it does not move on with the weeks.
func (e *Engine) startDate(today connector.Day) connector.Day {
	if !e.cfg.StartDate.IsZero() {
		return e.cfg.StartDate
	}
	var rec startRecord
	if ok, err := e.store.Get(store.BucketCursors, keyStart, &rec); err == nil && ok {
		if d, err := connector.ParseDay(rec.Day); err == nil {
			return d
		}
	}
	back := (int(today.Weekday()) + 6) % 7 // days since Monday
	start := today.AddDays(-back)
	if err := e.store.Put(store.BucketCursors, keyStart, startRecord{Day: start.String()}); err != nil {
		e.log.Warn("remember the start date", "err", err)
	}
	return start
}

// startRecord is the remembered default start date. Key "start".
type startRecord struct{ Day string }

const keyStart = "start"

// taskChanges polls Bitrix24 for tasks changed since the cursor and, when a recheck
// is due, re-lists every known task to find deletions and lost access (Bitrix24 has
// no deletion feed a user may subscribe to). gone lists ids to deactivate.
func (e *Engine) taskChanges(ctx context.Context, cs *cycleState) (tasks []connector.Task, gone []string, err error) {
	var cur cursorRecord
	if _, err := e.store.Get(store.BucketCursors, cursorTasks, &cur); err != nil {
		return nil, nil, err
	}
	since := cur.Time
	if !since.IsZero() {
		since = since.Add(-5 * time.Minute) // overlap: clocks and commits are not exact
	}
	ch, err := e.source.ChangedTasks(ctx, cs.me.ID, since)
	if err != nil {
		return nil, nil, err
	}
	cs.nextCursor = ch.Cursor
	if cs.nextCursor.IsZero() {
		cs.nextCursor = cs.now
	}
	byID := map[string]connector.Task{}
	for _, t := range ch.Tasks {
		byID[t.ID] = t
	}

	// Tasks parked for a retry that is due come back through TasksByID.
	retry, err := e.dueTaskRetries(cs.now)
	if err != nil {
		return nil, nil, err
	}

	var recheck cursorRecord
	if _, err := e.store.Get(store.BucketCursors, cursorRecheck, &recheck); err != nil {
		return nil, nil, err
	}
	known, err := e.knownSourceIDs()
	if err != nil {
		return nil, nil, err
	}
	check := retry
	cs.recheck = cs.now.Sub(recheck.Time) >= e.cfg.RecheckEvery
	if cs.recheck {
		check = append(check, known...)
	}
	check = slices.DeleteFunc(uniq(check), func(id string) bool { _, ok := byID[id]; return ok })
	if len(check) > 0 {
		found, err := e.source.TasksByID(ctx, check)
		if err != nil {
			return nil, nil, err
		}
		present := map[string]bool{}
		for _, t := range found {
			present[t.ID] = true
			byID[t.ID] = t
		}
		for _, id := range check {
			if !present[id] && slices.Contains(known, id) {
				gone = append(gone, id)
			}
		}
	}
	for _, t := range byID {
		if !t.HasMember(cs.me.ID) {
			if slices.Contains(known, t.ID) {
				gone = append(gone, t.ID) // the user was removed from the task
			}
			continue
		}
		tasks = append(tasks, t)
	}
	slices.SortFunc(tasks, func(a, b connector.Task) int { return strings.Compare(a.ID, b.ID) })
	if cs.recheck {
		if err := e.store.Put(store.BucketCursors, cursorRecheck, cursorRecord{Time: cs.now}); err != nil {
			return nil, nil, err
		}
	}
	return tasks, uniq(gone), nil
}

// knownSourceIDs lists the Bitrix24 tasks linked to any tracker and not yet gone.
func (e *Engine) knownSourceIDs() ([]string, error) {
	links, err := store.List[taskLink](e.store, store.BucketTasks, "")
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, l := range links {
		if !l.Gone {
			ids = append(ids, l.SourceID)
		}
	}
	return uniq(ids), nil
}

func uniq(ids []string) []string {
	s := slices.Clone(ids)
	slices.Sort(s)
	return slices.Compact(s)
}

// syncTracker mirrors tasks into one tracker and writes its time back.
func (e *Engine) syncTracker(ctx context.Context, cs *cycleState, tr connector.Tracker, tasks []connector.Task, gone []string) error {
	m := &mirror{e: e, cs: cs, tr: tr}
	for _, t := range tasks {
		if err := m.task(ctx, t); err != nil {
			return err
		}
	}
	for _, id := range gone {
		if err := m.gone(ctx, id); err != nil {
			return err
		}
	}
	if err := e.writeTime(ctx, cs, tr); err != nil {
		return err
	}
	if w, ok := tr.(connector.TimeWriter); ok && (cs.recheck || len(tasks) > 0) {
		if err := e.copyToTracker(ctx, cs, tr, w); err != nil {
			return err
		}
	}
	return nil
}

// count fills the parked and conflict totals of the report from the store.
func (e *Engine) count(rep *Report) {
	parked, _ := store.List[parkedRecord](e.store, store.BucketParked, "")
	conflicts, _ := store.List[conflictRecord](e.store, store.BucketConflicts, "")
	rep.Parked = len(parked)
	rep.Conflicts = len(conflicts)
}

// trackerIdentity remembers the tracker user's zone (fetched once a day) for the
// Settings warning when it differs from the sync zone.
func (e *Engine) trackerIdentity(ctx context.Context, now time.Time, tr connector.Tracker) error {
	key := keyMe + "/" + tr.Name()
	var rec identityRecord
	if ok, err := e.store.Get(store.BucketCursors, key, &rec); err != nil {
		return err
	} else if ok && now.Sub(rec.Fetched) < 24*time.Hour {
		return nil
	}
	me, err := tr.Me(ctx)
	if err != nil {
		return fmt.Errorf("read the signed-in %s user: %w", trackerTitle(tr.Name()), err)
	}
	return e.store.Put(store.BucketCursors, key, identityRecord{ID: me.ID, Name: me.Name, Email: me.Email, TimeZone: me.TimeZone, Fetched: now})
}

// zoneWarnings compares the services' zones with the sync zone.
func (e *Engine) zoneWarnings(b24 identityRecord, zone *time.Location) []string {
	var out []string
	warn := func(service, name string) {
		if name == "" {
			return
		}
		loc, err := time.LoadLocation(name)
		if err != nil || loc.String() == zone.String() {
			return
		}
		out = append(out, fmt.Sprintf("%s shows your days in %s, timebridge uses %s", service, name, zone))
	}
	warn("Bitrix24", b24.TimeZone)
	for _, name := range e.trackerNames {
		var rec identityRecord
		if ok, _ := e.store.Get(store.BucketCursors, keyMe+"/"+name, &rec); ok {
			warn(trackerTitle(name), rec.TimeZone)
		}
	}
	return out
}

// keyResync holds a pending "Resync from date" (resyncRecord) in the cursors bucket.
const keyResync = "resync"

type resyncRecord struct{ From string }

// ResyncFrom makes the next cycle read the trackers' time back to from (not
// before the start date) and bring those days' records in step; later cycles go
// back to the last sync.reread_days days.
func (e *Engine) ResyncFrom(from connector.Day) error {
	if err := e.store.Put(store.BucketCursors, keyResync, resyncRecord{From: from.String()}); err != nil {
		return err
	}
	e.SyncNow()
	return nil
}

func (e *Engine) resyncFrom() (connector.Day, error) {
	var r resyncRecord
	ok, err := e.store.Get(store.BucketCursors, keyResync, &r)
	if err != nil || !ok {
		return connector.Day{}, err
	}
	return connector.ParseDay(r.From)
}
