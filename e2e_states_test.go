//go:build linux

package main

import (
	"context"
	"fmt"
	"image"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/timebridge/timebridge/sync/bitrix24/bitrix24test"
	"github.com/timebridge/timebridge/sync/timelog/timelogtest"
)

// The Status tab's main states, reached by clicking its buttons in the running
// window of TestE2EUIBrowserSignInAndSync (after its synced screenshot): paused,
// needs attention (a conflict), error / offline, and synced again after each, with
// every screenshot checked (whole window, not blank, unlike the one before) and the
// emulators' state behind it asserted.

// uiStates is what the states walk needs of the running app and its services.
type uiStates struct {
	shots *uiShots
	gui   *uiGUI
	win   string
	w, h  int
	b24   *bitrix24test.Server
	tl    *timelogtest.Server
	anna  int   // the Bitrix24 user the app signed in as
	tasks []int // two Bitrix24 tasks of anna, mirrored into TimeLog

	button  [3]uint8        // the fill of a button
	actions image.Rectangle // the synced window's row of actions (Sync now … Pause until resumed)
}

// walk runs the states from the synced window shot synced, with the Status tab selected.
func (u *uiStates) walk(ctx context.Context, t *testing.T, synced *uiShot) {
	row := synced.actionRow()
	if len(row) != 3 {
		t.Fatalf("found %d action buttons (%v) on the synced Status tab (%s), want Sync now, Pause 1 hour, Pause until resumed",
			len(row), row, synced.path)
	}
	u.button = synced.fill(row[0])
	u.actions = row[0].Union(row[2])
	for i, r := range row {
		if f := synced.fill(r); f != u.button || !synced.enabled(r) {
			t.Fatalf("action button %d of %s is filled with %v (button 0 with %v), enabled %v: want three enabled buttons",
				i, synced.path, f, u.button, synced.enabled(r))
		}
	}
	task := u.tasks[0]
	tlTask := uiTimeLogTask(t, u.tl, task)
	last := u.paused(ctx, t, synced, task, tlTask)
	last = u.conflict(ctx, t, last, task, tlTask)
	u.offline(ctx, t, last)
}

// paused: Pause until resumed stops all writes, Sync now is disabled, Resume posts.
func (u *uiStates) paused(ctx context.Context, t *testing.T, synced *uiShot, task int, tlTask string) *uiShot {
	if n := len(u.b24.ElapsedOf(task)); n != 0 {
		t.Fatalf("task %d has %d elapsed records before any time was tracked", task, n)
	}
	uiClick(ctx, t, u.win, uiCenter(synced.actionRow()[2]))
	// Paused: Sync now (disabled: dim text) and Resume take the row's place.
	paused := u.settle(ctx, t, "7-status-paused", synced, func(s *uiShot) bool {
		row := s.actionRow()
		return len(row) == 2 && !s.enabled(row[0]) && s.enabled(row[1]) && s.conflictButtons() == nil
	})
	row := paused.actionRow()
	syncNow, resume := row[0], row[1]
	if uiAbs(syncNow.Min.X-u.actions.Min.X) > 2 {
		t.Errorf("the paused window's first action (%v) is not where Sync now was (%v): %s", syncNow, u.actions, paused.path)
	}

	// Time tracked while paused, and a click on the disabled Sync now: nothing reaches Bitrix24.
	writes := uiElapsedWrites(u.b24)
	calls, tlCalls := u.b24.CallCount(""), len(u.tl.Requests())
	u.tl.TrackTime(tlTask, uiToday(), 25*time.Minute)
	uiClick(ctx, t, u.win, uiCenter(syncNow))
	u.quiet(ctx, t, 3*time.Second, "paused", func() string {
		if n := len(u.b24.ElapsedOf(task)); n != 0 {
			return fmt.Sprintf("%d elapsed records on task %d", n, task)
		}
		if n := uiElapsedWrites(u.b24); n != writes {
			return fmt.Sprintf("%d elapsed-record writes", n-writes)
		}
		return ""
	})
	if n := u.b24.CallCount(""); n != calls {
		t.Errorf("the paused app made %d Bitrix24 REST requests, want none", n-calls)
	}
	if n := len(u.tl.Requests()); n != tlCalls {
		t.Errorf("the paused app made %d TimeLog requests, want none", n-tlCalls)
	}
	again := u.shots.settle(ctx, t, "7-status-paused-after-sync-now", func(*uiShot) bool { return true })
	if again.differs(paused) {
		t.Errorf("a click on the disabled Sync now changed the paused window: %s, before %s", again.path, paused.path)
	}

	// Resume: the cycle it asks for posts the 25 minutes.
	uiClick(ctx, t, u.win, uiCenter(resume))
	u.waitRecords(ctx, t, task, "the 25 minutes tracked while paused posted after Resume", 25*60)
	return u.settle(ctx, t, "8-status-resumed", paused, u.syncedState())
}

