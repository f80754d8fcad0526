package app

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/timebridge/timebridge/app/backend"
	"github.com/timebridge/timebridge/app/secrets"
	"github.com/timebridge/timebridge/sync/bitrix24/bitrix24test"
	"github.com/timebridge/timebridge/sync/engine"
	"github.com/timebridge/timebridge/sync/timedoctor/timedoctortest"
	"github.com/timebridge/timebridge/sync/timelog/timelogtest"
)

// TestSignInFromWindowAddsTheTracker: the window's engine runs with TimeLog only;
// signing in to Time Doctor in the window restarts it with both, and a watcher
// that was already following the old engine sees the new one.
func TestSignInFromWindowAddsTheTracker(t *testing.T) {
	b24 := bitrix24test.New(bitrix24test.Options{RealTime: true})
	defer b24.Close()
	anna := b24.AddUser(bitrix24test.User{Name: "Anna", Email: "anna@example.com"})
	b24.AddTask(bitrix24test.Task{Title: "Fix login", ResponsibleID: anna, CreatedBy: anna})
	tl := timelogtest.New(timelogtest.Options{Start: time.Now(), Owner: timelogtest.User{UserID: 29, FirstName: "Anna", Email: "anna@example.com"}})
	defer tl.Close()
	tl.AddProject(timelogtest.Project{Name: "Bitrix24"})
	td := timedoctortest.New(timedoctortest.Options{RealTime: true})
	defer td.Close()
	co := td.AddCompany("Acme", "UTC")
	td.AddUser(timedoctortest.User{Company: co, Role: "admin", Name: "Anna", Email: "anna@example.com", Password: "pw"})

	a := memApp(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for k, v := range map[string]string{"trackers": "timedoctor,timelog", "timelog.api_url": tl.URL, "timedoctor.api_url": td.URL} {
		if err := a.SetSetting(k, v); err != nil {
			t.Fatalf("%s: %v", k, err)
		}
	}
	if err := a.authorizeWebhook(ctx, Env{Stdout: discard{}, Stderr: discard{}}, b24.AddWebhook(anna)); err != nil {
		t.Fatal(err)
	}
	if err := a.signInTimeLog(ctx, secrets.Secret(tl.Token), discard{}); err != nil {
		t.Fatal(err)
	}
	a.ctx = ctx
	eng, err := a.startEngine(ctx)
	if err != nil {
		t.Fatal(err)
	}
	a.serve(eng)
	defer a.stopServing()
	w := a.Watch()
	wait := func(what string, ok func(engine.Status) bool) engine.Status {
		t.Helper()
		wctx, wcancel := context.WithTimeout(ctx, 20*time.Second)
		defer wcancel()
		for {
			st, err := w.Next(wctx)
			if err != nil {
				t.Fatalf("waiting for %s: %v", what, err)
			}
			if ok(st) {
				return st
			}
		}
	}
	signedIn := func(st engine.Status, svc string) bool {
		for _, s := range st.Services {
			if s.Service == svc {
				return s.SignedIn
			}
		}
		return false
	}
	wait("the first sync with Time Doctor signed out", func(st engine.Status) bool {
		return !st.LastSync.IsZero() && !signedIn(st, "timedoctor") && signedIn(st, "timelog")
	})
	if err := a.SignIn(ctx, "timedoctor", backend.Credentials{Email: "anna@example.com", Password: "pw"}); err != nil {
		t.Fatal(err)
	}
	wait("a sync with Time Doctor signed in", func(st engine.Status) bool {
		return signedIn(st, "timedoctor") && st.State == engine.StateSynced
	})
	found := false
	for _, tk := range td.Tasks(co) {
		found = found || strings.HasSuffix(tk.Name, "[B24-1]")
	}
	if !found {
		t.Fatalf("the task was not mirrored into Time Doctor after the sign-in: %+v", td.Tasks(co))
	}
}

// TestSettingsRefreshTheIdleWindow: before anything is configured the window
// shows why nothing syncs; choosing a tracker in Settings updates that at once.
func TestSettingsRefreshTheIdleWindow(t *testing.T) {
	a := memApp(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a.ctx = ctx
	_, err := a.startEngine(ctx)
	if err == nil {
		t.Fatal("an unconfigured app started an engine")
	}
	a.setIdle(err)
	w := a.Watch()
	st, err := w.Next(ctx)
	if err != nil || st.State != engine.StateSignInNeeded || !strings.Contains(st.LastError, "bitrix24.portal") {
		t.Fatalf("first snapshot %+v, %v", st, err)
	}
	if err := a.SetSetting("trackers", "timelog"); err != nil {
		t.Fatal(err)
	}
	wctx, wcancel := context.WithTimeout(ctx, 5*time.Second)
	defer wcancel()
	st, err = w.Next(wctx)
	if err != nil {
		t.Fatalf("no snapshot after the setting changed: %v", err)
	}
	names := ""
	for _, s := range st.Services {
		names += s.Service + " "
	}
	if names != "bitrix24 timelog " {
		t.Fatalf("services %q after choosing TimeLog", names)
	}
}
