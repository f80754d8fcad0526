package ui

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/timebridge/timebridge/sync/engine"
)

func conflicts(keys ...string) []engine.Conflict {
	var out []engine.Conflict
	for _, k := range keys {
		out = append(out, engine.Conflict{Key: k, TaskID: k, TaskTitle: "Task " + k, Day: "2026-11-30"})
	}
	return out
}

func TestNotifyFor(t *testing.T) {
	t.Parallel()
	t0 := testNow
	synced := engine.Status{State: engine.StateSynced}
	syncing := engine.Status{State: engine.StateSyncing}
	offline := engine.Status{State: engine.StateOffline, LastError: "Bitrix24: connection refused"}
	signIn := engine.Status{State: engine.StateSignInNeeded, Services: []engine.ServiceState{
		{Service: "bitrix24", SignedIn: true}, {Service: "timelog", Problem: "token revoked"}}}
	withConflicts := func(st engine.Status, keys ...string) engine.Status {
		st.Conflicts = conflicts(keys...)
		return st
	}
	const signInBody = "Sign in again to TimeLog in timebridge › Accounts; the other services keep syncing."

	type step struct {
		st    engine.Status
		after time.Duration // since t0
		title string        // "" for no notification
		body  string        // checked when not ""
	}
	cases := []struct {
		name  string
		steps []step
	}{
		{"the initial snapshot never notifies", []step{
			{st: withConflicts(signIn, "c1", "c2")},
			{st: withConflicts(signIn, "c1", "c2"), after: time.Minute},
		}},
		{"the first cycle after start is part of the initial state", []step{
			{st: engine.Status{}},
			{st: syncing, after: time.Second},
			{st: withConflicts(signIn, "c1"), after: 2 * time.Second},
			{st: withConflicts(syncing, "c1"), after: time.Minute},
			{st: withConflicts(signIn, "c1"), after: 2 * time.Minute},
			{st: withConflicts(synced, "c1"), after: 3 * time.Minute},
			{st: withConflicts(signIn, "c1", "c2"), after: 4 * time.Minute, title: "Sign-in needed · 1 conflict found"},
		}},
		{"entering sign-in needed, once per streak", []step{
			{st: synced},
			{st: signIn, after: time.Minute, title: "Sign-in needed", body: signInBody},
			{st: syncing, after: 15 * time.Minute},
			{st: signIn, after: 16 * time.Minute},
			{st: synced, after: 20 * time.Minute},
			{st: signIn, after: 30 * time.Minute, title: "Sign-in needed"},
		}},
		{"started in sign-in needed: no notification until it is left and entered again", []step{
			{st: signIn},
			{st: syncing, after: time.Minute},
			{st: signIn, after: 2 * time.Minute},
			{st: synced, after: 3 * time.Minute},
			{st: signIn, after: 4 * time.Minute, title: "Sign-in needed"},
		}},
		{"sync failing for an hour, once per failure streak", []step{
			{st: synced},
			{st: offline, after: time.Minute},
			{st: syncing, after: 30 * time.Minute}, // a retry does not end the streak
			{st: offline, after: 31 * time.Minute},
			{st: offline, after: 60 * time.Minute}, // 59 m since the first failure
			{st: offline, after: 61 * time.Minute, title: "Sync failing",
				body: "Sync has failed for 1 h: Bitrix24: connection refused. timebridge keeps retrying."},
			{st: syncing, after: 90 * time.Minute},
			{st: offline, after: 3 * time.Hour},
			{st: synced, after: 4 * time.Hour}, // a good cycle ends the streak
			{st: offline, after: 4*time.Hour + time.Minute},
			{st: offline, after: 5*time.Hour + 30*time.Minute, title: "Sync failing",
				body: "Sync has failed for 1 h 29 m: Bitrix24: connection refused. timebridge keeps retrying."},
		}},
		{"started offline: the streak starts with the first snapshot", []step{
			{st: offline},
			{st: offline, after: time.Hour, title: "Sync failing"},
		}},
		{"new conflicts", []step{
			{st: withConflicts(synced, "c1")},
			{st: withConflicts(engine.Status{State: engine.StateAttention}, "c1", "c2"), after: time.Minute, title: "1 conflict found",
				body: "Changed in Bitrix24 after timebridge wrote it: Task c2 on Mon 30 Nov. Choose which value to keep in timebridge › Status."},
			{st: withConflicts(syncing, "c1", "c2"), after: 2 * time.Minute},
			{st: withConflicts(synced, "c2"), after: 3 * time.Minute}, // one resolved: nothing new
			{st: withConflicts(synced, "c2", "c3", "c4", "c5", "c6"), after: 4 * time.Minute, title: "4 conflicts found",
				body: "Changed in Bitrix24 after timebridge wrote it: Task c3 on Mon 30 Nov, Task c4 on Mon 30 Nov, Task c5 on Mon 30 Nov, " +
					"and 1 more. Choose which value to keep in timebridge › Status."},
		}},
		{"coalesced: one notification for several triggers", []step{
			{st: offline},
			{st: withConflicts(signIn, "c1", "c2"), after: 2 * time.Hour, title: "Sign-in needed · 2 conflicts found",
				body: signInBody + "\nChanged in Bitrix24 after timebridge wrote it: Task c1 on Mon 30 Nov, Task c2 on Mon 30 Nov. " +
					"Choose which value to keep in timebridge › Status."},
		}},
		{"coalesced: failing for an hour and a conflict", []step{
			{st: synced},
			{st: offline, after: time.Minute},
			{st: withConflicts(offline, "c9"), after: 2 * time.Hour, title: "Sync failing · 1 conflict found"},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var state notifyState
			var prev engine.Status
			for i, s := range tc.steps {
				title, body, ok := notifyFor(prev, s.st, &state, t0.Add(s.after))
				prev = s.st
				if ok != (s.title != "") || title != s.title || (s.body != "" && body != s.body) {
					t.Errorf("step %d (%v at +%v): notifyFor = %q, %q, %v; want %q, %q", i, s.st.State, s.after, title, body, ok, s.title, s.body)
				}
			}
		})
	}
}