// conflict: a person edits our record in Bitrix24, more time is tracked, Sync now
// shows the conflict; Keep Bitrix24 value leaves the person's value in place.
func (u *uiStates) conflict(ctx context.Context, t *testing.T, prev *uiShot, task int, tlTask string) *uiShot {
	rec := u.b24.ElapsedOf(task)[0]
	const person = 40 * 60 // Anna corrects the record to 40 minutes in Bitrix24
	if err := u.b24.EditElapsedAs(u.anna, rec.ID, person, rec.Comment); err != nil {
		t.Fatal(err)
	}
	u.tl.TrackTime(tlTask, uiToday(), 20*time.Minute) // the tracker now says 45 minutes
	uiClick(ctx, t, u.win, uiCenter(prev.actionRow()[0]))
	shot := u.settle(ctx, t, "9-status-conflict", prev, func(s *uiShot) bool {
		return len(s.actionRow()) == 3 && s.enabled(s.actionRow()[0]) && len(s.conflictButtons()) == 2
	})
	buttons := shot.conflictButtons()
	if buttons[0].Dx() <= buttons[1].Dx() {
		t.Errorf("the conflict's first button (%v) is not wider than the second (%v) in %s: want Keep Bitrix24 value, Use tracker value",
			buttons[0], buttons[1], shot.path)
	}
	u.checkRecord(t, task, rec.ID, person, "after the conflict was found")

	writes := uiElapsedWrites(u.b24)
	uiClick(ctx, t, u.win, uiCenter(buttons[0]))
	kept := u.settle(ctx, t, "10-status-conflict-kept", shot, func(s *uiShot) bool { return s.conflictButtons() == nil })
	u.checkRecord(t, task, rec.ID, person, "after Keep Bitrix24 value")
	// A cycle after the choice leaves the person's value too, and the window is synced.
	cycles := u.b24.CallCount("tasks.task.list")
	uiClick(ctx, t, u.win, uiCenter(kept.actionRow()[0]))
	uiWaitFor(ctx, t, 20*time.Second, "a cycle after Sync now", func() bool { return u.b24.CallCount("tasks.task.list") > cycles })
	u.idle(ctx, t)
	synced := u.settle(ctx, t, "11-status-synced-after-conflict", shot, u.syncedState())
	u.checkRecord(t, task, rec.ID, person, "after a Sync now that followed Keep Bitrix24 value")
	if n := uiElapsedWrites(u.b24); n != writes {
		t.Errorf("%d elapsed-record writes after Keep Bitrix24 value, want none", n-writes)
	}
	return synced
}

// offline: Bitrix24 fails every request, Sync now shows the error state; with the
// faults gone, Sync now recovers and posts new time.
func (u *uiStates) offline(ctx context.Context, t *testing.T, prev *uiShot) {
	u.b24.SetFaults(func(f *bitrix24test.Faults) { f.Fail500 = 1 << 20 })
	failed := u.b24Failures()
	uiClick(ctx, t, u.win, uiCenter(prev.actionRow()[0]))
	// The error line ("Last error: …") pushes the actions down; Sync now is enabled again.
	shot := u.settle(ctx, t, "12-status-offline", prev, func(s *uiShot) bool {
		row := s.actionRow()
		return len(row) == 3 && s.enabled(row[0]) && row[0].Min.Y > u.actions.Min.Y+10
	})
	if n := u.b24Failures(); n <= failed {
		t.Errorf("Bitrix24 answered no request with 500 while offline (%s)", shot.path)
	}

	task := u.tasks[1]
	tlTask := uiTimeLogTask(t, u.tl, task)
	u.b24.SetFaults(func(f *bitrix24test.Faults) { f.Fail500 = 0 })
	u.tl.TrackTime(tlTask, uiToday(), 15*time.Minute)
	uiClick(ctx, t, u.win, uiCenter(shot.actionRow()[0]))
	u.waitRecords(ctx, t, task, "the 15 minutes posted after the faults were cleared", 15*60)
	u.idle(ctx, t)
	synced := u.syncedState()
	back := u.settle(ctx, t, "13-status-synced-after-offline", shot, func(s *uiShot) bool {
		row := s.actionRow()
		return synced(s) || !lastErrorClears && len(row) == 3 && s.enabled(row[0]) && s.conflictButtons() == nil
	})
	if !synced(back) {
		t.Logf("known bug, see lastErrorClears: the window (%s) still shows the error after a clean cycle", back.path)
	}
}

