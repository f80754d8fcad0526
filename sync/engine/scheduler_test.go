package engine

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/timebridge/timebridge/sync/connector"
)

func TestNextBackoff(t *testing.T) {
	fail := errors.New("offline")
	cases := []struct {
		name string
		prev time.Duration
		err  error
		want time.Duration
	}{
		{"success", 8 * time.Minute, nil, 0},
		{"first failure", 0, fail, time.Minute},
		{"doubles", time.Minute, fail, 2 * time.Minute},
		{"doubles again", 8 * time.Minute, fail, 16 * time.Minute},
		{"capped", 16 * time.Minute, fail, 30 * time.Minute},
		{"stays capped", 30 * time.Minute, fail, 30 * time.Minute},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := nextBackoff(tc.prev, tc.err, time.Minute, 30*time.Minute); got != tc.want {
				t.Fatalf("nextBackoff(%v) = %v, want %v", tc.prev, got, tc.want)
			}
		})
	}
}

func TestCycleFailedIgnoresSignIn(t *testing.T) {
	if cycleFailed(connector.ErrUnauthorized) != nil {
		t.Fatal("a sign-in problem must not start the backoff")
	}
	if cycleFailed(connector.ErrTransient) == nil {
		t.Fatal("a transient failure must start the backoff")
	}
}

// waitFor polls cond (the scheduler runs in its own goroutine) for up to 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestServeIntervalSyncNowPause(t *testing.T) {
	w := newWorld(t)
	w.src.PutTask(connector.Task{ID: "42", Title: "Fix login", ResponsibleID: ann})
	e := w.employee(ann, Config{Interval: 15 * time.Minute, Jitter: 0.1})
	e.eng.rand = func() float64 { return 0.5 } // no jitter
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.eng.Serve(ctx) }()
	calls := func() int { return w.src.Calls()["tasks.task.list"] }

	waitFor(t, "the first cycle", func() bool { return calls() == 1 && w.clock.pendingTimers() == 1 })
	if n := len(w.trackerTasks("42")); n != 1 {
		t.Fatalf("first cycle mirrored %d tasks", n)
	}
	w.clock.Advance(14 * time.Minute)
	time.Sleep(10 * time.Millisecond)
	if calls() != 1 {
		t.Fatal("a cycle ran before the interval")
	}
	w.clock.Advance(time.Minute)
	waitFor(t, "the interval cycle", func() bool { return calls() == 2 && w.clock.pendingTimers() == 1 })

	for range 10 { // ten clicks: at most one cycle now and one queued
		e.eng.SyncNow()
	}
	waitFor(t, "the sync-now cycle", func() bool { return calls() >= 3 && w.clock.pendingTimers() == 1 })
	time.Sleep(20 * time.Millisecond)
	waitFor(t, "the scheduler to settle", func() bool { return w.clock.pendingTimers() == 1 })
	afterClicks := calls()
	if afterClicks > 4 {
		t.Fatalf("ten clicks ran %d cycles, want at most 2", afterClicks-2)
	}

	if err := e.eng.Pause(0); err != nil {
		t.Fatal(err)
	}
	if e.eng.Status().State != StatePaused {
		t.Fatalf("state %v after Pause", e.eng.Status().State)
	}
	w.clock.Advance(time.Hour)
	e.eng.SyncNow()
	time.Sleep(20 * time.Millisecond)
	if calls() != afterClicks {
		t.Fatal("a cycle ran while paused")
	}
	if _, err := e.eng.RunOnce(ctx); !errors.Is(err, ErrPaused) {
		t.Fatalf("RunOnce while paused: %v, want ErrPaused", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	// The pause survives a restart.
	e.restart()
	if e.eng.Status().State != StatePaused {
		t.Fatal("pause did not survive a restart")
	}
	if err := e.eng.Resume(); err != nil {
		t.Fatal(err)
	}
	if _, err := e.eng.RunOnce(context.Background()); err != nil {
		t.Fatalf("after Resume: %v", err)
	}
}

func TestPauseForOneHourEnds(t *testing.T) {
	w := newWorld(t)
	w.src.PutTask(connector.Task{ID: "42", Title: "Fix login", ResponsibleID: ann})
	e := w.employee(ann, Config{})
	if err := e.eng.Pause(time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := e.eng.RunOnce(context.Background()); !errors.Is(err, ErrPaused) {
		t.Fatalf("RunOnce during the pause: %v", err)
	}
	w.clock.Advance(61 * time.Minute)
	if _, err := e.eng.RunOnce(context.Background()); err != nil {
		t.Fatalf("RunOnce after the hour: %v", err)
	}
}

func TestBackoffAfterFailures(t *testing.T) {
	w := newWorld(t)
	w.src.PutTask(connector.Task{ID: "42", Title: "Fix login", ResponsibleID: ann})
	e := w.employee(ann, Config{Interval: 15 * time.Minute, MinBackoff: time.Minute, MaxBackoff: 30 * time.Minute})
	e.eng.rand = func() float64 { return 0.5 }
	w.src.FailNext(2, 503)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go e.eng.Serve(ctx)
	calls := func() int { return w.src.Calls()["user.current"] }
	waitFor(t, "first failing cycle", func() bool { return calls() == 1 && w.clock.pendingTimers() == 1 })
	if next := e.eng.Status().NextSync.Sub(w.clock.Now()); next != time.Minute {
		t.Fatalf("next sync in %v after a failure, want 1m", next)
	}
	w.clock.Advance(time.Minute)
	waitFor(t, "second failing cycle", func() bool { return calls() == 2 && w.clock.pendingTimers() == 1 })
	if next := e.eng.Status().NextSync.Sub(w.clock.Now()); next != 2*time.Minute {
		t.Fatalf("next sync in %v after two failures, want 2m", next)
	}
	w.clock.Advance(2 * time.Minute)
	waitFor(t, "a good cycle", func() bool { return len(w.trackerTasks("42")) == 1 && w.clock.pendingTimers() == 1 })
	if next := e.eng.Status().NextSync.Sub(w.clock.Now()); next != 15*time.Minute {
		t.Fatalf("next sync in %v after success, want the 15m interval", next)
	}
}
