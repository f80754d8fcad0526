package ui

import (
	"fmt"
	"strings"
	"time"

	"github.com/timebridge/timebridge/sync/engine"
)

// offlineNotifyAfter is how long sync must fail before the user hears of it.
const offlineNotifyAfter = time.Hour

// notifyState is what notifyFor remembers between snapshots. The zero value is
// ready: its first snapshot only sets it up.
type notifyState struct {
	started bool // the initial state is known

	// A streak is a run of snapshots in one state; a Syncing snapshot (a retry)
	// neither ends nor starts one, so a failing sync that retries stays one streak.
	signIn          bool      // in a sign-in-needed streak (already told, or it was the initial state)
	offlineSince    time.Time // start of the offline streak; zero when not offline
	offlineNotified bool      // told about this offline streak
}

// notifyFor decides whether the change from prev to cur deserves a notification
// (design §1: only on state changes, coalesced, never one per item). It reports at
// most one notification per snapshot, whatever number of triggers fired:
//
//   - sign-in needed: cur enters StateSignInNeeded;
//   - sync failing for 1 h: StateOffline without a good cycle for offlineNotifyAfter,
//     once per failure streak (checked when a snapshot arrives; a failing sync
//     retries, and each retry brings one);
//   - conflicts found: cur has conflict keys prev did not.
//
// The initial state never notifies (with --autostart the app goes straight to the
// tray, without a window or a notification): that is the first snapshot after
// start that is neither StateIdle nor StateSyncing, i.e. the outcome of the first
// cycle when an engine runs (conflicts and sign-ins left from an earlier run are
// not news), or the idle snapshot of an app that is not signed in yet. It and the
// snapshots before it only set the state up. The off switch is the caller's:
// state must follow every snapshot even while notifications are off. Pure:
// table-tested without Fyne.
func notifyFor(prev, cur engine.Status, state *notifyState, now time.Time) (title, body string, ok bool) {
	first := !state.started
	if first && (cur.State == engine.StateIdle || cur.State == engine.StateSyncing) {
		return "", "", false
	}
	state.started = true

	var titles, bodies []string
	add := func(t, b string) { titles, bodies = append(titles, t), append(bodies, b) }

	switch cur.State {
	case engine.StateSyncing:
		// A cycle (or a retry) is running: the streak goes on.
	case engine.StateSignInNeeded:
		if !state.signIn {
			state.signIn = true
			add("Sign-in needed", signInBody(cur))
		}
		state.offlineSince, state.offlineNotified = time.Time{}, false
	case engine.StateOffline:
		if state.offlineSince.IsZero() {
			state.offlineSince = now
		}
		if !state.offlineNotified && now.Sub(state.offlineSince) >= offlineNotifyAfter {
			state.offlineNotified = true
			add("Sync failing", offlineBody(cur, now.Sub(state.offlineSince)))
		}
		state.signIn = false
	default:
		state.signIn = false
		state.offlineSince, state.offlineNotified = time.Time{}, false
	}
	if !first {
		if n := newConflicts(prev.Conflicts, cur.Conflicts); len(n) > 0 {
			add(plural(len(n), "conflict", "conflicts")+" found", conflictsBody(n))
		}
	}
	if first || len(titles) == 0 {
		return "", "", false
	}
	return strings.Join(titles, " · "), strings.Join(bodies, "\n"), true
}

func signInBody(st engine.Status) string {
	var names []string
	for _, s := range st.Services {
		if !s.SignedIn {
			names = append(names, serviceName(s.Service))
		}
	}
	if len(names) == 0 {
		return "Open timebridge › Accounts and sign in again."
	}
	return "Sign in again to " + strings.Join(names, ", ") + " in timebridge › Accounts; the other services keep syncing."
}

func offlineBody(st engine.Status, d time.Duration) string {
	s := fmt.Sprintf("Sync has failed for %s", duration(d))
	if st.LastError != "" {
		s += ": " + st.LastError
	}
	return s + ". timebridge keeps retrying."
}

// newConflicts are the conflicts of cur whose keys are not in prev, in cur's order.
func newConflicts(prev, cur []engine.Conflict) []engine.Conflict {
	known := make(map[string]bool, len(prev))
	for _, c := range prev {
		known[c.Key] = true
	}
	var out []engine.Conflict
	for _, c := range cur {
		if !known[c.Key] {
			out = append(out, c)
		}
	}
	return out
}

// conflictsBody names up to three new conflicts and says how many more there are.
func conflictsBody(cs []engine.Conflict) string {
	const most = 3
	var what []string
	for i, c := range cs {
		if i == most {
			what = append(what, fmt.Sprintf("and %d more", len(cs)-most))
			break
		}
		title := c.TaskTitle
		if title == "" {
			title = "task " + c.TaskID
		}
		what = append(what, title+" on "+day(c.Day))
	}
	return "Changed in Bitrix24 after timebridge wrote it: " + strings.Join(what, ", ") +
		". Choose which value to keep in timebridge › Status."
}