// lastErrorClears turns the check that a clean cycle clears the error line (the
// window back to synced after offline) from a log line into a failure. Off until
// engine.publishAfter (sync/engine/scheduler.go) stops carrying the previous
// cycle's LastError over: it starts from baseStatus, which reads the persisted
// LastError, and overwrites it only when this cycle failed, so after one failure
// the state stays "error / offline" (and the error line stays) for good.
const lastErrorClears = true

// idle waits until neither emulator has had a request for 700 ms: the cycle that
// was running has ended (the engine publishes its status right after).
func (u *uiStates) idle(ctx context.Context, t *testing.T) {
	t.Helper()
	n, since := -1, time.Now()
	uiWaitFor(ctx, t, 20*time.Second, "the emulators to fall quiet (the cycle to end)", func() bool {
		if m := len(u.b24.Calls()) + len(u.tl.Requests()); m != n {
			n, since = m, time.Now()
		}
		return time.Since(since) >= 700*time.Millisecond
	})
}

// syncedState is the synced Status tab: the three actions, enabled, where they
// were (no error line above them), and no conflict.
func (u *uiStates) syncedState() func(*uiShot) bool {
	return func(s *uiShot) bool {
		row := s.actionRow()
		return len(row) == 3 && s.enabled(row[0]) && s.enabled(row[2]) &&
			uiAbs(row[0].Min.Y-u.actions.Min.Y) <= 2 && s.conflictButtons() == nil
	}
}

// settle captures the window until ok holds, then checks it: the whole window, not
// blank, unlike prev.
func (u *uiStates) settle(ctx context.Context, t *testing.T, name string, prev *uiShot, ok func(*uiShot) bool) *uiShot {
	t.Helper()
	u.gui.mustRun(t)
	s := u.shots.settle(ctx, t, name, func(s *uiShot) bool { return ok(s) && s.differs(prev) })
	s.checkWindow(t, u.w, u.h)
	return s
}

// quiet fails as soon as bad reports something during d; it polls, d is short.
func (u *uiStates) quiet(ctx context.Context, t *testing.T, d time.Duration, state string, bad func() string) {
	t.Helper()
	for end := time.Now().Add(d); time.Now().Before(end) && ctx.Err() == nil; time.Sleep(100 * time.Millisecond) {
		if msg := bad(); msg != "" {
			t.Fatalf("while %s: %s", state, msg)
		}
	}
}

// waitRecords waits until task holds exactly one record of anna's, of secs seconds.
func (u *uiStates) waitRecords(ctx context.Context, t *testing.T, task int, what string, secs int) {
	t.Helper()
	uiWaitFor(ctx, t, 20*time.Second, what, func() bool {
		u.gui.mustRun(t)
		recs := u.b24.ElapsedOf(task)
		return len(recs) == 1 && recs[0].Seconds == secs && recs[0].UserID == u.anna
	})
}

// checkRecord fails unless task holds only the record id, of secs seconds.
func (u *uiStates) checkRecord(t *testing.T, task, id, secs int, when string) {
	t.Helper()
	recs := u.b24.ElapsedOf(task)
	if len(recs) != 1 || recs[0].ID != id || recs[0].Seconds != secs {
		t.Errorf("%s: task %d holds %+v, want only record %d of %d s (the person's value)", when, task, recs, id, secs)
	}
}

