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

// dayItem is one Bitrix24 task on one local day: what the tracker says and what
// we know about the record carrying it.
type dayItem struct {
	key    string // <tracker>/<task>/<day>
	source string
	day    connector.Day
	want   int64 // the tracker's total
	link   dayLink
	linked bool
}

func dayKey(tracker, source string, day connector.Day) string {
	return tracker + "/" + source + "/" + day.String()
}

// regLink ties a Bitrix24 elapsed record a person made to the TimeLog registration
// we copied it to (design §2 row 7). Key: <tracker>/<elapsed id>.
type regLink struct {
	ElapsedID     string
	GUID          string
	ID            string // the tracker's id of the registration; "" while the write is in flight
	SourceTaskID  string
	TrackerTaskID string
	Day           string
	Seconds       int64 // the Bitrix24 record's seconds we copied
	Baseline      int64 // the registration's seconds as the tracker stored them (after rounding)
	Force         bool  // the user chose the Bitrix24 value over a person's edit: overwrite once
}

// writeTime reads the tracker's day totals over the span and brings the elapsed
// records in step (design §2 row 6): one record per task per day, updated when
// the total changes, removed when it drops to zero. A quiet cycle (nothing
// changed) makes no Bitrix24 request here.
func (e *Engine) writeTime(ctx context.Context, cs *cycleState, tr connector.Tracker) error {
	totals, err := tr.DayTotals(ctx, cs.span)
	if err != nil {
		return fmt.Errorf("read %s time %s…%s: %w", tr.Name(), cs.span.From, cs.span.To, err)
	}
	links, err := store.List[taskLink](e.store, store.BucketTasks, tr.Name()+"/")
	if err != nil {
		return err
	}
	toSource := map[string]string{}
	gone := map[string]bool{}
	for _, l := range links {
		toSource[l.TrackerTaskID] = l.SourceID
		for _, old := range l.Superseded {
			toSource[old] = l.SourceID
		}
		gone[l.SourceID] = l.Gone
		if cs.titles[l.SourceID] == "" {
			cs.titles[l.SourceID] = l.Title
		}
	}
	want := map[string]*dayItem{}
	item := func(source string, day connector.Day) *dayItem {
		k := dayKey(tr.Name(), source, day)
		if it, ok := want[k]; ok {
			return it
		}
		it := &dayItem{key: k, source: source, day: day}
		want[k] = it
		return it
	}
	cs.rep.Unlinked += totals.Unassigned
	for _, t := range totals.Totals {
		if !cs.span.Contains(t.Day) {
			continue // a pad day or before the start date: never written
		}
		src, ok := toSource[t.TaskID]
		if !ok {
			cs.rep.Unlinked += t.Seconds
			continue
		}
		item(src, t.Day).want += t.Seconds
	}
	dls, err := store.List[dayLink](e.store, store.BucketDays, tr.Name()+"/")
	if err != nil {
		return err
	}
	for _, dl := range dls {
		d, err := connector.ParseDay(dl.Day)
		if err != nil || !cs.span.Contains(d) {
			continue
		}
		it := item(dl.SourceTaskID, d)
		it.link, it.linked = dl, true
	}

	var work []*dayItem
	for _, it := range sortedItems(want) {
		switch {
		case e.parkedNotDue(parkKey("day", tr.Name(), it.key), cs.now):
		case it.linked && it.link.State == dayConflict:
			if err := e.refreshConflict(tr, it); err != nil {
				return err
			}
			if e.conflictResolution(it.key) == resolveTracker {
				work = append(work, it)
			}
		case it.linked && it.link.State == dayPosted && it.link.Tracked == it.want && !cs.recheck:
			// Quiet: nothing changed since we last reconciled this day.
		case !it.linked && it.want == 0:
		case gone[it.source] && it.want > 0 && (!it.linked || it.link.Tracked != it.want):
			err := fmt.Errorf("Bitrix24 task %s was deleted or is no longer yours: %s tracked on %s is not posted: %w",
				it.source, hm(it.want), it.day, connector.ErrNotFound)
			if err := e.settle(parkKey("day", tr.Name(), it.key), "day", tr.Name(), it.source, e.dayWhat(cs, it), err, cs.now); err != nil {
				return err
			}
		default:
			work = append(work, it)
		}
	}
	e.saveLedger(cs, tr, want)
	if len(work) == 0 {
		return nil
	}
	var ids []string
	for _, it := range work {
		ids = append(ids, it.source)
	}
	records, err := e.source.Elapsed(ctx, uniq(ids))
	if err != nil && (stopsTracker(err) || !errors.Is(err, connector.ErrNotFound)) {
		return fmt.Errorf("read Bitrix24 elapsed records: %w", err)
	}
	// ErrNotFound here is a partial read: some tasks were deleted. Their items fail
	// on the write below and are parked; the records of the other tasks are complete.
	ours := map[string]connector.Elapsed{}
	byID := map[string]connector.Elapsed{}
	for _, r := range records {
		byID[r.ID] = r
		if r.UserID != cs.me.ID {
			continue // a colleague's record, even with a marker, is never ours
		}
		mk, ok := connector.ParseElapsedMarker(r.Comment)
		if !ok || mk.Tracker != tr.Name() || mk.RegistrationID != "" {
			continue
		}
		k := dayKey(tr.Name(), r.TaskID, mk.Day)
		if old, dup := ours[k]; !dup || r.ID < old.ID {
			ours[k] = r
		}
	}
	for _, it := range work {
		err := e.reconcileDay(ctx, cs, tr, it, ours, byID)
		if err := e.settle(parkKey("day", tr.Name(), it.key), "day", tr.Name(), it.source, e.dayWhat(cs, it), err, cs.now); err != nil {
			return err
		}
	}
	e.saveLedger(cs, tr, want)
	return nil
}

