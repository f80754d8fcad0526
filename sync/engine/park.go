package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/timebridge/timebridge/sync/connector"
	"github.com/timebridge/timebridge/sync/store"
)

// parkKey is the stable key of a parked item.
func parkKey(kind, tracker, id string) string { return kind + "/" + tracker + "/" + id }

// stopsTracker reports whether err must stop the tracker's part of the cycle
// instead of parking one item: nothing else would succeed either.
func stopsTracker(err error) bool {
	return connector.Retryable(err) || errors.Is(err, connector.ErrUnauthorized) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// settle records the outcome of one item: success clears a parked record; a
// failure of the item itself parks it with its reason and a later retry time, and
// the cycle goes on; a failure that stops everything is returned.
func (e *Engine) settle(key, kind, tracker, sourceID, what string, err error, now time.Time) error {
	if err == nil {
		var old parkedRecord
		if ok, gerr := e.store.Get(store.BucketParked, key, &old); gerr == nil && ok {
			e.journal(tracker, what, "unparked", old.Reason, "ok")
			return e.store.Delete(store.BucketParked, key)
		}
		return nil
	}
	if stopsTracker(err) {
		return err
	}
	var rec parkedRecord
	if _, gerr := e.store.Get(store.BucketParked, key, &rec); gerr != nil {
		return gerr
	}
	if rec.Since.IsZero() {
		rec.Since = now
	}
	rec.Key, rec.Kind, rec.Tracker, rec.SourceTaskID, rec.What = key, kind, tracker, sourceID, what
	rec.Reason = err.Error()
	rec.Attempts++
	rec.NextRetry = now.Add(parkDelay(rec.Attempts, e.cfg.ParkRetry))
	e.log.Warn("parked", "item", what, "reason", rec.Reason, "retry", rec.NextRetry)
	if perr := e.store.Put(store.BucketParked, key, rec); perr != nil {
		return fmt.Errorf("park %s: %w", what, perr)
	}
	return nil
}

// parkDelay doubles from base with each attempt, capped at a day.
func parkDelay(attempts int, base time.Duration) time.Duration {
	d := base
	for i := 1; i < attempts && d < 24*time.Hour; i++ {
		d *= 2
	}
	return min(d, 24*time.Hour)
}

// parkedNotDue reports whether key is parked and its retry time has not come.
func (e *Engine) parkedNotDue(key string, now time.Time) bool {
	var rec parkedRecord
	ok, err := e.store.Get(store.BucketParked, key, &rec)
	return err == nil && ok && now.Before(rec.NextRetry)
}

// dueTaskRetries lists the Bitrix24 task ids of parked task items due for a retry.
func (e *Engine) dueTaskRetries(now time.Time) ([]string, error) {
	recs, err := store.List[parkedRecord](e.store, store.BucketParked, "task/")
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, r := range recs {
		if !now.Before(r.NextRetry) {
			ids = append(ids, r.SourceTaskID)
		}
	}
	return ids, nil
}

// Retry makes a parked item due now and asks for a cycle.
func (e *Engine) Retry(key string) error {
	var rec parkedRecord
	ok, err := e.store.Get(store.BucketParked, key, &rec)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("no parked item %q", key)
	}
	rec.NextRetry = time.Time{}
	if err := e.store.Put(store.BucketParked, key, rec); err != nil {
		return err
	}
	e.SyncNow()
	return nil
}

// changedSinceParked reports whether the Bitrix24 task changed after the item was
// parked: what was asked may no longer be needed, so it is tried again at once.
func (e *Engine) changedSinceParked(key string, changed time.Time) bool {
	var rec parkedRecord
	ok, err := e.store.Get(store.BucketParked, key, &rec)
	return err == nil && ok && changed.After(rec.Since)
}
