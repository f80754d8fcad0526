package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/timebridge/timebridge/sync/connector"
	"github.com/timebridge/timebridge/sync/store"
)

// copyToTracker copies the time the user logged directly in Bitrix24 (records
// without our marker) into a tracker that receives time, as registrations with
// deterministic GUIDs (design §2 row 7). Our own records are recognised by their
// marker and never copied, so nothing loops. It runs on recheck cycles and when
// tasks changed, not on quiet ones.
func (e *Engine) copyToTracker(ctx context.Context, cs *cycleState, tr connector.Tracker, w connector.TimeWriter) error {
	links, err := store.List[taskLink](e.store, store.BucketTasks, tr.Name()+"/")
	if err != nil {
		return err
	}
	trackerTask := map[string]string{}
	var ids []string
	for _, l := range links {
		if !l.Gone && l.TrackerTaskID != "" {
			trackerTask[l.SourceID] = l.TrackerTaskID
			ids = append(ids, l.SourceID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	records, err := e.source.Elapsed(ctx, ids)
	if err != nil {
		// Even a partial read (a deleted task) is not used here: a record missing from
		// it would look deleted and remove its registration.
		return fmt.Errorf("read Bitrix24 elapsed records: %w", err)
	}
	// The registrations as TimeLog has them now: a copy a person changed there is
	// a conflict, never overwritten silently (design §2).
	current := map[string]connector.Registration{}
	if regs, err := w.Registrations(ctx, cs.span); err != nil {
		return fmt.Errorf("read %s registrations: %w", trackerTitle(tr.Name()), err)
	} else {
		for _, r := range regs {
			current[strings.ToLower(r.GUID)] = r
		}
	}
	seen := map[string]bool{}
	for _, r := range records {
		if r.UserID != cs.me.ID {
			continue
		}
		if _, ours := connector.ParseElapsedMarker(r.Comment); ours {
			continue
		}
		day := connector.DayOf(r.Created, cs.zone)
		if !cs.span.Contains(day) {
			continue
		}
		key := tr.Name() + "/" + r.ID
		seen[key] = true
		var rl regLink
		had, err := e.store.Get(store.BucketRegistrations, key, &rl)
		if err != nil {
			return err
		}
		want := regLink{ElapsedID: r.ID, GUID: connector.RegistrationGUID(e.source.Portal(), r.ID), ID: rl.ID,
			SourceTaskID: r.TaskID, TrackerTaskID: trackerTask[r.TaskID], Day: day.String(), Seconds: r.Seconds,
			Baseline: rl.Baseline}
		ckey := "registration/" + key
		cur, exists := current[strings.ToLower(want.GUID)]
		switch {
		case !had || rl.ID == "" || rl.Force:
			// not written yet, a write in flight, or the user chose the Bitrix24 value
		case !exists && rl.Baseline == 0 && rl.Seconds == r.Seconds:
			continue // the user accepted a person's deletion of our copy
		case !exists && rl.Baseline != 0, exists && cur.Seconds != rl.Baseline:
			// A person changed or deleted our copy in the tracker.
			if err := e.openRegistrationConflict(cs, tr, ckey, rl, cur.Seconds, r.Seconds); err != nil {
				return err
			}
			continue
		}
		if rl.Force {
			if err := e.store.Delete(store.BucketConflicts, ckey); err != nil {
				return err
			}
		}
		if had && rl == want && rl.ID != "" {
			continue
		}
		pkey := parkKey("registration", tr.Name(), r.ID)
		if e.parkedNotDue(pkey, cs.now) {
			continue
		}
		// Intent first: from here on the GUID is known as ours, so even if the reply
		// is lost the row is never counted as tracked time (no echo).
		if err := e.store.Put(store.BucketRegistrations, key, want); err != nil {
			return err
		}
		var got connector.Registration
		got, err = w.UpsertRegistration(ctx, connector.Registration{GUID: want.GUID, TaskID: want.TrackerTaskID, Day: day,
			Seconds: r.Seconds, Comment: commentFor(r, cs.titles[r.TaskID])})
		if err == nil {
			cs.rep.Registrations++
			e.journal(tr.Name(), "registration "+want.GUID, "copied from Bitrix24 elapsed "+r.ID, hmIf(had, rl.Seconds), hm(r.Seconds))
			want.ID, want.Baseline, want.Force = got.ID, got.Seconds, false
			if want.Baseline == 0 {
				want.Baseline = r.Seconds
			}
			err = e.store.Put(store.BucketRegistrations, key, want)
		}
		what := fmt.Sprintf("Bitrix24 time %s on task %s on %s", hm(r.Seconds), r.TaskID, day)
		if err := e.settle(pkey, "registration", tr.Name(), r.TaskID, what, err, cs.now); err != nil {
			return err
		}
	}
	// A record removed in Bitrix24 removes its copy.
	regs, err := store.List[regLink](e.store, store.BucketRegistrations, tr.Name()+"/")
	if err != nil {
		return err
	}
	for _, rl := range regs {
		key := tr.Name() + "/" + rl.ElapsedID
		d, _ := connector.ParseDay(rl.Day)
		if seen[key] || !cs.span.Contains(d) {
			continue
		}
		if err := w.DeleteRegistration(ctx, rl.GUID); err != nil && !errors.Is(err, connector.ErrNotFound) {
			if err := e.settle(parkKey("registration", tr.Name(), rl.ElapsedID), "registration", tr.Name(), rl.SourceTaskID,
				"removal of registration "+rl.GUID, err, cs.now); err != nil {
				return err
			}
			continue
		}
		cs.rep.Registrations++
		e.journal(tr.Name(), "registration "+rl.GUID, "removed (deleted in Bitrix24)", hm(rl.Seconds), "")
		if err := e.store.Delete(store.BucketRegistrations, key); err != nil {
			return err
		}
	}
	return nil
}

func hmIf(had bool, secs int64) string {
	if !had {
		return ""
	}
	return hm(secs)
}

func commentFor(r connector.Elapsed, title string) string {
	c := r.Comment
	if c == "" {
		c = title
	}
	if len([]rune(c)) > 255 {
		c = string([]rune(c)[:255])
	}
	return c
}

// ownRegistrations answers, from the store, whether a registration id or GUID is
// one we copied from Bitrix24 (for connector.RegistrationFilter).
func (e *Engine) ownRegistrations(tracker string) (isOurID, isOurGUID func(string) bool) {
	match := func(f func(regLink) bool) bool {
		regs, err := store.List[regLink](e.store, store.BucketRegistrations, tracker+"/")
		if err != nil {
			e.log.Warn("read registration links", "err", err)
			return false
		}
		for _, r := range regs {
			if f(r) {
				return true
			}
		}
		return false
	}
	isOurID = func(id string) bool { return id != "" && match(func(r regLink) bool { return r.ID == id }) }
	isOurGUID = func(guid string) bool {
		return guid != "" && match(func(r regLink) bool { return strings.EqualFold(r.GUID, guid) })
	}
	return isOurID, isOurGUID
}

// openRegistrationConflict records that a person changed our copy of a Bitrix24
// record in the tracker. It stays as they left it until the user chooses.
func (e *Engine) openRegistrationConflict(cs *cycleState, tr connector.Tracker, key string, rl regLink, trackerSecs, b24Secs int64) error {
	var c conflictState
	if ok, err := e.store.Get(store.BucketConflicts, key, &c); err != nil {
		return err
	} else if ok && c.TrackerSeconds == trackerSecs && c.RemoteSeconds == b24Secs {
		return nil
	}
	c = conflictState{conflictRecord: conflictRecord{Key: key, Tracker: tr.Name(), SourceTaskID: rl.SourceTaskID,
		TaskTitle: cs.titles[rl.SourceTaskID], Day: rl.Day, ElapsedID: rl.ElapsedID, TrackerSeconds: trackerSecs,
		RemoteSeconds: b24Secs, Detected: cs.now}}
	if err := e.store.Put(store.BucketConflicts, key, c); err != nil {
		return err
	}
	e.journal(tr.Name(), "registration "+rl.GUID, "conflict on "+rl.Day+": changed in "+trackerTitle(tr.Name())+", not overwritten",
		hm(rl.Baseline), hm(trackerSecs))
	return nil
}

// resolveRegistration settles a registration conflict: keepBitrix24 writes the
// Bitrix24 value over the tracker's on the next cycle; otherwise the tracker's
// value becomes the baseline and stays until the Bitrix24 record changes again.
func (e *Engine) resolveRegistration(c conflictState, keepBitrix24 bool) error {
	rkey := strings.TrimPrefix(c.Key, "registration/")
	var rl regLink
	if ok, err := e.store.Get(store.BucketRegistrations, rkey, &rl); err != nil || !ok {
		return fmt.Errorf("registration link %s: %w", rkey, errors.Join(err, connector.ErrNotFound))
	}
	if keepBitrix24 {
		rl.Force = true
	} else {
		rl.Baseline = c.TrackerSeconds
	}
	if err := e.store.Put(store.BucketRegistrations, rkey, rl); err != nil {
		return err
	}
	if !keepBitrix24 {
		if err := e.store.Delete(store.BucketConflicts, c.Key); err != nil {
			return err
		}
	}
	choice := map[bool]string{true: "keep Bitrix24 value", false: "use tracker value"}[keepBitrix24]
	e.journal(c.Tracker, "conflict "+c.Key, "resolved: "+choice, hm(c.TrackerSeconds), hm(c.RemoteSeconds))
	e.SyncNow()
	return nil
}