func sortedItems(m map[string]*dayItem) []*dayItem {
	out := make([]*dayItem, 0, len(m))
	for _, it := range m {
		out = append(out, it)
	}
	slices.SortFunc(out, func(a, b *dayItem) int { return strings.Compare(a.key, b.key) })
	return out
}

func (e *Engine) dayWhat(cs *cycleState, it *dayItem) string {
	if t := cs.titles[it.source]; t != "" {
		return fmt.Sprintf("time on task %s %q on %s", it.source, t, it.day)
	}
	return fmt.Sprintf("time on task %s on %s", it.source, it.day)
}

// reconcileDay brings one record in step. Before any create it looks for our
// marker, so a lost reply or a crash after the write never makes a second record.
func (e *Engine) reconcileDay(ctx context.Context, cs *cycleState, tr connector.Tracker, it *dayItem,
	ours, byID map[string]connector.Elapsed) error {
	dl := it.link
	if !it.linked {
		dl = dayLink{SourceTaskID: it.source, Day: it.day.String()}
	}
	marker := connector.ElapsedMarker{Tracker: tr.Name(), Day: it.day}
	rec, exists := byID[dl.ElapsedID]
	if dl.ElapsedID == "" {
		exists = false
	}
	if !exists && dl.ElapsedID != "" && dl.Posted == 0 && dl.State == dayPosted {
		// The user kept a person's deletion of our record ("Keep Bitrix24 value").
		if it.want == dl.Tracked {
			return nil
		}
		dl.ElapsedID = ""
	}
	if dl.ElapsedID == "" {
		if found, ok := ours[it.key]; ok { // ours from before a crash or a lost state file
			dl.ElapsedID, dl.Posted, dl.State = found.ID, found.Seconds, dayPosted
			rec, exists = found, true
		}
	}
	if e.conflictResolution(it.key) == resolveTracker {
		if exists {
			dl.Posted = rec.Seconds // the user chose the tracker's value: overwrite this once
		} else {
			dl.ElapsedID, dl.Posted = "", 0
		}
		dl.State = dayPosted
		if err := e.store.Delete(store.BucketConflicts, it.key); err != nil {
			return err
		}
	}
	if dl.ElapsedID == "" {
		if it.want == 0 {
			return e.store.Delete(store.BucketDays, it.key)
		}
		dl.State, dl.Tracked = dayPending, it.want
		if err := e.store.Put(store.BucketDays, it.key, dl); err != nil { // intent before the write
			return err
		}
		// Noon of the day in the sync zone: the record's date lands on the right day in
		// any zone Bitrix24 shows it in (the marker carries the day for us).
		noon := it.day.Start(cs.zone).Add(12 * time.Hour)
		id, err := e.source.AddElapsed(ctx, connector.Elapsed{TaskID: it.source, UserID: cs.me.ID, Seconds: it.want,
			Comment: marker.Comment(e.cfg.ElapsedText), Created: noon, Day: it.day})
		if err != nil {
			return fmt.Errorf("post %s on %s to Bitrix24 task %s: %w", hm(it.want), it.day, it.source, err)
		}
		dl.ElapsedID, dl.Posted, dl.State = id, it.want, dayPosted
		cs.rep.Posted++
		cs.rep.SecondsPosted += it.want
		e.journal(svcBitrix24, fmt.Sprintf("elapsed %s on task %s", id, it.source), "posted "+it.day.String(), "", hm(it.want))
		return e.store.Put(store.BucketDays, it.key, dl)
	}
	if !exists || rec.Seconds != dl.Posted {
		remote := int64(0)
		if exists {
			remote = rec.Seconds
		}
		if exists && remote == it.want { // a person set exactly the tracker's value
			dl.Posted, dl.Tracked, dl.State = remote, it.want, dayPosted
			return e.store.Put(store.BucketDays, it.key, dl)
		}
		if !exists && it.want == 0 {
			return e.store.Delete(store.BucketDays, it.key)
		}
		return e.openConflict(cs, tr, it, dl, remote)
	}
	switch {
	case it.want == 0:
		if err := e.source.DeleteElapsed(ctx, it.source, dl.ElapsedID); err != nil {
			return fmt.Errorf("remove the record of %s on Bitrix24 task %s: %w", it.day, it.source, err)
		}
		cs.rep.Deleted++
		e.journal(svcBitrix24, fmt.Sprintf("elapsed %s on task %s", dl.ElapsedID, it.source), "removed "+it.day.String(), hm(dl.Posted), "")
		return e.store.Delete(store.BucketDays, it.key)
	case rec.Seconds != it.want:
		upd := rec
		upd.Seconds = it.want
		if _, ok := connector.ParseElapsedMarker(upd.Comment); !ok {
			upd.Comment = marker.Comment(e.cfg.ElapsedText)
		}
		if err := e.source.UpdateElapsed(ctx, upd); err != nil {
			return fmt.Errorf("update %s on Bitrix24 task %s: %w", it.day, it.source, err)
		}
		cs.rep.Changed++
		cs.rep.SecondsPosted += it.want
		e.journal(svcBitrix24, fmt.Sprintf("elapsed %s on task %s", dl.ElapsedID, it.source), "updated "+it.day.String(), hm(rec.Seconds), hm(it.want))
		dl.Posted = it.want
	}
	dl.Tracked, dl.State = it.want, dayPosted
	return e.store.Put(store.BucketDays, it.key, dl)
}

// hm formats seconds as "1 h 05 m" for messages and the journal.
func hm(secs int64) string {
	d := time.Duration(secs) * time.Second
	h := int64(d / time.Hour)
	m := int64((d % time.Hour) / time.Minute)
	s := int64((d % time.Minute) / time.Second)
	switch {
	case h > 0:
		return fmt.Sprintf("%d h %02d m", h, m)
	case m > 0:
		return fmt.Sprintf("%d m %02d s", m, s)
	}
	return fmt.Sprintf("%d s", s)
}
