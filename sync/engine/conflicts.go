package engine

import (
	"fmt"
	"strings"

	"github.com/timebridge/timebridge/sync/connector"
	"github.com/timebridge/timebridge/sync/store"
)

// Resolutions of a conflict.
const (
	resolveNone    = ""
	resolveTracker = "tracker" // overwrite the record with the tracker's value on the next cycle
)

// conflictRecord gains the user's choice while it waits for the next cycle.
type conflictState struct {
	conflictRecord
	Resolution string
}

// openConflict records that a person changed (or deleted) our record: it is never
// overwritten silently (design §2).
func (e *Engine) openConflict(cs *cycleState, tr connector.Tracker, it *dayItem, dl dayLink, remote int64) error {
	c := conflictState{conflictRecord: conflictRecord{
		Key: it.key, Tracker: tr.Name(), SourceTaskID: it.source, TaskTitle: cs.titles[it.source], Day: it.day.String(),
		ElapsedID: dl.ElapsedID, TrackerSeconds: it.want, RemoteSeconds: remote, Detected: cs.now,
	}}
	if err := e.store.Put(store.BucketConflicts, it.key, c); err != nil {
		return fmt.Errorf("record conflict %s: %w", it.key, err)
	}
	dl.State, dl.Tracked = dayConflict, it.want
	if err := e.store.Put(store.BucketDays, it.key, dl); err != nil {
		return err
	}
	e.journal(svcBitrix24, fmt.Sprintf("elapsed %s on task %s", dl.ElapsedID, it.source),
		"conflict on "+it.day.String()+": changed in Bitrix24, not overwritten", hm(dl.Posted), hm(remote))
	return nil
}

// refreshConflict keeps the tracker's side of an open conflict current.
func (e *Engine) refreshConflict(tr connector.Tracker, it *dayItem) error {
	var c conflictState
	ok, err := e.store.Get(store.BucketConflicts, it.key, &c)
	if err != nil || !ok || c.TrackerSeconds == it.want {
		return err
	}
	c.TrackerSeconds = it.want
	return e.store.Put(store.BucketConflicts, it.key, c)
}

func (e *Engine) conflictResolution(key string) string {
	var c conflictState
	if ok, err := e.store.Get(store.BucketConflicts, key, &c); err != nil || !ok {
		return resolveNone
	}
	return c.Resolution
}

// Resolve settles a conflict: keepBitrix24 accepts the person's value as ours (it
// stays until the tracker's total changes again); otherwise the next cycle writes
// the tracker's value over it.
func (e *Engine) Resolve(key string, keepBitrix24 bool) error {
	var c conflictState
	ok, err := e.store.Get(store.BucketConflicts, key, &c)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("no conflict %q", key)
	}
	if strings.HasPrefix(key, "registration/") {
		return e.resolveRegistration(c, keepBitrix24)
	}
	if !keepBitrix24 {
		c.Resolution = resolveTracker
		if err := e.store.Put(store.BucketConflicts, key, c); err != nil {
			return err
		}
		e.journal(svcBitrix24, "conflict "+key, "resolved: use tracker value", hm(c.RemoteSeconds), hm(c.TrackerSeconds))
		e.SyncNow()
		return nil
	}
	var dl dayLink
	if _, err := e.store.Get(store.BucketDays, key, &dl); err != nil {
		return err
	}
	dl.Posted, dl.Tracked, dl.State = c.RemoteSeconds, c.TrackerSeconds, dayPosted
	if err := e.store.Put(store.BucketDays, key, dl); err != nil {
		return err
	}
	if err := e.store.Delete(store.BucketConflicts, key); err != nil {
		return err
	}
	e.journal(svcBitrix24, "conflict "+key, "resolved: keep Bitrix24 value", hm(c.TrackerSeconds), hm(c.RemoteSeconds))
	e.hub.publish(e.baseStatus()) // state and conflicts at once
	e.SyncNow()                   // and a cycle to bring the ledger up to date
	return nil
}

func (e *Engine) conflicts() []Conflict {
	recs, _ := store.List[conflictState](e.store, store.BucketConflicts, "")
	out := make([]Conflict, 0, len(recs))
	for _, c := range recs {
		out = append(out, Conflict{Key: c.Key, TaskID: c.SourceTaskID, TaskTitle: c.TaskTitle, Day: c.Day,
			TrackerSeconds: c.TrackerSeconds, RemoteSeconds: c.RemoteSeconds, Detected: c.Detected})
	}
	return out
}

func (e *Engine) parked() []ParkedItem {
	recs, _ := store.List[parkedRecord](e.store, store.BucketParked, "")
	out := make([]ParkedItem, 0, len(recs))
	for _, p := range recs {
		out = append(out, ParkedItem{Key: p.Key, What: p.What, Reason: p.Reason, Since: p.Since, NextRetry: p.NextRetry})
	}
	return out
}