// b24Failures counts the REST replies with status 500.
func (u *uiStates) b24Failures() int {
	n := 0
	for _, c := range u.b24.Calls() {
		if c.Status == 500 {
			n++
		}
	}
	return n
}

// uiElapsedWrites counts the REST requests that add, change or remove elapsed
// records, alone or in a batch.
func uiElapsedWrites(b24 *bitrix24test.Server) int {
	n := 0
	for _, c := range b24.Calls() {
		for _, m := range []string{"task.elapseditem.add", "task.elapseditem.update", "task.elapseditem.delete"} {
			if strings.EqualFold(c.Method, m) || strings.Contains(c.Body, m) || strings.Contains(c.Query, m) {
				n++
				break
			}
		}
	}
	return n
}

// uiTimeLogTask is the TimeLog task id (decimal) of a mirrored Bitrix24 task.
func uiTimeLogTask(t *testing.T, tl *timelogtest.Server, b24Task int) string {
	t.Helper()
	for _, task := range tl.Tasks() {
		if strings.HasSuffix(task.Name, fmt.Sprintf(" [B24-%d]", b24Task)) {
			return strconv.Itoa(task.TaskID)
		}
	}
	t.Fatalf("no TimeLog task mirrors Bitrix24 task %d", b24Task)
	return ""
}

// uiToday is midnight UTC today, the start of the time the states track (the app's
// sync zone and TimeLog's are UTC): tracked from there, it stays on one day.
func uiToday() time.Time {
	return time.Now().UTC().Truncate(24 * time.Hour)
}

// buttonRows groups the buttons of the tab into rows (tops within 4 px), each
// left to right, the rows top to bottom.
func (s *uiShot) buttonRows() [][]image.Rectangle {
	var rows [][]image.Rectangle
	for _, b := range s.buttons(0) {
		i := slices.IndexFunc(rows, func(r []image.Rectangle) bool { return uiAbs(r[0].Min.Y-b.Min.Y) <= 4 })
		if i < 0 {
			rows = append(rows, []image.Rectangle{b})
			continue
		}
		rows[i] = append(rows[i], b)
	}
	slices.SortFunc(rows, func(a, b []image.Rectangle) int { return a[0].Min.Y - b[0].Min.Y })
	for _, r := range rows {
		slices.SortFunc(r, func(a, b image.Rectangle) int { return a.Min.X - b.Min.X })
	}
	return rows
}

// actionRow is the Status tab's first row of buttons: Sync now, Pause 1 hour,
// Pause until resumed, or Sync now and Resume while paused.
func (s *uiShot) actionRow() []image.Rectangle {
	rows := s.buttonRows()
	if len(rows) == 0 {
		return nil
	}
	return rows[0]
}

// conflictButtons finds the two buttons of a conflict row (Keep Bitrix24 value,
// Use tracker value): a later row of exactly two buttons in the fill of the first
// action, on the right half. The ledger's header cells have another fill.
func (s *uiShot) conflictButtons() []image.Rectangle {
	rows := s.buttonRows()
	if len(rows) < 2 {
		return nil
	}
	fill := s.fill(rows[0][len(rows[0])-1])
	for _, r := range rows[1:] {
		var same []image.Rectangle
		for _, b := range r {
			if s.fill(b) == fill {
				same = append(same, b)
			}
		}
		if len(same) == 2 && same[0].Min.X >= s.img.Bounds().Dx()/2 {
			return same
		}
	}
	return nil
}

// fill is the commonest colour inside r.
func (s *uiShot) fill(r image.Rectangle) [3]uint8 {
	n := map[[3]uint8]int{}
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			n[s.rgb(x, y)]++
		}
	}
	var best [3]uint8
	top := -1
	for c, k := range n {
		if k > top {
			best, top = c, k
		}
	}
	return best
}

// enabled tells an enabled button from a disabled one (same fill, dim text): some
// of its text stands out from the fill by more than 100 levels of luminance.
func (s *uiShot) enabled(r image.Rectangle) bool {
	bg, n := uiLum(s.fill(r)), 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if uiAbs(uiLum(s.rgb(x, y))-bg) > 100 {
				n++
			}
		}
	}
	return n >= 20
}