// TestNotifications follows snapshots through the bridge: the app's
// SendNotification gets one notification per snapshot that calls for it, and none
// while the off switch is off (and none for what happened while it was off).
func TestNotifications(t *testing.T) {
	synced := engine.Status{State: engine.StateSynced}
	signIn := engine.Status{State: engine.StateSignInNeeded, Services: []engine.ServiceState{{Service: "timelog"}}}
	conflict := engine.Status{State: engine.StateAttention, Conflicts: conflicts("c1")}

	b := &fakeBackend{notifications: true}
	v := newTestView(t, b, nil)
	test.AssertNotificationSent(t, nil, func() { v.notifyChange(signIn) }) // the initial state
	test.AssertNotificationSent(t, nil, func() { v.notifyChange(synced) })
	test.AssertNotificationSent(t, fyne.NewNotification("Sign-in needed",
		"Sign in again to TimeLog in timebridge › Accounts; the other services keep syncing."),
		func() { v.notifyChange(signIn) })

	b.notifications = false
	test.AssertNotificationSent(t, nil, func() { v.notifyChange(conflict) })
	b.notifications = true
	test.AssertNotificationSent(t, nil, func() { v.notifyChange(conflict) }) // not new any more
}

// TestBridgeNotifies: the bridge hands the journal and the zone warning to the
// tabs with each snapshot, and notifies on a change after the first snapshot.
func TestBridgeNotifies(t *testing.T) {
	synced := engine.Status{State: engine.StateSynced, Services: []engine.ServiceState{{Service: "bitrix24", SignedIn: true}}}
	attention := synced
	attention.State, attention.Conflicts = engine.StateAttention, conflicts("c1", "c2")
	w := &fakeWatcher{snaps: []engine.Status{attention, synced, attention}}
	b := &fakeBackend{notifications: true, journal: testJournal, settings: testSettings, zoneWarning: "Bitrix24 shows your days in Asia/Tokyo, timebridge uses Europe/Berlin"}

	test.NewTempApp(t)
	var sent []string
	v := newView(t.Context(), viewConfig{
		backend: b,
		now:     func() time.Time { return testNow },
		notify:  func(n *fyne.Notification) { sent = append(sent, n.Title) },
	})
	done := make(chan struct{})
	go func() {
		defer close(done)
		v.follow(t.Context(), w)
	}()
	<-done

	if got := strings.Join(sent, "|"); got != "2 conflicts found" {
		t.Errorf("notifications: %q, want one for the conflicts that came back", got)
	}
	if n := v.activity.shown.Length(); n != len(testJournal) {
		t.Errorf("Activity shows %d entries, want %d", n, len(testJournal))
	}
	for _, r := range v.settings.rows {
		if r.warn != nil && r.warn.Text != "⚠ Bitrix24 shows your days in Asia/Tokyo, timebridge uses Europe/Berlin" {
			t.Errorf("zone warning %q", r.warn.Text)
		}
	}
}
