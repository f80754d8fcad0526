package rest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type pair struct{ access, refresh string }

func TestRefresherSingleFlight(t *testing.T) {
	r := NewRefresher(pair{"a1", "r1"}, func(p pair) string { return p.access })
	var renews, saved atomic.Int32
	release := make(chan struct{})
	renew := func(ctx context.Context, old pair) (pair, error) {
		renews.Add(1)
		<-release
		saved.Add(1) // persisted before it is returned
		return pair{"a2", "r2"}, nil
	}
	var wg sync.WaitGroup
	got := make([]pair, 20)
	for i := range 20 {
		wg.Go(func() {
			p, err := r.Refresh(context.Background(), "a1", func(ctx context.Context, old pair) (pair, error) {
				if saved.Load() != 0 {
					return pair{}, errors.New("used before saved")
				}
				return renew(ctx, old)
			})
			if err != nil {
				t.Error(err)
			}
			got[i] = p
		})
	}
	time.Sleep(20 * time.Millisecond)
	close(release)
	wg.Wait()
	if renews.Load() != 1 {
		t.Fatalf("%d renews for 20 callers, want 1", renews.Load())
	}
	for i, p := range got {
		if p.access != "a2" {
			t.Fatalf("caller %d got %+v", i, p)
		}
	}
	// A late caller with the old token gets the new pair without a refresh.
	if p, err := r.Refresh(context.Background(), "a1", renew); err != nil || p.access != "a2" || renews.Load() != 1 {
		t.Fatalf("late caller: %+v, %v, %d renews", p, err, renews.Load())
	}
}

func TestRefresherFailureKeepsOldPair(t *testing.T) {
	r := NewRefresher(pair{"a1", "r1"}, func(p pair) string { return p.access })
	_, err := r.Refresh(context.Background(), "a1", func(context.Context, pair) (pair, error) {
		return pair{}, fmt.Errorf("invalid_grant")
	})
	if err == nil || r.Current().access != "a1" {
		t.Fatalf("err %v, current %+v", err, r.Current())
	}
}
